import type { PlatformConfig } from "../config";
import { LabelSelector, selects } from "../config/selectors";
import { addressFamily, addressValue, contains, Family, parseCidr } from "../net";
import { configPath, error, Problem, warning } from "../problems";
import {
    BgpAdvertisementSpec,
    BgpClusterConfigSpec,
    BgpPeerConfigSpec,
    blockText,
    ciliumObjects,
    CiliumObject,
    L2PolicySpec,
    peerName,
    PoolSpec,
    sessionFamilies,
} from "../values/cilium-objects";
import { clusterFamilies } from "../config/cluster";
import { clusterCidrs } from "./cluster";
import { inContext, platformPools, platformUsers } from "./severity";
import type { Check } from "./types";

// Checks over the BGP and L2 objects. The predicates read the objects
// themselves, so the config checks (which build the objects from the stack
// config) and the policy pack (which reads what is about to be deployed)
// share one rule and one message.

/** A family's selector that is absent selects no advertisement: Cilium then sends nothing. */
function matches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
    return selector !== undefined && selects(selector, labels);
}

/** The fewest labels a Service needs to be selected by `selector`. */
export function exampleLabels(selector: LabelSelector | undefined): Record<string, string> {
    const labels: Record<string, string> = { ...(selector?.matchLabels ?? {}) };
    for (const e of selector?.matchExpressions ?? []) {
        if (e.operator === "In" && e.values?.length) labels[e.key] = e.values[0];
        if (e.operator === "Exists") labels[e.key] = "";
    }
    return labels;
}

export type BgpReferenceIssue =
    | { kind: "missing-peer-config"; clusterConfig: number; instance: number; peer: number; peerName: string; ref?: string }
    | { kind: "family-selects-nothing"; peerConfig: number; family: number; peerConfigName: string; afi: string; selector?: LabelSelector };

/**
 * Every peer names a deployed CiliumBGPPeerConfig, and every family of a
 * peer config selects a deployed CiliumBGPAdvertisement. Either mistake
 * brings the session up and sends no routes (the report's cluster once did).
 */
export function bgpReferenceIssues(
    clusterConfigs: BgpClusterConfigSpec[],
    peerConfigs: CiliumObject<BgpPeerConfigSpec>[],
    advertisements: CiliumObject<BgpAdvertisementSpec>[],
): BgpReferenceIssue[] {
    const issues: BgpReferenceIssue[] = [];
    const names = new Set(peerConfigs.map((p) => p.metadata.name));
    clusterConfigs.forEach((cc, c) =>
        (cc.bgpInstances ?? []).forEach((inst, i) =>
            (inst.peers ?? []).forEach((peer, p) => {
                const ref = peer.peerConfigRef?.name;
                if (ref === undefined || !names.has(ref)) {
                    issues.push({
                        kind: "missing-peer-config",
                        clusterConfig: c,
                        instance: i,
                        peer: p,
                        peerName: peer.name ?? `#${p}`,
                        ref,
                    });
                }
            }),
        ),
    );
    peerConfigs.forEach((pc, k) =>
        (pc.spec.families ?? []).forEach((f, j) => {
            if (!advertisements.some((a) => matches(f.advertisements, a.metadata.labels ?? {}))) {
                issues.push({
                    kind: "family-selects-nothing",
                    peerConfig: k,
                    family: j,
                    peerConfigName: pc.metadata.name,
                    afi: f.afi ?? "?",
                    selector: f.advertisements,
                });
            }
        }),
    );
    return issues;
}

export function bgpReferenceMessage(issue: BgpReferenceIssue): string {
    if (issue.kind === "missing-peer-config") {
        return issue.ref === undefined
            ? `BGP peer '${issue.peerName}' has no peerConfigRef, so it gets Cilium's defaults, which advertise nothing`
            : `BGP peer '${issue.peerName}' references CiliumBGPPeerConfig '${issue.ref}', which is not deployed: the session would come up without the configured families and send no routes`;
    }
    const selector = issue.selector ? JSON.stringify(issue.selector) : "none";
    return `CiliumBGPPeerConfig '${issue.peerConfigName}' family ${issue.afi}/unicast selects no deployed CiliumBGPAdvertisement (selector ${selector}): the session would come up and send no routes`;
}

function blockFamily(b: { cidr?: string; start?: string }): Family | undefined {
    return b.cidr !== undefined ? parseCidr(b.cidr)?.family : b.start !== undefined ? addressFamily(b.start) : undefined;
}

export function poolFamilies(pool: PoolSpec): Family[] {
    return [...new Set((pool.blocks ?? []).map(blockFamily).filter((f): f is Family => f !== undefined))];
}

