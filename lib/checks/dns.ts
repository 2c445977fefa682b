import type { PlatformConfig } from "../config";
import { corednsSchema } from "../config/coredns";
import { valueAt } from "../merge";
import { addressValue, Cidr, contains, isAddress, nthAddress } from "../net";
import { configPath, error, Problem, warning } from "../problems";
import { corednsValues, defaultDnsIPs } from "../values/coredns";
import { isIllTyped, KIND, readValue } from "../values/read";
import { clusterCidrs } from "./cluster";
import { minReplicaProblems, ReplicaRule } from "./replicas";
import type { Check } from "./types";

/** The config key a merged value came from: the escape hatch if it sets it, else the typed field. */
export function sourceKey(section: string, values: Record<string, unknown>, valuesKey: string, typedKey: (string | number)[]): string {
    return valueAt(values, valuesKey) !== undefined ? configPath([section, "values", ...valuesKey.split(".")]) : configPath(typedKey);
}

/**
 * Why the API server would refuse `ip` as a ClusterIP of `subnet`, or
 * undefined. Its allocator hands out neither the subnet's first address
 * (IPv4 network, IPv6 subnet-router anycast) nor, for IPv4, the last
 * (broadcast); the kubernetes Service holds the first usable address of the
 * primary subnet.
 */
export function reservedClusterIP(subnet: Cidr, ip: string, primary: boolean): string | undefined {
    const a = addressValue(ip);
    if (!a || a.family !== subnet.family) return undefined;
    if (a.value === subnet.start) {
        return subnet.family === "ipv4"
            ? "the subnet's network address, which the API server never hands out"
            : "the subnet's first address (its subnet-router anycast address), which the API server never hands out";
    }
    if (subnet.family === "ipv4" && a.value === subnet.end) return "the subnet's broadcast address, which the API server never hands out";
    if (primary && a.value === subnet.start + 1n) return "the kubernetes Service's address (the first usable one of the subnet)";
    return undefined;
}

/**
 * The kube-dns ClusterIPs must be addresses the API server will hand out
 * (inside the matching service subnet, not reserved) and should be the
 * ones kubelet sends pods to.
 */
function clusterIPs(config: PlatformConfig): Problem[] {
    const { cluster, coredns } = config;
    if (!cluster.coreDnsDisabled) return [];
    const merged = corednsValues(cluster, coredns);
    // A list of the wrong kind is the type check's to report.
    if (isIllTyped(merged, "service.clusterIPs", KIND.strings)) return [];
    const ips = readValue(merged, "service.clusterIPs", KIND.strings) ?? [];
    const problems: Problem[] = [];
    const subnets = clusterCidrs(cluster, ["serviceSubnets"]);
    const key = sourceKey(
        "coredns",
        coredns.values,
        "service.clusterIPs",
        coredns.clusterIPs ? ["coredns", "clusterIPs"] : ["cluster", "serviceSubnets"],
    );

    if (!coredns.clusterIPs && readValue(coredns.values, "service.clusterIPs", KIND.strings) === undefined) {
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
    // Only the escape hatch can list none: the typed key takes at least one, the default one per subnet.
    if (ips.length === 0 && readValue(coredns.values, "service.clusterIPs", KIND.strings) !== undefined) {
        problems.push(
            error(
                key,
                "lists no address, so the API server would pick kube-dns' ClusterIP at random, where kubelet does not send pods",
                `list one address per service subnet, e.g. ${defaultDnsIPs(cluster).join(", ")}, or remove the key`,
                ips,
            ),
        );
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
        const example = nthAddress(subnet.cidr, 10) ?? "its tenth address";
        if (!isAddress(ip)) {
            problems.push(error(at, "is not an IP address", `write a plain address inside ${subnet.cidr.text}, e.g. ${example}`, ip));
        } else if (!contains(subnet.cidr, ip)) {
            problems.push(
                error(
                    at,
                    `is outside ${subnet.path} (${subnet.cidr.text}); the API server only hands out ClusterIPs from the service subnet`,
                    `pick an address inside ${subnet.cidr.text}, e.g. ${example}`,
                    ip,
                ),
            );
        } else {
            const reserved = reservedClusterIP(subnet.cidr, ip, i === 0);
            if (reserved)
                problems.push(error(at, `is ${reserved}`, `pick another address inside ${subnet.cidr.text}, e.g. ${example}`, ip));
        }
    });
    const primary = readValue(merged, "service.clusterIP", KIND.string);
    if (primary !== undefined && primary !== ips[0]) {
        problems.push(
            error(
                configPath(["coredns", "values", "service", "clusterIP"]),
                `differs from ${key}[0] (${String(ips[0])}); Kubernetes requires clusterIP to equal the first of clusterIPs`,
                "remove service.clusterIP from the values: the program sets it from the ClusterIPs",
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

/** CoreDNS's replica count and autoscalers, after the escape hatch. */
export const COREDNS_REPLICAS: ReplicaRule = {
    section: "coredns",
    what: "CoreDNS",
    replicasKey: "replicaCount",
    chartReplicas: 1,
    autoscalers: [
        // The cluster-proportional autoscaler keeps 2 on a multi-node cluster unless told otherwise.
        {
            enabledKey: "autoscaler.enabled",
            minKey: "autoscaler.min",
            chartMin: 0,
            keepsTwoKey: ["autoscaler.preventSinglePointFailure", true],
        },
        { enabledKey: "hpa.enabled", minKey: "hpa.minReplicas", chartMin: 1 },
    ],
    risk: "one node drain would stop DNS",
    fix: "keep at least 2: set coredns.replicas, and an autoscaler's minimum of at least 2",
};

function replicas(config: PlatformConfig): Problem[] {
    if (!config.cluster.coreDnsDisabled) return [];
    return minReplicaProblems(COREDNS_REPLICAS, corednsValues(config.cluster, config.coredns));
}

/** With Talos running CoreDNS, this section configures nothing: say so rather than ignore it. */
function unusedWhileTalosRunsCoreDns(config: PlatformConfig): Problem[] {
    if (config.cluster.coreDnsDisabled) return [];
    const defaults = corednsSchema.parse({});
    const set = (["upstreams", "clusterIPs", "replicas", "clusterDomainFallthrough", "values"] as const).filter(
        (k) => JSON.stringify(config.coredns[k]) !== JSON.stringify(defaults[k]),
    );
    if (!set.length) return [];
    return [
        warning(
            "coredns-settings-unused",
            configPath(["coredns", set[0]]),
            `has no effect: cluster.coreDnsDisabled is false, so Talos runs CoreDNS and this program only gates on it${
                set.length > 1
                    ? ` (nor do ${set
                          .slice(1)
                          .map((k) => configPath(["coredns", k]))
                          .join(", ")})`
                    : ""
            }`,
            "set cluster.coreDnsDisabled to true (and Talos cluster.coreDNS.disabled) to let this program own CoreDNS, or remove these keys",
        ),
    ];
}

export const dnsChecks: Check[] = [
    { name: "coredns-cluster-ip", run: clusterIPs },
    { name: "coredns-replicas", run: replicas },
    { name: "coredns-settings-unused", run: unusedWhileTalosRunsCoreDns },
];
