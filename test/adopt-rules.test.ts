import { expect } from "chai";
import type { PlatformConfig } from "../lib/config";
import { fluxIndex, helmReleaseTarget } from "../lib/adopt/flux";
import type { HelmRelease } from "../lib/adopt/helm";
import type { LiveCluster, LiveObject } from "../lib/adopt/live";
import { matchAll } from "../lib/adopt/match";
import { engineUrn, plannedFrom } from "../lib/adopt/planned";
import { Finding, RuleContext, transitionFindings } from "../lib/adopt/rules";
import { diffValues } from "../lib/adopt/values";
import type { Plan } from "../lib/plan/model";
import { runPlan } from "../lib/plan/run";
import { readStackFile } from "../lib/plan/stackfile";
import { devConfig } from "./cluster-scenarios";
import { byName, ROOT } from "./helpers";
import * as path from "node:path";

// The transition rules on both sides of each boundary, over a cluster held
// in memory: the dev stack's plan against small changes to what runs.

let plan: Plan;
let config: PlatformConfig;

/** A running cluster that agrees with the dev stack in every fact the rules read. */
function base(): LiveCluster {
    return {
        server: "https://172.29.51.10:6443",
        context: "admin@home-ops",
        kubernetesVersion: "v1.34.2",
        identity: "uid",
        nodes: ["mini01", "mini02", "mini03"].map((name, i) => ({
            name,
            kubeletVersion: "v1.34.2",
            podCIDRs: [`10.244.${i}.0/24`, `fd47:25e1:2f96:10${i}::/64`],
            clusterDomain: "cluster.local",
        })),
        controllerManager: {
            pod: "kube-system/kube-controller-manager-mini01",
            clusterCidr: ["10.244.0.0/16", "fd47:25e1:2f96:100::/56"],
            serviceCidr: ["10.96.0.0/12", "fd47:25e1:2f96:51:1000::/108"],
        },
        services: [
            { namespace: "default", name: "kubernetes", clusterIPs: ["10.96.0.1"] },
            { namespace: "kube-system", name: "kube-dns", clusterIPs: ["10.96.0.10", "fd47:25e1:2f96:51:1000::a"] },
        ],
        releases: [],
        coredns: { namespace: "kube-system", name: "coredns" },
        crds: [],
        objects: [],
        notes: [],
    };
}

function release(over: Partial<HelmRelease>): HelmRelease {
    return {
        name: "cilium",
        namespace: "kube-system",
        revision: 1,
        status: "deployed",
        chart: { name: "cilium", version: "1.19.4" },
        values: {},
        secret: "sh.helm.release.v1.cilium.v1",
        managers: ["helm"],
        ...over,
    };
}

function run(live: LiveCluster, edit?: (ctx: RuleContext) => void): { findings: Finding[]; ctx: RuleContext } {
    // A copy per run: the edits change the planned values in place.
    const planned = plannedFrom(structuredClone(plan));
    const flux = fluxIndex(live);
    const ctx: RuleContext = { live, config: structuredClone(config), plan, planned, matches: [], flux };
    edit?.(ctx);
    ctx.matches = matchAll(ctx.planned, live, flux);
    return { findings: transitionFindings(ctx), ctx };
}

const ofRule = (fs: Finding[], rule: string) => fs.filter((f) => f.rule === rule);
const ciliumValues = (ctx: RuleContext) => ctx.planned.releases.find((r) => r.chart === "cilium")!.values;

