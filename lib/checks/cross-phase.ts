import type { PlatformConfig } from "../config";
import { isPlainObject, Values, valueAt } from "../merge";
import { configPath, error, Problem } from "../problems";
import { ciliumValues } from "../values/cilium";
import { certManagerValues, webhookFqdn } from "../values/cert-manager";
import { corednsValues } from "../values/coredns";
import { fluxInstance, fluxOperatorValues } from "../values/flux";
import { ingressNginxValues } from "../values/ingress-nginx";
import { enabled } from "../values/services";
import { knownIssuersHint } from "./certificates";
import { sourceKey } from "./dns";
import type { Check } from "./types";

/** Every chart's final values, keyed by the section whose `values` can change them. */
function chartValues(config: PlatformConfig): Array<{ section: string; values: Values }> {
    const out = [
        { section: "cilium", values: ciliumValues(config.cluster, config.cilium) },
        { section: "certManager", values: certManagerValues(config.certManager, config.cluster) },
        { section: "ingressNginx", values: ingressNginxValues(config.ingressNginx, config.cilium.loadBalancerPools) },
        { section: "flux", values: fluxOperatorValues(config.flux) },
    ];
    if (config.cluster.coreDnsDisabled) out.push({ section: "coredns", values: corednsValues(config.cluster, config.coredns) });
    return out;
}

/** Every place under `value` where `test` holds for a key, as path segments. */
function findKeys(
    value: unknown,
    test: (key: string, v: unknown) => boolean,
    at: (string | number)[] = [],
): Array<{ at: (string | number)[]; value: unknown }> {
    if (Array.isArray(value)) return value.flatMap((v, i) => findKeys(v, test, [...at, i]));
    if (!isPlainObject(value)) return [];
    return Object.entries(value).flatMap(([k, v]) => [
        ...(test(k, v) ? [{ at: [...at, k], value: v }] : []),
        ...findKeys(v, test, [...at, k]),
    ]);
}

const CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer";
const ISSUER_ANNOTATION = "cert-manager.io/issuer";

/** Every issuer this program names (default certificate, ingress-shim default, annotations) must be one it creates. */
function issuerReferences(config: PlatformConfig): Problem[] {
    const names = new Set(config.certManager.issuers.map((i) => i.name));
    const problems: Problem[] = [];
    const refer = (key: string, name: unknown, what: string) => {
        if (typeof name === "string" && names.has(name)) return;
        problems.push(
            error(
                key,
                `${what} names ClusterIssuer ${JSON.stringify(name)}, which certManager.issuers does not create`,
                knownIssuersHint(config, String(name)),
                name,
            ),
        );
    };
    const dc = config.ingressNginx.defaultCertificate;
    if (dc) refer(configPath(["ingressNginx", "defaultCertificate", "issuer"]), dc.issuer, "the default certificate");

    const cm = certManagerValues(config.certManager, config.cluster);
    const shim = valueAt(cm, "ingressShim.defaultIssuerName");
    const shimKind = valueAt(cm, "ingressShim.defaultIssuerKind") ?? "Issuer";
    if (shim !== undefined) {
        const key = sourceKey("certManager", config.certManager.values, "ingressShim.defaultIssuerName", ["certManager", "defaultIssuer"]);
        if (shimKind !== "ClusterIssuer") {
            problems.push(
                error(
                    key,
                    `is a default issuer of kind ${String(shimKind)}; this program creates only ClusterIssuers`,
                    "use certManager.defaultIssuer, which sets kind ClusterIssuer",
                    shim,
                ),
            );
        } else refer(key, shim, "cert-manager's ingress-shim default");
    }

    const ingress = ingressNginxValues(config.ingressNginx, config.cilium.loadBalancerPools);
    const admission = valueAt(ingress, "controller.admissionWebhooks.certManager.admissionCert.issuerRef");
    if (isPlainObject(admission) && admission.kind === "ClusterIssuer") {
        refer(
            configPath(["ingressNginx", "values", "controller", "admissionWebhooks", "certManager", "admissionCert", "issuerRef", "name"]),
            admission.name,
            "the admission webhook certificate",
        );
    }

    for (const { section, values } of chartValues(config)) {
        for (const hit of findKeys(values, (k) => k === CLUSTER_ISSUER_ANNOTATION || k === ISSUER_ANNOTATION)) {
            const key = configPath([section, "values", ...hit.at]);
            if (hit.at[hit.at.length - 1] === ISSUER_ANNOTATION) {
                problems.push(
                    error(
                        key,
                        "names a namespaced Issuer; this program creates only ClusterIssuers, so nothing it manages answers it",
                        `use ${CLUSTER_ISSUER_ANNOTATION} with one of certManager.issuers`,
                        hit.value,
                    ),
                );
            } else refer(key, hit.value, "the annotation");
        }
    }
    return problems;
}

