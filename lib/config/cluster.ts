import { z } from "zod";
import { Family, parseCidr } from "../net";
import { cidr, k8sName, must } from "./common";

function isApiEndpoint(v: string): boolean {
    try {
        const u = new URL(v);
        return u.protocol === "https:" && u.hostname !== "" && u.pathname === "/";
    } catch {
        return false;
    }
}

/** A Kubernetes UID: an RFC 4122 UUID, as the API server writes it. */
const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const DNS_DOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The Talos machine-config facts the platform depends on. These mirror the
 * cluster, not wishes: kube-proxy and CoreDNS ownership must match what
 * Talos actually runs, or the incident repeats.
 */
export const clusterSchema = z.strictObject({
    /** Cluster name (Talos cluster.clusterName). */
    name: k8sName,
    /** Talos cluster.network.dnsDomain. @default cluster.local */
    dnsDomain: must(
        z.string(),
        (v) => DNS_DOMAIN.test(v),
        "is not a DNS domain",
        "use lower-case labels separated by dots, e.g. cluster.local",
    ).default("cluster.local"),
    /** Talos cluster.controlPlane.endpoint, e.g. https://172.29.51.10:6443. */
    apiEndpoint: must(
        z.string(),
        isApiEndpoint,
        "is not an https URL of the API server",
        "use the Talos controlPlane.endpoint, e.g. https://172.29.51.10:6443",
    ),
    /** Talos cluster.network.podSubnets; one per family. @default ["10.244.0.0/16"] (Talos' default) */
    podSubnets: z.array(cidr).min(1).max(2).default(["10.244.0.0/16"]),
    /** Talos cluster.network.serviceSubnets; one per family. @default ["10.96.0.0/12"] (Talos' default) */
    serviceSubnets: z.array(cidr).min(1).max(2).default(["10.96.0.0/12"]),
    /** The networks the nodes' own addresses live in (BGP peers, LB pools are checked against them). */
    nodeSubnets: z.array(cidr).min(1),
    /**
     * kube-controller-manager's node-cidr-mask-size-ipv4: each node's IPv4 pod
     * range is a block of this prefix length cut from the IPv4 pod subnet. Talos
     * sets no such flag; change it in Talos with
     * cluster.controllerManager.extraArgs node-cidr-mask-size-ipv4, and here.
     * @default 24 (Kubernetes' default)
     */
    nodeCidrMaskSizeIPv4: z.number().int().min(1).max(32).default(24),
    /**
     * kube-controller-manager's node-cidr-mask-size-ipv6, likewise for the IPv6
     * pod subnet (Talos cluster.controllerManager.extraArgs node-cidr-mask-size-ipv6).
     * @default 64 (Kubernetes' default)
     */
    nodeCidrMaskSizeIPv6: z.number().int().min(1).max(128).default(64),
    /**
     * Talos cluster.proxy.disabled. Required on purpose: a wrong guess here is
     * the Week 4 incident.
     */
    kubeProxyDisabled: z.boolean(),
    /** Talos machine.features.kubePrism. @default {enabled: true, port: 7445} (Talos ≥ 1.6 default) */
    kubePrism: z
        .strictObject({
            enabled: z.boolean().default(true),
            port: z.number().int().min(1).max(65535).default(7445),
        })
        .prefault({}),
    /** Talos cluster.coreDNS.disabled: true when this program owns CoreDNS. @default false */
    coreDnsDisabled: z.boolean().default(false),
    /** Talos machine.features.hostDNS.forwardKubeDNSToHost. @default true (Talos ≥ 1.8 default) */
    forwardKubeDNSToHost: z.boolean().default(true),
    /** kubeconfig context for the Kubernetes provider and the gate checker. @default the current context */
    kubeContext: z.string().min(1).optional(),
    /**
     * The UID of the cluster's kube-system namespace: which cluster this stack is bound to. Pins what
     * `pulumi up` otherwise records in the stack's outputs; it survives a lost state file.
     * @default none: the UID recorded by the stack's last `pulumi up` (none before the first)
     */
    identity: must(
        z.string(),
        (v) => UID.test(v),
        "is not a Kubernetes UID",
        "copy the UID `pulumi up` printed, or `kubectl get namespace kube-system -o jsonpath='{.metadata.uid}'`",
    )
        .optional()
        .describe(
            "The UID of the cluster's kube-system namespace (`kubectl get namespace kube-system -o jsonpath='{.metadata.uid}'`): which cluster this stack is bound to. Without it, `pulumi up` checks the UID it recorded in the stack's outputs at its last run; with it, this UID, which survives a lost state file. A cluster whose UID differs is refused before the first change. Setting the new UID is how a deliberate rebuild is accepted.",
        ),
    /**
     * Other URLs of this cluster's API server that a kubeconfig may name: a control-plane node's own
     * address, an SSH tunnel. @default [] (apiEndpoint, KubePrism's localhost and the in-cluster address only)
     */
    apiServerAliases: z
        .array(
            must(
                z.string(),
                isApiEndpoint,
                "is not an https URL of an API server",
                "write the server as the kubeconfig names it, e.g. https://172.29.51.11:6443",
            ),
        )
        .default([])
        .describe(
            "Other URLs of this cluster's API server a kubeconfig may name: a control-plane node's own address, an SSH tunnel's `https://127.0.0.1:6443`. `pulumi up` refuses a kubeconfig whose server is none of `apiEndpoint`, KubePrism's `https://localhost:<port>` (when enabled), the in-cluster address of the kubernetes Service, and these.",
        ),
});

export type ClusterConfig = z.output<typeof clusterSchema>;
export type ClusterConfigInput = z.input<typeof clusterSchema>;

/** Families the cluster runs: Kubernetes only routes what its Service subnets cover. */
export function clusterFamilies(cluster: Pick<ClusterConfig, "serviceSubnets">): Set<Family> {
    return new Set(cluster.serviceSubnets.map((s) => parseCidr(s)?.family).filter((f): f is Family => f !== undefined));
}