export interface AnnouncementInput {
    pools: CiliumObject<PoolSpec>[];
    clusterConfigs: BgpClusterConfigSpec[];
    peerConfigs: CiliumObject<BgpPeerConfigSpec>[];
    advertisements: CiliumObject<BgpAdvertisementSpec>[];
    l2Policies: L2PolicySpec[];
}

/** Does any L2 policy answer ARP for the Services of `pool`? */
export function l2Announces(pool: PoolSpec, l2Policies: L2PolicySpec[]): boolean {
    const labels = exampleLabels(pool.serviceSelector);
    return l2Policies.some((l) => l.loadBalancerIPs === true && selects(l.serviceSelector, labels));
}

/** Does a BGP session send `family` routes for the Services of `pool`, through a peer config some peer uses? */
export function bgpAnnounces(pool: PoolSpec, family: Family, input: AnnouncementInput): boolean {
    const labels = exampleLabels(pool.serviceSelector);
    const used = new Set(
        input.clusterConfigs.flatMap((cc) => (cc.bgpInstances ?? []).flatMap((i) => (i.peers ?? []).map((p) => p.peerConfigRef?.name))),
    );
    const families = input.peerConfigs.filter((pc) => used.has(pc.metadata.name)).flatMap((pc) => pc.spec.families ?? []);
    return families
        .filter((f) => f.afi === family)
        .some((f) =>
            input.advertisements
                .filter((a) => matches(f.advertisements, a.metadata.labels ?? {}))
                .some((a) =>
                    (a.spec.advertisements ?? []).some(
                        (e) =>
                            e.advertisementType === "Service" &&
                            (e.service?.addresses ?? []).includes("LoadBalancerIP") &&
                            matches(e.selector, labels),
                    ),
                ),
        );
}

/** For each pool, the families whose addresses nothing announces. */
export function unannouncedPools(input: AnnouncementInput): Array<{ pool: number; name: string; families: Family[] }> {
    return input.pools.flatMap((p, i) => {
        if (l2Announces(p.spec, input.l2Policies)) return [];
        const families = poolFamilies(p.spec).filter((f) => !bgpAnnounces(p.spec, f, input));
        return families.length ? [{ pool: i, name: p.metadata.name, families }] : [];
    });
}

export function unannouncedPoolMessage(name: string, families: Family[]): string {
    return `LoadBalancer pool '${name}' (${families.join(", ")}) is announced by no BGP session and no L2 policy: Services would get its addresses, and nothing outside the cluster could reach them`;
}

// --- Config checks

function duplicates<T>(items: T[], key: (t: T) => string | undefined): Array<[number, number]> {
    const first = new Map<string, number>();
    const out: Array<[number, number]> = [];
    items.forEach((item, i) => {
        const k = key(item);
        if (k === undefined) return;
        if (first.has(k)) out.push([first.get(k)!, i]);
        else first.set(k, i);
    });
    return out;
}

function uniqueNames(config: PlatformConfig): Problem[] {
    const c = config.cilium;
    const lists: Array<[string[], Array<string | undefined>]> = [
        [["cilium", "loadBalancerPools"], c.loadBalancerPools.map((p) => p.name)],
        [["cilium", "l2Announcements"], c.l2Announcements.map((p) => p.name)],
        [["cilium", "bgp", "peerConfigs"], (c.bgp?.peerConfigs ?? []).map((p) => p.name)],
        [["cilium", "bgp", "advertisements"], (c.bgp?.advertisements ?? []).map((p) => p.name)],
    ];
    const problems = lists.flatMap(([path, names]) =>
        duplicates(names, (n) => n).map(([a, b]) =>
            error(
                configPath([...path, b, "name"]),
                `repeats the name of ${configPath([...path, a])}; both would be the same object`,
                `give ${configPath([...path, b])} a name of its own`,
                names[b],
            ),
        ),
    );
    // Peers are unique by the name Cilium sees, peer-<address> when none is
    // given; two unnamed peers share one only when they share an address,
    // which peerAddresses reports.
    const peers = c.bgp?.peers ?? [];
    for (const [a, b] of duplicates(peers, peerName)) {
        if (peers[a].name === undefined && peers[b].name === undefined) continue;
        const derived = (i: number) => (peers[i].name === undefined ? `, derived from its address ${peers[i].address}` : "");
        const path = (i: number) => configPath(["cilium", "bgp", "peers", i]);
        problems.push(
            error(
                `${path(b)}.name`,
                `repeats the name of ${path(a)} (${peerName(peers[a])}${derived(a)}); Cilium would see one peer where two are configured`,
                `give ${path(b)} a name of its own`,
                peerName(peers[b]),
            ),
        );
    }
    return problems;
}

