import type { ClusterConfig } from "../config/cluster";
import type { CiliumConfig } from "../config/cilium";
import { mergeValues, Values } from "../merge";

/** Where Cilium reaches the API server without relying on a Service it has yet to program. */
export function apiServerEndpoint(cluster: ClusterConfig): { host: string; port: number } {
    if (cluster.kubePrism.enabled) return { host: "localhost", port: cluster.kubePrism.port };
    const url = new URL(cluster.apiEndpoint);
    return { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 443) };
}

/**
 * Cilium chart values for a Talos cluster, following the Talos and Cilium
 * install guides, with the user's `cilium.values` merged last.
 */
export function ciliumValues(cluster: ClusterConfig, cilium: CiliumConfig): Values {
    const api = apiServerEndpoint(cluster);
    const computed: Values = {
        ipam: { mode: "kubernetes" },
        // Talos without kube-proxy needs Cilium to program Service ClusterIPs;
        // with kube-proxy running, both would program them.
        kubeProxyReplacement: cluster.kubeProxyDisabled,
        k8sServiceHost: api.host,
        k8sServicePort: api.port,
        cgroup: { autoMount: { enabled: false }, hostRoot: "/sys/fs/cgroup" },
        securityContext: {
            capabilities: {
                ciliumAgent: [
                    "CHOWN",
                    "KILL",
                    "NET_ADMIN",
                    "NET_RAW",
                    "IPC_LOCK",
                    "SYS_ADMIN",
                    "SYS_RESOURCE",
                    "DAC_OVERRIDE",
                    "FOWNER",
                    "SETGID",
                    "SETUID",
                ],
                cleanCiliumState: ["NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"],
            },
        },
        cluster: { name: cluster.name },
    };
    return mergeValues(computed, cilium.values);
}
