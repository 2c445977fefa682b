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
export const clusterSchema = z
    .strictObject({
        name: k8sName.describe("Cluster name (Talos `cluster.clusterName`)."),
        dnsDomain: must(
            z.string(),
            (v) => DNS_DOMAIN.test(v),
            "is not a DNS domain",
            "use lower-case labels separated by dots, e.g. cluster.local",
        )
            .meta({ pattern: DNS_DOMAIN.source })
            .default("cluster.local")
            .describe(
                "Talos `cluster.network.dnsDomain`. Any other domain than `cluster.local` must reach the CoreDNS zone, the cert-manager webhook's serving names, the FluxInstance and, when Hubble Relay runs, Cilium's `hubble.peerService.clusterDomain`: a chart value still naming `cluster.local` is refused.",
            ),
        apiEndpoint: must(
            z.string(),
            isApiEndpoint,
            "is not an https URL of the API server",
            "use the Talos controlPlane.endpoint, e.g. https://172.29.51.10:6443",
        ).describe(
            "Talos `cluster.controlPlane.endpoint`: the https URL of the API server, e.g. `https://172.29.51.10:6443`. Cilium reaches the API server here when KubePrism is off.",
        ),
        podSubnets: z.array(cidr).min(1).max(2).default(["10.244.0.0/16"]).meta({
            description:
                "Talos `cluster.network.podSubnets`, at most one per address family. kube-controller-manager cuts each node's pod block from them (see `nodeCidrMaskSizeIPv4`/`nodeCidrMaskSizeIPv6`) and Cilium (`ipam.mode: kubernetes`) gives pods addresses only from that block. So a subnet whose prefix is longer than its node mask, an IPv6 subnet of more than 2^16 node blocks, or one left with no free node block is refused; fewer than 16 free blocks is a warning saying how many nodes can get pod CIDRs. Talos must list the same subnets.",
            defaultText: "Talos' default",
        }),
        serviceSubnets: z.array(cidr).min(1).max(2).default(["10.96.0.0/12"]).meta({
            description:
                "Talos `cluster.network.serviceSubnets`, at most one per address family, in the same families as the pods. Their families are the families the cluster runs (Cilium's `ipv4.enabled`/`ipv6.enabled`). The kubernetes Service takes the first usable address of the first subnet. A Service subnet inside a pod subnet costs the node blocks it overlaps. Talos must list the same subnets.",
            defaultText: "Talos' default",
        }),
        nodeSubnets: z
            .array(cidr)
            .min(1)
            .describe(
                "The networks the nodes' own addresses live in. BGP peers and LoadBalancer pools are checked against them: a pool may sit in a node subnet only when L2 announcements announce it, and a BGP peer outside every node subnet needs eBGP multihop.",
            ),
        nodeCidrMaskSizeIPv4: z.number().int().min(1).max(32).default(24).meta({
            description:
                "kube-controller-manager's `node-cidr-mask-size-ipv4`: each node's IPv4 pod block is a block of this prefix length cut from the IPv4 pod subnet. Talos sets no such flag; change it in Talos (`cluster.controllerManager.extraArgs`, `node-cidr-mask-size-ipv4`) and here together.",
            defaultText: "Kubernetes' default",
        }),
        nodeCidrMaskSizeIPv6: z.number().int().min(1).max(128).default(64).meta({
            description:
                "kube-controller-manager's `node-cidr-mask-size-ipv6`, likewise for the IPv6 pod subnet (Talos `cluster.controllerManager.extraArgs`, `node-cidr-mask-size-ipv6`).",
            defaultText: "Kubernetes' default",
        }),
        kubeProxyDisabled: z
            .boolean()
            .describe(
                "Talos `cluster.proxy.disabled`. Cilium's `kubeProxyReplacement` follows it: kube-proxy disabled and not replaced means no pod reaches any Service, which is the Week 4 incident. Required on purpose: a wrong guess here is that incident.",
            ),
        kubePrism: z
            .strictObject({
                enabled: z.boolean().default(true).describe("Whether KubePrism runs (Talos ≥ 1.6 turns it on by default)."),
                port: z.number().int().min(1).max(65535).default(7445).describe("The port KubePrism listens on, on every node."),
            })
            .prefault({})
            .describe(
                "Talos `machine.features.kubePrism`, the API server load balancer on every node. With it, Cilium reaches the API server at `localhost:<port>`; without it, at `apiEndpoint`.",
            ),
        coreDnsDisabled: z
            .boolean()
            .default(false)
            .describe(
                "Talos `cluster.coreDNS.disabled`. `true`: Talos does not run CoreDNS and this program installs it (the `coredns` section). `false`: Talos runs CoreDNS and the DNS phase only gates on it.",
            ),
        forwardKubeDNSToHost: z.boolean().default(true).meta({
            description:
                "Talos `machine.features.hostDNS.forwardKubeDNSToHost`. With Cilium's `bpf.masquerade` it needs `bpf.hostLegacyRouting`, which the Cilium values then turn on.",
            defaultText: "Talos ≥ 1.8's default",
        }),
        talosConfig: z.string().min(1).optional().meta({
            description:
                "A Talos configuration to read the other facts from: the control plane's machine configuration (`controlplane.yaml`, also a Talos 1.13 multi-document one) or talhelper's `talconfig.yaml`, relative to the stack file's directory (the project directory, where `pulumi up` resolves it too). The plan then takes `name`, `apiEndpoint`, `dnsDomain`, `podSubnets`, `serviceSubnets`, `kubeProxyDisabled`, `coreDnsDisabled`, `kubePrism` and `forwardKubeDNSToHost` from it, with Talos' own default for a field it leaves out; a fact given here too must agree with it, or the plan refuses it, naming both. The file is validated against the Talos v1.13 config schema; only those fields are read from it: its certificates, keys and tokens are parsed, never kept, and never shown, even in an error. The plan's header and its JSON (`cluster.sources`) say where each fact came from.",
            defaultText: "none: the facts are the keys of this section",
        }),
        kubeContext: z.string().min(1).optional().meta({
            description:
                "kubeconfig context for the Kubernetes provider and the gate checker. `pulumi up` checks that its cluster is this stack's (its server among the stack's API server addresses, its kube-system UID the stack's) before the first change, and gives the provider the context it checked.",
            defaultText: "the kubeconfig's current context",
        }),
        identity: must(
            z.string(),
            (v) => UID.test(v),
            "is not a Kubernetes UID",
            "copy the UID `pulumi up` printed, or `kubectl get namespace kube-system -o jsonpath='{.metadata.uid}'`",
        )
            .meta({ pattern: UID.source })
            .optional()
            .meta({
                description:
                    "The UID of the cluster's kube-system namespace (`kubectl get namespace kube-system -o jsonpath='{.metadata.uid}'`): which cluster this stack is bound to. `pulumi up` refuses a cluster whose UID differs before its first change. Setting the new UID is how a deliberate rebuild is accepted (then `pulumi up --refresh`: every gate runs again). Pinned here, the binding is reviewed with the stack file and survives a lost state file.",
                defaultText: "the UID the stack's last `pulumi up` recorded in its output `clusterBinding` (none before the first)",
            }),
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
            .meta({
                description:
                    "Other URLs of this cluster's API server a kubeconfig may name: a control-plane node's own address, an SSH tunnel's `https://127.0.0.1:6443`. `pulumi up` refuses a kubeconfig whose server is none of `apiEndpoint`, KubePrism's `https://localhost:<port>` (when enabled), the kubernetes Service's address (inside the cluster), and these.",
                defaultText: "none",
            }),
    })
    .meta({
        title: "The Talos facts every phase depends on",
        description:
            "The Talos machine-config facts the platform depends on. These keys describe Talos, they do not change it: they must match what Talos runs, or the incident repeats.",
        details: [
            "Talos runs kube-controller-manager with `allocate-node-cidrs`, the pod subnets as `cluster-cidr` and the Service subnets as `service-cluster-ip-range`; with Cilium's `ipam.mode: kubernetes` (the default here) each node's pods get addresses only from the block it is given. So a pod subnet whose prefix is longer than its node mask, or an IPv6 one with more than 2^16 node blocks, is refused (kube-controller-manager exits on both); a Service subnet inside a pod subnet costs the node blocks it overlaps, and a pod subnet left with no free block is refused (a dual-stack node gets pod CIDRs of every family or none). Fewer than 16 free blocks is a warning that says how many nodes can get pod CIDRs.",
            "The report's `fd47:25e1:2f96:51:2000::/64`, read as `fd47:25e1:2f96:51::/64` with the `/108` Service subnet inside it, is such a subnet: it is one `/64` node block, the Service range takes it, and no node would get pod CIDRs. The dev stack therefore uses `fd47:25e1:2f96:100::/56` as its IPv6 pod subnet (the plan's header shows the subnets it was made for). Talos' `cluster.network.podSubnets` and `serviceSubnets` must list the same ranges as these keys, and a node keeps the pod CIDR it was given until it is re-registered.",
        ],
    });

export type ClusterConfig = z.output<typeof clusterSchema>;
export type ClusterConfigInput = z.input<typeof clusterSchema>;

/** Families the cluster runs: Kubernetes only routes what its Service subnets cover. */
export function clusterFamilies(cluster: Pick<ClusterConfig, "serviceSubnets">): Set<Family> {
    return new Set(cluster.serviceSubnets.map((s) => parseCidr(s)?.family).filter((f): f is Family => f !== undefined));
}
