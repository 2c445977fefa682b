import type * as k8s from "@kubernetes/client-node";
import { LabelSelector, selects } from "../config/selectors";
import { CiliumResource, failure, id, Issue, listCilium, poolAddresses, SharedLive, sharedLive } from "./announcements";
import type { Kube } from "./kube";
import type { AnnouncementFields } from "./options";
import type { Step, StepResult } from "./run";

// L2 announcements, as the cluster shows them (Cilium 1.19 L2 announcements
// guide, "Leases"): each announced Service is a Lease named
// cilium-l2announce-<namespace>-<service> in Cilium's namespace, and its
// holder is the node that answers ARP for the Service's addresses.

export const L2_LEASE_PREFIX = "cilium-l2announce";

/** The Lease Cilium holds for a Service it announces (pkg/l2announcer: leasePrefix-namespace-name). */
export function l2LeaseName(namespace: string, service: string): string {
    return `${L2_LEASE_PREFIX}-${namespace}-${service}`;
}

/** Services whose addresses L2 announces: no loadBalancerClass, or Cilium's L2 one. */
const L2_CLASS = "io.cilium/l2-announcer";

export interface LiveLease {
    name: string;
    holder?: string;
    /** Epoch ms of the last renewal. */
    renewedAt?: number;
    durationSeconds?: number;
}

export interface L2Live extends SharedLive {
    policies: CiliumResource[];
    leases: LiveLease[];
}

export function liveLeases(items: k8s.V1Lease[]): LiveLease[] {
    return items.map((l) => {
        const renew = l.spec?.renewTime as unknown;
        const renewedAt = renew instanceof Date ? renew.getTime() : typeof renew === "string" ? Date.parse(renew) : undefined;
        return {
            name: l.metadata?.name ?? "?",
            holder: l.spec?.holderIdentity || undefined,
            renewedAt: renewedAt !== undefined && !Number.isNaN(renewedAt) ? renewedAt : undefined,
            durationSeconds: l.spec?.leaseDurationSeconds,
        };
    });
}

/** Every L2-announced address has a policy that selects its Service and a lease a node holds and renews. */
export function l2Report(live: L2Live, o: Pick<AnnouncementFields, "l2Pools" | "ciliumNamespace">, now: number): StepResult {
    const issues: Issue[] = [];
    const config = live.ciliumConfig;
    if (config && config["enable-l2-announcements"] !== "true") {
        issues.push({
            link: "Cilium L2 announcements",
            line: `ConfigMap ${o.ciliumNamespace}/cilium-config: enable-l2-announcements: ${config["enable-l2-announcements"] ?? "(not set)"}`,
            cause: "the running Cilium configuration has L2 announcements off, so no agent answers ARP for any LoadBalancer address",
            fix: "remove l2announcements.enabled from talos-platform:cilium.values (it follows cilium.l2Announcements) and run pulumi up; the agents roll with the changed config",
        });
    }
    const pools = new Set(o.l2Pools ?? []);
    const addresses = poolAddresses(
        live.services.filter((s) => s.loadBalancerClass === undefined || s.loadBalancerClass === L2_CLASS),
        live.pools,
    ).filter((a) => pools.has(a.pool));
    const held: string[] = [];
    const seen = new Set<string>();
    for (const a of addresses) {
        const svc = id(a.service);
        if (seen.has(svc)) continue;
        seen.add(svc);
        const ips = addresses.filter((x) => x.service === a.service).map((x) => x.ip);
        const what = `Service ${svc} (${ips.join(", ")}, pool ${a.pool})`;
        const policies = live.policies.filter(
            (p) => p.spec?.loadBalancerIPs === true && selects(p.spec?.serviceSelector as LabelSelector | undefined, a.service.labels),
        );
        if (!policies.length) {
            issues.push({
                link: `L2 pool ${a.pool} → Service ${svc}`,
                line: `${what}: selected by no CiliumL2AnnouncementPolicy with loadBalancerIPs (policies: ${live.policies.map((p) => p.metadata?.name).join(", ") || "none"})`,
                cause: `pool ${a.pool} is not announced for ${svc}: no L2 announcement policy selects the Service, so no node answers ARP for ${ips.join(", ")}`,
                fix: "the network phase builds one policy per talos-platform:cilium.l2Announcements entry (per named pool, with that pool's serviceSelector): run `pulumi up --refresh` if they were edited in the cluster, and give the Service the labels of its pool's serviceSelector",
            });
            continue;
        }
        const leaseName = l2LeaseName(a.service.namespace, a.service.name);
        const lease = live.leases.find((l) => l.name === leaseName);
        const leaseId = `Lease ${o.ciliumNamespace}/${leaseName}`;
        const policyNames = policies.map((p) => p.metadata?.name).join(", ");
        if (!lease || !lease.holder) {
            issues.push({
                link: `L2 announcement of ${svc} (${leaseId})`,
                line: `${what}: ${leaseId} ${lease ? "has no holder" : "not found"} (selected by ${policyNames})`,
                cause: `no node has claimed ${svc}, so nothing answers ARP for ${ips.join(", ")}: no agent with L2 announcements on runs on a node the policy's nodeSelector selects, with an interface its interfaces patterns match, or the agents cannot write Leases (their API client is rate-limited: k8sClientRateLimit)`,
                fix: "check the policies' nodeSelector and interfaces (talos-platform:cilium.l2Announcements[]), and the agents' logs (kubectl -n kube-system logs ds/cilium -c cilium-agent | grep -i l2)",
            });
            continue;
        }
        const duration = lease.durationSeconds ?? 15;
        if (lease.renewedAt !== undefined && now - lease.renewedAt > duration * 1000) {
            const ago = Math.round((now - lease.renewedAt) / 1000);
            issues.push({
                link: `L2 announcement of ${svc} (${leaseId})`,
                line: `${what}: ${leaseId} held by ${lease.holder}, last renewed ${ago}s ago (lease duration ${duration}s)`,
                cause: `node ${lease.holder} stopped renewing the lease for ${svc} ${ago}s ago and no other node took it over: it may still answer ARP for ${ips.join(", ")} while its agent is down, or nobody does`,
                fix: `check node ${lease.holder} and its Cilium agent; another selected node takes the lease over once it expires`,
            });
            continue;
        }
        held.push(`${svc} ${ips.join(", ")} by ${lease.holder}`);
    }
    if (issues.length) return failure(issues);
    return { ok: true, detail: held.length ? `announced: ${held.join("; ")}` : "no Service has an address from an L2-announced pool yet" };
}

export async function l2Live(kube: Kube, o: AnnouncementFields): Promise<L2Live> {
    const [shared, policies, leases] = await Promise.all([
        sharedLive(kube, o.ciliumNamespace),
        // CiliumL2AnnouncementPolicy has no v2 in Cilium 1.19.
        listCilium(kube, "ciliuml2announcementpolicies", "v2alpha1"),
        kube.coordination.listNamespacedLease({ namespace: o.ciliumNamespace }),
    ]);
    return { ...shared, policies, leases: liveLeases(leases.items) };
}

/** The L2 step: every address of an L2-announced pool has a lease a node holds. */
export function l2Step(o: AnnouncementFields): Step {
    return {
        name: `L2 announcement leases held for LoadBalancer addresses (pools ${(o.l2Pools ?? []).join(", ")})`,
        async check({ kube }): Promise<StepResult> {
            return l2Report(await l2Live(kube, o), o, Date.now());
        },
    };
}
