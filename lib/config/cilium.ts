import { z } from "zod";
import { addressFamily, isAddress, parseCidr, parseRange } from "../net";
import { configPath } from "../problems";
import { chartFields, k8sName, must, pinnedVersion } from "./common";
import { acceptedForms } from "./issues";
import { secretKeyName, SecretRef } from "./secrets";
import { labelSelectorSchema } from "./selectors";

// --- Predicates shared by the config schema and the policy pack (policies/network.ts).

/** A BGP AS number: 32 bits, 0 is reserved. */
export function isAsn(v: unknown): v is number {
    return typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 4294967295;
}
export const ASN_MESSAGE = "is not an AS number (1–4294967295)";
export const ASN_FIX = "use a private ASN such as 64512–65534 or 4200000000–4294967294, or the one your network assigned";

/** What is wrong with one LB IPAM block, or undefined when Cilium will accept it. */
export function blockProblem(block: {
    cidr?: unknown;
    start?: unknown;
    stop?: unknown;
}): { field?: "cidr" | "start" | "stop"; message: string; fix: string } | undefined {
    const hasCidr = block.cidr !== undefined;
    const hasRange = block.start !== undefined || block.stop !== undefined;
    if (hasCidr && hasRange) return { message: "sets both cidr and start/stop", fix: "keep either cidr or start and stop" };
    if (hasCidr) {
        if (typeof block.cidr === "string" && parseCidr(block.cidr)) return undefined;
        return { field: "cidr", message: "is not a CIDR", fix: "write an address and a prefix length, e.g. 172.29.52.0/24" };
    }
    if (!hasRange) return { message: "has neither cidr nor start/stop", fix: "give a cidr, or a start and a stop address" };
    for (const field of ["start", "stop"] as const) {
        const v = block[field];
        if (typeof v !== "string" || !isAddress(v)) {
            return { field, message: "is not an IP address", fix: "write a single address such as 172.29.52.100, without a prefix" };
        }
    }
    const [start, stop] = [block.start as string, block.stop as string];
    if (addressFamily(start) !== addressFamily(stop)) {
        return {
            field: "stop",
            message: `is not in the same address family as start (${start})`,
            fix: "use two IPv4 or two IPv6 addresses",
        };
    }
    if (!parseRange(start, stop)) return { field: "stop", message: `comes before start (${start})`, fix: "swap start and stop" };
    return undefined;
}

// --- Chart version

/**
 * The oldest Cilium that serves, as cilium.io/v2, every object this program
 * emits: CiliumLoadBalancerIPPool and the BGP control plane's cluster config,
 * peer configs and advertisements were promoted to v2 in 1.18.
 */
export const MIN_CILIUM_VERSION = "1.18.0";

/** Whether a pinned version is at least `min`; a pre-release sorts before its release. Unparsable versions pass (pinnedVersion reports them). */
export function versionAtLeast(version: string, min: string): boolean {
    const parse = (v: string) => /^v?(\d+)\.(\d+)\.(\d+)(-.+)?$/.exec(v);
    const [a, b] = [parse(version), parse(min)];
    if (!a || !b) return true;
    for (let i = 1; i <= 3; i++) if (Number(a[i]) !== Number(b[i])) return Number(a[i]) > Number(b[i]);
    return a[4] === undefined || b[4] !== undefined;
}

const ciliumVersion = must(
    pinnedVersion("the cilium chart", "1.19.4"),
    (v) => versionAtLeast(v, MIN_CILIUM_VERSION),
    `is older than Cilium ${MIN_CILIUM_VERSION}: the LoadBalancer pools and the BGP control plane objects this program emits are cilium.io/v2, which Cilium serves only from 1.18 on`,
    `use Cilium ${MIN_CILIUM_VERSION} or later, e.g. 1.19.4, the version its values are checked against`,
);

// --- LoadBalancer IP pools

const POOL_BLOCK_FORMS = 'write a CIDR as { cidr: "172.29.52.0/24" } or a range as { start: "172.29.52.100", stop: "172.29.52.199" }';

/** The fix for a block in neither form; a bare string is most likely a CIDR or an address missing its key. */
function poolBlockFix(value: unknown): string {
    if (typeof value === "string") {
        if (value.includes("/")) return `write it as { cidr: "${value}" }`;
        if (isAddress(value)) return `write a single address as { start: "${value}", stop: "${value}" }`;
    }
    return POOL_BLOCK_FORMS;
}

