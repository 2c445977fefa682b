import { error, Problem, warning } from "../problems";
import { hasHostBits, overlaps } from "../net";
import { valueAt } from "../merge";
import { ciliumValues } from "../values/cilium";
import type { PlatformConfig } from "../config";
import { clusterCidrs, NamedCidr } from "./cluster";
import type { Check } from "./types";

/** The pod IPAM mode Cilium will actually run, after the escape hatch. */
export function ipamMode(config: PlatformConfig): string {
    return String(valueAt(ciliumValues(config.cluster, config.cilium), "ipam.mode") ?? "cluster-pool");
}

function contained(inner: NamedCidr, outer: NamedCidr): boolean {
    return inner.cidr.family === outer.cidr.family && inner.cidr.start >= outer.cidr.start && inner.cidr.end <= outer.cidr.end;
}

function isKind(c: NamedCidr, kind: string): boolean {
    return c.path.includes(`.${kind}[`);
}

/**
 * Pod, Service and node ranges must not share addresses. One overlap is
 * tolerated: a Service subnet inside the pod subnet under ipam.mode
 * kubernetes, because kube-controller-manager's node IPAM marks the Service
 * range as taken. Cilium's own cluster-pool IPAM does no such thing.
 */
export function subnetOverlaps(config: PlatformConfig, ranges: NamedCidr[] = clusterCidrs(config.cluster)): Problem[] {
    const problems: Problem[] = [];
    const mode = ipamMode(config);
    for (let i = 0; i < ranges.length; i++) {
        for (let j = i + 1; j < ranges.length; j++) {
            const [a, b] = [ranges[i], ranges[j]];
            if (!overlaps(a.cidr, b.cidr)) continue;
            const [svc, pod] = isKind(a, "serviceSubnets") ? [a, b] : [b, a];
            if (isKind(svc, "serviceSubnets") && isKind(pod, "podSubnets") && contained(svc, pod) && mode === "kubernetes") {
                problems.push(
                    warning(
                        "service-subnet-inside-pod-subnet",
                        pod.path,
                        `${pod.cidr.network}/${pod.cidr.prefix} contains ${svc.path} (${svc.cidr.text}); this works only because kube-controller-manager's node IPAM (ipam.mode kubernetes) never hands out the Service range`,
                        "give pods a range of their own; switching Cilium to cluster-pool IPAM would otherwise give pods Service addresses",
                        pod.cidr.text,
                    ),
                );
                continue;
            }
            problems.push(
                error(
                    a.path,
                    `overlaps ${b.path} (${b.cidr.text}); pods, Services, nodes and LoadBalancer pools must be routable apart`,
                    `give each range its own addresses: change ${a.path} or ${b.path}`,
                    a.cidr.text,
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

export const networkChecks: Check[] = [
    { name: "cidr-host-bits", needs: ["cluster"], run: hostBits },
    { name: "subnet-overlap", needs: ["cluster", "cilium"], run: (c) => subnetOverlaps(c) },
];
