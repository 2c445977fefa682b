import type { PlatformConfig } from "../config";
import { corednsSchema } from "../config/coredns";
import { valueAt } from "../merge";
import { contains, nthAddress } from "../net";
import { configPath, error, Problem, warning } from "../problems";
import { corednsValues, defaultDnsIPs } from "../values/coredns";
import { clusterCidrs } from "./cluster";
import type { Check } from "./types";

/** The config key a merged value came from: the escape hatch if it sets it, else the typed field. */
export function sourceKey(section: string, values: Record<string, unknown>, valuesKey: string, typedKey: (string | number)[]): string {
    return valueAt(values, valuesKey) !== undefined ? configPath([section, "values", ...valuesKey.split(".")]) : configPath(typedKey);
}

/**
 * The kube-dns ClusterIPs must be addresses the API server will hand out
 * (inside the matching service subnet, not the kubernetes Service's) and
 * should be the ones kubelet sends pods to.
 */
function clusterIPs(config: PlatformConfig): Problem[] {
    const { cluster, coredns } = config;
    if (!cluster.coreDnsDisabled) return [];
    const problems: Problem[] = [];
    const merged = corednsValues(cluster, coredns);
    const ips = (valueAt(merged, "service.clusterIPs") as string[] | undefined) ?? [];
    const subnets = clusterCidrs(cluster, ["serviceSubnets"]);
    const key = sourceKey(
        "coredns",
        coredns.values,
        "service.clusterIPs",
        coredns.clusterIPs ? ["coredns", "clusterIPs"] : ["cluster", "serviceSubnets"],
    );

    if (!coredns.clusterIPs) {
        subnets.forEach((s) => {
            if (nthAddress(s.cidr, 10) === undefined) {
                problems.push(
                    error(
                        s.path,
                        "is too small to hold CoreDNS' default address (its tenth)",
                        "use a larger service subnet, or set coredns.clusterIPs",
                        s.cidr.text,
                    ),
                );
            }
        });
    }
    if (ips.length > subnets.length) {
        problems.push(
            error(
                key,
                `lists ${ips.length} addresses but the cluster has ${subnets.length} service subnet(s)`,
                "give one address per service subnet, in the same order",
                ips,
            ),
        );
    }
    ips.forEach((ip, i) => {
        const subnet = subnets[i];
        if (!subnet) return;
        const at = `${key}[${i}]`;
        if (!contains(subnet.cidr, ip)) {
            problems.push(
                error(
                    at,
                    `is outside ${subnet.path} (${subnet.cidr.text}); the API server only hands out ClusterIPs from the service subnet`,
                    `pick an address inside ${subnet.cidr.text}, e.g. ${nthAddress(subnet.cidr, 10) ?? "its tenth address"}`,
                    ip,
                ),
            );
        } else if (ip === nthAddress(subnet.cidr, 1) || ip === nthAddress(subnet.cidr, 0)) {
            const what =
                ip === nthAddress(subnet.cidr, 1)
                    ? "the kubernetes Service's address (the first of the subnet)"
                    : "the subnet's network address";
            problems.push(
                error(at, `is ${what}`, `pick another address inside ${subnet.cidr.text}, e.g. ${nthAddress(subnet.cidr, 10)}`, ip),
            );
        }
    });
    const primary = valueAt(merged, "service.clusterIP");
    if (primary !== undefined && primary !== ips[0]) {
        problems.push(
            error(
                sourceKey("coredns", coredns.values, "service.clusterIP", ["coredns", "clusterIPs", 0]),
                `differs from the first of the Service's clusterIPs (${String(ips[0])}); Kubernetes requires them equal`,
                "set only coredns.clusterIPs and let the program fill in both",
                primary,
            ),
        );
    }
    const expected = defaultDnsIPs(cluster);
    if (problems.length === 0 && ips.some((ip, i) => ip !== expected[i])) {
        problems.push(
            warning(
                "coredns-not-at-cluster-dns",
                key,
                `puts kube-dns at ${ips.join(", ")}, but Talos points kubelet at ${expected.join(", ")} unless machine.kubelet.clusterDNS says otherwise`,
                "set machine.kubelet.clusterDNS on every Talos node to the same addresses, or drop coredns.clusterIPs",
                ips,
            ),
        );
    }
    return problems;
}

/** Two replicas survive a node drain; the escape hatch must not undo that. */
function replicas(config: PlatformConfig): Problem[] {
    if (!config.cluster.coreDnsDisabled) return [];
    const n = valueAt(corednsValues(config.cluster, config.coredns), "replicaCount");
    if (typeof n === "number" && n >= 2) return [];
    return [
        error(
            configPath(["coredns", "values", "replicaCount"]),
            "leaves CoreDNS with fewer than 2 replicas; one node drain would stop DNS",
            "remove it and use coredns.replicas (at least 2)",
            n,
        ),
    ];
}

/** With Talos running CoreDNS, this section configures nothing: say so rather than ignore it. */
function unusedWhileTalosRunsCoreDns(config: PlatformConfig): Problem[] {
    if (config.cluster.coreDnsDisabled) return [];
    const defaults = corednsSchema.parse({});
    const set = (["upstreams", "clusterIPs", "replicas", "values"] as const).filter(
        (k) => JSON.stringify(config.coredns[k]) !== JSON.stringify(defaults[k]),
    );
    if (!set.length) return [];
    return [
        warning(
            "coredns-settings-unused",
            configPath(["coredns", set[0]]),
            `has no effect: cluster.coreDnsDisabled is false, so Talos runs CoreDNS and this program only gates on it (also set: ${set.join(", ")})`,
            "set cluster.coreDnsDisabled to true (and Talos cluster.coreDNS.disabled) to let this program own CoreDNS, or remove these keys",
        ),
    ];
}

export const dnsChecks: Check[] = [
    { name: "coredns-cluster-ip", run: clusterIPs },
    { name: "coredns-replicas", run: replicas },
    { name: "coredns-settings-unused", run: unusedWhileTalosRunsCoreDns },
];
