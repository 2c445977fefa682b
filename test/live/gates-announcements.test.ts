import { expect } from "chai";
import { main as doctorMain } from "../../cli/doctor";
import { validateConfig } from "../../lib/config";
import { checkGate, CheckerIo } from "../../lib/gates/checker";
import type { GateName, GateOptions } from "../../lib/gates/options";
import { gateOptions } from "../../lib/gates/targets";
import type { LiveService } from "../../lib/gates/announcements";
import { BGP_CONDITIONS, BgpLive, bgpReport } from "../../lib/gates/bgp";
import { L2Live, l2LeaseName, l2Report, LiveLease } from "../../lib/gates/l2";
import { parseCidr } from "../../lib/net";
import {
    authSecretMissing,
    bgpSessionDown,
    devOptions,
    GATEWAY_IP,
    healthy,
    l2LeaseMissing,
    LB_IP,
    NODES,
    poolNotAdvertised,
    routesNotAdvertised,
    setNodeReady,
} from "../cluster-scenarios";
import { FakeKube } from "../fake-kube";
import { devSections, Json, raw, ROOT } from "../helpers";

// BGP sessions and routes, L2 leases: what the ingress gate checks beyond its
// in-cluster probe, and what the doctor shows as a side link. The real client
// against the fake API server, on states built from the dev stack's objects.

function io(): CheckerIo & { text: () => string } {
    let text = "";
    return { out: (t) => (text += t), err: (t) => (text += t), cwd: ROOT, signal: new AbortController().signal, text: () => text };
}

/** Long enough for the probe pod under a loaded machine; a gate that passes returns as soon as it does. */
async function run<G extends GateName>(fake: FakeKube, gate: G, options: GateOptions[G], timeoutMs = 3000) {
    const sink = io();
    const result = await checkGate(gate, { ...options, timeoutMs, pollMs: 20, kubeconfig: fake.kubeconfig() }, sink);
    return { result, out: sink.text() };
}

function configWith(edit: (s: Record<string, Json>) => void, otherKeys = {}) {
    const s = devSections();
    edit(s);
    const { config, problems } = validateConfig(raw(s, otherKeys));
    if (!config) throw new Error(problems.map((p) => `${p.path} ${p.message}`).join("; "));
    return config;
}

const BGP_STEP = "BGP sessions established and LoadBalancer addresses advertised (CiliumBGPClusterConfig cilium-bgp)";
const GATEWAY = "gateway (172.29.51.1, AS 64513)";
const INGRESS_SVC = "ingress-nginx/ingress-nginx-controller";
const IN_CLUSTER = "the controller answers on its LoadBalancer address from inside the cluster";
/** The dev stack's Gateway, next to ingress-nginx in pool bgp-ingress: its probe comes last before the announcements. */
const GATEWAY_PROBE = "Gateway gateway/platform answers HTTP on its address from inside the cluster";
const GATEWAY_SVC = "gateway/cilium-gateway-platform";
/** The dev stack's default certificate (ingressNginx.defaultCertificate), which the ingress gate waits for last. */
const CERTIFICATE_STEP = "default TLS certificate issued (Certificate ingress-nginx/default-tls Ready)";
/** The ingress gate's last announcement step: the one before the default certificate's. */
const lastAnnouncement = (passed: { name: string; detail: string }[]) => passed.filter((p) => p.name !== CERTIFICATE_STEP).at(-1)!;

