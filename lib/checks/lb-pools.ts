import type { PlatformConfig } from "../config";
import { selects } from "../config/selectors";
import { Values, valueAt } from "../merge";
import { contains } from "../net";
import { configPath, error, Problem } from "../problems";
import type { LbPoolConfig } from "../config/cilium";
import { ciliumValues } from "../values/cilium";
import { ciliumServices } from "../values/cilium-services";
import { corednsServices } from "../values/coredns";
import { ingressNginxServices, LB_IPS_ANNOTATION } from "../values/ingress-nginx";
import { serviceFamilies, type EmittedService } from "../values/services";
import { gatewayServices } from "../values/gateway";
import { KIND, readValue } from "../values/read";
import { l2PolicyObjects, poolObject } from "../values/cilium-objects";
import { apiGroup, renderedObjects } from "../charts/rendered";
import { l2Announces } from "./bgp";
import { releases } from "./crd-order";
import { poolRanges } from "./ingress";
import type { Check } from "./types";

/** A dotted values key as path segments; a list index ("extraObjects.0.metadata") becomes a number. */
function segments(dotted: string): Array<string | number> {
    return dotted.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/**
 * Every LoadBalancer Service the platform renders: the charts', and the one
 * Cilium creates for the Gateway (its labels and address come from the
 * typed `gateway.loadBalancer` keys).
 */
export function loadBalancerServices(config: PlatformConfig): EmittedService[] {
    const pools = config.cilium.loadBalancerPools;
    const gatewayPolicy = readValue(
        ciliumValues(config.cluster, config.cilium, config.gateway),
        "gatewayAPI.externalTrafficPolicy",
        KIND.string,
    );
    return [
        ...ciliumServices(config.cluster, config.cilium),
        ...corednsServices(config.cluster, config.coredns),
        ...(config.ingressNginx.enabled ? ingressNginxServices(config.ingressNginx, pools) : []),
        ...gatewayServices(config.gateway, pools, gatewayPolicy || "Cluster"),
        ...renderedServices(config),
    ];
}

/** The pool a Service's typed `loadBalancer.pool` key names, for the two Services that have one. */
function typedPool(s: EmittedService, config: PlatformConfig): string | undefined {
    if (s.section === "gateway") return config.gateway.loadBalancer.pool;
    if (s.section === "ingressNginx" && s.name === "ingress-nginx-controller") return config.ingressNginx.loadBalancer.pool;
    return undefined;
}

/** Where to tell the user to fix the labels of an emitted Service, and what is there now. */
function labelsKey(s: EmittedService, config: PlatformConfig): { key: string; value: unknown; typed: boolean } {
    // The Gateway's labels come from its pool alone: there is no values key to set them.
    if (s.section === "gateway")
        return { key: configPath(["gateway", "loadBalancer", "pool"]), value: config.gateway.loadBalancer.pool, typed: true };
    const sectionValues = (config[s.section] as { values: Values }).values;
    const userLabels = valueAtPath(sectionValues, segments(s.labelsKey));
    if (s.section === "ingressNginx" && s.name === "ingress-nginx-controller" && userLabels === undefined) {
        return { key: configPath(["ingressNginx", "loadBalancer", "pool"]), value: config.ingressNginx.loadBalancer.pool, typed: true };
    }
    return { key: configPath([s.section, "values", ...segments(s.labelsKey)]), value: userLabels, typed: false };
}

function valueAtPath(values: unknown, at: Array<string | number>): unknown {
    return at.reduce<unknown>(
        (cur, seg) => (cur !== null && typeof cur === "object" ? (cur as Record<string, unknown>)[seg] : undefined),
        values,
    );
}

const isStringMap = (m: Record<string, unknown>) => Object.values(m).every((v) => typeof v === "string");

/** Services a chart renders from an object list (extraObjects), as pool selection needs them. */
function renderedServices(config: PlatformConfig): EmittedService[] {
    return releases(config).flatMap((r) =>
        renderedObjects(r)
            .objects.filter((o) => o.kind === "Service" && apiGroup(o.apiVersion) === "")
            .map((o): EmittedService => {
                const families = Array.isArray(o.spec.ipFamilies)
                    ? serviceFamilies(o.spec.ipFamilies.filter((f) => typeof f === "string"))
                    : [];
                return {
                    section: r.section,
                    labelsKey: o.labelsAt.join("."),
                    annotationsKey: o.annotationsAt.join("."),
                    typeKey: (o.fromString ? o.at : [...o.at, "spec", "type"]).join("."),
                    namespace: o.metadata.namespace ?? r.config.namespace,
                    name: o.metadata.name ?? o.source,
                    type: typeof o.spec.type === "string" ? o.spec.type : "ClusterIP",
                    externalTrafficPolicy: typeof o.spec.externalTrafficPolicy === "string" ? o.spec.externalTrafficPolicy : "Cluster",
                    trafficPolicyKey: (o.fromString ? o.at : [...o.at, "spec", "externalTrafficPolicy"]).join("."),
                    labels: o.metadata.labels as Record<string, string>,
                    annotations: o.metadata.annotations as Record<string, string>,
                    families: families.length ? families : undefined,
                    wellTyped: isStringMap(o.metadata.labels) && isStringMap(o.metadata.annotations),
                };
            }),
    );
}

/** What Cilium matches a pool's serviceSelector against: the labels, plus the Service's namespace and name. */
function selectorLabels(s: EmittedService): Record<string, string> {
    return { ...s.labels, "io.kubernetes.service.namespace": s.namespace, "io.kubernetes.service.name": s.name };
}

/** Pools with a block of a family the Service has: only those can give it an address. */
function poolsFor(s: EmittedService, pools: LbPoolConfig[]): LbPoolConfig[] {
    return s.families ? pools.filter((p) => poolRanges(p).some((r) => s.families!.includes(r.family))) : pools;
}

/** When the Service's annotations carry a pool's selector labels: the report's mistake. */
function annotationHint(s: EmittedService, pools: LbPoolConfig[]): string {
    const selectorKeys = new Set(
        pools.flatMap((p) => [
            ...Object.keys(p.serviceSelector?.matchLabels ?? {}),
            ...(p.serviceSelector?.matchExpressions ?? []).map((e) => e.key),
        ]),
    );
    const misplaced = Object.keys(s.annotations).filter((k) => selectorKeys.has(k));
    return misplaced.length ? `; its annotations carry ${misplaced.join(", ")}, but pools match labels and annotations select nothing` : "";
}

/** The fix for a Service no pool selects, naming only pools that could serve its address family. */
function noPoolFix(s: EmittedService, config: PlatformConfig, poolKey: boolean): string {
    const pools = config.cilium.loadBalancerPools;
    if (!pools.length) {
        return (
            `add a pool and announce it, e.g. cilium.loadBalancerPools: [{ name: lan, blocks: [{ start: <first>, stop: <last> }] }] ` +
            `with cilium.l2Announcements: [{ name: lan, pools: [lan] }] (or a BGP peer under cilium.bgp); ` +
            (s.section === "gateway"
                ? `or turn the gateway off (${configPath(["gateway", "enabled"])}: false): Cilium serves a Gateway on a LoadBalancer address`
                : `or, without LoadBalancer addresses, set ${configPath([s.section, "values", ...segments(s.typeKey)])} to NodePort`)
        );
    }
    const candidates = poolsFor(s, pools);
    const families = (s.families ?? []).map((f) => (f === "ipv4" ? "IPv4" : "IPv6")).join("/");
    if (!candidates.length) return `add a pool with an ${families} block under cilium.loadBalancerPools; none of the pools has one`;
    const names = candidates.map((p) => p.name).join(", ");
    const named = poolKey ? pools.find((p) => p.name === typedPool(s, config)) : undefined;
    if (named) {
        // The program labels the Service from matchLabels and In expressions only.
        const others = candidates.filter((p) => p !== named).map((p) => p.name);
        const labels = selectorLabels(s);
        const failing = [
            ...Object.entries(named.serviceSelector?.matchLabels ?? {})
                .filter(([k, v]) => labels[k] !== v)
                .map(([k, v]) => `${k}=${v}`),
            ...(named.serviceSelector?.matchExpressions ?? [])
                .filter((e) => !selects({ matchExpressions: [e] }, labels))
                .map((e) => `${e.key} ${e.operator}${e.values?.length ? ` (${e.values.join(", ")})` : ""}`),
        ];
        const where =
            s.section === "gateway"
                ? "name a pool whose selector those can satisfy"
                : "set the labels it needs under ingressNginx.values.controller.service.labels";
        return (
            `pool ${named.name}'s serviceSelector (${failing.join("; ")}) does not hold for the Service's labels, and only matchLabels and ` +
            `In expressions become labels: ${where}${others.length ? `, or name another pool (${others.join(", ")})` : ""}`
        );
    }
    const meant = candidates.find((p) => Object.entries(p.serviceSelector?.matchLabels ?? {}).some(([k, v]) => s.annotations[k] === v));
    if (poolKey) return meant ? `name ${meant.name}, the pool the annotation meant` : `name one of ${names}`;
    return `give the Service the labels of one pool's serviceSelector (${names})`;
}

/**
 * Each LoadBalancer Service takes its address from exactly one pool, chosen
 * by the pool's serviceSelector over the Service's labels (plus Cilium's
 * io.kubernetes.service.namespace/name). Annotations select nothing.
 */
function poolSelection(config: PlatformConfig): Problem[] {
    const pools = config.cilium.loadBalancerPools;
    const problems: Problem[] = [];
    const services = loadBalancerServices(config).filter((s) => s.type === "LoadBalancer" && s.wellTyped);
    for (const s of services) {
        const what = `the LoadBalancer Service ${s.namespace}/${s.name}`;
        // With no pool at all, the missing pools are the key to name, not the Service's selector.
        const {
            key,
            value,
            typed: poolKey,
        } = pools.length ? labelsKey(s, config) : { key: configPath(["cilium", "loadBalancerPools"]), value: [], typed: false };
        const matching = pools.filter((p) => selects(p.serviceSelector, selectorLabels(s)));
        if (matching.length === 0) {
            problems.push(
                error(
                    key,
                    pools.length
                        ? `leaves ${what} selected by no Cilium pool, so it would stay <pending>${annotationHint(s, pools)}`
                        : `is empty, so ${what} would get no address and stay <pending>`,
                    noPoolFix(s, config, poolKey),
                    value,
                ),
            );
            continue;
        }
        if (matching.length > 1) {
            problems.push(
                error(
                    key,
                    `leaves ${what} selected by ${matching.length} pools (${matching.map((p) => p.name).join(", ")}); Cilium may take its address from any of them`,
                    "give the pools disjoint serviceSelectors (a pool without one selects every Service), or label the Service for exactly one",
                    value,
                ),
            );
            continue;
        }
        const ips = (s.annotations[LB_IPS_ANNOTATION] ?? "")
            .split(",")
            .map((x) => x.trim())
            .filter(Boolean);
        const typedIp =
            s.section === "gateway"
                ? config.gateway.loadBalancer.ip
                : s.section === "ingressNginx"
                  ? config.ingressNginx.loadBalancer.ip
                  : undefined;
        const typed = typedIp !== undefined && ips.length === 1 && ips[0] === typedIp;
        // ingress-lb-pool and gateway-lb-pool already check the typed address against the pool it names.
        if (typed && matching[0].name === typedPool(s, config)) continue;
        for (const ip of ips.filter((x) => !poolRanges(matching[0]).some((r) => contains(r, x)))) {
            problems.push(
                error(
                    typed
                        ? configPath([s.section, "loadBalancer", "ip"])
                        : configPath([s.section, "values", ...segments(s.annotationsKey), LB_IPS_ANNOTATION]),
                    `asks for ${ip} for ${what}, outside ${matching[0].name}, the only pool that selects it; Cilium would leave it pending`,
                    `pick an address from pool ${matching[0].name}`,
                    ip,
                ),
            );
        }
    }
    return problems;
}

/** The key that sets a Service's externalTrafficPolicy: the typed ingressNginx key unless the values override it. */
function trafficPolicyKey(s: EmittedService, config: PlatformConfig): string {
    if (s.section === "gateway") {
        // Cilium applies one policy to every Gateway's Service, from its own values.
        return valueAt(config.cilium.values, "gatewayAPI.externalTrafficPolicy") === undefined
            ? configPath(["gateway", "loadBalancer", "externalTrafficPolicy"])
            : configPath(["cilium", "values", "gatewayAPI", "externalTrafficPolicy"]);
    }
    const typed = s.section === "ingressNginx" && s.trafficPolicyKey === "controller.service.externalTrafficPolicy";
    if (typed && valueAt(config.ingressNginx.values, s.trafficPolicyKey!) === undefined)
        return configPath(["ingressNginx", "loadBalancer", "externalTrafficPolicy"]);
    return configPath([s.section, "values", ...segments(s.trafficPolicyKey!)]);
}

/**
 * Cilium 1.19's L2 announcements guide, "Limitations": the feature "is
 * incompatible with the externalTrafficPolicy: Local on services as it may
 * cause service IPs to be announced on nodes without pods causing traffic
 * drops". The node that holds a Service's lease answers ARP whether or not it
 * runs one of its pods, and with Local that node drops the traffic.
 */
function l2TrafficPolicy(config: PlatformConfig): Problem[] {
    const pools = config.cilium.loadBalancerPools;
    const entries = config.cilium.l2Announcements;
    if (!entries.length) return [];
    const services = loadBalancerServices(config).filter(
        (s) => s.type === "LoadBalancer" && s.wellTyped && s.externalTrafficPolicy === "Local" && s.trafficPolicyKey,
    );
    const problems: Problem[] = [];
    for (const s of services) {
        // Only a Service one pool selects has a pool to blame; the rest is lb-pool-selection's.
        const matching = pools.filter((p) => selects(p.serviceSelector, selectorLabels(s)));
        if (matching.length !== 1) continue;
        const pool = poolObject(matching[0]).spec;
        const announcing = entries.flatMap((e, i) =>
            l2Announces(
                pool,
                l2PolicyObjects({ ...config.cilium, l2Announcements: [e] }).map((o) => o.spec),
            )
                ? [i]
                : [],
        );
        if (!announcing.length) continue;
        const l2Keys = announcing.map((i) => configPath(["cilium", "l2Announcements", i])).join(" and ");
        problems.push(
            error(
                trafficPolicyKey(s, config),
                `is Local for the LoadBalancer Service ${s.namespace}/${s.name}, whose pool ${matching[0].name} is announced by L2 (${l2Keys}); Cilium's L2 announcements guide (1.19) says L2 announcements are incompatible with externalTrafficPolicy: Local: the node that answers ARP for the address may run none of the Service's pods and drops the traffic`,
                `set it to Cluster, or announce pool ${matching[0].name} with cilium.bgp instead of ${l2Keys}`,
                s.externalTrafficPolicy,
            ),
        );
    }
    return problems;
}

export const lbPoolChecks: Check[] = [
    { name: "lb-pool-selection", run: poolSelection },
    { name: "l2-external-traffic-policy", run: l2TrafficPolicy },
];
