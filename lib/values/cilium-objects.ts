import type { BgpConfig, BgpPeerConfig, BgpPeerConfigConfig, CiliumConfig, LbPoolConfig } from "../config/cilium";
import { ADVERTISE_LABELS } from "../config/cilium";
import { ClusterConfig, clusterFamilies } from "../config/cluster";
import type { LabelSelector } from "../config/selectors";
import { addressFamily, Family } from "../net";

// Pure builders for the Cilium custom resources: LB IPAM pools, BGP control
// plane v2 and L2 announcements. The Cilium component only registers them.
// Spec fields are optional in these types because the checks in
// lib/checks/bgp.ts also read objects from the policy pack, which may come
// from anywhere.

export interface CiliumObject<S> {
    apiVersion: string;
    kind: string;
    metadata: { name: string; labels?: Record<string, string> };
    spec: S;
}

export interface PoolBlockSpec {
    cidr?: string;
    start?: string;
    stop?: string;
}
export interface PoolSpec {
    blocks?: PoolBlockSpec[];
    serviceSelector?: LabelSelector;
    allowFirstLastIPs?: "Yes" | "No";
}
export interface BgpPeerSpec {
    name?: string;
    peerAddress?: string;
    peerASN?: number;
    peerConfigRef?: { name?: string };
}
export interface BgpClusterConfigSpec {
    nodeSelector?: LabelSelector;
    bgpInstances?: Array<{ name?: string; localASN?: number; peers?: BgpPeerSpec[] }>;
}
export interface BgpFamilySpec {
    afi?: string;
    safi?: string;
    advertisements?: LabelSelector;
}
export interface BgpPeerConfigSpec {
    families?: BgpFamilySpec[];
    timers?: { connectRetryTimeSeconds?: number; holdTimeSeconds?: number; keepAliveTimeSeconds?: number };
    gracefulRestart?: { enabled: boolean; restartTimeSeconds?: number };
    ebgpMultihop?: number;
    authSecretRef?: string;
}
export interface BgpAdvertisementEntry {
    advertisementType?: string;
    service?: { addresses?: string[] };
    selector?: LabelSelector;
}
export interface BgpAdvertisementSpec {
    advertisements?: BgpAdvertisementEntry[];
}
export interface L2PolicySpec {
    serviceSelector?: LabelSelector;
    nodeSelector?: LabelSelector;
    interfaces?: string[];
    loadBalancerIPs?: boolean;
    externalIPs?: boolean;
}

export interface BgpObjects {
    clusterConfig: CiliumObject<BgpClusterConfigSpec>;
    peerConfigs: CiliumObject<BgpPeerConfigSpec>[];
    advertisements: CiliumObject<BgpAdvertisementSpec>[];
}

export interface CiliumObjects {
    pools: CiliumObject<PoolSpec>[];
    bgp?: BgpObjects;
    l2Policies: CiliumObject<L2PolicySpec>[];
}

const V2 = "cilium.io/v2";
// CiliumL2AnnouncementPolicy has no v2 in Cilium 1.19.
const V2ALPHA1 = "cilium.io/v2alpha1";

/** The CRD each kind needs; Cilium's operator registers them once it runs. */
export const CRD_OF_KIND: Record<string, string> = {
    CiliumLoadBalancerIPPool: "ciliumloadbalancerippools.cilium.io",
    CiliumBGPClusterConfig: "ciliumbgpclusterconfigs.cilium.io",
    CiliumBGPPeerConfig: "ciliumbgppeerconfigs.cilium.io",
    CiliumBGPAdvertisement: "ciliumbgpadvertisements.cilium.io",
    CiliumL2AnnouncementPolicy: "ciliuml2announcementpolicies.cilium.io",
};

/**
 * Service advertisements select nothing without a selector; Cilium's
 * documented way to select every Service is a NotIn on a key nobody sets.
 */
export const SELECT_ALL_SERVICES: LabelSelector = {
    matchExpressions: [{ key: "talos-platform/never-set", operator: "NotIn", values: ["never-used-value"] }],
};

export const BGP_CLUSTER_CONFIG_NAME = "cilium-bgp";

export function poolObject(pool: LbPoolConfig): CiliumObject<PoolSpec> {
    const spec: PoolSpec = { blocks: pool.blocks.map((b) => ({ ...b })) };
    if (pool.serviceSelector) spec.serviceSelector = pool.serviceSelector;
    if (pool.allowFirstLastIPs !== undefined) spec.allowFirstLastIPs = pool.allowFirstLastIPs ? "Yes" : "No";
    return { apiVersion: V2, kind: "CiliumLoadBalancerIPPool", metadata: { name: pool.name }, spec };
}

/** A block as people write it: the CIDR, or start-stop. */
export function blockText(b: PoolBlockSpec): string {
    return b.cidr ?? `${b.start}-${b.stop}`;
}

export function peerName(peer: BgpPeerConfig): string {
    return peer.name ?? `peer-${peer.address.replace(/[:.]/g, "-")}`;
}

export function bgpAuthSecretName(peerConfig: BgpPeerConfigConfig): string {
    return `bgp-auth-${peerConfig.name}`;
}

/** The address families of the sessions that use a peer config, in order; empty when no peer uses it. */
export function sessionFamilies(bgp: Pick<BgpConfig, "peers">, peerConfig: string): Family[] {
    const families = bgp.peers.filter((p) => p.peerConfig === peerConfig).map((p) => addressFamily(p.address));
    return [...new Set(families.filter((f): f is Family => f !== undefined))].sort();
}

