import { expect } from "chai";
import { validateConfig } from "../lib/config";
import { evaluatePolicies } from "../lib/plan/policies";
import type { Finding } from "../lib/plan/model";
import { ciliumObjects, CiliumObject } from "../lib/values/cilium-objects";
import { ciliumValues } from "../lib/values/cilium";
import { devSections, Json, raw } from "./helpers";

/** Runs the whole pack over some resources, keeping one rule's findings. */
async function violations(
    rule: string,
    resources: Array<{ type: string; name: string; props: Record<string, unknown> }>,
): Promise<Finding[]> {
    const findings = await evaluatePolicies(
        resources.map((r) => {
            const urn = `urn:pulumi:test::talos-platform::${r.type}::${r.name}`;
            return { urn, type: r.type, name: r.name, parent: null, dependsOn: [], phase: null, inputs: r.props, props: r.props };
        }),
    );
    return findings.filter((f) => f.rule === rule);
}

function resource(obj: CiliumObject<unknown> | Json) {
    return { type: `kubernetes:${obj.apiVersion}:${obj.kind}`, name: obj.metadata?.name ?? "x", props: obj as Record<string, unknown> };
}

const config = validateConfig(raw(devSections())).config!;
const dev = ciliumObjects(config.cluster, config.cilium);
const bgp = dev.bgp!;
const RELEASE = "kubernetes:helm.sh/v3:Release";
const release = (values?: Json) => ({ type: RELEASE, name: "cilium-release", props: { chart: "cilium", version: "1.19.4", values } });

describe("policy cilium-lb-pool-blocks", () => {
    const pool = (spec: Json) => resource({ ...dev.pools[0], spec });

    it("passes the dev stack's pools", async () => {
        expect(await violations("cilium-lb-pool-blocks", dev.pools.map(resource))).to.deep.equal([]);
    });

    it("fails a reversed range and a bad CIDR, with the schema check's message", async () => {
        const v = await violations("cilium-lb-pool-blocks", [
            pool({ blocks: [{ start: "172.29.52.9", stop: "172.29.52.1" }, { cidr: "x/8" }] }),
        ]);
        expect(v.map((f) => f.severity)).to.deep.equal(["mandatory", "mandatory"]);
        expect(v[0].message).to.contain("block 0 stop").and.contain("comes before start");
        expect(v[1].message).to.contain("block 1 cidr").and.contain("is not a CIDR");
    });

    it("fails a pool without blocks", async () => {
        const v = await violations("cilium-lb-pool-blocks", [pool({})]);
        expect(v).to.have.length(1);
        expect(v[0].message).to.contain("has no blocks");
    });
});

describe("policy cilium-bgp-asn", () => {
    const withAsns = (localASN: unknown, peerASN: unknown) =>
        resource({
            ...bgp.clusterConfig,
            spec: { bgpInstances: [{ name: "i", localASN, peers: [{ name: "p", peerAddress: "172.29.51.1", peerASN }] }] },
        });

    it("passes the dev stack's cluster config", async () => {
        expect(await violations("cilium-bgp-asn", [resource(bgp.clusterConfig)])).to.deep.equal([]);
    });

    it("fails ASNs outside 1–4294967295", async () => {
        const v = await violations("cilium-bgp-asn", [withAsns(0, 4294967296)]);
        expect(v).to.have.length(2);
        expect(v[0].message).to.contain("localASN (0)").and.contain("1–4294967295");
        expect(v[1].message).to.contain("peerASN (4294967296)");
    });

    it("fails missing ASNs", async () => {
        const v = await violations("cilium-bgp-asn", [withAsns(undefined, undefined)]);
        expect(v.map((f) => f.message)).to.have.length(2);
    });
});

describe("policy cilium-bgp-references", () => {
    const all = () => [resource(bgp.clusterConfig), ...bgp.peerConfigs.map(resource), ...bgp.advertisements.map(resource)];

    it("passes the dev stack's BGP objects", async () => {
        expect(await violations("cilium-bgp-references", all())).to.deep.equal([]);
    });

    it("fails a peer whose peer config is not deployed, at the cluster config", async () => {
        const v = await violations("cilium-bgp-references", [resource(bgp.clusterConfig), ...bgp.advertisements.map(resource)]);
        expect(v).to.have.length(1);
        expect(v[0].resource).to.contain("CiliumBGPClusterConfig");
        expect(v[0].message).to.contain("'gateway'").and.contain("'default'");
    });

    it("fails families that select no deployed advertisement, at the peer config", async () => {
        const pc = {
            ...bgp.peerConfigs[0],
            spec: {
                families: [
                    { afi: "ipv4", safi: "unicast" },
                    { afi: "ipv6", safi: "unicast" },
                ],
            },
        };
        const withLabels = (f: Json) => ({ ...f, advertisements: { matchLabels: { advertise: "bgp" } } });
        pc.spec.families = pc.spec.families.map(withLabels);
        const v = await violations("cilium-bgp-references", [resource(bgp.clusterConfig), resource(pc)]);
        expect(v.map((f) => f.message.match(/family (\S+)/)?.[1])).to.deep.equal(["ipv4/unicast", "ipv6/unicast"]);
        expect(v[0].resource).to.contain("CiliumBGPPeerConfig");
    });

    it("fails a peer without peerConfigRef and a family without selector", async () => {
        const cc = { ...bgp.clusterConfig, spec: { bgpInstances: [{ name: "i", localASN: 64512, peers: [{ name: "p" }] }] } };
        const pc = { ...bgp.peerConfigs[0], spec: { families: [{ afi: "ipv4", safi: "unicast" }] } };
        const v = await violations("cilium-bgp-references", [resource(cc), resource(pc), ...bgp.advertisements.map(resource)]);
        expect(v.map((f) => f.message)).to.have.length(2);
        expect(v[0].message).to.contain("has no peerConfigRef");
        expect(v[1].message).to.contain("selector none");
    });
});

