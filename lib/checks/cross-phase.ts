import type { PlatformConfig } from "../config";
import { isPlainObject, Values, valueAt } from "../merge";
import { configPath, error, Problem } from "../problems";
import { certManagerValues, webhookFqdn } from "../values/cert-manager";
import { ciliumValues } from "../values/cilium";
import { corednsValues } from "../values/coredns";
import { fluxInstance } from "../values/flux";
import { isIllTyped, KIND, readValue, switchOn } from "../values/read";
import { releases } from "./crd-order";
import { sourceKey } from "./dns";
import { findKeys, issuerReferenceChecks } from "./issuer-refs";
import type { Check } from "./types";

/** The zones of a Corefile server block's kubernetes plugins; without parameters the plugin serves the block's zones ("."). */
function kubernetesZones(server: Record<string, unknown>): string[] {
    const plugins = Array.isArray(server.plugins) ? server.plugins : [];
    return plugins
        .filter((p): p is Values => isPlainObject(p) && p.name === "kubernetes")
        .map((p) => (typeof p.parameters === "string" ? p.parameters.split(/\s+/)[0] : "."));
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

    const dnsValues = corednsValues(config.cluster, config.coredns);
    // A servers list of the wrong kind is the type check's to report.
    if (config.cluster.coreDnsDisabled && !isIllTyped(dnsValues, "servers", KIND.maps)) {
        const servers = readValue(dnsValues, "servers", KIND.maps);
        // Deleted with null, the chart's own Corefile serves cluster.local.
        const zones = servers ? servers.flatMap(kubernetesZones) : ["cluster.local"];
        const key = sourceKey("coredns", config.coredns.values, "servers", ["cluster", "dnsDomain"]);
        if (!zones.some((z) => z === domain || z === "."))
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
    const args = readValue(cm, "webhook.extraArgs", KIND.strings) ?? [];
    const fqdn = webhookFqdn(config.certManager, config.cluster);
    if (!isIllTyped(cm, "webhook.extraArgs", KIND.strings) && !args.some((a) => a.includes(fqdn))) {
        mismatch(
            configPath(["certManager", "values", "webhook", "extraArgs"]),
            "leaves the cluster domain out of the cert-manager webhook's serving certificate",
            readValue(cm, "webhook.extraArgs", KIND.strings),
            `keep --dynamic-serving-dns-names=${fqdn} in webhook.extraArgs`,
        );
    }
    const cilium = ciliumValues(config.cluster, config.cilium);
    if (switchOn(cilium, "hubble.enabled", true) && switchOn(cilium, "hubble.relay.enabled", false)) {
        const peer = readValue(cilium, "hubble.peerService.clusterDomain", KIND.string) ?? "cluster.local";
        if (peer !== domain && !isIllTyped(cilium, "hubble.peerService.clusterDomain", KIND.string))
            mismatch(
                configPath(["cilium", "values", "hubble", "peerService", "clusterDomain"]),
                `makes Hubble Relay look for its peers under ${JSON.stringify(peer)}`,
                peer,
                `set it to ${domain}`,
            );
    }
    for (const { section, values } of releases(config)) {
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

export const crossPhaseChecks: Check[] = [...issuerReferenceChecks, { name: "cluster-domain-reach", run: clusterDomain }];