/**
 * The unicast families of a peer config. By default each session carries
 * its own address family only: routes of the other family would go out with
 * a next hop of the session's family (an IPv4-mapped IPv6 address over an
 * IPv4 session), which many routers reject (cilium/cilium#37831). A peer
 * config no peer uses defaults to the cluster's families.
 */
export function peerConfigFamilies(cluster: ClusterConfig, bgp: Pick<BgpConfig, "peers">, pc: BgpPeerConfigConfig): BgpFamilySpec[] {
    const sessions = sessionFamilies(bgp, pc.name);
    const defaults = sessions.length ? sessions : [...clusterFamilies(cluster)].sort();
    const families = pc.families ?? defaults.map((afi) => ({ afi, advertisements: { matchLabels: ADVERTISE_LABELS } }));
    return families.map((f) => ({ afi: f.afi, safi: "unicast", advertisements: f.advertisements }));
}

function byName(pools: LbPoolConfig[], names: string[] | undefined): LbPoolConfig[] {
    return names === undefined ? pools : names.flatMap((n) => pools.filter((p) => p.name === n));
}

function uniqueSelectors(selectors: LabelSelector[]): LabelSelector[] {
    const seen = new Map(selectors.map((s) => [JSON.stringify(s), s]));
    return [...seen.values()];
}

export function bgpObjects(cluster: ClusterConfig, cilium: CiliumConfig): BgpObjects | undefined {
    const bgp = cilium.bgp;
    if (!bgp) return undefined;
    const clusterSpec: BgpClusterConfigSpec = {
        bgpInstances: [
            {
                name: `instance-${bgp.localASN}`,
                localASN: bgp.localASN,
                peers: bgp.peers.map((p) => ({
                    name: peerName(p),
                    peerASN: p.asn,
                    peerAddress: p.address,
                    peerConfigRef: { name: p.peerConfig },
                })),
            },
        ],
    };
    if (bgp.nodeSelector) clusterSpec.nodeSelector = bgp.nodeSelector;

    const peerConfigs = bgp.peerConfigs.map((pc): CiliumObject<BgpPeerConfigSpec> => {
        const spec: BgpPeerConfigSpec = { families: peerConfigFamilies(cluster, bgp, pc) };
        if (pc.timers) spec.timers = pc.timers;
        if (pc.gracefulRestart) spec.gracefulRestart = pc.gracefulRestart;
        if (pc.ebgpMultihop !== undefined) spec.ebgpMultihop = pc.ebgpMultihop;
        if (pc.authSecret) spec.authSecretRef = bgpAuthSecretName(pc);
        return { apiVersion: V2, kind: "CiliumBGPPeerConfig", metadata: { name: pc.name }, spec };
    });

    const advertisements = bgp.advertisements.map((a): CiliumObject<BgpAdvertisementSpec> => {
        const entries: BgpAdvertisementEntry[] = a.podCIDR ? [{ advertisementType: "PodCIDR" }] : [];
        // One entry per pool, selecting the Services that pool serves.
        const selectors = uniqueSelectors(byName(cilium.loadBalancerPools, a.pools).map((p) => p.serviceSelector ?? SELECT_ALL_SERVICES));
        for (const selector of selectors) {
            entries.push({ advertisementType: "Service", service: { addresses: ["LoadBalancerIP"] }, selector });
        }
        return {
            apiVersion: V2,
            kind: "CiliumBGPAdvertisement",
            metadata: { name: a.name, labels: a.labels },
            spec: { advertisements: entries },
        };
    });

    return {
        clusterConfig: { apiVersion: V2, kind: "CiliumBGPClusterConfig", metadata: { name: BGP_CLUSTER_CONFIG_NAME }, spec: clusterSpec },
        peerConfigs,
        advertisements,
    };
}

/**
 * One policy per configured entry, or one per named pool: a policy has a
 * single Service selector, and pools select their Services differently.
 */
export function l2PolicyObjects(cilium: CiliumConfig): CiliumObject<L2PolicySpec>[] {
    return cilium.l2Announcements.flatMap((l) => {
        const base: L2PolicySpec = { loadBalancerIPs: l.loadBalancerIPs, externalIPs: l.externalIPs };
        if (l.nodeSelector) base.nodeSelector = l.nodeSelector;
        if (l.interfaces) base.interfaces = l.interfaces;
        const object = (name: string, serviceSelector?: LabelSelector): CiliumObject<L2PolicySpec> => ({
            apiVersion: V2ALPHA1,
            kind: "CiliumL2AnnouncementPolicy",
            metadata: { name },
            spec: serviceSelector ? { ...base, serviceSelector } : { ...base },
        });
        if (l.pools === undefined) return [object(l.name)];
        return byName(cilium.loadBalancerPools, l.pools).map((p) => object(`${l.name}-${p.name}`, p.serviceSelector));
    });
}

export function ciliumObjects(cluster: ClusterConfig, cilium: CiliumConfig): CiliumObjects {
    return {
        pools: cilium.loadBalancerPools.map(poolObject),
        bgp: bgpObjects(cluster, cilium),
        l2Policies: l2PolicyObjects(cilium),
    };
}

/** Every object, in the order they are registered. */
export function allObjects(objects: CiliumObjects): CiliumObject<unknown>[] {
    const bgp = objects.bgp ? [objects.bgp.clusterConfig, ...objects.bgp.peerConfigs, ...objects.bgp.advertisements] : [];
    return [...objects.pools, ...bgp, ...objects.l2Policies];
}

/** The CRDs the objects need, sorted. */
export function requiredCrds(objects: CiliumObjects): string[] {
    return [...new Set(allObjects(objects).map((o) => CRD_OF_KIND[o.kind]))].sort();
}
