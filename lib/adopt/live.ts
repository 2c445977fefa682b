import type { HelmRelease } from "./helm";

// What the API server says about a running cluster, as far as adopting it
// needs: read once, then matched against the plan without further requests.

export interface LiveObject {
    group: string;
    version: string;
    kind: string;
    name: string;
    namespace?: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    /** managedFields managers: who wrote it (kubectl, helm, kustomize-controller, pulumi-kubernetes-…). */
    managers: string[];
    spec?: Record<string, unknown>;
    status?: Record<string, unknown>;
}

export interface LiveCrd {
    name: string;
    group: string;
    kind: string;
    plural: string;
    namespaced: boolean;
    /** Versions the API server serves, e.g. [v2alpha1] for Cilium 1.17's pools. */
    served: string[];
}

export interface LiveNode {
    name: string;
    kubeletVersion: string;
    podCIDRs: string[];
    /** kubeletconfig.clusterDomain from /configz, when readable. */
    clusterDomain?: string;
    /** Why the kubelet's configuration was not read. */
    unreadable?: string;
}

export interface LiveCluster {
    server: string;
    context: string;
    /** The API server's gitVersion, e.g. v1.31.1. */
    kubernetesVersion: string;
    /** The kube-system namespace's UID: the cluster's identity, for telling clusters apart. */
    identity?: string;
    nodes: LiveNode[];
    /** kube-controller-manager's --cluster-cidr and --service-cluster-ip-range, from its (Talos static) pod. */
    controllerManager?: { pod: string; clusterCidr: string[]; serviceCidr: string[] };
    /** The ClusterIPs of default/kubernetes and kube-system/kube-dns. */
    services: { namespace: string; name: string; clusterIPs: string[] }[];
    /** The latest revision of every Helm release. */
    releases: HelmRelease[];
    cilium?: { namespace: string; config: Record<string, string> };
    kubeProxy?: { namespace: string; name: string };
    /** The CoreDNS Deployment, and the Helm release that installed it when one did. */
    coredns?: { namespace: string; name: string; helmRelease?: string };
    crds: LiveCrd[];
    /** Objects of the kinds the plan creates, and of Flux and Cilium BGP v1, in every namespace. */
    objects: LiveObject[];
    /** What could not be read, and why: the report shows these. */
    notes: string[];
}

/** `group/kind` or `kind` for the core group: the key objects and CRDs are found by. */
export function kindKey(group: string, kind: string): string {
    return group ? `${group}/${kind}` : kind;
}

export function objectRef(o: { kind: string; name: string; namespace?: string }): string {
    return `${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}`;
}

/** Written by the Pulumi Kubernetes provider: its field managers (pulumi-kubernetes-…, pulumi-resource-kubernetes) or its client-side label. */
export function pulumiManaged(o: { managers: string[]; labels?: Record<string, string> }): string | undefined {
    const manager = o.managers.find((m) => /^pulumi/.test(m));
    if (manager) return `field manager ${manager}`;
    if (o.labels?.["app.kubernetes.io/managed-by"] === "pulumi") return "label app.kubernetes.io/managed-by: pulumi";
    return undefined;
}
