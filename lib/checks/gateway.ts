import { closest } from "fastest-levenshtein";
import type { PlatformConfig } from "../config";
import { versionAtLeast } from "../config/cilium";
import { DEFAULT_PORTS } from "../config/gateway";
import { valueAt } from "../merge";
import { contains, isAddress } from "../net";
import { configPath, error, Problem, warning } from "../problems";
import { certManagerValues } from "../values/cert-manager";
import { ciliumValues } from "../values/cilium";
import { REDIRECT_LISTENER, redirects, resolvedListeners } from "../values/gateway";
import { switchOn } from "../values/read";
import { knownIssuersHint } from "./certificates";
import { readKpr } from "./cilium";
import { poolRanges } from "./ingress";
import type { Check } from "./types";

// Preflight rules of the `gateway` section: what Cilium needs to serve
// Gateway API at all, the listeners as Gateway API and cert-manager's
// gateway-shim take them, and the Gateway's address.

const at = (...segments: (string | number)[]) => configPath(["gateway", ...segments]);

/** The first Cilium whose operator no longer accepts nodePort.enabled in place of kube-proxy replacement (cilium/cilium#41380). */
const NODE_PORT_REMOVED_IN = "1.19.0";

/**
 * Cilium's operator starts its Gateway API controller only with kube-proxy
 * replacement (1.19: "Gateway API support requires kube-proxy-replacement
 * enabled"; before 1.19 nodePort.enabled did too), and Gateways run in the
 * L7 proxy, Envoy. Without them the GatewayClass stays Unknown and no Gateway
 * gets an address: the Week 4 report's root cause, by another door.
 */
function ciliumPrerequisites(config: PlatformConfig): Problem[] {
    if (!config.gateway.enabled) return [];
    const values = ciliumValues(config.cluster, config.cilium, config.gateway);
    const problems: Problem[] = [];
    // Only the escape hatch can turn it off: false, or a null that removes the key (or the whole map) and leaves the chart's default, off.
    if (!switchOn(values, "gatewayAPI.enabled", false)) {
        const key = valueAt(config.cilium.values, "gatewayAPI.enabled") !== undefined ? ["gatewayAPI", "enabled"] : ["gatewayAPI"];
        problems.push(
            error(
                configPath(["cilium", "values", ...key]),
                `turns Cilium's Gateway API controller off while ${at("enabled")} is true: nothing would program the Gateway`,
                `remove it: ${at("enabled")} sets it`,
                valueAt(config.cilium.values, key.join(".")),
            ),
        );
    }
    const kpr = readKpr(values);
    // With Talos' kube-proxy off, a false replacement is the kube-proxy-replacement check's error already.
    if (kpr.kind === "boolean" && !kpr.value && !config.cluster.kubeProxyDisabled) {
        const nodePort = valueAt(values, "nodePort.enabled") === true;
        const before119 = !versionAtLeast(config.cilium.version, NODE_PORT_REMOVED_IN);
        if (!(nodePort && before119)) {
            problems.push(
                error(
                    at("enabled"),
                    `needs Cilium's kube-proxy replacement, but ${configPath(["cilium", "values", "kubeProxyReplacement"])} is false (it follows ${configPath(["cluster", "kubeProxyDisabled"])}, false: Talos runs kube-proxy). Cilium ${config.cilium.version}'s operator then never starts its Gateway API controller (it logs "Gateway API support requires kube-proxy-replacement enabled"): the GatewayClass stays Unknown and no Gateway gets an address` +
                        (nodePort
                            ? `; nodePort.enabled, which Cilium accepted instead before 1.19, was removed in 1.19 (cilium/cilium#41380)`
                            : ""),
                    `run Talos without kube-proxy (machine config cluster.proxy.disabled: true) and set ${configPath(["cluster", "kubeProxyDisabled"])} to true, so that Cilium replaces it; or leave ${at("enabled")} false`,
                    true,
                ),
            );
        }
    }
    if (valueAt(values, "l7Proxy") === false) {
        problems.push(
            error(
                configPath(["cilium", "values", "l7Proxy"]),
                `is false while ${at("enabled")} is true: Cilium serves Gateways from its L7 proxy (Envoy), so no listener would ever be programmed`,
                "remove it (the chart's default is true)",
                false,
            ),
        );
    }
    // What the program sets for an enabled gateway, after the escape hatch (false, or a null back to the chart's off).
    const certManagerGateway = switchOn(
        certManagerValues(config.certManager, config.cluster, { gatewayApi: true }),
        "config.gatewayAPI.enabled",
        false,
    );
    if (!certManagerGateway && resolvedListeners(config.gateway).some((l) => l.issuer)) {
        problems.push(
            error(
                configPath(["certManager", "values", "config", "gatewayAPI", "enabled"]),
                `turns cert-manager's Gateway API support off while listeners of ${at("listeners")} name an issuer: its gateway-shim would never issue their certificates`,
                `remove it: ${at("enabled")} sets it`,
                valueAt(config.certManager.values, "config.gatewayAPI.enabled"),
            ),
        );
    }
    return problems;
}

