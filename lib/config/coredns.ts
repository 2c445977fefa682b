import { z } from "zod";
import { addressFamily, isAddress } from "../net";
import { chartFields, must } from "./common";

/**
 * Is `v` something CoreDNS' forward plugin takes: an address with an
 * optional port and optional dns:// scheme, or a resolv.conf path? Names
 * are not: forward resolves nothing itself.
 */
export function isUpstream(v: string): boolean {
    if (v.startsWith("/")) return !/\s/.test(v);
    const target = v.replace(/^dns:\/\//, "");
    if (isAddress(target)) return true;
    const v6 = /^\[([^\]]+)\]:(\d{1,5})$/.exec(target);
    if (v6) return addressFamily(v6[1]) === "ipv6" && isPort(v6[2]);
    const v4 = /^([^:]+):(\d{1,5})$/.exec(target);
    return v4 !== null && addressFamily(v4[1]) === "ipv4" && isPort(v4[2]);
}

function isPort(p: string): boolean {
    const n = Number(p);
    return n >= 1 && n <= 65535;
}

const upstream = must(
    z.string(),
    isUpstream,
    "is not an upstream CoreDNS can forward to",
    "use an IP address with an optional port (1.1.1.1, 8.8.8.8:53, [2606:4700:4700::1111]:53) or a resolv.conf path such as /etc/resolv.conf; host names are not accepted",
);

const address = must(z.string(), isAddress, "is not an IP address", "write a plain address such as 10.96.0.10 or fd00::a");

export const corednsSchema = z
    .strictObject({
        ...chartFields({ chart: "coredns", repository: "https://coredns.github.io/helm", version: "1.46.2", namespace: "kube-system" }),
        upstreams: z.array(upstream).min(1).max(15).default(["/etc/resolv.conf"]).meta({
            description:
                "Where names outside the cluster domain go: the `forward` plugin's targets, at most 15. Each is an IP address with an optional port (`1.1.1.1`, `8.8.8.8:53`, `[2606:4700:4700::1111]:53`) or a resolv.conf path; host names are refused, as `forward` resolves nothing itself.",
            defaultText: "the node's resolvers; on Talos, its host DNS",
        }),
        clusterIPs: z.array(address).min(1).max(2).optional().meta({
            description:
                "ClusterIPs of the `kube-dns` Service, one per Service subnet and in the same order. They must be where kubelet points pods (Talos `machine.kubelet.clusterDNS`). Each must be an address inside its subnet that the API server hands out: not the subnet's first address (IPv4 network, IPv6 subnet-router anycast), not an IPv4 subnet's broadcast address, and not the kubernetes Service's address. A value other than Talos' `clusterDNS` default is a warning. `values.service.clusterIPs` may list them instead, under the same rules.",
            defaultText:
                "the tenth address of each Service subnet (`10.96.0.10`, plus the IPv6 one on a dual-stack cluster): Talos' `clusterDNS` default",
        }),
        replicas: z
            .number()
            .int()
            .min(2)
            .default(2)
            .describe(
                "CoreDNS replicas: at least 2, spread across nodes (preferred anti-affinity), tolerating control-plane taints. With the chart's `hpa` or `autoscaler` on, their minimum (`hpa.minReplicas`, `autoscaler.min` unless `autoscaler.preventSinglePointFailure`) must be at least 2 too.",
            ),
        clusterDomainFallthrough: z.boolean().default(true).meta({
            description:
                "When an ACME DNS-01 zone or certificate name overlaps `cluster.dnsDomain` (the rule `dns01-cluster-domain`), names in it that CoreDNS has no Service or Pod for go on to the upstreams instead of NXDOMAIN, so pods resolve the public records there. Set false when the public zone has a wildcard record under the cluster domain: it would also answer pods' search-path lookups (`github.com.<domain>`). See docs/phases.md#dns-01-under-a-cluster-domain-that-is-part-of-a-public-zone.",
            defaultText: "true: only takes effect when such a zone or name exists",
        }),
    })
    .meta({
        title: "DNS phase: CoreDNS",
        description:
            "CoreDNS, installed only when `cluster.coreDnsDisabled` is true (Talos `cluster.coreDNS.disabled`). Otherwise Talos runs CoreDNS, the DNS phase only gates on it, and any key set here is reported as having no effect.",
        details: [
            "The Corefile is Talos v1.13's own, plugin for plugin (docs/phases.md#parity-with-talos-own-coredns): it serves `cluster.dnsDomain` (and reverse zones) from the API, forwards the rest to `upstreams` with `max_concurrent 1000`, caches for 30 s except the cluster domain, logs errors, serves metrics on 9153 (the chart's `coredns-metrics` Service, with the scrape annotations), and answers `health` and `ready`. The pods get Talos' resources (no CPU limit, a 170Mi memory limit with `GOMEMLIMIT`), its tolerations (uninitialized nodes included) and `system-cluster-critical`. The chart's ServiceMonitor stays off. `values.service.clusterIPs` may list the ClusterIPs instead (the Service's `clusterIP` and family policy follow it, and the same rules apply); a `values.service.clusterIP` that differs from the first of them is refused.",
            "Switching `cluster.coreDnsDisabled` to true on a cluster where Talos' CoreDNS already runs: Talos stops applying its CoreDNS manifests but never deletes what it applied (from Talos 1.13 on, `talosctl upgrade-k8s --to <the running version>` prunes bootstrap objects that left the manifests). Its Deployment `coredns`, ConfigMap `coredns` and Service `kube-dns` in kube-system carry the names this release uses, and Helm refuses to install over objects it does not own (the Deployment could not be adopted anyway: its selector is immutable). So, after applying `cluster.coreDNS.disabled: true` to the control plane and before `pulumi up`, remove them: prune with `talosctl upgrade-k8s` on Talos 1.13+, or `kubectl -n kube-system delete deployment/coredns configmap/coredns service/kube-dns` (also left over: ServiceAccount `coredns`, ClusterRole and ClusterRoleBinding `system:coredns`). Pods cannot resolve names from then until the new CoreDNS pods are ready; the new Service takes the same ClusterIPs, so kubelet's `clusterDNS` needs no change.",
        ],
    });
export type CorednsConfig = z.output<typeof corednsSchema>;