describe("adopt: transition rules", () => {
    before(async () => {
        plan = await runPlan(readStackFile(path.join(ROOT, "Pulumi.dev.yaml"), "dev"));
        config = devConfig();
    });

    it("finds nothing on a cluster that agrees with the stack", () => {
        expect(run(base()).findings).to.deep.equal([]);
    });

    it("kube-proxy: refuses it running under a plan that replaces it, and neither running nor replaced; tells the Week 4 state apart", () => {
        const running = base();
        running.kubeProxy = { namespace: "kube-system", name: "kube-proxy" };
        expect(ofRule(run(running).findings, "kube-proxy").map((f) => f.severity)).to.deep.equal(["blocking"]);

        const off = run(base(), (ctx) => (ciliumValues(ctx).kubeProxyReplacement = false)).findings;
        expect(ofRule(off, "kube-proxy").map((f) => [f.severity, f.consequence.includes("nothing would program Services")])).to.deep.equal([
            ["blocking", true],
        ]);

        const week4 = base();
        week4.cilium = { namespace: "kube-system", config: { "kube-proxy-replacement": "false" } };
        expect(ofRule(run(week4).findings, "kube-proxy").map((f) => f.severity)).to.deep.equal(["info"]);

        const fixed = base();
        fixed.cilium = { namespace: "kube-system", config: { "kube-proxy-replacement": "true", ipam: "kubernetes" } };
        expect(ofRule(run(fixed).findings, "kube-proxy")).to.deep.equal([]);
    });

    it("cilium-minor-jump: one minor is fine, two are refused, and so is a downgrade", () => {
        const at = (version: string) => {
            const l = base();
            l.releases = [release({ chart: { name: "cilium", version }, values: { ipam: { mode: "kubernetes" } } })];
            return ofRule(run(l).findings, "cilium-minor-jump");
        };
        expect(at("1.18.3")).to.deep.equal([]);
        expect(at("1.19.1")).to.deep.equal([]);
        expect(at("1.17.6").map((f) => f.severity)).to.deep.equal(["blocking"]);
        expect(at("1.20.0")[0].consequence).to.contain("a downgrade");
    });

    it("cilium-ipam-mode: reads the running mode from cilium-config, else from the release, else the chart's default cluster-pool", () => {
        const fromConfig = base();
        fromConfig.cilium = { namespace: "kube-system", config: { ipam: "kubernetes", "kube-proxy-replacement": "true" } };
        expect(ofRule(run(fromConfig).findings, "cilium-ipam-mode")).to.deep.equal([]);
        const chartDefault = base();
        chartDefault.releases = [release({ values: {} })];
        expect(ofRule(run(chartDefault).findings, "cilium-ipam-mode")[0].evidence[0]).to.equal("release values ipam.mode: cluster-pool");
        // Keeping cluster-pool through the escape hatch passes.
        const kept = base();
        kept.cilium = { namespace: "kube-system", config: { ipam: "cluster-pool", "kube-proxy-replacement": "true" } };
        expect(ofRule(run(kept, (ctx) => (ciliumValues(ctx).ipam = { mode: "cluster-pool" })).findings, "cilium-ipam-mode")).to.deep.equal(
            [],
        );
    });

    it("cilium-ipv6: only turning it on in a running cluster; not when it already runs, nor when the plan keeps it off", () => {
        const with6 = (enable: string, plannedOn: boolean) => {
            const l = base();
            l.cilium = {
                namespace: "kube-system",
                config: { ipam: "kubernetes", "kube-proxy-replacement": "true", "enable-ipv6": enable },
            };
            return ofRule(run(l, (ctx) => ((ciliumValues(ctx).ipv6 as { enabled: boolean }).enabled = plannedOn)).findings, "cilium-ipv6");
        };
        expect(with6("false", true)).to.have.length(1);
        expect(with6("true", true)).to.deep.equal([]);
        expect(with6("false", false)).to.deep.equal([]);
    });

    it("cilium-bgp-v1: blocks for 1.19, warns for 1.18, and names a router the v2 objects miss", () => {
        const policy: LiveObject = {
            group: "cilium.io",
            version: "v2alpha1",
            kind: "CiliumBGPPeeringPolicy",
            name: "rack0",
            labels: {},
            annotations: {},
            managers: ["kubectl"],
            spec: {
                virtualRouters: [
                    {
                        localASN: 64512,
                        neighbors: [
                            { peerAddress: "172.29.51.1/32", peerASN: 64513 },
                            { peerAddress: "10.0.0.1/32", peerASN: 65000 },
                        ],
                    },
                ],
            },
        };
        const l = base();
        l.objects = [policy];
        const blocking = ofRule(run(l).findings, "cilium-bgp-v1");
        expect(blocking.map((f) => f.severity)).to.deep.equal(["blocking"]);
        expect(blocking[0].consequence).to.contain("do not peer with 10.0.0.1 AS 65000 (local AS 64512)");
        expect(blocking[0].fix[0]).to.contain("add the missing routers");
        const warning = ofRule(run(l, (ctx) => (ctx.config.cilium.version = "1.18.5")).findings, "cilium-bgp-v1");
        expect(warning.map((f) => f.severity)).to.deep.equal(["warning"]);
    });

    it("cluster-domain: names only the kubelets that differ, and says when none could be read", () => {
        const one = base();
        one.nodes[1].clusterDomain = "home.arpa";
        const f = ofRule(run(one).findings, "cluster-domain");
        expect(f.map((x) => x.severity)).to.deep.equal(["blocking"]);
        expect(f[0].evidence.filter((e) => e.startsWith("node"))).to.deep.equal([
            "node mini02: kubelet clusterDomain home.arpa (GET /api/v1/nodes/mini02/proxy/configz)",
        ]);
        const unreadable = base();
        for (const n of unreadable.nodes) {
            delete n.clusterDomain;
            n.unreadable = "the kubeconfig's user may not get nodes/proxy: forbidden";
        }
        expect(ofRule(run(unreadable).findings, "cluster-domain").map((x) => x.severity)).to.deep.equal(["info"]);
    });

    it("cluster-facts: pod CIDRs and Service addresses outside the stack's subnets; host bits in the flags are the same subnet", () => {
        const stray = base();
        stray.nodes[2].podCIDRs = ["10.245.2.0/24"];
        stray.services[1].clusterIPs = ["10.112.0.10"];
        expect(ofRule(run(stray).findings, "cluster-facts").map((f) => f.subject)).to.deep.equal(["node pod CIDRs", "Service addresses"]);
        const hostBits = base();
        hostBits.controllerManager!.clusterCidr = ["10.244.7.0/16", "fd47:25e1:2f96:100::/56"];
        expect(ofRule(run(hostBits).findings, "cluster-facts")).to.deep.equal([]);
        const other = base();
        other.controllerManager!.serviceCidr = ["10.43.0.0/16"];
        expect(ofRule(run(other).findings, "cluster-facts").map((f) => f.subject)).to.deep.equal(["Service subnets"]);
    });

    it("release-conflict: the chart running under another release, or another chart under the plan's release name", () => {
        const elsewhere = base();
        elsewhere.releases = [release({ namespace: "cilium", values: { ipam: { mode: "kubernetes" } } })];
        const { findings, ctx } = run(elsewhere);
        expect(ofRule(findings, "release-conflict").map((f) => f.subject)).to.deep.equal(["Helm release cilium/cilium"]);
        expect(ofRule(findings, "release-conflict")[0].fix[0]).to.contain("set the section's namespace to cilium");
        expect(ctx.matches.find((m) => m.resource === "cilium-release")!.status).to.equal("conflict");
        const taken = base();
        taken.releases = [release({ chart: { name: "calico", version: "3.30.0" } })];
        expect(ofRule(run(taken).findings, "release-conflict")[0].consequence).to.contain("taken by another chart");
    });

    it("matching: a release Pulumi wrote is managed, one helm wrote is imported, the same one installed by a Flux HelmRelease is a conflict", () => {
        const statusOf = (managers: string[], hr?: LiveObject) => {
            const l = base();
            l.releases = [release({ managers, values: { ipam: { mode: "kubernetes" } } })];
            if (hr) l.objects = [hr];
            return run(l).ctx.matches.find((m) => m.resource === "cilium-release")!.status;
        };
        expect(statusOf(["pulumi-resource-kubernetes"])).to.equal("managed");
        expect(statusOf(["helm"])).to.equal("import");
        const hr: LiveObject = {
            group: "helm.toolkit.fluxcd.io",
            version: "v2",
            kind: "HelmRelease",
            name: "cilium",
            namespace: "flux-system",
            labels: {},
            annotations: {},
            managers: [],
            spec: { targetNamespace: "kube-system", releaseName: "cilium" },
        };
        expect(statusOf(["helm-controller"], hr)).to.equal("conflict");
        // Without releaseName, Flux names the release <targetNamespace>-<name>.
        expect(helmReleaseTarget({ ...hr, spec: { targetNamespace: "kube-system" } })).to.deep.equal({
            release: "kube-system-cilium",
            namespace: "kube-system",
        });
        expect(helmReleaseTarget({ ...hr, spec: {} })).to.deep.equal({ release: "cilium", namespace: "flux-system" });
    });

    it("gives the provider and nested resources the URNs the engine gives them, not the mock engine's", () => {
        const planned = plannedFrom(plan);
        expect(planned.providerUrn).to.equal("urn:pulumi:dev::talos-platform::pulumi:providers:kubernetes::kubernetes");
        const ks = byName(plan, "flux-ks-infrastructure-sources");
        expect(engineUrn(ks, planned.byUrn, "talos-platform", "dev")).to.equal(
            "urn:pulumi:dev::talos-platform::talos-platform:gitops:Flux$talos-platform:gitops:FluxPhase$kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization::flux-ks-infrastructure-sources",
        );
        expect(ks.urn, "the plan's own URN is the mock engine's, which the contract keeps").to.not.equal(
            engineUrn(ks, planned.byUrn, "talos-platform", "dev"),
        );
    });
});