/** Turned on through the escape hatch, Cilium's controller would start without its CRDs, and cert-manager without Gateway API. */
function gatewayApiWithoutSection(config: PlatformConfig): Problem[] {
    if (config.gateway.enabled || !switchOn(ciliumValues(config.cluster, config.cilium), "gatewayAPI.enabled", false)) return [];
    return [
        warning(
            "gateway-api-without-gateway-section",
            configPath(["cilium", "values", "gatewayAPI", "enabled"]),
            `turns on Cilium's Gateway API controller while ${at("enabled")} is false: nothing installs the Gateway API CRDs before Cilium (its operator starts the controller only if they exist when it starts), cert-manager's Gateway API support stays off, and no gate checks a Gateway`,
            `use the gateway section instead: set ${at("enabled")} to true (it sets this value, installs the CRDs first and checks the Gateway) and remove this key`,
            valueAt(config.cilium.values, "gatewayAPI.enabled"),
        ),
    ];
}

/** What is wrong with a listener hostname, or undefined: lower-case DNS labels, a wildcard only as the whole left-most one. */
export function hostnameProblem(hostname: string): { message: string; fix: string } | undefined {
    if (isAddress(hostname))
        return { message: "is an IP address; a listener takes a host name", fix: "write a DNS name such as app.example.com" };
    if (hostname !== hostname.toLowerCase()) return { message: "is not in lower case", fix: `write ${hostname.toLowerCase()}` };
    if (hostname.length > 253) return { message: "is longer than 253 characters", fix: "use a shorter name" };
    const labels = hostname.split(".");
    const wild = labels.findIndex((l, i) => l.includes("*") && !(i === 0 && l === "*"));
    if (wild >= 0)
        return {
            message: `has a wildcard in ${wild === 0 ? "part of the left-most label" : `label ${wild + 1}`}; Gateway API allows one only as the whole left-most label, matching one label`,
            fix: `write it as *.${labels.slice(wild + 1).join(".") || "example.com"}`,
        };
    const rest = labels[0] === "*" ? labels.slice(1) : labels;
    const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
    if (!rest.length || rest.some((l) => l.length > 63 || !label.test(l)))
        return {
            message: "is not a DNS name",
            fix: "use letters, digits and '-' in dot-separated labels, e.g. app.example.com or *.example.com",
        };
    return undefined;
}

/** Whether an ACME DNS-01 solver with these zones answers for `name` (cert-manager: the name is the zone or under it). */
export function inZones(name: string, zones: string[]): boolean {
    return zones.some((z) => name === z || name.endsWith(`.${z}`));
}

