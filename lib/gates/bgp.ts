import { LabelSelector, selects } from "../config/selectors";
import type { Family } from "../net";
import { ANNOUNCE_BLOCKS, CiliumResource, failure, id, Issue, listCilium, poolAddresses, SharedLive, sharedLive } from "./announcements";
import { notFound } from "./diagnosis";
import { Kube, readOptional } from "./kube";
import type { AnnouncementFields } from "./options";
import type { Step, StepResult } from "./run";

// BGP control plane v2, as the cluster reports it (Cilium 1.19,
// pkg/k8s/apis/cilium.io/v2): the operator's conditions on the cluster and
// peer configs, and each agent's status in its node's CiliumBGPNodeConfig:
// status.bgpInstances[].peers[] with peeringState and routeCount[] per
// afi/safi (advertised, received), written when
// bgpControlPlane.statusReport.enabled is on (the chart's default).

/** Condition types the operator sets (bgp_cluster_types.go, bgp_peer_types.go); True means the problem is there. */
export const BGP_CONDITIONS = {
    noMatchingNode: "cilium.io/NoMatchingNode",
    missingPeerConfigs: "cilium.io/MissingPeerConfigs",
    conflictingClusterConfig: "cilium.io/ConflictingClusterConfig",
    missingAuthSecret: "cilium.io/MissingAuthSecret",
    /** On a CiliumBGPNodeConfig, set by the agent. */
    reconcileError: "cilium.io/BGPReconcileError",
} as const;

/** pkg/bgp/types SessionState.String() for an up session. */
export const ESTABLISHED = "established";

/** Services whose addresses the BGP control plane announces: no loadBalancerClass, or Cilium's BGP one. */
const BGP_CLASS = "io.cilium/bgp-control-plane";

export interface BgpLive extends SharedLive {
    /** Nodes whose Ready condition is not True: their agents cannot report. */
    notReadyNodes: string[];
    clusterConfig?: CiliumResource;
    peerConfigs: CiliumResource[];
    advertisements: CiliumResource[];
    nodeConfigs: CiliumResource[];
}

interface Condition {
    type?: string;
    status?: string;
    reason?: string;
    message?: string;
}

function trueCondition(obj: CiliumResource | undefined, type: string): Condition | undefined {
    return ((obj?.status?.conditions ?? []) as Condition[]).find((c) => c.type === type && c.status === "True");
}

interface ConfiguredPeer {
    instance: string;
    name: string;
    address: string;
    asn?: number;
    peerConfig?: string;
}

interface FamilySpec {
    afi?: string;
    safi?: string;
    advertisements?: LabelSelector;
}

/** A peer config's families; Cilium gives a peer config without any IPv4 and IPv6 unicast, selecting no advertisement. */
function familiesOf(pc: CiliumResource | undefined): FamilySpec[] {
    const families = (pc?.spec?.families ?? []) as FamilySpec[];
    return families.length
        ? families
        : [
              { afi: "ipv6", safi: "unicast" },
              { afi: "ipv4", safi: "unicast" },
          ];
}

interface ServiceEntry {
    advertisementType?: string;
    service?: { addresses?: string[]; aggregationLengthIPv4?: number; aggregationLengthIPv6?: number };
    selector?: LabelSelector;
}

/** The LoadBalancerIP Service entries of the advertisements a family selects, with the names of those advertisements. */
function serviceEntries(family: FamilySpec, advertisements: CiliumResource[]): { names: string[]; entries: ServiceEntry[] } {
    // A family without a selector selects no advertisement: Cilium then sends nothing.
    const chosen = family.advertisements ? advertisements.filter((a) => selects(family.advertisements, a.metadata?.labels ?? {})) : [];
    const entries = chosen
        .flatMap((a) => (a.spec?.advertisements ?? []) as ServiceEntry[])
        .filter((e) => e.advertisementType === "Service" && (e.service?.addresses ?? []).includes("LoadBalancerIP"));
    return { names: chosen.map((a) => a.metadata?.name ?? "?"), entries };
}