function peerAddresses(config: PlatformConfig): Problem[] {
    const bgp = config.cilium.bgp;
    if (!bgp) return [];
    const problems: Problem[] = [];
    const path = (i: number) => configPath(["cilium", "bgp", "peers", i, "address"]);
    for (const [a, b] of duplicates(bgp.peers, (p) => {
        const v = addressValue(p.address);
        return v && `${v.family}:${v.value}`;
    })) {
        problems.push(
            error(
                path(b),
                `is the same router as ${path(a)}; Cilium would open two sessions to one address`,
                `remove one of ${configPath(["cilium", "bgp", "peers", a])} and ${configPath(["cilium", "bgp", "peers", b])}`,
                bgp.peers[b].address,
            ),
        );
    }
    const nodes = clusterCidrs(config.cluster, ["nodeSubnets"]);
    // A router reached through another router is fine once eBGP multihop
    // allows it; iBGP sessions are not limited to one hop.
    const unreachable = bgp.peers.filter((p) => {
        const multihop = (bgp.peerConfigs.find((pc) => pc.name === p.peerConfig)?.ebgpMultihop ?? 1) > 1;
        return !(multihop || p.asn === bgp.localASN || nodes.some((n) => contains(n.cidr, p.address)));
    });
    const reliedOn = bgpOnlyPlatformPools(config, unreachable.length);
    bgp.peers.forEach((p, i) => {
        if (!unreachable.includes(p)) return;
        problems.push(
            inContext(
                warning(
                    "bgp-peer-outside-node-subnets",
                    path(i),
                    `is in none of talos-platform:cluster.nodeSubnets (${config.cluster.nodeSubnets.join(", ")}); with Cilium's default eBGP TTL of 1 the session cannot reach it`,
                    `peer with a router on the nodes' network, add its network to cluster.nodeSubnets, or set ebgpMultihop on ${configPath(["cilium", "bgp", "peerConfigs"])} entry '${p.peerConfig}'`,
                    p.address,
                ),
                reliedOn,
            ),
        );
    });
    return problems;
}

function poolReferences(config: PlatformConfig): Problem[] {
    const c = config.cilium;
    const known = c.loadBalancerPools.map((p) => p.name);
    const lists: Array<[Array<string | number>, Array<{ pools?: string[] }>]> = [
        [["cilium", "bgp", "advertisements"], c.bgp?.advertisements ?? []],
        [["cilium", "l2Announcements"], c.l2Announcements],
    ];
    return lists.flatMap(([path, items]) =>
        items.flatMap((item, i) =>
            (item.pools ?? []).flatMap((name, j) =>
                known.includes(name)
                    ? []
                    : [
                          error(
                              configPath([...path, i, "pools", j]),
                              "names no entry of talos-platform:cilium.loadBalancerPools",
                              known.length ? `use one of ${known.join(", ")}` : "add the pool under cilium.loadBalancerPools first",
                              name,
                          ),
                      ],
            ),
        ),
    );
}

function references(config: PlatformConfig): Problem[] {
    const bgp = config.cilium.bgp;
    const objects = ciliumObjects(config.cluster, config.cilium).bgp;
    if (!bgp || !objects) return [];
    const problems: Problem[] = [];
    const pcPath = configPath(["cilium", "bgp", "peerConfigs"]);
    const advPath = configPath(["cilium", "bgp", "advertisements"]);
    for (const issue of bgpReferenceIssues([objects.clusterConfig.spec], objects.peerConfigs, objects.advertisements)) {
        if (issue.kind === "missing-peer-config") {
            problems.push(
                error(
                    configPath(["cilium", "bgp", "peers", issue.peer, "peerConfig"]),
                    bgpReferenceMessage(issue),
                    `add an entry named '${issue.ref}' under ${pcPath}, or use one of ${bgp.peerConfigs.map((p) => p.name).join(", ")}`,
                    issue.ref,
                ),
            );
        } else {
            const explicit = bgp.peerConfigs[issue.peerConfig].families !== undefined;
            const at = explicit ? ["families", issue.family, "advertisements"] : ["families"];
            problems.push(
                error(
                    configPath(["cilium", "bgp", "peerConfigs", issue.peerConfig, ...at]),
                    bgpReferenceMessage(issue),
                    `make the selector match the labels of an entry of ${advPath} (${advPath}[].labels), or change those labels`,
                    issue.selector,
                ),
            );
        }
    }
    bgp.advertisements.forEach((a, i) => {
        if (objects.advertisements[i].spec.advertisements?.length) return;
        problems.push(
            warning(
                "bgp-advertisement-empty",
                configPath(["cilium", "bgp", "advertisements", i]),
                "advertises nothing: it names no pool and podCIDR is off",
                `list pools under ${configPath(["cilium", "bgp", "advertisements", i, "pools"])}, set podCIDR, or remove it`,
                a.name,
            ),
        );
    });
    return problems;
}