function listeners(config: PlatformConfig): Problem[] {
    const { gateway } = config;
    if (!gateway.enabled) return [];
    const problems: Problem[] = [];
    if (!gateway.listeners.length) {
        return [
            error(
                at("listeners"),
                `is empty while ${at("enabled")} is true: a Gateway needs at least one listener`,
                'add one, e.g. { name: https, hostname: "*.example.com", protocol: HTTPS, issuer: <one of certManager.issuers> }',
                [],
            ),
        ];
    }
    const resolved = resolvedListeners(gateway);
    const issuers = config.certManager.issuers;
    const firstIssuer = resolved.find((l) => l.protocol === "HTTPS" && l.issuer);
    const firstIssuerAt = firstIssuer ? resolved.indexOf(firstIssuer) : -1;
    // The redirect listener takes port 80 for HTTP; it is no entry of the list.
    const ports = new Map<number, { protocol: string; where: string }>();
    if (redirects(gateway))
        ports.set(DEFAULT_PORTS.HTTP, { protocol: "HTTP", where: `the redirect listener ${REDIRECT_LISTENER} (${at("httpsRedirect")})` });
    const names = new Map<string, number>();
    const hosts = new Map<string, number>();

    resolved.forEach((l, i) => {
        const key = (...rest: (string | number)[]) => at("listeners", i, ...rest);
        const seenName = names.get(l.name);
        if (seenName !== undefined)
            problems.push(
                error(
                    key("name"),
                    `repeats the name of ${at("listeners", seenName)}; routes attach to a listener by its name`,
                    "give each listener its own name",
                    l.name,
                ),
            );
        else names.set(l.name, i);
        if (l.name === REDIRECT_LISTENER && redirects(gateway))
            problems.push(
                error(
                    key("name"),
                    `is the name of the HTTP listener this program adds for the redirect to HTTPS (${at("httpsRedirect")})`,
                    `rename the listener, or set ${at("httpsRedirect")} to false`,
                    l.name,
                ),
            );

        const bad = hostnameProblem(l.hostname);
        if (bad) problems.push(error(key("hostname"), bad.message, bad.fix, l.hostname));
        const hostKey = `${l.port} ${l.hostname}`;
        const seenHost = hosts.get(hostKey);
        if (seenHost !== undefined)
            problems.push(
                error(
                    key("hostname"),
                    `repeats the hostname of ${at("listeners", seenHost)} on port ${l.port}; Gateway API marks both listeners Conflicted and neither serves`,
                    "give one of them another hostname or port, or merge them",
                    l.hostname,
                ),
            );
        else hosts.set(hostKey, i);

        const taken = ports.get(l.port);
        if (taken && taken.protocol !== l.protocol)
            problems.push(
                error(
                    l.port === DEFAULT_PORTS[l.protocol] && gateway.listeners[i].port === undefined ? key("protocol") : key("port"),
                    `takes port ${l.port} for ${l.protocol}, which ${taken.where} takes for ${taken.protocol}; listeners on one port must share its protocol`,
                    `move one of them to another port`,
                    gateway.listeners[i].port ?? l.protocol,
                ),
            );
        else if (!taken) ports.set(l.port, { protocol: l.protocol, where: at("listeners", i) });

        if (l.protocol === "HTTP") {
            for (const field of ["issuer", "certificateSecret"] as const)
                if (l[field] !== undefined)
                    problems.push(
                        error(
                            key(field),
                            "is set on an HTTP listener, which serves no certificate",
                            "set protocol to HTTPS, or remove it",
                            l[field],
                        ),
                    );
            return;
        }
        if (!l.issuer && !l.certificateSecret) {
            problems.push(
                error(
                    at("listeners", i),
                    "is HTTPS without a certificate",
                    "give it an issuer (one of certManager.issuers: cert-manager issues its certificate) or a certificateSecret (a TLS Secret in the Gateway's namespace)",
                ),
            );
            return;
        }
        if (!l.issuer) {
            if (firstIssuer)
                problems.push(
                    error(
                        key("certificateSecret"),
                        `names a Secret of its own, on a Gateway whose ${at("listeners", firstIssuerAt)} names issuer ${firstIssuer.issuer}: cert-manager's gateway-shim issues a certificate for every TLS listener of a Gateway annotated with an issuer, and would overwrite this Secret`,
                        `give this listener issuer ${firstIssuer.issuer} as well, or serve its host from a Gateway of its own`,
                        l.certificateSecret,
                    ),
                );
            return;
        }
        const issuerIndex = issuers.findIndex((x) => x.name === l.issuer);
        if (issuerIndex < 0) {
            problems.push(
                error(
                    key("issuer"),
                    "names no issuer of certManager.issuers; this program creates only those ClusterIssuers",
                    knownIssuersHint(config, l.issuer),
                    l.issuer,
                ),
            );
            return;
        }
        if (firstIssuer && l.issuer !== firstIssuer.issuer)
            problems.push(
                error(
                    key("issuer"),
                    `names ${l.issuer}, while ${at("listeners", firstIssuerAt, "issuer")} names ${firstIssuer.issuer}: cert-manager's gateway-shim takes one issuer per Gateway, from its cert-manager.io/cluster-issuer annotation`,
                    `name ${firstIssuer.issuer} in every listener that names an issuer`,
                    l.issuer,
                ),
            );
        const zones = issuers[issuerIndex].acme?.cloudflare.dnsZones ?? [];
        if (zones.length && !bad && !inZones(l.hostname, zones))
            problems.push(
                error(
                    key("hostname"),
                    `is in none of the DNS-01 zones of issuer ${l.issuer} (${zones.join(", ")}): its solver would not answer for the name, and the certificate would never be issued`,
                    `add the name's zone to ${configPath(["certManager", "issuers", issuerIndex, "acme", "cloudflare", "dnsZones"])}, or name an issuer that serves it`,
                    l.hostname,
                ),
            );
    });

    const { from, selector } = gateway.allowedRoutes.namespaces;
    if (from === "Selector" && !selector)
        problems.push(
            error(
                at("allowedRoutes", "namespaces", "selector"),
                "is missing while from is Selector: no namespace's routes could attach",
                "give it matchLabels, e.g. { matchLabels: { talos-platform/gateway: platform } }, and label those namespaces",
            ),
        );
    if (from !== "Selector" && selector)
        problems.push(
            error(
                at("allowedRoutes", "namespaces", "selector"),
                `is set, but from is ${from}, so Gateway API ignores it`,
                "set from to Selector, or remove the selector",
                selector,
            ),
        );
    return problems;
}