/** `pool/family` flags as a map from pool to families. */
function expectedPools(flags: string[] | undefined): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const f of flags ?? []) {
        const [pool, family] = f.split("/");
        if (!out.has(pool)) out.set(pool, new Set());
        if (family) out.get(pool)!.add(family);
    }
    return out;
}

function peerLabel(p: ConfiguredPeer): string {
    return `${p.name} (${p.address}${p.asn !== undefined ? `, AS ${p.asn}` : ""})`;
}

/** A peer down on every node is the router's doing; on some nodes only, those nodes'. */
function sessionIssue(peer: ConfiguredPeer, down: string[], nodes: number, localASN: unknown): Pick<Issue, "cause" | "fix"> {
    const ask = "`cilium-dbg bgp peers` in the agent of a node shows each session's state";
    if (down.length === nodes)
        return {
            cause: `the BGP session to ${peerLabel(peer)} is not established from any node: the router does not accept it`,
            fix: `on the router, configure each node's address as a neighbor with remote AS ${String(localASN ?? "?")} (and the TCP MD5 password when cilium.bgp.peerConfigs[].authSecret is set), and let TCP 179 through; ${ask}`,
        };
    const which = down.length > 1 ? `nodes ${down.join(", ")}` : `node ${down[0]}`;
    return {
        cause: `the BGP session to ${peerLabel(peer)} is not established from ${which}, while the other nodes have it`,
        fix: `check that ${which} reach${down.length > 1 ? "" : "es"} ${peer.address} and that the router has ${down.length > 1 ? "their addresses" : "its address"} as neighbors; ${ask}`,
    };
}

interface Expected {
    node: string;
    peer: ConfiguredPeer;
    afi: string;
    addresses: { ip: string; pool: string }[];
    aggregated: boolean;
}

