import type { CorednsConfig } from "../config/coredns";
import type { ClusterConfig } from "../config/cluster";
import { mergeValues, Values } from "../merge";

/** CoreDNS chart values; `coredns.values` merged last. */
export function corednsValues(cluster: ClusterConfig, coredns: CorednsConfig): Values {
    const computed: Values = {
        // The chart's own Service name would not match what kubelet points pods at.
        fullnameOverride: "coredns",
        replicaCount: 2,
        servers: [
            {
                zones: [{ zone: "." }],
                port: 53,
                plugins: [
                    { name: "errors" },
                    { name: "health", configBlock: "lameduck 5s" },
                    { name: "ready" },
                    {
                        name: "kubernetes",
                        parameters: `${cluster.dnsDomain} in-addr.arpa ip6.arpa`,
                        configBlock: "pods insecure\nfallthrough in-addr.arpa ip6.arpa\nttl 30",
                    },
                    { name: "forward", parameters: ". /etc/resolv.conf" },
                    { name: "cache", parameters: 30 },
                    { name: "loop" },
                    { name: "reload" },
                    { name: "loadbalance" },
                ],
            },
        ],
    };
    return mergeValues(computed, coredns.values);
}