/** One block of a LoadBalancer pool: a CIDR, or a start/stop range. */
export const poolBlockSchema = acceptedForms(
    z
        .union([
            z.strictObject({ cidr: z.string().describe("A CIDR, IPv4 or IPv6, e.g. `172.29.52.0/24`.") }),
            z.strictObject({
                start: z.string().describe("First address of a range, e.g. `172.29.52.100`, without a prefix."),
                stop: z.string().describe("Last address of the range, in the same family as `start` and not before it."),
            }),
        ])
        .superRefine((block, ctx) => {
            const p = blockProblem(block);
            if (p)
                ctx.addIssue({ code: "custom", message: p.message, params: { fix: p.fix }, path: p.field ? [p.field] : [], input: block });
        }),
    { what: "an object with cidr, or with start and stop", fix: poolBlockFix },
);
export type PoolBlock = z.output<typeof poolBlockSchema>;

/** A CiliumLoadBalancerIPPool. */
export const lbPoolSchema = z.strictObject({
    name: k8sName.describe("The pool's name; BGP advertisements, L2 policies and `ingressNginx.loadBalancer.pool` name it."),
    blocks: z
        .array(poolBlockSchema)
        .min(1)
        .describe(
            "The pool's addresses: each a CIDR (`{cidr}`) or a range (`{start, stop}`), IPv4 or IPv6, of a family the cluster runs. Blocks must not overlap each other, other pools, or the pod and Service subnets.",
        ),
    serviceSelector: labelSelectorSchema.optional().meta({
        description:
            "Which Services draw from this pool: a label selector Cilium matches against the Service's labels (and its own `io.kubernetes.service.namespace` and `io.kubernetes.service.name`); annotations select nothing. Every LoadBalancer Service the charts render must be selected by exactly one pool.",
        defaultText: "every Service (no selector)",
    }),
    allowFirstLastIPs: z.boolean().optional().meta({
        description: "Whether a CIDR's first and last addresses are handed out; written as the CRD's `Yes`/`No`.",
        defaultText: "the CRD's, under which they are handed out",
    }),
});
export type LbPoolConfig = z.output<typeof lbPoolSchema>;

// --- BGP control plane v2

/** Labels the default advertisement carries and the default address families select. */
export const ADVERTISE_LABELS: Record<string, string> = { advertise: "bgp" };

const asn = must(z.number(), isAsn, ASN_MESSAGE, ASN_FIX).meta({ type: "integer", minimum: 1, maximum: 4294967295 });

export const bgpPeerSchema = z.strictObject({
    name: z.string().min(1).max(255).optional().meta({
        description: "The peer's name, unique within the BGP instance, explicit or derived.",
        defaultText: "`peer-<address>`",
    }),
    address: must(z.string(), isAddress, "is not an IP address", "write the router's address, e.g. 172.29.51.1").describe(
        "The router's IP address. A peer outside every node subnet is a warning unless its peer config sets `ebgpMultihop`.",
    ),
    asn: asn.describe("The router's AS number (1–4294967295)."),
    peerConfig: k8sName.default("default").describe("The `bgp.peerConfigs` entry this peer uses, by name."),
});
export type BgpPeerConfig = z.output<typeof bgpPeerSchema>;

const timersSchema = z
    .strictObject({
        connectRetryTimeSeconds: z
            .number()
            .int()
            .min(1)
            .max(2147483647)
            .optional()
            .meta({ description: "Seconds between attempts to open the session.", defaultText: "120 (Cilium's)" }),
        holdTimeSeconds: z
            .number()
            .int()
            .min(3)
            .max(65535)
            .optional()
            .meta({ description: "Seconds without a message from the peer before the session is dropped.", defaultText: "90 (Cilium's)" }),
        keepAliveTimeSeconds: z.number().int().min(1).max(65535).optional().meta({
            description: "Seconds between keepalive messages: at most `holdTimeSeconds` (Cilium refuses more), typically a third of it.",
            defaultText: "30 (Cilium's)",
        }),
    })
    .superRefine((t, ctx) => {
        // The CRD refuses this at apply time, after the release is already installed.
        const [hold, keep] = [t.holdTimeSeconds ?? 90, t.keepAliveTimeSeconds ?? 30];
        if (keep > hold) {
            ctx.addIssue({
                code: "custom",
                message: `is longer than the hold time (${hold}s), which Cilium refuses`,
                params: { fix: "keep keepAliveTimeSeconds at most holdTimeSeconds, typically a third of it" },
                path: ["keepAliveTimeSeconds"],
                input: keep,
            });
        }
    });