/** Everything wrong with BGP in the live objects, and a summary when nothing is. */
export function bgpReport(live: BgpLive, o: Pick<AnnouncementFields, "bgpClusterConfig" | "bgpPools" | "ciliumNamespace">): StepResult {
    const name = o.bgpClusterConfig!;
    const ccId = `CiliumBGPClusterConfig ${name}`;
    const cc = live.clusterConfig;
    if (!cc) {
        const r = notFound(
            ccId,
            "network",
            "the network phase has not created it, or it was deleted (`pulumi up --refresh` re-creates it)",
            {
                link: `BGP: ${ccId}`,
            },
        );
        return { ...r, diagnosis: { ...r.diagnosis, blocks: ANNOUNCE_BLOCKS } };
    }
    const issues: Issue[] = [];
    const config = live.ciliumConfig;
    if (config && config["enable-bgp-control-plane"] !== "true") {
        issues.push({
            link: "Cilium BGP control plane",
            line: `ConfigMap ${o.ciliumNamespace}/cilium-config: enable-bgp-control-plane: ${config["enable-bgp-control-plane"] ?? "(not set)"}`,
            cause: "the running Cilium configuration has the BGP control plane off, so no agent peers with anything",
            fix: "remove bgpControlPlane.enabled from talos-platform:cilium.values (it follows cilium.bgp) and run pulumi up; the agents roll with the changed config",
        });
    }
    for (const [type, what] of [
        [
            BGP_CONDITIONS.missingPeerConfigs,
            "its peers name CiliumBGPPeerConfigs that do not exist: those sessions come up with Cilium's defaults, which advertise nothing",
        ],
        [BGP_CONDITIONS.noMatchingNode, "its nodeSelector (talos-platform:cilium.bgp.nodeSelector) selects no node, so nothing peers"],
        [
            BGP_CONDITIONS.conflictingClusterConfig,
            "another CiliumBGPClusterConfig selects the same nodes; Cilium skips those nodes for this one",
        ],
    ] as const) {
        const c = trueCondition(cc, type);
        if (c)
            issues.push({ link: `BGP: ${ccId}`, line: `${ccId}: ${type}=True: ${c.message ?? c.reason ?? ""}`, cause: `${ccId}: ${what}` });
    }

    const instances = (cc.spec?.bgpInstances ?? []) as { name?: string; localASN?: number; peers?: Record<string, unknown>[] }[];
    const peers: ConfiguredPeer[] = instances.flatMap((inst) =>
        (inst.peers ?? []).map((p) => ({
            instance: inst.name ?? "?",
            name: String(p.name ?? "?"),
            address: String(p.peerAddress ?? "auto-discovered"),
            asn: typeof p.peerASN === "number" ? p.peerASN : undefined,
            peerConfig: (p.peerConfigRef as { name?: string } | undefined)?.name,
        })),
    );
    const secretsNamespace = config?.["bgp-secrets-namespace"] ?? o.ciliumNamespace;
    for (const pcName of [...new Set(peers.map((p) => p.peerConfig).filter((n): n is string => !!n))]) {
        const pc = live.peerConfigs.find((p) => p.metadata?.name === pcName);
        const users = peers.filter((p) => p.peerConfig === pcName).map((p) => p.name);
        if (!pc) {
            if (!trueCondition(cc, BGP_CONDITIONS.missingPeerConfigs))
                issues.push({
                    link: `BGP: CiliumBGPPeerConfig ${pcName}`,
                    line: `CiliumBGPPeerConfig ${pcName} (used by ${users.join(", ")}): not found`,
                    cause: `peer config ${pcName} does not exist: the sessions of ${users.join(", ")} come up with Cilium's defaults, which advertise nothing`,
                    fix: "run `pulumi up --refresh`: the network phase creates it",
                });
            continue;
        }
        const auth = trueCondition(pc, BGP_CONDITIONS.missingAuthSecret);
        if (auth) {
            const secret = String(pc.spec?.authSecretRef ?? "?");
            issues.push({
                link: `BGP: CiliumBGPPeerConfig ${pcName} → Secret ${secretsNamespace}/${secret}`,
                line: `CiliumBGPPeerConfig ${pcName}: ${BGP_CONDITIONS.missingAuthSecret}=True: ${auth.message ?? ""}`,
                cause: `peer config ${pcName} takes its TCP MD5 password from Secret ${secret}, which is not in ${secretsNamespace} (the namespace cilium-config's bgp-secrets-namespace names): Cilium then peers without a password, and a router that expects one never establishes the session of ${users.join(", ")}`,
                fix: `run \`pulumi up --refresh\`: the network phase creates Secret ${secret} in ${secretsNamespace} from the secret key that talos-platform:cilium.bgp.peerConfigs[].authSecret names; if talos-platform:cilium.values sets bgpControlPlane.secretsNamespace.name, the Secret follows it`,
            });
        }
    }

    // The node configs the operator made for this cluster config.
    const instanceNames = new Set(instances.map((i) => i.name));
    // The operator sets the cluster config as owner; without owners, the instance names tell.
    const selected = live.nodeConfigs.filter((n) => {
        const owners = n.metadata?.ownerReferences ?? [];
        if (owners.length) return owners.some((r) => r.kind === "CiliumBGPClusterConfig" && r.name === name);
        return ((n.spec?.bgpInstances ?? []) as { name?: string }[]).some((i) => instanceNames.has(i.name));
    });
    // A node that is down (a cluster recovering on the nodes it has left) reports nothing; its sessions are not asked for.
    const nodes = selected.filter((n) => !live.notReadyNodes.includes(n.metadata?.name ?? ""));
    const skipped = selected.filter((n) => !nodes.includes(n)).map((n) => n.metadata?.name ?? "?");
    if (selected.length && !nodes.length) {
        issues.push({
            link: `BGP: ${ccId} → nodes`,
            line: `CiliumBGPNodeConfigs for ${name}: ${skipped.join(", ")}, every one on a NotReady node`,
            cause: "no node that BGP runs on is Ready, so nothing peers",
        });
    }
    if (!selected.length && !trueCondition(cc, BGP_CONDITIONS.noMatchingNode)) {
        issues.push({
            link: `BGP: ${ccId} → nodes`,
            line: `CiliumBGPNodeConfigs for ${name}: none`,
            cause: "the Cilium operator has made no per-node BGP config from it: the operator is not running, or no node matches its nodeSelector yet",
            fix: "check the operator (kubectl -n kube-system logs deploy/cilium-operator) and talos-platform:cilium.bgp.nodeSelector",
        });
    }

    const established: { node: string; peer: ConfiguredPeer; status: Record<string, unknown> }[] = [];
    const down = new Map<string, { peer: ConfiguredPeer; nodes: string[]; lines: string[] }>();
    const statusReport = config?.["enable-bgp-control-plane-status-report"];
    for (const node of nodes) {
        const nodeName = node.metadata?.name ?? "?";
        const reconcile = trueCondition(node, BGP_CONDITIONS.reconcileError);
        if (reconcile)
            issues.push({
                link: `BGP on node ${nodeName}`,
                line: `CiliumBGPNodeConfig ${nodeName}: ${BGP_CONDITIONS.reconcileError}=True: ${reconcile.message ?? ""}`,
                cause: `the Cilium agent on node ${nodeName} cannot apply its BGP configuration`,
                fix: `read the agent's log on ${nodeName} (kubectl -n kube-system logs <cilium pod on ${nodeName}> -c cilium-agent | grep -i bgp)`,
            });
        const statuses = (node.status?.bgpInstances ?? []) as { name?: string; peers?: Record<string, unknown>[] }[];
        if (!statuses.length) {
            const off = statusReport === "false";
            issues.push({
                link: `BGP on node ${nodeName}`,
                line: `CiliumBGPNodeConfig ${nodeName}: no status${off ? " (cilium-config: enable-bgp-control-plane-status-report: false)" : ""}`,
                cause: off
                    ? "BGP status reporting is off, so the sessions cannot be checked from the API"
                    : `the Cilium agent on node ${nodeName} has not reported any BGP session yet`,
                fix: off ? "remove bgpControlPlane.statusReport.enabled: false from talos-platform:cilium.values" : undefined,
            });
            continue;
        }
        const own = new Set(((node.spec?.bgpInstances ?? []) as { name?: string }[]).map((i) => i.name));
        for (const peer of peers.filter((p) => own.size === 0 || own.has(p.instance))) {
            const status = statuses.find((i) => i.name === peer.instance)?.peers?.find((p) => p.name === peer.name);
            const state = typeof status?.peeringState === "string" ? status.peeringState : undefined;
            if (status && state === ESTABLISHED) {
                established.push({ node: nodeName, peer, status });
                continue;
            }
            const entry = down.get(peer.name) ?? { peer, nodes: [], lines: [] };
            entry.nodes.push(nodeName);
            entry.lines.push(
                `CiliumBGPNodeConfig ${nodeName}: peer ${peerLabel(peer)}: ${state ?? (status ? "no peeringState yet" : "no status for this peer")}`,
            );
            down.set(peer.name, entry);
        }
    }
    const localASN = instances[0]?.localASN;
    for (const { peer, nodes: on, lines } of down.values()) {
        const why = sessionIssue(peer, on, nodes.length, localASN);
        lines.forEach((line, i) => issues.push({ link: `BGP peer ${peerLabel(peer)} on node ${on[i]}`, line, ...why }));
    }

    // Routes: each address of each announced pool, on every established session that sends its family.
    const expected = expectedPools(o.bgpPools);
    const addresses = poolAddresses(
        live.services.filter((s) => s.loadBalancerClass === undefined || s.loadBalancerClass === BGP_CLASS),
        live.pools,
    ).filter((a) => expected.get(a.pool)?.has(a.family));
    const wanted: Expected[] = [];
    const unselected = new Map<string, Issue>();
    for (const { node, peer } of established) {
        const pc = live.peerConfigs.find((p) => p.metadata?.name === peer.peerConfig);
        for (const family of familiesOf(pc)) {
            const afi = family.afi ?? "?";
            const { names, entries } = serviceEntries(family, live.advertisements);
            const mine: Expected = { node, peer, afi, addresses: [], aggregated: false };
            for (const a of addresses.filter((x) => x.family === (afi as Family))) {
                const entry = entries.find((e) => e.selector !== undefined && selects(e.selector, a.service.labels));
                if (!entry) {
                    const key = `${a.pool}/${peer.peerConfig}/${afi}`;
                    if (!unselected.has(key))
                        unselected.set(key, {
                            link: `BGP pool ${a.pool} (${afi}) → peer config ${peer.peerConfig ?? "(none)"}`,
                            line: `pool ${a.pool}: Service ${id(a.service)} (${a.ip}) is selected by no CiliumBGPAdvertisement that peer config ${peer.peerConfig ?? "(none)"} sends over ${afi} (it selects: ${names.join(", ") || "none"})`,
                            cause: `pool ${a.pool} is not advertised: no live CiliumBGPAdvertisement that the ${afi} family of peer config ${peer.peerConfig ?? "(none)"} selects matches the labels of its Services, so its addresses are announced to no router`,
                            fix: "the network phase builds the advertisements from talos-platform:cilium.bgp.advertisements[].pools and each pool's serviceSelector: run `pulumi up --refresh` if they were edited in the cluster, and give the Service the labels of its pool's serviceSelector",
                        });
                    continue;
                }
                // With Local, only nodes running one of the Service's pods advertise it (Cilium 1.19 BGP configuration guide).
                if (a.service.externalTrafficPolicy === "Local") continue;
                mine.addresses.push({ ip: a.ip, pool: a.pool });
                const length = afi === "ipv6" ? entry.service?.aggregationLengthIPv6 : entry.service?.aggregationLengthIPv4;
                if (length !== undefined) mine.aggregated = true;
            }
            if (mine.addresses.length) wanted.push(mine);
        }
    }
    issues.push(...unselected.values());
    for (const w of wanted) {
        const status = established.find((e) => e.node === w.node && e.peer === w.peer)!.status;
        const counts = (status.routeCount ?? []) as { afi?: string; safi?: string; advertised?: number }[];
        const count = counts.find((c) => c.afi === w.afi && (c.safi ?? "unicast") === "unicast");
        const distinct = [...new Map(w.addresses.map((a) => [a.ip, a])).values()];
        const byPool = new Map<string, string[]>();
        for (const a of distinct) byPool.set(a.pool, [...(byPool.get(a.pool) ?? []), a.ip]);
        const listing = [...byPool].map(([pool, ips]) => `pool ${pool}: ${ips.join(", ")}`).join("; ");
        const pools = [...byPool.keys()].join(", ");
        const where = `peer ${peerLabel(w.peer)} on node ${w.node}`;
        if (!count) {
            issues.push({
                link: `BGP routes to ${where} (${w.afi})`,
                line: `CiliumBGPNodeConfig ${w.node}: peer ${w.peer.name}: no ${w.afi}/unicast route count: the session did not negotiate ${w.afi}`,
                cause: `the session to ${peerLabel(w.peer)} carries no ${w.afi}/unicast, so pool${byPool.size > 1 ? "s" : ""} ${pools} cannot be advertised over it: the router does not enable that family for this neighbor`,
                fix: `enable ${w.afi} unicast for the neighbor on the router, or peer with its ${w.afi} address through a peer config of its own`,
            });
            continue;
        }
        // Each address is one /32 or /128 route unless the advertisement aggregates them.
        if (w.aggregated) continue;
        const advertised = count.advertised ?? 0;
        if (advertised >= distinct.length) continue;
        issues.push({
            link: `BGP routes for pool${byPool.size > 1 ? "s" : ""} ${pools} to ${where}`,
            line: `CiliumBGPNodeConfig ${w.node}: peer ${w.peer.name}: ${advertised} ${w.afi} route${advertised === 1 ? "" : "s"} advertised, for ${distinct.length} LoadBalancer address${distinct.length === 1 ? "" : "es"} the advertisements select (${listing})`,
            cause:
                advertised === 0
                    ? `node ${w.node} advertises none of the addresses of pool${byPool.size > 1 ? "s" : ""} ${pools} to ${peerLabel(w.peer)}, though its advertisements select them`
                    : `node ${w.node} advertises ${advertised} ${w.afi} route${advertised === 1 ? "" : "s"} to ${peerLabel(w.peer)} for ${distinct.length} selected addresses: some of ${listing} are missing`,
            fix: `see which: kubectl -n ${o.ciliumNamespace} exec <cilium pod on ${w.node}> -c cilium-agent -- cilium-dbg bgp routes advertised ${w.afi} unicast; then the agent's log on ${w.node}`,
        });
    }

    if (issues.length) return failure(issues);
    const sessions = [...new Set(established.map((e) => peerLabel(e.peer)))];
    const announced = [...expected.keys()].map((pool) => {
        const n = new Set(addresses.filter((a) => a.pool === pool).map((a) => a.ip)).size;
        return `${pool}: ${n ? `${n} address${n === 1 ? "" : "es"}` : "no Service address yet"}`;
    });
    return {
        ok: true,
        detail: `${established.length} session${established.length === 1 ? "" : "s"} established on ${nodes.length} node${nodes.length === 1 ? "" : "s"} (${sessions.join(", ")})${announced.length ? `; advertised: ${announced.join("; ")}` : ""}${skipped.length ? `; not asked: NotReady node${skipped.length === 1 ? "" : "s"} ${skipped.join(", ")}` : ""}`,
    };
}