describe("announcements: BGP and L2 against a fake API server", function () {
    this.timeout(20_000);
    let fake: FakeKube;
    beforeEach(async () => {
        fake = await new FakeKube().start();
    });
    afterEach(async () => {
        expect(fake.livePods(), "probe pods left behind").to.deep.equal([]);
        await fake.stop();
    });

    describe("BGP (the dev stack: one peer, pools announced over IPv4)", () => {
        beforeEach(() => healthy(fake));

        it("the ingress gate checks every node's session and each announced pool's routes after its probe", async () => {
            const { result, out } = await run(fake, "ingress", devOptions().ingress);
            expect(result.ok, out).to.equal(true);
            // The Gateway's steps follow ingress-nginx's; BGP follows the Gateway's probe; the default certificate comes last.
            expect(result.passed.map((p) => p.name).slice(-3)).to.deep.equal([GATEWAY_PROBE, BGP_STEP, CERTIFICATE_STEP]);
            expect(result.passed.map((p) => p.name)).to.include(IN_CLUSTER);
            const bgp = result.passed.find((p) => p.name === BGP_STEP)!.detail;
            // ingress-nginx's address and the Gateway's, both from bgp-ingress.
            expect(bgp).to.contain(`3 sessions established on 3 nodes (${GATEWAY})`).and.contain("bgp-ingress: 2 addresses");
            // The IPv6 pool has no IPv6 session to go over (the plan warns): nothing is expected of it.
            expect(bgp).to.not.contain("bgp-default-ipv6");
            expect(result.passed.find((p) => p.name === IN_CLUSTER)!.detail).to.contain("says nothing about BGP or L2");
        });

        it("a session down on one node: names the peer and that node, and why the probe passed anyway", async () => {
            bgpSessionDown(fake, NODES[1], "active");
            const { result, out } = await run(fake, "ingress", devOptions().ingress);
            expect(result.ok).to.equal(false);
            expect(result.timedOut, "a session may still come up").to.equal(true);
            expect(result.failedStep).to.equal(BGP_STEP);
            // The in-cluster probe passed: Cilium's socket LB answered the address on the node itself.
            expect(result.passed.map((p) => p.name)).to.include(IN_CLUSTER);
            const d = result.diagnosis!;
            expect(d.link).to.equal(`BGP peer ${GATEWAY} on node mini02`);
            expect(d.evidence[0]).to.equal(`CiliumBGPNodeConfig mini02: peer ${GATEWAY}: active`);
            expect(d.cause).to.contain("from node mini02, while the other nodes have it").and.contain("socket load balancer");
            expect(d.fix).to.contain("node mini02 reaches 172.29.51.1");
            expect(d.blocks.join(" ")).to.contain("outside the cluster");
            expect(out).to.contain("waiting for BGP sessions");
        });

        it("a session down on every node: blames the router's neighbor configuration", async () => {
            for (const node of NODES) bgpSessionDown(fake, node, "idle");
            const { result } = await run(fake, "ingress", devOptions().ingress);
            expect(result.diagnosis!.evidence.filter((e) => e.endsWith(": idle"))).to.have.length(3);
            expect(result.diagnosis!.cause).to.contain("from any node: the router does not accept it");
            expect(result.diagnosis!.fix).to.contain("remote AS 64512");
        });

        it("a pool no live advertisement selects: names the pool, the Service and its address", async () => {
            poolNotAdvertised(fake, healthyConfig(), "bgp-ingress");
            const { result } = await run(fake, "ingress", devOptions().ingress);
            const d = result.diagnosis!;
            expect(d.link).to.equal("BGP pool bgp-ingress (ipv4) → peer config default");
            expect(d.evidence[0]).to.contain(`Service ${INGRESS_SVC} (${LB_IP})`).and.contain("selects: loadbalancer-ips");
            expect(d.cause).to.match(/^pool bgp-ingress is not advertised/);
        });

        it("a node whose session is up but sends none of the selected routes: names the node, the pool and its addresses", async () => {
            routesNotAdvertised(fake, NODES[2]);
            const { result } = await run(fake, "ingress", devOptions().ingress);
            const d = result.diagnosis!;
            expect(d.link).to.equal(`BGP routes for pool bgp-ingress to peer ${GATEWAY} on node mini03`);
            expect(d.evidence[0]).to.equal(
                `CiliumBGPNodeConfig mini03: peer gateway: 0 ipv4 routes advertised, for 2 LoadBalancer addresses the advertisements select (pool bgp-ingress: ${LB_IP}, ${GATEWAY_IP})`,
            );
            expect(d.fix).to.contain("cilium-dbg bgp routes advertised ipv4 unicast");
        });

        it("a node that is down (a cluster recovering on the nodes it has left) is not asked for its sessions", async () => {
            setNodeReady(fake, NODES[1], false);
            const config = fake.objects.get(`/apis/cilium.io/v2/ciliumbgpnodeconfigs/${NODES[1]}`);
            delete config.status;
            const { result, out } = await run(fake, "ingress", devOptions().ingress);
            expect(result.ok, out).to.equal(true);
            expect(lastAnnouncement(result.passed).detail)
                .to.contain("2 sessions established on 2 nodes")
                .and.contain("not asked: NotReady node mini02");
            for (const node of NODES) setNodeReady(fake, node, false);
            const none = await run(fake, "ingress", devOptions().ingress);
            expect(none.result.diagnosis!.cause).to.contain("no node that BGP runs on is Ready");
        });

        it("the doctor shows BGP as a side link after ingress, checks GitOps past it, and exits 1", async () => {
            bgpSessionDown(fake, NODES[0]);
            const sink = io();
            const code = await doctorMain(["--kubeconfig", fake.kubeconfig(), "--timeout", "1s", "--poll", "20ms"], sink);
            const text = sink.text();
            expect(code, text).to.equal(1);
            expect(text).to.match(/✓ ingress +4 checks passed/);
            expect(text).to.match(
                /✗ announcements +BGP peer gateway \(172\.29\.51\.1, AS 64513\) on node mini01 \(timed out after .*; nothing later depends on it\)/,
            );
            expect(text).to.match(/✓ gitops +\d+ checks passed/);
            expect(text).to.contain("announcements is broken (a side link");
            expect(text).to.not.contain("every link works");
        });

        it("the doctor's chain lists announcements between ingress and gitops when all is well", async () => {
            const sink = io();
            const code = await doctorMain(["--kubeconfig", fake.kubeconfig(), "--timeout", "2s", "--poll", "20ms"], sink);
            expect(code, sink.text()).to.equal(0);
            const chain = sink.text().slice(sink.text().indexOf("recovery chain:"));
            expect(chain).to.match(
                /✓ ingress +4 checks passed[^\n]*\n +✓ gateway +5 checks passed[^\n]*\n +✓ announcements +1 checks passed[^\n]*\n +✓ gitops/,
            );
        });
    });

    describe("BGP with a password", () => {
        const config = () => configWith((s) => (s.cilium.bgp.peerConfigs[0].authSecret = "bgpPassword"), { bgpPassword: { secret: true } });

        it("a missing auth Secret: names the peer config, the Secret and its namespace, and what the router then does", async () => {
            healthy(fake, config());
            authSecretMissing(fake, "default");
            const { result } = await run(fake, "announcements", gateOptions(config()).announcements);
            const d = result.diagnosis!;
            expect(d.link).to.equal("BGP: CiliumBGPPeerConfig default → Secret kube-system/bgp-auth-default");
            expect(d.evidence[0]).to.equal(
                'CiliumBGPPeerConfig default: cilium.io/MissingAuthSecret=True: Referenced Auth Secret "bgp-auth-default" is missing',
            );
            expect(d.cause).to.contain("peers without a password");
            expect(d.fix).to.contain("pulumi up --refresh");
        });

        it("passes with the Secret in place", async () => {
            healthy(fake, config());
            const { result, out } = await run(fake, "announcements", gateOptions(config()).announcements);
            expect(result.ok, out).to.equal(true);
        });
    });

    describe("L2 announcements", () => {
        // The ingress pool announced by ARP instead of BGP.
        const config = () =>
            configWith((s) => {
                delete s.cilium.bgp;
                s.cilium.l2Announcements = [{ name: "lan", pools: ["bgp-ingress"] }];
                // ARP reaches only the nodes' network: the ingress pool on it, and the pools nothing would announce gone.
                s.cilium.loadBalancerPools = s.cilium.loadBalancerPools.filter((p: { name: string }) => p.name === "bgp-ingress");
                s.cluster.nodeSubnets.push("172.29.52.0/24");
            });

        it("passes when the controller Service's lease has a holder, and says which node", async () => {
            healthy(fake, config());
            const o = gateOptions(config()).ingress;
            expect(o.l2Pools).to.deep.equal(["bgp-ingress"]);
            const { result, out } = await run(fake, "ingress", o);
            expect(result.ok, out).to.equal(true);
            expect(lastAnnouncement(result.passed).detail).to.equal(
                `announced: ${INGRESS_SVC} ${LB_IP} by mini01; ${GATEWAY_SVC} ${GATEWAY_IP} by mini01`,
            );
        });

        it("a missing lease: names the Service, the lease Cilium would hold, and the policy that selects it", async () => {
            healthy(fake, config());
            l2LeaseMissing(fake, config());
            const { result } = await run(fake, "ingress", gateOptions(config()).ingress);
            const d = result.diagnosis!;
            expect(d.link).to.equal(
                `L2 announcement of ${INGRESS_SVC} (Lease kube-system/cilium-l2announce-ingress-nginx-ingress-nginx-controller)`,
            );
            expect(d.evidence[0]).to.contain("not found (selected by lan-bgp-ingress)");
            expect(d.cause).to.contain(`nothing answers ARP for ${LB_IP}`).and.contain("socket load balancer");
        });

        it("a lease whose holder stopped renewing: names the node", async () => {
            healthy(fake, config());
            const lease = [...fake.objects.values()].find((o) => o.kind === "Lease");
            lease.spec.renewTime = new Date(Date.now() - 60_000).toISOString();
            const { result } = await run(fake, "ingress", gateOptions(config()).ingress);
            const m = /held by mini01, last renewed (\d+)s ago \(lease duration 15s\)/.exec(result.diagnosis!.evidence[0]);
            expect(Number(m?.[1])).to.be.within(59, 75);
        });
    });
});

