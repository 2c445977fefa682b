import type * as k8s from "@kubernetes/client-node";
import { addressFamily, contains, Family } from "../net";
import type { Diagnosis } from "./diagnosis";
import { poolRanges, LbPool } from "./ingress";
import { Kube, readOptional } from "./kube";
import type { StepResult } from "./run";
import { CILIUM_CONFIG } from "./targets";

// What the ingress gate's in-cluster probe cannot see: whether anything
// outside the cluster learns where LoadBalancer addresses live. BGP sessions
// and their routes (bgp.ts), L2 announcement leases (l2.ts).

/**
 * Why the probe pod's answer proves nothing about BGP or L2. Cilium's
 * kube-proxy replacement rests on its socket-level load balancer (Cilium 1.19
 * "Kubernetes without kube-proxy"): a pod's connect() to a Service address,
 * LoadBalancer addresses included, is rewritten to a backend on the pod's own
 * node, so the packet never reaches the router, an ARP answer or a route.
 */
export const SOCKET_LB_NOTE =
    "the probe pod's HTTP answer does not prove this link: Cilium's socket load balancer (kube-proxy replacement) rewrites a pod's connection to a LoadBalancer address on the pod's own node, so it never leaves the node and passes with every BGP session down or no L2 announcement";

/** What cannot work while this link is down: nothing later in the chain needs it, only clients outside the cluster. */
export const ANNOUNCE_BLOCKS = [
    "clients outside the cluster reaching LoadBalancer addresses (ingress from the LAN); nothing later in the chain needs this link",
];

/** A LoadBalancer Service with the addresses it was given. */
export interface LiveService {
    namespace: string;
    name: string;
    /** Its labels plus the io.kubernetes.service.namespace/name keys Cilium's selectors also match. */
    labels: Record<string, string>;
    loadBalancerClass?: string;
    externalTrafficPolicy: string;
    ips: string[];
}

export function liveServices(items: k8s.V1Service[]): LiveService[] {
    return items
        .filter((s) => s.spec?.type === "LoadBalancer")
        .map((s) => {
            const namespace = s.metadata?.namespace ?? "default";
            const name = s.metadata?.name ?? "?";
            return {
                namespace,
                name,
                labels: { ...(s.metadata?.labels ?? {}), "io.kubernetes.service.namespace": namespace, "io.kubernetes.service.name": name },
                loadBalancerClass: s.spec?.loadBalancerClass,
                externalTrafficPolicy: s.spec?.externalTrafficPolicy ?? "Cluster",
                ips: (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => typeof ip === "string"),
            };
        });
}

/** One address of a Service, and the pool it came from. */
export interface PoolAddress {
    service: LiveService;
    ip: string;
    family: Family;
    pool: string;
}

/** Each address of each Service that lies in one of `pools`, with its pool. */
export function poolAddresses(services: LiveService[], pools: LbPool[]): PoolAddress[] {
    return services.flatMap((service) =>
        service.ips.flatMap((ip) => {
            const pool = pools.find((p) => !p.disabled && p.ranges.some((r) => contains(r, ip)));
            const family = addressFamily(ip);
            return pool && family ? [{ service, ip, family, pool: pool.name }] : [];
        }),
    );
}

export const id = (s: LiveService) => `${s.namespace}/${s.name}`;

/** A step's failure from the problems found, the first of which names the link. */
export interface Issue {
    link: string;
    /** One evidence line. */
    line: string;
    cause: string;
    fix?: string;
}

export function failure(issues: Issue[], extra: string[] = []): StepResult {
    const first = issues[0];
    const diagnosis: Diagnosis = {
        link: first.link,
        evidence: [...new Set([...issues.map((i) => i.line), ...extra])],
        cause: `${first.cause}; ${SOCKET_LB_NOTE}`,
        ...(first.fix ? { fix: first.fix } : {}),
        blocks: ANNOUNCE_BLOCKS,
    };
    return { ok: false, waiting: first.line, diagnosis };
}

/** A cluster-scoped list of Cilium objects; a CRD that is not there (404) lists nothing. */
export async function listCilium(kube: Kube, plural: string, version = "v2"): Promise<CiliumResource[]> {
    const list = (await readOptional(kube.custom.listClusterCustomObject({ group: "cilium.io", version, plural }))) as
        { items?: CiliumResource[] } | undefined;
    return list?.items ?? [];
}

/** A Cilium custom resource, read loosely: the gate reads what the cluster has, not what this program wrote. */
export interface CiliumResource {
    metadata?: {
        name?: string;
        labels?: Record<string, string>;
        ownerReferences?: { kind?: string; name?: string }[];
    };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    spec?: any;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    status?: any;
}

/** What every announcement step reads: Services, pools and the running cilium-config. */
export interface SharedLive {
    services: LiveService[];
    pools: LbPool[];
    ciliumConfig?: Record<string, string>;
}

export async function sharedLive(kube: Kube, ciliumNamespace: string): Promise<SharedLive> {
    const [services, pools, config] = await Promise.all([
        kube.core.listServiceForAllNamespaces(),
        listCilium(kube, "ciliumloadbalancerippools"),
        readOptional(kube.core.readNamespacedConfigMap({ name: CILIUM_CONFIG, namespace: ciliumNamespace })),
    ]);
    return {
        services: liveServices(services.items),
        pools: pools.map((p) => poolRanges(p as Parameters<typeof poolRanges>[0])),
        ciliumConfig: config?.data,
    };
}