export async function bgpLive(kube: Kube, o: AnnouncementFields): Promise<BgpLive> {
    const [shared, nodeList, clusterConfig, peerConfigs, advertisements, nodeConfigs] = await Promise.all([
        sharedLive(kube, o.ciliumNamespace),
        kube.core.listNode(),
        readOptional(
            kube.custom.getClusterCustomObject({
                group: "cilium.io",
                version: "v2",
                plural: "ciliumbgpclusterconfigs",
                name: o.bgpClusterConfig!,
            }),
        ),
        listCilium(kube, "ciliumbgppeerconfigs"),
        listCilium(kube, "ciliumbgpadvertisements"),
        listCilium(kube, "ciliumbgpnodeconfigs"),
    ]);
    // Only a Ready condition that is not True says a node is down; a node that reports none is asked.
    const notReadyNodes = nodeList.items
        .filter((n) => {
            const ready = n.status?.conditions?.find((c) => c.type === "Ready");
            return ready !== undefined && ready.status !== "True";
        })
        .map((n) => n.metadata?.name ?? "?");
    return {
        ...shared,
        notReadyNodes,
        clusterConfig: clusterConfig as CiliumResource | undefined,
        peerConfigs,
        advertisements,
        nodeConfigs,
    };
}

/** The BGP step: sessions established on every node, and each announced pool's addresses advertised over them. */
export function bgpStep(o: AnnouncementFields): Step {
    return {
        name: `BGP sessions established and LoadBalancer addresses advertised (CiliumBGPClusterConfig ${o.bgpClusterConfig})`,
        async check({ kube }): Promise<StepResult> {
            return bgpReport(await bgpLive(kube, o), o);
        },
    };
}
