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

export const corednsSchema = z.strictObject({
    ...chartFields({ chart: "coredns", repository: "https://coredns.github.io/helm", version: "1.46.2", namespace: "kube-system" }),
    /**
     * Where names outside the cluster domain go (the forward plugin, at most 15).
     * @default ["/etc/resolv.conf"] (the node's resolvers; on Talos its host DNS)
     */
    upstreams: z.array(upstream).min(1).max(15).default(["/etc/resolv.conf"]),
    /**
     * ClusterIPs of the kube-dns Service, one per service subnet and in the
     * same order. They must be where kubelet points pods (Talos
     * machine.kubelet.clusterDNS).
     * @default the tenth address of each service subnet, which is Talos' clusterDNS default (10.96.0.10)
     */
    clusterIPs: z.array(address).min(1).max(2).optional(),
    /** CoreDNS replicas, spread across nodes. @default 2 */
    replicas: z.number().int().min(2).default(2),
    /**
     * When an ACME DNS-01 zone or certificate name overlaps cluster.dnsDomain,
     * names in it that CoreDNS has no record for go on to the upstreams, so
     * pods resolve the public records there. A public wildcard record in that
     * zone would then also answer pods' search-path lookups (github.com.<domain>):
     * set false if the zone has one. @default true
     */
    clusterDomainFallthrough: z
        .boolean()
        .default(true)
        .describe(
            "When an ACME DNS-01 zone or certificate name overlaps cluster.dnsDomain, let names CoreDNS has no record for in it go on to " +
                "the upstreams, so pods resolve public records there. Set false when the public zone has a wildcard record under the " +
                "cluster domain: it would answer pods' search-path lookups (github.com.<domain>).",
        ),
});
export type CorednsConfig = z.output<typeof corednsSchema>;