const FAMILY_NAME: Record<string, string> = { ipv4: "IPv4", ipv6: "IPv6" };
const familyNames = (families: string[]) => families.map((f) => FAMILY_NAME[f] ?? f).join(" and ");

/**
 * A family differing from every session's address family sends its routes
 * with a next hop of the other family: an IPv4-mapped IPv6 address over an
 * IPv4 session (cilium/cilium#37831), an IPv6 one for IPv4 routes over an
 * IPv6 session. Many routers reject both; a session per family works
 * (cilium/cilium#31911).
 */
function familySessions(config: PlatformConfig): Problem[] {
    const bgp = config.cilium.bgp;
    if (!bgp) return [];
    return bgp.peerConfigs.flatMap((pc, i) => {
        const sessions = sessionFamilies(bgp, pc.name);
        if (!sessions.length || !pc.families) return [];
        const users = bgp.peers.filter((p) => p.peerConfig === pc.name).map((p) => `${peerName(p)} ${p.address}`);
        return pc.families.flatMap((f, j) =>
            sessions.includes(f.afi)
                ? []
                : [
                      warning(
                          "bgp-family-without-session",
                          configPath(["cilium", "bgp", "peerConfigs", i, "families", j, "afi"]),
                          `sends ${familyNames([f.afi])} routes, but every peer using '${pc.name}' (${users.join(", ")}) is reached over ${familyNames(sessions)}: the routes would carry a next hop of the session's family (an IPv4-mapped IPv6 address over IPv4), which many routers reject`,
                          `peer with the router's ${familyNames([f.afi])} address through a peer config of its own that sends ${f.afi}, and drop ${f.afi} here`,
                          f.afi,
                      ),
                  ],
        );
    });
}

function announcementFix(config: PlatformConfig, families: Family[]): string {
    const peers = config.cilium.bgp?.peers ?? [];
    const sessionless = families.filter((f) => !peers.some((p) => addressFamily(p.address) === f));
    if (peers.length && sessionless.length) {
        return `add a BGP peer with the router's ${familyNames(sessionless)} address: each session here carries its own address family only (see bgp-family-without-session)`;
    }
    return `name the pool in cilium.bgp.advertisements[].pools (with the ${familyNames(families)} family in the peer config) or in cilium.l2Announcements[].pools`;
}

function announcements(config: PlatformConfig): Problem[] {
    const objects = ciliumObjects(config.cluster, config.cilium);
    const gaps = unannouncedPools({
        pools: objects.pools,
        clusterConfigs: objects.bgp ? [objects.bgp.clusterConfig.spec] : [],
        peerConfigs: objects.bgp?.peerConfigs ?? [],
        advertisements: objects.bgp?.advertisements ?? [],
        l2Policies: objects.l2Policies.map((o) => o.spec),
    });
    // A pool of a family the cluster does not run is already an error (lb-pool-families).
    const run = clusterFamilies(config.cluster);
    const platform = platformPools(config);
    return gaps
        .flatMap((g) => {
            const families = g.families.filter((f) => run.has(f));
            return families.length ? [{ ...g, families }] : [];
        })
        .map((g) =>
            inContext(
                warning(
                    "lb-pool-not-announced",
                    configPath(["cilium", "loadBalancerPools", g.pool]),
                    unannouncedPoolMessage(g.name, g.families),
                    announcementFix(config, g.families),
                    objects.pools[g.pool].spec.blocks?.map(blockText),
                ),
                platformUsers(platform, g.name),
            ),
        );
}

/** Why unreachable BGP peers break the platform: a platform pool that only BGP could announce, when no peer can be reached. */
function bgpOnlyPlatformPools(config: PlatformConfig, unreachable: number): string | undefined {
    const peers = config.cilium.bgp?.peers ?? [];
    if (!peers.length || unreachable < peers.length) return undefined;
    const objects = ciliumObjects(config.cluster, config.cilium);
    const l2 = objects.l2Policies.map((o) => o.spec);
    const platform = platformPools(config);
    const bgpOnly = objects.pools.filter((p) => platform.has(p.metadata.name) && !l2Announces(p.spec, l2)).map((p) => p.metadata.name);
    return bgpOnly.length ? `${platformUsers(platform, bgpOnly[0])}, which only BGP announces, and no peer can be reached` : undefined;
}

export const bgpChecks: Check[] = [
    { name: "cilium-unique-names", run: uniqueNames },
    { name: "bgp-peer-addresses", run: peerAddresses },
    { name: "cilium-pool-references", run: poolReferences },
    { name: "bgp-references", run: references },
    { name: "lb-pool-announced", run: announcements },
    { name: "bgp-family-sessions", run: familySessions },
];