describe("policy cilium-kube-proxy-replacement-boolean", () => {
    it("passes the computed values, and a release without values", async () => {
        expect(
            await violations("cilium-kube-proxy-replacement-boolean", [release(ciliumValues(config.cluster, config.cilium))]),
        ).to.deep.equal([]);
        expect(await violations("cilium-kube-proxy-replacement-boolean", [release(undefined)])).to.deep.equal([]);
    });

    it("fails a legacy string, saying which boolean it became, with the config check's message", async () => {
        const v = await violations("cilium-kube-proxy-replacement-boolean", [release({ kubeProxyReplacement: "strict" })]);
        expect(v).to.have.length(1);
        expect(v[0].message).to.contain('legacy string "strict"').and.contain("use true");
    });

    it("maps each legacy string to the boolean it became, and names none for the two that had no equivalent", async () => {
        // Cilium 1.14 made it a boolean: true is the old strict, false the old disabled; partial and probe have no boolean (cilium/cilium#27222).
        const fixFor = async (text: string) => {
            const v = await violations("cilium-kube-proxy-replacement-boolean", [release({ kubeProxyReplacement: text })]);
            expect(v, text).to.have.length(1);
            return v[0].message;
        };
        expect(await fixFor("strict")).to.contain('use true (what "strict" meant)');
        expect(await fixFor("disabled")).to.contain('use false (what "disabled" meant)');
        for (const text of ["partial", "probe"])
            expect(await fixFor(text), text).to.contain("use true when the cluster runs without kube-proxy, false when kube-proxy runs");
    });

    it("ignores other charts", async () => {
        const other = { type: RELEASE, name: "x", props: { chart: "coredns", values: { kubeProxyReplacement: "strict" } } };
        expect(await violations("cilium-kube-proxy-replacement-boolean", [other])).to.deep.equal([]);
    });
});

describe("policy cilium-datapath-routing", () => {
    it("passes DSR on native routing with its CIDR, and a release without values", async () => {
        const ok = { loadBalancer: { mode: "dsr" }, routingMode: "native", ipv4NativeRoutingCIDR: "10.244.0.0/16" };
        expect(await violations("cilium-datapath-routing", [release(ok)])).to.deep.equal([]);
        expect(await violations("cilium-datapath-routing", [release(undefined)])).to.deep.equal([]);
    });

    it("fails DSR on VXLAN, and native routing without ipv4NativeRoutingCIDR", async () => {
        const vxlan = await violations("cilium-datapath-routing", [release({ loadBalancer: { mode: "dsr" }, tunnelProtocol: "vxlan" })]);
        expect(vxlan).to.have.length(1);
        expect(vxlan[0].message).to.contain("loadBalancer.mode is dsr").and.contain("dead loop");
        const native = await violations("cilium-datapath-routing", [release({ routingMode: "native" })]);
        expect(native.map((f) => f.message.split(" ")[0])).to.deep.equal(["ipv4NativeRoutingCIDR"]);
    });

    it("fails native routing with IPv6 on and masqueraded (the chart's default) without ipv6NativeRoutingCIDR", async () => {
        const v6 = { routingMode: "native", ipv4NativeRoutingCIDR: "10.244.0.0/16", ipv6: { enabled: true } };
        const v = await violations("cilium-datapath-routing", [release(v6)]);
        expect(v.map((f) => f.message.split(" ")[0])).to.deep.equal(["ipv6NativeRoutingCIDR"]);
        expect(v[0].message).to.contain("IPv6 masquerading");
        const unmasqueraded = { ...v6, enableIPv6Masquerade: false };
        expect(await violations("cilium-datapath-routing", [release(unmasqueraded)])).to.deep.equal([]);
        expect(await violations("cilium-datapath-routing", [release({ ...v6, ipv6NativeRoutingCIDR: "fd00::/56" })])).to.deep.equal([]);
    });
});