function healthyConfig() {
    return configWith(() => undefined);
}

// The same rules on hand-made objects, at their boundaries.
describe("announcements: the rules at their boundaries", () => {
    const pool = { name: "lan", ranges: [parseCidr("172.29.52.0/24")!], disabled: false };
    const service = (over: Partial<LiveService> = {}): LiveService => ({
        namespace: "apps",
        name: "web",
        labels: { pool: "lan", "io.kubernetes.service.namespace": "apps", "io.kubernetes.service.name": "web" },
        externalTrafficPolicy: "Cluster",
        ips: ["172.29.52.10"],
        ...over,
    });
    const entry = (service: Json = { addresses: ["LoadBalancerIP"] }) => ({
        advertisementType: "Service",
        service,
        selector: { matchLabels: { pool: "lan" } },
    });

    describe("BGP routes", () => {
        const live = (advertised: number | undefined, services: LiveService[], entries: Json[] = [entry()]): BgpLive => ({
            services,
            pools: [pool],
            notReadyNodes: [],
            ciliumConfig: { "enable-bgp-control-plane": "true" },
            clusterConfig: {
                metadata: { name: "bgp" },
                spec: {
                    bgpInstances: [
                        {
                            name: "i",
                            localASN: 64512,
                            peers: [{ name: "gw", peerAddress: "172.29.51.1", peerASN: 64513, peerConfigRef: { name: "pc" } }],
                        },
                    ],
                },
            },
            peerConfigs: [
                {
                    metadata: { name: "pc" },
                    spec: { families: [{ afi: "ipv4", safi: "unicast", advertisements: { matchLabels: { a: "b" } } }] },
                },
            ],
            advertisements: [{ metadata: { name: "adv", labels: { a: "b" } }, spec: { advertisements: entries } }],
            nodeConfigs: [
                {
                    metadata: { name: "n1", ownerReferences: [{ kind: "CiliumBGPClusterConfig", name: "bgp" }] },
                    spec: { bgpInstances: [{ name: "i" }] },
                    status: {
                        bgpInstances: [
                            {
                                name: "i",
                                peers: [
                                    {
                                        name: "gw",
                                        peerAddress: "172.29.51.1",
                                        peeringState: "established",
                                        routeCount: advertised === undefined ? [] : [{ afi: "ipv4", safi: "unicast", advertised }],
                                    },
                                ],
                            },
                        ],
                    },
                },
            ],
        });
        const o = { bgpClusterConfig: "bgp", bgpPools: ["lan/ipv4"], ciliumNamespace: "kube-system" };
        const two = [service(), service({ name: "api", ips: ["172.29.52.11"] })];

        it("passes at as many routes as selected addresses, and fails one short", () => {
            expect(bgpReport(live(2, two), o).ok).to.equal(true);
            expect(bgpReport(live(3, two), o).ok, "other advertisements (pod CIDRs) add routes").to.equal(true);
            const short = bgpReport(live(1, two), o);
            expect(short.ok).to.equal(false);
            expect(!short.ok && short.diagnosis.cause).to.contain(
                "advertises 1 ipv4 route to gw (172.29.51.1, AS 64513) for 2 selected addresses",
            );
        });

        it("counts an address once, whatever Services share it", () => {
            const shared = [service(), service({ name: "api" })];
            expect(bgpReport(live(1, shared), o).ok).to.equal(true);
        });

        it("expects no route for a Local Service (only nodes with its pods advertise it), another class's, or aggregated addresses", () => {
            expect(bgpReport(live(0, [service({ externalTrafficPolicy: "Local" })]), o).ok).to.equal(true);
            expect(bgpReport(live(0, [service({ loadBalancerClass: "example.com/lb" })]), o).ok).to.equal(true);
            expect(bgpReport(live(0, two, [entry({ addresses: ["LoadBalancerIP"], aggregationLengthIPv4: 24 })]), o).ok).to.equal(true);
            expect(bgpReport(live(0, [service({ loadBalancerClass: "io.cilium/bgp-control-plane" })]), o).ok).to.equal(false);
        });

        it("expects nothing of a pool the config does not announce, and fails a session that did not negotiate the family", () => {
            expect(bgpReport(live(0, two), { ...o, bgpPools: undefined }).ok).to.equal(true);
            const none = bgpReport(live(undefined, two), o);
            expect(!none.ok && none.diagnosis.evidence[0]).to.contain("no ipv4/unicast route count");
        });

        it("reads conditions only when True", () => {
            const l = live(2, two);
            l.clusterConfig!.status = { conditions: [{ type: BGP_CONDITIONS.missingPeerConfigs, status: "False", message: "" }] };
            expect(bgpReport(l, o).ok).to.equal(true);
            l.clusterConfig!.status.conditions[0] = {
                type: BGP_CONDITIONS.missingPeerConfigs,
                status: "True",
                message: "Referenced CiliumBGPPeerConfig(s) are missing: [pc2]",
            };
            const r = bgpReport(l, o);
            expect(!r.ok && r.diagnosis.evidence[0]).to.equal(
                "CiliumBGPClusterConfig bgp: cilium.io/MissingPeerConfigs=True: Referenced CiliumBGPPeerConfig(s) are missing: [pc2]",
            );
        });
    });

    describe("L2 leases", () => {
        const now = Date.parse("2026-11-26T10:00:00Z");
        const live = (lease: Partial<LiveLease> | undefined, selector: Json = { matchLabels: { pool: "lan" } }): L2Live => ({
            services: [service()],
            pools: [pool],
            ciliumConfig: { "enable-l2-announcements": "true" },
            policies: [{ metadata: { name: "lan" }, spec: { loadBalancerIPs: true, serviceSelector: selector } }],
            leases: lease ? [{ name: "cilium-l2announce-apps-web", ...lease }] : [],
        });
        const o = { l2Pools: ["lan"], ciliumNamespace: "kube-system" };

        it("accepts a lease renewed exactly one lease duration ago, not a millisecond later", () => {
            expect(l2Report(live({ holder: "n1", durationSeconds: 15, renewedAt: now - 15_000 }), o, now).ok).to.equal(true);
            expect(l2Report(live({ holder: "n1", durationSeconds: 15, renewedAt: now - 15_001 }), o, now).ok).to.equal(false);
        });

        it("fails a lease without holder, and a Service no policy selects; a policy without selector selects all", () => {
            expect(l2Report(live({ holder: undefined, renewedAt: now }), o, now).ok).to.equal(false);
            const unselected = l2Report(live({ holder: "n1", renewedAt: now }, { matchLabels: { pool: "other" } }), o, now);
            expect(!unselected.ok && unselected.diagnosis.link).to.equal("L2 pool lan → Service apps/web");
            expect(l2Report(live({ holder: "n1", renewedAt: now }, undefined), o, now).ok).to.equal(true);
        });

        it("names the lease Cilium's L2 announcer takes for a Service: cilium-l2announce-<namespace>-<name>", () => {
            // Cilium 1.19 L2 announcements guide, "Leases": kubectl -n kube-system get lease/cilium-l2announce-default-deathstar.
            expect(l2LeaseName("default", "deathstar")).to.equal("cilium-l2announce-default-deathstar");
        });
    });
});