/** Every component that builds names under the cluster domain must use the cluster's. */
function clusterDomain(config: PlatformConfig): Problem[] {
    const domain = config.cluster.dnsDomain;
    const domainKey = configPath(["cluster", "dnsDomain"]);
    const problems = new Map<string, Problem>();
    // One problem per key: the leftover scan may find what a specific rule already reported.
    const mismatch = (key: string, says: string, got: unknown, fix: string) => {
        if (!problems.has(key)) problems.set(key, error(key, `${says}, but ${domainKey} is ${domain}`, fix, got));
    };

    if (config.cluster.coreDnsDisabled) {
        const servers = valueAt(corednsValues(config.cluster, config.coredns), "servers");
        const zones = (Array.isArray(servers) ? servers : []).flatMap((s) =>
            (isPlainObject(s) && Array.isArray(s.plugins) ? s.plugins : [])
                .filter((p) => isPlainObject(p) && p.name === "kubernetes")
                .map((p) => String((p as Values).parameters ?? "").split(/\s+/)[0]),
        );
        const key = sourceKey("coredns", config.coredns.values, "servers", ["cluster", "dnsDomain"]);
        if (!zones.includes(domain))
            mismatch(
                key,
                zones.length ? `makes CoreDNS serve the cluster zone ${zones.join(", ")}` : "gives CoreDNS no kubernetes plugin at all",
                zones,
                `serve ${domain} in the kubernetes plugin, or drop coredns.values.servers`,
            );
    }
    const instance = fluxInstance(config.cluster, config.flux) as { spec: Values };
    const fluxDomain = valueAt(instance.spec, "cluster.domain");
    if (fluxDomain !== domain)
        mismatch(
            configPath(["flux"]),
            `gives the FluxInstance cluster.domain ${JSON.stringify(fluxDomain)}`,
            fluxDomain,
            `set the FluxInstance's cluster.domain to ${domain}`,
        );

    if (domain === "cluster.local") return [...problems.values()];

    const cm = certManagerValues(config.certManager, config.cluster);
    const args = valueAt(cm, "webhook.extraArgs");
    const fqdn = webhookFqdn(config.certManager, config.cluster);
    if (!(Array.isArray(args) && args.some((a) => String(a).includes(fqdn)))) {
        mismatch(
            configPath(["certManager", "values", "webhook", "extraArgs"]),
            "leaves the cluster domain out of the cert-manager webhook's serving certificate",
            args,
            `keep --dynamic-serving-dns-names=${fqdn} in webhook.extraArgs`,
        );
    }
    const cilium = ciliumValues(config.cluster, config.cilium);
    if (enabled(cilium, "hubble.enabled", true) && enabled(cilium, "hubble.relay.enabled", false)) {
        const peer = valueAt(cilium, "hubble.peerService.clusterDomain") ?? "cluster.local";
        if (peer !== domain)
            mismatch(
                configPath(["cilium", "values", "hubble", "peerService", "clusterDomain"]),
                `makes Hubble Relay look for its peers under ${JSON.stringify(peer)}`,
                peer,
                `set it to ${domain}`,
            );
    }
    for (const { section, values } of chartValues(config)) {
        for (const hit of findKeys(values, (_k, v) => typeof v === "string" && /(^|[.\s,])cluster\.local\.?($|[\s,:/])/.test(v))) {
            mismatch(
                configPath([section, "values", ...hit.at]),
                "still names cluster.local",
                hit.value,
                `write ${domain} instead of cluster.local`,
            );
        }
    }
    return [...problems.values()];
}

export const crossPhaseChecks: Check[] = [
    { name: "issuer-references", run: issuerReferences },
    { name: "cluster-domain-reach", run: clusterDomain },
];