export const bgpFamilySchema = z.strictObject({
    afi: z.enum(["ipv4", "ipv6"]).describe("The address family (unicast)."),
    advertisements: labelSelectorSchema
        .default({ matchLabels: ADVERTISE_LABELS })
        .describe(
            "Which `bgp.advertisements` this family sends: a label selector on their `labels`. A selector that selects none is an error.",
        ),
});

export const bgpPeerConfigSchema = z.strictObject({
    name: k8sName.describe("The peer config's name; peers name it in `peerConfig`."),
    families: z.array(bgpFamilySchema).min(1).optional().meta({
        description:
            "Unicast address families and the advertisements each sends. IPv6 routes over an IPv4 session carry an IPv4-mapped next hop many routers reject, so announce IPv6 pools through a peer at the router's IPv6 address; a family that none of its peers' sessions is of is the warning `bgp-family-without-session`.",
        defaultText:
            "one per address family of the sessions of the peers that use it (the cluster's families when no peer does), each selecting the advertisements labelled `advertise: bgp`",
    }),
    timers: timersSchema.optional().meta({
        description: "BGP session timers.",
        defaultText: "Cilium's: hold 90s, keepalive 30s, connect retry 120s",
    }),
    gracefulRestart: z
        .strictObject({
            enabled: z.boolean().default(true).describe("Turns graceful restart on."),
            restartTimeSeconds: z
                .number()
                .int()
                .min(1)
                .max(4095)
                .optional()
                .meta({ description: "Seconds the peer keeps this node's routes while Cilium restarts.", defaultText: "120 (Cilium's)" }),
        })
        .optional()
        .meta({ description: "BGP graceful restart: peers keep the routes while Cilium restarts.", defaultText: "off (Cilium's)" }),
    ebgpMultihop: z.number().int().min(1).max(255).optional().meta({
        description: "TTL of eBGP packets; raise it for a router that is not on a node's own network.",
        defaultText: "1 (Cilium's)",
    }),
    authSecret: secretKeyName.optional().meta({
        description:
            "Name of a top-level secret key holding the session's TCP MD5 password, e.g. `bgpPassword` for `pulumi config set --secret talos-platform:bgpPassword`. It becomes the Secret `bgp-auth-<peer config>` (key `password`) in Cilium's `bgpControlPlane.secretsNamespace.name`.",
        defaultText: "no password",
    }),
});
export type BgpPeerConfigConfig = z.output<typeof bgpPeerConfigSchema>;

export const bgpAdvertisementSchema = z.strictObject({
    name: k8sName.describe("The `CiliumBGPAdvertisement`'s name."),
    labels: z
        .record(z.string(), z.string())
        .default(ADVERTISE_LABELS)
        .describe("Labels the peer configs' `families[].advertisements` select it by."),
    pools: z.array(z.string()).optional().meta({
        description:
            "`cilium.loadBalancerPools` whose Services' LoadBalancer IPs are announced, by name. An unknown name is an error; a pool nothing announces is a warning.",
        defaultText: "every pool",
    }),
    podCIDR: z.boolean().default(false).describe("Also announce each node's pod CIDR."),
});
export type BgpAdvertisementConfig = z.output<typeof bgpAdvertisementSchema>;

export const bgpSchema = z.strictObject({
    localASN: asn.describe("The cluster's AS number (1–4294967295)."),
    nodeSelector: labelSelectorSchema
        .optional()
        .meta({ description: "Which nodes peer: a label selector on the nodes' labels.", defaultText: "every node" }),
    peers: z
        .array(bgpPeerSchema)
        .min(1)
        .describe("The routers every selected node peers with. Two peers may not share a name, explicit or derived."),
    peerConfigs: z
        .array(bgpPeerConfigSchema)
        .min(1)
        .prefault([{ name: "default" }])
        .meta({
            description: "Session settings, one `CiliumBGPPeerConfig` each; every peer's `peerConfig` must name one.",
            defaultText: "one peer config named `default`, with the default families",
        }),
    advertisements: z
        .array(bgpAdvertisementSchema)
        .min(1)
        .prefault([{ name: "loadbalancer-ips" }])
        .meta({
            description: "What is announced, one `CiliumBGPAdvertisement` each. An advertisement that advertises nothing is a warning.",
            defaultText: "one advertisement, `loadbalancer-ips`, announcing the LoadBalancer IPs of every pool",
        }),
});
export type BgpConfig = z.output<typeof bgpSchema>;

