import { error, Problem, warning, configPath } from "../problems";
import { Cidr, hasHostBits, overlaps, parseCidr, parseRange, Range } from "../net";
import { valueAt } from "../merge";
import { ciliumValues } from "../values/cilium";
import { l2PolicyObjects, poolObject } from "../values/cilium-objects";
import type { PlatformConfig } from "../config";
import { clusterFamilies } from "../config/cluster";
import { clusterCidrs, SubnetKind } from "./cluster";
import { l2Announces } from "./bgp";
import { inContext, platformPools, platformUsers } from "./severity";
import type { Check } from "./types";

/** The pod IPAM mode Cilium will actually run, after the escape hatch. */
export function ipamMode(config: PlatformConfig): string {
    return String(valueAt(ciliumValues(config.cluster, config.cilium), "ipam.mode") ?? "cluster-pool");
}

/** An address range with its config key: a cluster subnet or a LoadBalancer pool block. */
export interface NamedRange {
    path: string;
    kind: SubnetKind | "loadBalancerPools";
    range: Range;
    /** As written in the config. */
    text: string;
    /** Set for CIDRs. */
    cidr?: Cidr;
    /** The pool's name, for pool blocks. */
    pool?: string;
}

function subnetRanges(config: PlatformConfig): NamedRange[] {
    const kinds: SubnetKind[] = ["podSubnets", "serviceSubnets", "nodeSubnets"];
    return kinds.flatMap((kind) =>
        clusterCidrs(config.cluster, [kind]).map((c) => ({ path: c.path, kind, range: c.cidr, text: c.cidr.text, cidr: c.cidr })),
    );
}

/** Every valid pool block; invalid ones are already reported by the schema. */
export function poolRanges(config: PlatformConfig): NamedRange[] {
    return config.cilium.loadBalancerPools.flatMap((pool, i) =>
        pool.blocks.flatMap((b, j): NamedRange[] => {
            const path = configPath(["cilium", "loadBalancerPools", i, "blocks", j]);
            const cidr = "cidr" in b ? parseCidr(b.cidr) : undefined;
            const range = "cidr" in b ? cidr : parseRange(b.start, b.stop);
            const text = "cidr" in b ? b.cidr : `${b.start}-${b.stop}`;
            return range ? [{ path, kind: "loadBalancerPools", range, text, cidr, pool: pool.name }] : [];
        }),
    );
}

export function contained(inner: Range, outer: Range): boolean {
    return inner.family === outer.family && inner.start >= outer.start && inner.end <= outer.end;
}

/** Pools that L2 announcements answer ARP for: those must live on the nodes' network. */
function l2Pools(config: PlatformConfig): Set<string> {
    const policies = l2PolicyObjects(config.cilium).map((o) => o.spec);
    return new Set(config.cilium.loadBalancerPools.filter((p) => l2Announces(poolObject(p).spec, policies)).map((p) => p.name));
}

function danglingL2Pool(config: PlatformConfig): boolean {
    const names = new Set(config.cilium.loadBalancerPools.map((p) => p.name));
    return config.cilium.l2Announcements.some((l2) => (l2.pools ?? []).some((p) => !names.has(p)));
}

/**
 * Pod, Service, node and LoadBalancer pool ranges must not share addresses.
 * Two overlaps are tolerated. A Service subnet inside the pod subnet under
 * ipam.mode kubernetes: kube-controller-manager's node IPAM marks the node
 * blocks it overlaps as taken (Cilium's own cluster-pool IPAM does no such
 * thing), and the node-IPAM check says what that costs. And a pool inside a
 * node subnet when L2 announcements answer ARP for it: that is where such a
 * pool has to be.
 */
