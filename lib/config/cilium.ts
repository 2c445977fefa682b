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
    z.union([z.strictObject({ cidr: z.string() }), z.strictObject({ start: z.string(), stop: z.string() })]).superRefine((block, ctx) => {
        const p = blockProblem(block);
        if (p) ctx.addIssue({ code: "custom", message: p.message, params: { fix: p.fix }, path: p.field ? [p.field] : [], input: block });
    }),
    { what: "an object with cidr, or with start and stop", fix: poolBlockFix },
);
export type PoolBlock = z.output<typeof poolBlockSchema>;

/** A CiliumLoadBalancerIPPool. */
export const lbPoolSchema = z.strictObject({
    name: k8sName,
    /** IPv4 and IPv6 CIDRs or start/stop ranges. */
    blocks: z.array(poolBlockSchema).min(1),
    /**
     * Which Services draw from this pool. Cilium matches it against the
     * Service's labels; annotations select nothing.
     * @default every Service (no selector)
     */
    serviceSelector: labelSelectorSchema.optional(),
    /** Hand out the first and last address of each CIDR. @default Cilium's default (yes) */
    allowFirstLastIPs: z.boolean().optional(),
});
export type LbPoolConfig = z.output<typeof lbPoolSchema>;

// --- BGP control plane v2

/** Labels the default advertisement carries and the default address families select. */
export const ADVERTISE_LABELS: Record<string, string> = { advertise: "bgp" };

const asn = must(z.number(), isAsn, ASN_MESSAGE, ASN_FIX);

export const bgpPeerSchema = z.strictObject({
    /** Unique within the BGP instance. @default peer-<address> */
    name: z.string().min(1).max(255).optional(),
    /** The router's address. */
    address: must(z.string(), isAddress, "is not an IP address", "write the router's address, e.g. 172.29.51.1"),
    /** The router's AS number. */
    asn,
    /** Name of an entry in `bgp.peerConfigs`. @default default */
    peerConfig: k8sName.default("default"),
});
export type BgpPeerConfig = z.output<typeof bgpPeerSchema>;

const timersSchema = z
    .strictObject({
        /** @default 120 (Cilium's) */
        connectRetryTimeSeconds: z.number().int().min(1).max(2147483647).optional(),
        /** @default 90 (Cilium's) */
        holdTimeSeconds: z.number().int().min(3).max(65535).optional(),
        /** @default 30 (Cilium's) */
        keepAliveTimeSeconds: z.number().int().min(1).max(65535).optional(),
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
    afi: z.enum(["ipv4", "ipv6"]),
    /** Which CiliumBGPAdvertisements this family sends, by their labels. @default {matchLabels: {advertise: bgp}} */
    advertisements: labelSelectorSchema.default({ matchLabels: ADVERTISE_LABELS }),
});

export const bgpPeerConfigSchema = z.strictObject({
    name: k8sName,
    /**
     * Unicast address families and the advertisements each sends.
     * @default one per cluster family, each selecting advertisements labelled advertise=bgp
     */
    families: z.array(bgpFamilySchema).min(1).optional(),
    /** @default Cilium's (hold 90s, keepalive 30s, connect retry 120s) */
    timers: timersSchema.optional(),
    /** @default off (Cilium's) */
    gracefulRestart: z
        .strictObject({
            enabled: z.boolean().default(true),
            /** @default 120 (Cilium's) */
            restartTimeSeconds: z.number().int().min(1).max(4095).optional(),
        })
        .optional(),
    /** TTL of eBGP packets; raise it for a router that is not on a node's own network. @default 1 (Cilium's) */
    ebgpMultihop: z.number().int().min(1).max(255).optional(),
    /**
     * Name of a top-level secret key holding the TCP MD5 password, e.g.
     * bgpPassword for `pulumi config set --secret talos-platform:bgpPassword`.
     * @default no password
     */
    authSecret: secretKeyName.optional(),
});
export type BgpPeerConfigConfig = z.output<typeof bgpPeerConfigSchema>;