describe("adopt: live against planned values", () => {
    it('compares what the chart sees: Helm\'s true and "true" are the same value', () => {
        expect(diffValues({ a: "true", b: { c: 1 } }, { a: true, b: { c: 1 } })).to.deep.equal([]);
        expect(diffValues({ a: false }, { a: true }).map((d) => [d.path, d.live, d.planned])).to.deep.equal([["a", false, true]]);
    });

    it("redacts a leaf under a credential key, a token-shaped value, and one the plan holds as a secret; names stay readable", () => {
        const diffs = diffValues(
            {
                auth: { password: "hunter2-live" },
                note: "glpat-abcdefghijklmnopqrst",
                existingSecret: "old-name",
                cloudflare: { apiToken: "x1" },
            },
            { auth: { password: "hunter3" }, note: "", existingSecret: "new-name", cloudflare: { apiToken: "[secret]" } },
        );
        expect(diffs.map((d) => [d.path, d.secret, d.live, d.planned])).to.deep.equal([
            ["auth.password", true, "[secret]", "[secret]"],
            ["cloudflare.apiToken", true, "[secret]", "[secret]"],
            ["existingSecret", false, "old-name", "new-name"],
            ["note", true, "[secret]", "[secret]"],
        ]);
        expect(JSON.stringify(diffs)).to.not.contain("hunter").and.not.contain("glpat-").and.not.contain("x1");
    });
});
