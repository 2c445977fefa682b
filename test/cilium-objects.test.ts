import { expect } from "chai";
import { validateConfig } from "../lib/config";
import { allObjects, ciliumObjects, requiredCrds } from "../lib/values/cilium-objects";
import { devSections, ingressWithoutLoadBalancer, Json, raw } from "./helpers";
import { crdErrors } from "./schemas";

function objectsOf(edit?: (s: Record<string, Json>) => void) {
    const s = devSections();
    edit?.(s);
    const { config, problems } = validateConfig(raw(s, { bgpPassword: { secret: true } }));
    if (!config) throw new Error(problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
    return ciliumObjects(config.cluster, config.cilium);
}

const POOL_SELECTOR = (name: string) => ({ matchLabels: { "io.cilium/lb-ipam-pool": name } });

describe("Cilium objects of the dev stack", () => {
    // Computed in each test, not when the file loads: code run at load time is no test's (see stryker.config.mjs).
    let objects: ReturnType<typeof objectsOf>;
    beforeEach(() => (objects = objectsOf()));

    it("one cilium.io/v2 CiliumLoadBalancerIPPool per pool, with its blocks and selector", () => {
        expect(objects.pools.map((p) => p.metadata.name)).to.deep.equal(["bgp-default", "bgp-ingress", "bgp-reserved", "bgp-default-ipv6"]);
        expect(objects.pools.every((p) => p.apiVersion === "cilium.io/v2" && p.kind === "CiliumLoadBalancerIPPool")).to.equal(true);
        expect(objects.pools[0].spec).to.deep.equal({
            blocks: [{ start: "172.29.52.100", stop: "172.29.52.199" }],
            serviceSelector: POOL_SELECTOR("bgp-default"),
        });
        expect(objects.pools[3].spec.blocks).to.deep.equal([{ cidr: "fd47:25e1:2f96:52:100::/120" }]);
        expect(objects.pools[0].spec).to.not.have.property("allowFirstLastIPs");
    });

    it("a BGP cluster config peering ASN 64512 with the gateway 172.29.51.1 (ASN 64513) through the default peer config", () => {
        const cc = objects.bgp!.clusterConfig;
        expect(cc).to.include({ apiVersion: "cilium.io/v2", kind: "CiliumBGPClusterConfig" });
        expect(cc.spec).to.deep.equal({
            bgpInstances: [
                {
                    name: "instance-64512",
                    localASN: 64512,
                    peers: [{ name: "gateway", peerASN: 64513, peerAddress: "172.29.51.1", peerConfigRef: { name: "default" } }],
                },
            ],
        });
    });

    it("a peer config sending its IPv4 session's own family, selecting the advertise=bgp advertisements, with graceful restart", () => {
        const [pc] = objects.bgp!.peerConfigs;
        expect(objects.bgp!.peerConfigs).to.have.length(1);
        expect(pc.metadata.name).to.equal("default");
        // IPv6 over the IPv4 session would carry an IPv4-mapped next hop (cilium/cilium#37831).
        expect(pc.spec).to.deep.equal({
            families: [{ afi: "ipv4", safi: "unicast", advertisements: { matchLabels: { advertise: "bgp" } } }],
            gracefulRestart: { enabled: true, restartTimeSeconds: 120 },
        });
        expect(pc.spec).to.not.have.property("authSecretRef");
    });

    it("an advertisement labelled advertise=bgp announcing the LoadBalancer IPs of each pool's Services, and no pod CIDRs", () => {
        const [adv] = objects.bgp!.advertisements;
        expect(adv.metadata).to.deep.equal({ name: "loadbalancer-ips", labels: { advertise: "bgp" } });
        expect(adv.spec.advertisements).to.deep.equal(
            ["bgp-default", "bgp-ingress", "bgp-reserved", "bgp-default-ipv6"].map((n) => ({
                advertisementType: "Service",
                service: { addresses: ["LoadBalancerIP"] },
                selector: POOL_SELECTOR(n),
            })),
        );
    });

    it("no L2 policies, and exactly the CRDs of the emitted kinds", () => {
        expect(objects.l2Policies).to.deep.equal([]);
        expect(requiredCrds(objects)).to.deep.equal([
            "ciliumbgpadvertisements.cilium.io",
            "ciliumbgpclusterconfigs.cilium.io",
            "ciliumbgppeerconfigs.cilium.io",
            "ciliumloadbalancerippools.cilium.io",
        ]);
    });
});

describe("Cilium objects from other configs", () => {
    it("maps allowFirstLastIPs to the CRD's Yes/No and selects every Service for a pool without selector", () => {
        const o = objectsOf((s) => {
            s.cilium.loadBalancerPools = [
                { name: "all", blocks: [{ cidr: "172.29.53.0/24" }], allowFirstLastIPs: false },
                { name: "edge", blocks: [{ cidr: "172.29.54.0/24" }], allowFirstLastIPs: true },
            ];
            ingressWithoutLoadBalancer(s);
        });
        expect(o.pools.map((p) => p.spec.allowFirstLastIPs)).to.deep.equal(["No", "Yes"]);
        expect(o.pools[0].spec).to.not.have.property("serviceSelector");
        // Cilium selects every Service with a NotIn on a label no Service carries (its documented idiom; an empty selector selects none).
        expect(o.bgp!.advertisements[0].spec.advertisements![0].selector).to.deep.equal({
            matchExpressions: [{ key: "talos-platform/never-set", operator: "NotIn", values: ["never-used-value"] }],
        });
        // Both pools select every Service: one advertisement entry covers both.
        expect(o.bgp!.advertisements[0].spec.advertisements).to.have.length(1);
    });

    it("advertises only the named pools, plus pod CIDRs when asked", () => {
        const o = objectsOf((s) => {
            s.cilium.bgp.advertisements = [{ name: "ingress", pools: ["bgp-ingress"], podCIDR: true, labels: { advertise: "bgp" } }];
        });
        expect(o.bgp!.advertisements[0].spec.advertisements).to.deep.equal([
            { advertisementType: "PodCIDR" },
            { advertisementType: "Service", service: { addresses: ["LoadBalancerIP"] }, selector: POOL_SELECTOR("bgp-ingress") },
        ]);
    });

    it("defaults each peer config's families to the address families of the peers using it", () => {
        const afis = (o: ReturnType<typeof objectsOf>) =>
            Object.fromEntries(o.bgp!.peerConfigs.map((pc) => [pc.metadata.name, pc.spec.families!.map((f) => f.afi)]));
        const v6 = { name: "gateway-v6", address: "fd47:25e1:2f96:50::1", asn: 64513 };
        expect(afis(objectsOf((s) => s.cilium.bgp.peers.push(v6)))).to.deep.equal({ default: ["ipv4", "ipv6"] });
        expect(
            afis(
                objectsOf((s) => {
                    s.cilium.bgp.peers.push({ ...v6, peerConfig: "ipv6" });
                    s.cilium.bgp.peerConfigs.push({ name: "ipv6" }, { name: "unused" });
                }),
            ),
        ).to.deep.equal({ default: ["ipv4"], ipv6: ["ipv6"], unused: ["ipv4", "ipv6"] });
        // Explicit families stay as written.
        expect(afis(objectsOf((s) => (s.cilium.bgp.peerConfigs[0].families = [{ afi: "ipv6" }, { afi: "ipv4" }])))).to.deep.equal({
            default: ["ipv6", "ipv4"],
        });
    });

    it("names the auth Secret in the peer config that takes a password, and carries timers and multihop", () => {
        const o = objectsOf((s) => {
            s.cilium.bgp.peerConfigs = [
                { name: "default", authSecret: "bgpPassword", timers: { holdTimeSeconds: 9, keepAliveTimeSeconds: 3 }, ebgpMultihop: 2 },
            ];
        });
        expect(o.bgp!.peerConfigs[0].spec).to.include({ authSecretRef: "bgp-auth-default", ebgpMultihop: 2 });
        expect(o.bgp!.peerConfigs[0].spec.timers).to.deep.equal({ holdTimeSeconds: 9, keepAliveTimeSeconds: 3 });
    });

    it("emits one L2 policy per named pool (a policy has one Service selector), or one for every Service", () => {
        const o = objectsOf((s) => {
            s.cilium.l2Announcements = [
                { name: "lan", pools: ["bgp-default", "bgp-ingress"], interfaces: ["^eth[0-9]+"] },
                { name: "all", nodeSelector: { matchLabels: { "node-role.kubernetes.io/worker": "" } } },
            ];
            // ARP reaches only the nodes' network, and ingress-nginx's pool must be reachable.
            s.cluster.nodeSubnets.push("172.29.52.0/24");
        });
        expect(o.l2Policies.map((p) => p.metadata.name)).to.deep.equal(["lan-bgp-default", "lan-bgp-ingress", "all"]);
        expect(o.l2Policies[0]).to.include({ apiVersion: "cilium.io/v2alpha1", kind: "CiliumL2AnnouncementPolicy" });
        expect(o.l2Policies[0].spec).to.deep.equal({
            loadBalancerIPs: true,
            externalIPs: false,
            interfaces: ["^eth[0-9]+"],
            serviceSelector: POOL_SELECTOR("bgp-default"),
        });
        expect(o.l2Policies[2].spec).to.not.have.property("serviceSelector");
        expect(requiredCrds(o)).to.include("ciliuml2announcementpolicies.cilium.io");
    });

    it("emits nothing, and needs no CRD, without pools, BGP or L2", () => {
        const o = objectsOf((s) => {
            s.cilium = { version: "1.19.4" };
            ingressWithoutLoadBalancer(s);
        });
        expect(allObjects(o)).to.deep.equal([]);
        expect(requiredCrds(o)).to.deep.equal([]);
    });
});

describe("Cilium objects against the upstream strict CRD schemas", () => {
    // Computed in each test, not when the file loads: code run at load time is no test's (see stryker.config.mjs).
    const full = () =>
        objectsOf((s) => {
            s.cilium.loadBalancerPools[0].allowFirstLastIPs = false;
            s.cilium.loadBalancerPools.push({
                name: "lan",
                blocks: [{ cidr: "172.29.51.224/28" }],
                serviceSelector: { matchExpressions: [{ key: "lan", operator: "Exists" }] },
            });
            s.cilium.bgp.nodeSelector = { matchLabels: { bgp: "enabled" } };
            s.cilium.bgp.peerConfigs = [
                {
                    name: "default",
                    authSecret: "bgpPassword",
                    timers: { connectRetryTimeSeconds: 5, holdTimeSeconds: 9, keepAliveTimeSeconds: 3 },
                    gracefulRestart: { enabled: true, restartTimeSeconds: 15 },
                    ebgpMultihop: 2,
                    families: [{ afi: "ipv4" }, { afi: "ipv6", advertisements: { matchLabels: { advertise: "bgp" } } }],
                },
            ];
            s.cilium.bgp.advertisements = [{ name: "all", podCIDR: true }];
            s.cilium.l2Announcements = [{ name: "lan", pools: ["lan"], interfaces: ["^eth0$"], externalIPs: true }];
        });

    for (const [label, objects] of [
        ["dev stack", () => objectsOf()],
        ["full config", full],
    ] as const) {
        it(`${label}: every object conforms`, () => {
            const all = allObjects(objects());
            expect(all.length).to.be.greaterThan(5);
            for (const obj of all) expect(crdErrors(obj), `${label}: ${obj.kind} ${obj.metadata.name}`).to.deep.equal([]);
        });
    }

    it("covers every kind the component can emit", () => {
        expect(new Set(allObjects(full()).map((o) => o.kind))).to.deep.equal(
            new Set([
                "CiliumLoadBalancerIPPool",
                "CiliumBGPClusterConfig",
                "CiliumBGPPeerConfig",
                "CiliumBGPAdvertisement",
                "CiliumL2AnnouncementPolicy",
            ]),
        );
    });

    it("would catch a misspelled field", () => {
        const [pc] = full().bgp!.peerConfigs;
        const bad = { ...pc, spec: { ...pc.spec, gracefulRestart: { enabled: true, restartTimeSecond: 15 } } };
        expect(crdErrors(bad).join("\n")).to.contain("restartTimeSecond");
    });
});
