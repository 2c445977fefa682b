import { ClusterConfig, clusterFamilies } from "../config/cluster";
import type { CiliumConfig } from "../config/cilium";
import { durationMs, isDuration } from "../config/common";
import type { GatewayConfig } from "../config/gateway";
import { mergeValues, valueAt, Values } from "../merge";
import { Family, parseCidr } from "../net";

/** Where Cilium reaches the API server without relying on a Service it has yet to program. */
export function apiServerEndpoint(cluster: ClusterConfig): { host: string; port: number } {
    if (cluster.kubePrism.enabled) return { host: "localhost", port: cluster.kubePrism.port };
    const url = new URL(cluster.apiEndpoint);
    return { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 443) };
}

/** The Talos pod subnet of each family, as network/prefix (Kubernetes masks host bits away). */
export function podCidrs(cluster: ClusterConfig): Partial<Record<Family, string>> {
    const out: Partial<Record<Family, string>> = {};
    for (const text of cluster.podSubnets) {
        const c = parseCidr(text);
        if (c && !out[c.family]) out[c.family] = `${c.network}/${c.prefix}`;
    }
    return out;
}

/**
 * The Cilium 1.19 agent's own API client rate limit: pkg/defaults
 * K8sClientQPSLimit and K8sClientBurst, the chart's `@default -- 10` and
 * `@default -- 20` of k8sClientRateLimit.qps and .burst (values.yaml, 1.19.4).
 */
export const AGENT_CLIENT_RATE = { qps: 10, burst: 20 };

/** l2announcements.leaseRenewDeadline when unset: 5s (Cilium 1.19 L2 announcements guide, "Leases"). */
export const L2_RENEW_DEADLINE = "5s";

/**
 * The agent's client rate limit with L2 announcements on. Cilium 1.19's L2
 * announcements guide ("Sizing client rate limit") sizes the lease traffic
 * as QPS = #services * (1 / leaseRenewDeadline), for the worst case of one
 * node holding every lease, and asks for a burst "slightly higher". That
 * traffic comes on top of what the agent already does within its defaults,
 * so both defaults grow by it: the burst keeps its 10 requests of headroom.
 */
export function l2ClientRateLimit(services: number, renewDeadline: unknown): { qps: number; burst: number } {
    const text = typeof renewDeadline === "string" && isDuration(renewDeadline) ? renewDeadline : L2_RENEW_DEADLINE;
    const seconds = durationMs(text) / 1000 || durationMs(L2_RENEW_DEADLINE) / 1000;
    const leases = Math.ceil(services / seconds);
    return { qps: AGENT_CLIENT_RATE.qps + leases, burst: AGENT_CLIENT_RATE.burst + leases };
}

/**
 * Cilium chart values for a Talos cluster, following the Talos and Cilium
 * install guides, with the user's `cilium.values` merged last. A few
 * computed values answer the user's own choices (masquerading, IPAM mode),
 * so they are read from the escape hatch first. With the `gateway` section
 * enabled, Cilium serves Gateway API.
 */
export function ciliumValues(
    cluster: ClusterConfig,
    cilium: CiliumConfig,
    gateway?: Pick<GatewayConfig, "enabled" | "loadBalancer">,
): Values {
    const api = apiServerEndpoint(cluster);
    const families = clusterFamilies(cluster);
    const user = cilium.values;
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
        // cluster.name stays Cilium's "default": only Cluster Mesh needs one, and
        // Cilium takes at most 32 characters where a Talos cluster name takes 63.
        ipv4: { enabled: families.has("ipv4") },
        ipv6: { enabled: families.has("ipv6") },
        // The agents, the operator and Envoy read their ConfigMaps only at
        // start-up: without a rollout, an upgrade that turns on kube-proxy
        // replacement, BGP or L2 rewrites cilium-config and changes nothing
        // running. Each switch puts the ConfigMap's checksum on the pod
        // template (Cilium 1.19 chart: cilium.io/cilium-configmap-checksum,
        // cilium.io/cilium-envoy-configmap-checksum), so a changed config rolls the pods.
        rollOutCiliumPods: true,
        operator: { rollOutPods: true, replicas: cilium.operatorReplicas },
        envoy: { rollOutPods: true },
    };
    if (valueAt(user, "ipam.mode") === "cluster-pool") {
        // Cilium's own IPAM defaults to 10.0.0.0/8; pods must get the ranges Talos routes.
        const pods = podCidrs(cluster);
        const operator: Values = {};
        if (pods.ipv4) operator.clusterPoolIPv4PodCIDRList = [pods.ipv4];
        if (pods.ipv6) operator.clusterPoolIPv6PodCIDRList = [pods.ipv6];
        computed.ipam = { ...(computed.ipam as Values), operator };
    }
    if (cluster.forwardKubeDNSToHost && valueAt(user, "bpf.masquerade") === true) {
        // eBPF host routing bypasses the host stack that Talos' host DNS
        // forwarding relies on, and CoreDNS stops resolving (Cilium ≥ 1.16.5).
        computed.bpf = { hostLegacyRouting: true };
    }
    if (cilium.bgp) {
        // The agent reads BGP passwords only from this namespace; the
        // component puts their Secrets where the merged values say.
        computed.bgpControlPlane = { enabled: true, secretsNamespace: { name: cilium.namespace } };
    }
    // External IPs need no switch of their own: kube-proxy replacement, which
    // L2 announcements require, serves them.
    if (cilium.l2Announcements.length) {
        computed.l2announcements = { enabled: true };
        // Cilium 1.19 L2 announcements guide: "Sizing the client rate limit
        // (k8sClientRateLimit.qps and k8sClientRateLimit.burst) is important
        // when using this feature due to increased API usage."
        computed.k8sClientRateLimit = l2ClientRateLimit(cilium.l2AnnouncedServices, valueAt(user, "l2announcements.leaseRenewDeadline"));
    }
    if (gateway?.enabled) {
        // Its operator starts the Gateway API controller only if the CRDs exist when it
        // starts: the network phase installs them before this release. The chart then
        // creates the GatewayClass `cilium` (gatewayClass.create: auto sees the CRD).
        computed.gatewayAPI = { enabled: true, externalTrafficPolicy: gateway.loadBalancer.externalTrafficPolicy };
    }
    return mergeValues(computed, user);
}

/** The namespace Cilium's agent reads BGP auth Secrets from, after the escape hatch. */
export function bgpSecretsNamespace(values: Values): string {
    const ns = valueAt(values, "bgpControlPlane.secretsNamespace.name");
    return typeof ns === "string" && ns !== "" ? ns : "kube-system";
}