export const bgpAdvertisementSchema = z.strictObject({
    name: k8sName,
    /** Labels the peer configs' families select. @default {advertise: bgp} */
    labels: z.record(z.string(), z.string()).default(ADVERTISE_LABELS),
    /** LoadBalancer pools whose Service addresses are announced, by name. @default every pool */
    pools: z.array(z.string()).optional(),
    /** Also announce each node's pod CIDR. @default false */
    podCIDR: z.boolean().default(false),
});
export type BgpAdvertisementConfig = z.output<typeof bgpAdvertisementSchema>;

export const bgpSchema = z.strictObject({
    /** The cluster's AS number. */
    localASN: asn,
    /** Which nodes peer. @default every node */
    nodeSelector: labelSelectorSchema.optional(),
    peers: z.array(bgpPeerSchema).min(1),
    /** @default one peer config named default */
    peerConfigs: z
        .array(bgpPeerConfigSchema)
        .min(1)
        .prefault([{ name: "default" }]),
    /** @default one advertisement, loadbalancer-ips, announcing every pool */
    advertisements: z
        .array(bgpAdvertisementSchema)
        .min(1)
        .prefault([{ name: "loadbalancer-ips" }]),
});
export type BgpConfig = z.output<typeof bgpSchema>;

// --- L2 announcements

export const l2AnnouncementSchema = z.strictObject({
    name: k8sName,
    /** Regular expressions of the interfaces to answer ARP on. @default every interface */
    interfaces: z.array(z.string().min(1)).optional(),
    /** Which nodes may answer. @default every node */
    nodeSelector: labelSelectorSchema.optional(),
    /** LoadBalancer pools whose Service addresses are announced, by name. @default every Service */
    pools: z.array(z.string()).optional(),
    /** @default true */
    loadBalancerIPs: z.boolean().default(true),
    /** @default false */
    externalIPs: z.boolean().default(false),
});
export type L2AnnouncementConfig = z.output<typeof l2AnnouncementSchema>;

export const ciliumSchema = z.strictObject({
    ...chartFields({ chart: "cilium", repository: "https://helm.cilium.io", version: "1.19.4", namespace: "kube-system" }),
    /** An exact Cilium version, 1.18.0 or later. @default 1.19.4 */
    version: ciliumVersion.default("1.19.4"),
    /** LoadBalancer IP pools (LB IPAM). @default [] (LoadBalancer Services get no address) */
    loadBalancerPools: z.array(lbPoolSchema).default([]),
    /** BGP control plane v2: peering and what is announced. @default no BGP */
    bgp: bgpSchema.optional(),
    /** L2 announcements (ARP), for networks without a BGP router. @default [] */
    l2Announcements: z.array(l2AnnouncementSchema).default([]),
    /**
     * How many LoadBalancer Services L2 announcements will announce at most,
     * those Flux deploys later included. Sizes the agent's API client rate
     * limit (k8sClientRateLimit) by Cilium's L2 announcements guide: each
     * announced Service is a lease the agent renews.
     * @default 50 (10 requests per second more with the default 5s lease renew deadline)
     */
    l2AnnouncedServices: z
        .number()
        .int()
        .min(1)
        .default(50)
        .describe(
            "How many LoadBalancer Services L2 announcements will announce at most, counting those Flux deploys later; sizes the Cilium agent's API client rate limit (k8sClientRateLimit) as Cilium's L2 announcements guide says. Default 50.",
        ),
    /**
     * Cilium operator replicas. The chart keeps two on different nodes
     * (required anti-affinity), so the second stays Pending on a one-node
     * cluster; the gates accept one ready replica and say so.
     * @default 2 (the chart's)
     */
    operatorReplicas: z
        .number()
        .int()
        .min(1)
        .default(2)
        .describe(
            "Cilium operator replicas; each needs a node of its own. Set 1 on a cluster that knows it runs on one node (the gates accept one ready replica of 2 and say the second is pending). Default 2.",
        ),
});
export type CiliumConfig = z.output<typeof ciliumSchema>;

/** The secret keys the cilium section names (BGP passwords). */
export function ciliumSecretRefs(cilium: CiliumConfig | undefined): SecretRef[] {
    return (cilium?.bgp?.peerConfigs ?? []).flatMap((pc, i) =>
        pc.authSecret ? [{ path: configPath(["cilium", "bgp", "peerConfigs", i, "authSecret"]), key: pc.authSecret }] : [],
    );
}
