import type { PlatformConfig } from "../config";
import type { ClusterConfig } from "../config/cluster";
import type { Cidr, Family } from "../net";
import { configPath, error, Problem, warning } from "../problems";
import { clusterCidrs, NamedCidr } from "./cluster";
import { contained, ipamMode } from "./network";
import type { Check } from "./types";

// kube-controller-manager's node IPAM as Talos runs it: allocate-node-cidrs
// on, cluster-cidr = the pod subnets, service-cluster-ip-range = the Service
// subnets, and no node mask flag, so Kubernetes' defaults apply unless
// extraArgs say otherwise. Under ipam.mode kubernetes, Cilium gives pods
// addresses from the block each node gets here, and nothing else.

const MASK: Record<Family, "nodeCidrMaskSizeIPv4" | "nodeCidrMaskSizeIPv6"> = {
    ipv4: "nodeCidrMaskSizeIPv4",
    ipv6: "nodeCidrMaskSizeIPv6",
};

/** kube-controller-manager tracks IPv6 node blocks in an uncompressed bitmap of at most 2^16. */
const MAX_IPV6_NODE_BITS = 16;

/** Below this many node blocks, say how many nodes can get pod CIDRs. */
export const FEW_NODE_BLOCKS = 16n;

export interface NodeBlocks {
    /** Node blocks in the pod subnet. */
    total: bigint;
    /** Blocks the Service subnets inside it take; kube-controller-manager never hands them out. */
    taken: bigint;
}

/** How many node blocks of prefix `mask` a pod subnet holds, and how many the Service subnets inside it take. */
export function nodeBlocks(pod: Cidr, mask: number, services: Cidr[]): NodeBlocks {
    const bits = BigInt((pod.family === "ipv4" ? 32 : 128) - mask);
    const index = (address: bigint) => (address - pod.start) >> bits;
    // Intervals of taken block indexes, merged: one Service subnet per family
    // in practice, but the count must not depend on it.
    const spans = services
        .filter((s) => contained(s, pod))
        .map((s) => [index(s.start), index(s.end)] as const)
        .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    let taken = 0n;
    let end = -1n;
    for (const [first, last] of spans) {
        const from = first > end ? first : end + 1n;
        if (last >= from) taken += last - from + 1n;
        if (last > end) end = last;
    }
    return { total: 1n << BigInt(mask - pod.prefix), taken };
}

function plural(n: bigint, one: string, many: string): string {
    return `${n} ${n === 1n ? one : many}`;
}

function podSubnetProblems(
    cluster: ClusterConfig,
    pod: NamedCidr,
    services: NamedCidr[],
    kubernetesIpam: boolean,
    dualStack: boolean,
): Problem[] {
    const { family, prefix } = pod.cidr;
    const maskKey = configPath(["cluster", MASK[family]]);
    const mask = cluster[MASK[family]];
    const net = `${pod.cidr.network}/${prefix}`;
    // Kubernetes masks host bits away; say so where it matters.
    const read = net === pod.cidr.text.trim() ? "" : `is read as ${net} and `;
    const name = family === "ipv4" ? "IPv4" : "IPv6";
    const extraArg = `Talos cluster.controllerManager.extraArgs node-cidr-mask-size-${family}`;
    if (prefix > mask) {
        return [
            error(
                pod.path,
                `${read}is smaller than one /${mask} node block (${maskKey}): kube-controller-manager refuses a cluster CIDR whose prefix is longer than its node mask ("mask size of cluster CIDR must be less than or equal to --node-cidr-mask-size") and exits`,
                `use a pod subnet of /${mask} or shorter, or set ${maskKey} to ${prefix} or more, in Talos too (${extraArg})`,
                pod.cidr.text,
            ),
        ];
    }
    if (family === "ipv6" && mask - prefix > MAX_IPV6_NODE_BITS) {
        return [
            error(
                pod.path,
                `${read}holds 2^${mask - prefix} /${mask} node blocks (${maskKey}); kube-controller-manager allows at most 2^${MAX_IPV6_NODE_BITS} for IPv6 ("the node CIDR size is too big") and exits`,
                `use an IPv6 pod subnet of /${mask - MAX_IPV6_NODE_BITS} or longer, or set ${maskKey} to at most ${prefix + MAX_IPV6_NODE_BITS}, in Talos too (${extraArg})`,
                pod.cidr.text,
            ),
        ];
    }
    if (!kubernetesIpam) return [];
    const inside = services.filter((s) => contained(s.cidr, pod.cidr));
    const { total, taken } = nodeBlocks(
        pod.cidr,
        mask,
        inside.map((s) => s.cidr),
    );
    const free = total - taken;
    const service = inside.map((s) => `${s.path} (${s.cidr.text})`).join(" and ");
    const share =
        taken < total
            ? `${taken} of its ${total} /${mask} node blocks`
            : total === 1n
              ? `its only /${mask} node block`
              : `all ${total} of its /${mask} node blocks`;
    const cost = taken ? `${service} lies inside it and takes ${share}, which kube-controller-manager never hands out` : "";
    const roomier = mask >= 8 ? `a /${Math.min(prefix, mask - 8)} of their own` : "a shorter prefix";
    const fix = `give pods ${roomier}${taken ? ", apart from the Service subnet" : ""} (in Talos and here), or smaller node blocks with ${maskKey} (and ${extraArg})`;
    if (free === 0n) {
        const none = dualStack
            ? `no node gets an ${name} pod CIDR, and as a dual-stack node gets one of every family or none ("failed to allocate cidr from cluster cidr"), no node gets any`
            : `no node gets a pod CIDR`;
        return [
            error(
                pod.path,
                `${read}leaves no /${mask} node block: ${cost}. So ${none}, and Cilium (ipam.mode kubernetes) has no pod addresses to give on any node`,
                fix,
                pod.cidr.text,
            ),
        ];
    }
    if (free < FEW_NODE_BLOCKS) {
        return [
            warning(
                "few-node-cidrs",
                pod.path,
                `${read}has room for ${plural(free, `/${mask} node block`, `/${mask} node blocks`)}${taken ? ` (${cost})` : ""}: at most ${plural(free, "node", "nodes")} can get ${name} pod CIDRs`,
                fix,
                pod.cidr.text,
            ),
        ];
    }
    if (!taken) return [];
    return [
        warning(
            "service-subnet-inside-pod-subnet",
            pod.path,
            `${read}contains ${service}; kube-controller-manager's node IPAM (ipam.mode kubernetes) never hands out the ${plural(taken, "node block", "node blocks")} it overlaps, so ${free} of ${total} remain for nodes`,
            "give pods a range of their own; Cilium's cluster-pool IPAM, unlike node IPAM, would give pods Service addresses",
            pod.cidr.text,
        ),
    ];
}

function nodeIpam(config: PlatformConfig): Problem[] {
    const cluster = config.cluster;
    const kubernetesIpam = ipamMode(config) === "kubernetes";
    const services = clusterCidrs(cluster, ["serviceSubnets"]);
    const pods = clusterCidrs(cluster, ["podSubnets"]);
    const dualStack = new Set(pods.map((p) => p.cidr.family)).size === 2;
    return pods.flatMap((pod) => podSubnetProblems(cluster, pod, services, kubernetesIpam, dualStack));
}

export const nodeIpamChecks: Check[] = [{ name: "node-ipam", run: nodeIpam }];