// --- L2 announcements

export const l2AnnouncementSchema = z.strictObject({
    name: k8sName.describe("The `CiliumL2AnnouncementPolicy`'s name."),
    interfaces: z
        .array(z.string().min(1))
        .optional()
        .meta({ description: "Regular expressions of the node interfaces to answer ARP on.", defaultText: "every interface" }),
    nodeSelector: labelSelectorSchema
        .optional()
        .meta({ description: "Which nodes may answer: a label selector on the nodes' labels.", defaultText: "every node" }),
    pools: z.array(z.string()).optional().meta({
        description:
            "`cilium.loadBalancerPools` whose Services' addresses are announced, by name: one policy per named pool. An unknown name is an error; an announced pool outside the node subnets is a warning.",
        defaultText: "every Service",
    }),
    loadBalancerIPs: z.boolean().default(true).describe("Announce the Services' LoadBalancer IPs."),
    externalIPs: z.boolean().default(false).describe("Announce the Services' external IPs."),
});
export type L2AnnouncementConfig = z.output<typeof l2AnnouncementSchema>;

export const ciliumSchema = z
    .strictObject({
        ...chartFields({ chart: "cilium", repository: "https://helm.cilium.io", version: "1.19.4", namespace: "kube-system" }),
        version: ciliumVersion
            .default("1.19.4")
            .describe(
                "Exact Cilium chart version, 1.18.0 or later: the LoadBalancer pools and the BGP objects this program emits are `cilium.io/v2`, which Cilium serves from 1.18 on.",
            ),
        loadBalancerPools: z.array(lbPoolSchema).default([]).meta({
            description:
                "LoadBalancer IP pools (LB IPAM), one `cilium.io/v2` `CiliumLoadBalancerIPPool` each. A pool of a family the cluster does not run is refused.",
            defaultText: "none: LoadBalancer Services get no address",
        }),
        bgp: bgpSchema.optional().meta({
            description:
                "BGP control plane v2: the cluster's AS number, its peers, their session settings and what is announced. Turns on the chart's `bgpControlPlane.enabled` (values that turn it off are refused).",
            defaultText: "no BGP",
        }),
        l2Announcements: z.array(l2AnnouncementSchema).default([]).meta({
            description:
                "L2 announcements (ARP), for networks without a BGP router: one `CiliumL2AnnouncementPolicy` each. Needs kube-proxy replacement; turns on the chart's `l2announcements.enabled`.",
            defaultText: "none",
        }),
        l2AnnouncedServices: z
            .number()
            .int()
            .min(1)
            .default(50)
            .describe(
                "How many LoadBalancer Services L2 announcements will announce at most, those Flux deploys later included. With `l2Announcements`, it sizes the agent's API client rate limit (`k8sClientRateLimit.qps` and `.burst`) by Cilium's L2 announcements guide: each announced Service is a lease the agent renews every `l2announcements.leaseRenewDeadline` (5s unless `values` sets it), and that many requests per second come on top of the agent's own 10 QPS and burst of 20. The default adds 10.",
            ),
        operatorReplicas: z
            .number()
            .int()
            .min(1)
            .default(2)
            .describe(
                "Cilium operator replicas (the chart's `operator.replicas`). The chart keeps each on a node of its own, so on a one-node cluster the second stays Pending: the network gate accepts one ready replica and says so. Set 1 on a cluster that knows it runs on one node, where a rollout would otherwise wait for a node that does not exist.",
            ),
    })
    .meta({
        title: "Network phase: Cilium",
        description:
            "Cilium: the CNI, kube-proxy replacement, LoadBalancer IP pools, BGP and L2 announcements. Its chart values are derived from `cluster`; `values` can override any of them.",
        details: [
            "The chart values follow the Talos and Cilium install guides and are derived from `cluster`: `ipam.mode: kubernetes`; `kubeProxyReplacement` = `cluster.kubeProxyDisabled`; `k8sServiceHost`/`k8sServicePort` = `localhost`/`kubePrism.port` with KubePrism, else the API endpoint's host and port; `cgroup.autoMount.enabled: false`, `cgroup.hostRoot: /sys/fs/cgroup`; the Talos capability lists; `ipv4.enabled`/`ipv6.enabled` from the Service subnets' families; `bgpControlPlane.enabled` (and `secretsNamespace.name` = the Cilium namespace) with `bgp`; `l2announcements.enabled` with `l2Announcements`, and `k8sClientRateLimit` sized by `l2AnnouncedServices`; `rollOutCiliumPods`, `operator.rollOutPods` and `envoy.rollOutPods` true, so that a changed ConfigMap rolls the pods that read it only at start-up; `operator.replicas` = `operatorReplicas`. Cilium's `cluster.name` stays `default` (only Cluster Mesh needs one, and Cilium takes at most 32 characters); one set through `values` is checked against that limit. Two follow the escape hatch: `bpf.hostLegacyRouting: true` when `values.bpf.masquerade` is true and `cluster.forwardKubeDNSToHost` is on, and the cluster-pool CIDR lists = the Talos pod subnets when `values.ipam.mode` is `cluster-pool`.",
            "Cilium's `values.schema.json` allows unknown keys, so Helm would pass a misspelled key in `values` (`bpf.masqurade`) on and the chart would ignore it. The plan and `pulumi up` check the merged values against the keys of the pinned chart's `values.yaml` (the warning `unknown-chart-value`, with the nearest key: `bpf.masquerade`) and its schema, and refuse what the chart's templates refuse: keys removed in 1.15 and 1.16 (`tunnel`, `encryption.keyFile`, …) from 1.17 on, `enableCiliumEndpointSlice` and `ciliumEndpointSlice.sliceMode` from 1.18 on, and `k8sServiceHostRef` next to the `k8sServiceHost` this program sets.",
            "Cilium's operator registers the pool, BGP and L2 CRDs when it starts, so those objects wait for a `CrdWait` (the gate checker's `crds` command) that runs after the release. The component's outputs (and the stack's `ciliumStatus`, `ciliumPools`, `ciliumBgpPeers`) are the release status, the pools with their blocks, and the peers.",
            "Preflight checks, each naming both keys of a conflict and the fix: Talos kube-proxy disabled with `kubeProxyReplacement` not true (the Week 4 incident), and the reverse; legacy `kubeProxyReplacement` strings (`strict`, `partial`, `probe`, `disabled`); `k8sServiceHost` inside a Service subnet, empty, or an in-cluster name (`kubernetes`, `kubernetes.default`, `….svc`, `….svc.<dnsDomain>`) while replacing kube-proxy; overlapping pod, Service, node and pool ranges (a pool may sit in a node subnet only when L2 announces it); invalid pool blocks and pools of a family the cluster does not run; ASNs out of range, duplicate peers, peers naming missing peer configs, families selecting no advertisement, advertisements or L2 policies naming unknown pools; `forwardKubeDNSToHost` with `bpf.masquerade` and without `bpf.hostLegacyRouting`; BGP or L2 configured while the values disable them; `loadBalancer.mode` dsr/hybrid on a tunnel other than Geneve with Geneve dispatch, and native routing without `ipv4NativeRoutingCIDR` (or, with IPv6 on and masqueraded, without `ipv6NativeRoutingCIDR`); cluster-pool CIDR lists that differ from the Talos pod subnets; a peer whose name repeats another's, explicit or derived (`peer-<address>`); a Cilium `version` below 1.18.0; a `values.cluster.name` Cilium would refuse; `externalTrafficPolicy: Local` on a LoadBalancer Service whose pool L2 announces (Cilium's L2 guide: incompatible), naming the Service's key and the `l2Announcements` entry. The node-IPAM checks are described under `cluster`.",
            "Warnings: a peer outside every node subnet (without eBGP multihop), a pool nothing announces, a peer config family that none of its peers' sessions is of (`bgp-family-without-session`), an advertisement that advertises nothing, an L2-announced pool outside the node subnets. The policy pack checks the emitted objects with the same predicates (`cilium-lb-pool-blocks`, `cilium-bgp-asn`, `cilium-bgp-references`, `cilium-kube-proxy-replacement-boolean`, `cilium-datapath-routing`).",
        ],
    });
export type CiliumConfig = z.output<typeof ciliumSchema>;

/** The secret keys the cilium section names (BGP passwords). */
export function ciliumSecretRefs(cilium: CiliumConfig | undefined): SecretRef[] {
    return (cilium?.bgp?.peerConfigs ?? []).flatMap((pc, i) =>
        pc.authSecret ? [{ path: configPath(["cilium", "bgp", "peerConfigs", i, "authSecret"]), key: pc.authSecret }] : [],
    );
}
