import { configPath, error, Problem } from "../problems";
import { Cidr, parseCidr } from "../net";
import { ClusterConfig, clusterFamilies } from "../config/cluster";
import type { Check } from "./types";

export type SubnetKind = "podSubnets" | "serviceSubnets" | "nodeSubnets";

export interface NamedCidr {
    path: string;
    cidr: Cidr;
}

/** The cluster's subnets, parsed, each with its config key. */
export function clusterCidrs(cluster: ClusterConfig, kinds: SubnetKind[] = ["podSubnets", "serviceSubnets", "nodeSubnets"]): NamedCidr[] {
    const out: NamedCidr[] = [];
    for (const kind of kinds) {
        cluster[kind].forEach((text, i) => {
            const cidr = parseCidr(text);
            if (cidr) out.push({ path: configPath(["cluster", kind, i]), cidr });
        });
    }
    return out;
}

function subnetShape(cluster: ClusterConfig): Problem[] {
    const problems: Problem[] = [];
    for (const kind of ["podSubnets", "serviceSubnets"] as const) {
        const families = clusterCidrs(cluster, [kind]).map((c) => c.cidr.family);
        if (families.length === 2 && families[0] === families[1]) {
            problems.push(
                error(
                    configPath(["cluster", kind]),
                    `lists two ${families[0]} subnets; Kubernetes takes at most one per family`,
                    "keep one IPv4 and at most one IPv6 subnet",
                    cluster[kind],
                ),
            );
        }
    }
    const pod = new Set(clusterCidrs(cluster, ["podSubnets"]).map((c) => c.cidr.family));
    const svc = clusterFamilies(cluster);
    if (pod.size !== svc.size || [...pod].some((f) => !svc.has(f))) {
        problems.push(
            error(
                configPath(["cluster", "serviceSubnets"]),
                `covers ${[...svc].join(" and ")} while cluster.podSubnets covers ${[...pod].join(" and ")}; a dual-stack cluster needs both in each`,
                "list the same address families in cluster.podSubnets and cluster.serviceSubnets, in the same order as Talos",
                cluster.serviceSubnets,
            ),
        );
    }
    return problems;
}

export const clusterChecks: Check[] = [{ name: "cluster-subnet-shape", run: (c) => subnetShape(c.cluster) }];
