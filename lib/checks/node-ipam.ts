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

/** A pod subnet with what the messages about it need. */
interface PodSubnet {
    pod: NamedCidr;
    mask: number;
    maskKey: string;
    /** "is read as <network/prefix> and " when host bits are set: Kubernetes masks them away. */
    read: string;
    name: string;
    extraArg: string;
}

function podSubnets(cluster: ClusterConfig): PodSubnet[] {
    return clusterCidrs(cluster, ["podSubnets"]).map((pod) => {
        const family = pod.cidr.family;
        const net = `${pod.cidr.network}/${pod.cidr.prefix}`;
        return {
            pod,
            mask: cluster[MASK[family]],
            maskKey: configPath(["cluster", MASK[family]]),
            read: net === pod.cidr.text.trim() ? "" : `is read as ${net} and `,
            name: family === "ipv4" ? "IPv4" : "IPv6",
            extraArg: `Talos cluster.controllerManager.extraArgs node-cidr-mask-size-${family}`,
        };
    });
}

/** What makes kube-controller-manager exit at start-up, whatever Cilium's IPAM mode. */
function maskProblem({ pod, mask, maskKey, read, extraArg }: PodSubnet): Problem | undefined {
    const { family, prefix } = pod.cidr;
    if (prefix > mask) {
        return error(
            pod.path,
            `${read}is smaller than one /${mask} node block (${maskKey}): kube-controller-manager refuses a cluster CIDR whose prefix is longer than its node mask ("mask size of cluster CIDR must be less than or equal to --node-cidr-mask-size") and exits`,
            `use a pod subnet of /${mask} or shorter, or set ${maskKey} to ${prefix} or more, in Talos too (${extraArg})`,
            pod.cidr.text,
        );
    }
    if (family === "ipv6" && mask - prefix > MAX_IPV6_NODE_BITS) {
        return error(
            pod.path,
            `${read}holds 2^${mask - prefix} /${mask} node blocks (${maskKey}); kube-controller-manager allows at most 2^${MAX_IPV6_NODE_BITS} for IPv6 ("the node CIDR size is too big") and exits`,
            `use an IPv6 pod subnet of /${mask - MAX_IPV6_NODE_BITS} or longer, or set ${maskKey} to at most ${prefix + MAX_IPV6_NODE_BITS}, in Talos too (${extraArg})`,
            pod.cidr.text,
        );
    }
    return undefined;
}

/** Under ipam.mode kubernetes, what the Service subnets leave of a pod subnet's node blocks. */
function blockProblems(subnet: PodSubnet, services: NamedCidr[], dualStack: boolean): Problem[] {
    const { pod, mask, maskKey, read, name, extraArg } = subnet;
    const prefix = pod.cidr.prefix;
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

function nodeMasks(config: PlatformConfig): Problem[] {
    return podSubnets(config.cluster)
        .map(maskProblem)
        .filter((p): p is Problem => p !== undefined);
}

function nodeBlockChecks(config: PlatformConfig): Problem[] {
    const cluster = config.cluster;
    // Cilium's cluster-pool IPAM ignores the nodes' pod CIDRs.
    if (ipamMode(config) !== "kubernetes") return [];
    const services = clusterCidrs(cluster, ["serviceSubnets"]);
    const subnets = podSubnets(cluster);
    const dualStack = new Set(subnets.map((s) => s.pod.cidr.family)).size === 2;
    return subnets.filter((s) => !maskProblem(s)).flatMap((s) => blockProblems(s, services, dualStack));
}

// Two checks: the first reads only the cluster section, so it runs even when
// the cilium section fails to parse.
export const nodeIpamChecks: Check[] = [
    { name: "node-cidr-masks", run: nodeMasks },
    { name: "node-cidr-blocks", run: nodeBlockChecks },
];