/** The Gateway's address: the same rules as ingress-nginx's, and an address of its own. */
function lbPool(config: PlatformConfig): Problem[] {
    const { gateway } = config;
    if (!gateway.enabled) return [];
    const { pool: poolName, ip } = gateway.loadBalancer;
    const pools = config.cilium.loadBalancerPools;
    const problems: Problem[] = [];
    const pool = pools.find((p) => p.name === poolName);
    if (poolName && !pool) {
        const names = pools.map((p) => p.name);
        problems.push(
            error(
                at("loadBalancer", "pool"),
                "names no pool in cilium.loadBalancerPools",
                names.length
                    ? `use one of ${names.join(", ")} (closest: ${closest(poolName, names)})`
                    : "add the pool under cilium.loadBalancerPools",
                poolName,
            ),
        );
    }
    if (!ip) return problems;
    if (!poolName) {
        problems.push(
            error(
                at("loadBalancer", "ip"),
                `is a fixed address but ${at("loadBalancer", "pool")} names no pool to take it from`,
                `set ${at("loadBalancer", "pool")} to the cilium.loadBalancerPools entry that contains it`,
                ip,
            ),
        );
    } else if (pool && !poolRanges(pool).some((r) => contains(r, ip))) {
        const blocks = pool.blocks.map((b) => ("cidr" in b ? b.cidr : `${b.start}-${b.stop}`)).join(", ");
        problems.push(
            error(
                at("loadBalancer", "ip"),
                `is not in pool ${pool.name} (${blocks}${pool.allowFirstLastIPs === false ? ", first and last addresses excluded" : ""}); Cilium would leave the Gateway without an address`,
                `pick an address inside ${blocks}, or change ${at("loadBalancer", "pool")}`,
                ip,
            ),
        );
    }
    if (config.ingressNginx.enabled && config.ingressNginx.loadBalancer.ip === ip) {
        problems.push(
            error(
                at("loadBalancer", "ip"),
                `is ingress-nginx's address too (${configPath(["ingressNginx", "loadBalancer", "ip"])}); Cilium gives an address to one Service only, so the Gateway's would stay pending`,
                `pick another address${pool ? ` from pool ${pool.name}` : ""}: side by side, each serves on its own address, and DNS moves from one to the other (docs/gateway-api.md)`,
                ip,
            ),
        );
    }
    return problems;
}

/** Turning ingress-nginx off before the Gateway is on leaves nothing to serve ingress. */
function noIngress(config: PlatformConfig): Problem[] {
    if (config.ingressNginx.enabled || config.gateway.enabled) return [];
    return [
        warning(
            "no-ingress",
            configPath(["ingressNginx", "enabled"]),
            `is false and ${at("enabled")} is false too: nothing serves ingress, and the ingress gate has nothing to check`,
            `turn the Gateway on (${at("enabled")}: true) and move the routes to it before turning ingress-nginx off (docs/gateway-api.md)`,
            false,
        ),
    ];
}

export const gatewayChecks: Check[] = [
    { name: "gateway-cilium-prerequisites", run: ciliumPrerequisites },
    { name: "gateway-api-without-gateway-section", run: gatewayApiWithoutSection },
    { name: "gateway-listeners", run: listeners },
    { name: "gateway-lb-pool", run: lbPool },
    { name: "no-ingress", run: noIngress },
];