export function subnetOverlaps(config: PlatformConfig, ranges: NamedRange[] = [...subnetRanges(config), ...poolRanges(config)]): Problem[] {
    const problems: Problem[] = [];
    const mode = ipamMode(config);
    const arp = l2Pools(config);
    for (let i = 0; i < ranges.length; i++) {
        for (let j = i + 1; j < ranges.length; j++) {
            const [a, b] = [ranges[i], ranges[j]];
            if (!overlaps(a.range, b.range)) continue;
            const [svc, pod] = a.kind === "serviceSubnets" ? [a, b] : [b, a];
            if (svc.kind === "serviceSubnets" && pod.kind === "podSubnets" && contained(svc.range, pod.range) && mode === "kubernetes")
                continue;
            const [pool, node] = a.kind === "loadBalancerPools" ? [a, b] : [b, a];
            if (
                pool.kind === "loadBalancerPools" &&
                node.kind === "nodeSubnets" &&
                arp.has(pool.pool!) &&
                contained(pool.range, node.range)
            )
                continue;
            const poolInNodes = pool.kind === "loadBalancerPools" && node.kind === "nodeSubnets" && contained(pool.range, node.range);
            // An L2 policy naming a pool that does not exist is most likely this pool misspelled: that error says it all.
            if (poolInNodes && danglingL2Pool(config)) continue;
            problems.push(
                error(
                    a.path,
                    `overlaps ${b.path} (${b.text}); pods, Services, nodes and LoadBalancer pools must be routable apart`,
                    poolInNodes
                        ? `announce pool ${pool.pool} with cilium.l2Announcements (ARP answers for pool addresses inside the node network), or give it addresses outside ${node.path}`
                        : `give each range its own addresses: change ${a.path} or ${b.path}`,
                    a.text,
                ),
            );
        }
    }
    return problems;
}

/** Kubernetes and Talos mask host bits away; say what the range really is. */
function hostBits(config: PlatformConfig): Problem[] {
    return clusterCidrs(config.cluster)
        .filter((c) => hasHostBits(c.cidr))
        .map((c) =>
            warning(
                "cidr-host-bits",
                c.path,
                `has host bits set; Kubernetes reads it as ${c.cidr.network}/${c.cidr.prefix}`,
                `write ${c.cidr.network}/${c.cidr.prefix}, or a longer prefix if a smaller range was meant`,
                c.cidr.text,
            ),
        );
}

/** A pool of a family the cluster does not run hands out addresses nothing routes. */
function poolFamilies(config: PlatformConfig): Problem[] {
    const families = clusterFamilies(config.cluster);
    return poolRanges(config)
        .filter((r) => !families.has(r.range.family))
        .map((r) =>
            error(
                r.path,
                `is ${r.range.family}, but talos-platform:cluster.serviceSubnets (${config.cluster.serviceSubnets.join(", ")}) runs only ${[...families].join(" and ")}`,
                `remove the block, or make the cluster dual-stack in Talos and list both families in cluster.podSubnets and cluster.serviceSubnets`,
                r.text,
            ),
        );
}

/** ARP reaches only the local network: an L2-announced pool outside every node subnet is unreachable. */
function l2PoolsOnNodeNetwork(config: PlatformConfig): Problem[] {
    const arp = l2Pools(config);
    const nodes = clusterCidrs(config.cluster, ["nodeSubnets"]);
    const platform = platformPools(config);
    return poolRanges(config)
        .filter((r) => arp.has(r.pool!) && r.range.family === "ipv4" && !nodes.some((n) => contained(r.range, n.cidr)))
        .map((r) =>
            inContext(
                warning(
                    "l2-pool-outside-node-subnets",
                    r.path,
                    `is announced by ARP (cilium.l2Announcements) but lies outside talos-platform:cluster.nodeSubnets (${config.cluster.nodeSubnets.join(", ")}); routers only ARP for addresses on their connected networks`,
                    "take the pool's addresses from the nodes' network, outside its DHCP range, or announce the pool with BGP",
                    r.text,
                ),
                platformUsers(platform, r.pool!),
            ),
        );
}

export const networkChecks: Check[] = [
    { name: "cidr-host-bits", run: hostBits },
    { name: "subnet-overlap", run: (c) => subnetOverlaps(c) },
    { name: "lb-pool-families", run: poolFamilies },
    { name: "l2-pool-on-node-network", run: l2PoolsOnNodeNetwork },
];
