import { expect } from "chai";
import { validateConfig } from "../lib/config";
import { isUpstream } from "../lib/config/coredns";
import type { Plan } from "../lib/plan/model";
import { corednsValues } from "../lib/values/coredns";
import { unknownChartKeys } from "./chart-keys";
import { byName, devSections, Json, planDev, raw, singleStack } from "./helpers";

function config(edit?: (s: Record<string, Json>) => void) {
    const s = devSections();
    edit?.(s);
    return validateConfig(raw(s));
}
const errors = (edit: (s: Record<string, Json>) => void) => config(edit).problems.filter((p) => p.severity === "error");
const valuesOf = (edit?: (s: Record<string, Json>) => void): Json => {
    const c = config(edit).config!;
    return corednsValues(c.cluster, c.coredns);
};
const plugin = (v: Json, name: string) => v.servers[0].plugins.find((p: Json) => p.name === name);

describe("CoreDNS values", () => {
    it("defaults a single-stack cluster to 10.96.0.10, two spread replicas that tolerate control planes", () => {
        const v = valuesOf((s) => {
            singleStack(s);
        });
        expect(v.service).to.deep.equal({
            name: "kube-dns",
            clusterIP: "10.96.0.10",
            clusterIPs: ["10.96.0.10"],
            ipFamilyPolicy: "SingleStack",
        });
        expect(v.replicaCount).to.equal(2);
        const term = v.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
        expect(term.topologyKey).to.equal("kubernetes.io/hostname");
        expect(term.labelSelector.matchLabels).to.deep.equal({
            "app.kubernetes.io/name": "coredns",
            "app.kubernetes.io/instance": "coredns",
        });
        expect(v.tolerations).to.deep.include({ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" });
    });

    it("gives a dual-stack cluster the tenth address of both service subnets", () => {
        const v = valuesOf();
        expect(v.service.clusterIPs).to.deep.equal(["10.96.0.10", "fd47:25e1:2f96:51:1000::a"]);
        expect(v.service.clusterIP).to.equal("10.96.0.10");
        expect(v.service.ipFamilyPolicy).to.equal("RequireDualStack");
    });

    it("writes a Corefile with the cluster domain, forward to the upstreams, cache, health and ready", () => {
        const v = valuesOf((s) => {
            s.cluster.dnsDomain = "home.arpa";
            s.coredns.upstreams = ["8.8.8.8", "1.1.1.1"];
        });
        const names = v.servers[0].plugins.map((p: Json) => p.name);
        expect(names).to.include.members(["errors", "health", "ready", "kubernetes", "forward", "cache", "loop", "reload"]);
        expect(plugin(v, "kubernetes").parameters).to.equal("home.arpa in-addr.arpa ip6.arpa");
        expect(plugin(v, "forward").parameters).to.equal(". 8.8.8.8 1.1.1.1");
        expect(plugin(v, "cache").parameters).to.equal(30);
        expect(v.servers[0].zones).to.deep.equal([{ zone: ".", use_tcp: true }]);
        expect(plugin(valuesOf(), "forward").parameters).to.equal(". /etc/resolv.conf");
    });

    it("keeps the ServiceMonitor off: its CRD comes with Flux, after the DNS phase", () => {
        expect(valuesOf().prometheus).to.deep.equal({ monitor: { enabled: false } });
    });

    it("uses only keys the coredns 1.46.2 chart knows", () => {
        // fullnameOverride is read by the chart's _helpers.tpl but not listed in values.yaml.
        const known = (v: unknown) => unknownChartKeys("coredns", "1.46.2", v, ["fullnameOverride"]);
        expect(known(valuesOf())).to.deep.equal([]);
        expect(known({ ...valuesOf(), replicaCont: 3 })).to.deep.equal(["replicaCont"]);
    });
});

describe("CoreDNS config checks", () => {
    it("accepts addresses, ports and resolv.conf paths as upstreams, and refuses names", () => {
        for (const ok of [
            "8.8.8.8",
            "1.1.1.1:53",
            "dns://9.9.9.9",
            "2606:4700:4700::1111",
            "[2606:4700:4700::1111]:53",
            "/etc/resolv.conf",
        ])
            expect(isUpstream(ok), ok).to.equal(true);
        for (const bad of ["dns.google", "8.8.8.8:99999", "tls://1.1.1.1", "[8.8.8.8]:53", "1.1.1.1 8.8.8.8", ""])
            expect(isUpstream(bad), bad).to.equal(false);
        const p = errors((s) => (s.coredns.upstreams = ["1.1.1.1", "dns.google"]));
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:coredns.upstreams[1]"]);
        expect(p[0].value).to.equal("dns.google");
        expect(p[0].fix).to.contain("host names are not accepted");
    });

    it("rejects a ClusterIP outside the service subnet, naming the subnet", () => {
        const p = errors((s) => (s.coredns.clusterIPs = ["10.112.0.10", "fd47:25e1:2f96:51:1000::a"]));
        expect(p).to.have.length(1);
        expect(p[0].path).to.equal("talos-platform:coredns.clusterIPs[0]");
        expect(p[0].message).to.contain("talos-platform:cluster.serviceSubnets[0]").and.contain("10.96.0.0/12");
    });

    it("rejects the kubernetes Service's address and an address of the wrong family", () => {
        const p = errors((s) => (s.coredns.clusterIPs = ["10.96.0.1", "10.96.0.11"]));
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:coredns.clusterIPs[0]", "talos-platform:coredns.clusterIPs[1]"]);
        expect(p[0].message).to.contain("kubernetes Service");
        expect(p[1].message).to.contain("fd47:25e1:2f96:51:1000::/108");
    });

    it("rejects more ClusterIPs than service subnets", () => {
        const p = errors((s) => {
            singleStack(s);
            s.coredns.clusterIPs = ["10.96.0.10", "fd47:25e1:2f96:51:1000::a"];
        });
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:coredns.clusterIPs"]);
    });

    it("checks ClusterIPs set through the values escape hatch, under that key", () => {
        const p = errors((s) => (s.coredns.values = { service: { clusterIPs: ["10.96.0.1"] } }));
        expect(p.map((x) => x.path)).to.include("talos-platform:coredns.values.service.clusterIPs[0]");
    });

    it("rejects a service subnet too small for the default address", () => {
        const p = errors((s) => {
            singleStack(s);
            s.cluster.serviceSubnets = ["10.96.0.0/29"];
        });
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:cluster.serviceSubnets[0]"]);
    });

    it("warns, without blocking, when kube-dns is not where Talos points kubelet", () => {
        const result = config((s) => (s.coredns.clusterIPs = ["10.96.0.53", "fd47:25e1:2f96:51:1000::35"]));
        expect(result.problems.filter((p) => p.severity === "error")).to.deep.equal([]);
        const w = result.problems.find((p) => p.rule === "coredns-not-at-cluster-dns")!;
        expect(w.message).to.contain("10.96.0.10");
        expect(w.fix).to.contain("machine.kubelet.clusterDNS");
    });

    it("refuses fewer than two replicas, typed or through values", () => {
        expect(errors((s) => (s.coredns.replicas = 1)).map((p) => p.path)).to.deep.equal(["talos-platform:coredns.replicas"]);
        expect(errors((s) => (s.coredns.values = { replicaCount: 1 })).map((p) => p.path)).to.deep.equal([
            "talos-platform:coredns.values.replicaCount",
        ]);
    });

    it("says that coredns settings do nothing while Talos runs CoreDNS", () => {
        const result = config((s) => {
            s.cluster.coreDnsDisabled = false;
            s.coredns.upstreams = ["8.8.8.8"];
        });
        const w = result.problems.find((p) => p.rule === "coredns-settings-unused")!;
        expect(w.severity).to.equal("warning");
        expect(w.message).to.contain("upstreams");
        expect(
            config((s) => ((s.cluster.coreDnsDisabled = false), (s.coredns = {}))).problems.some(
                (p) => p.rule === "coredns-settings-unused",
            ),
        ).to.equal(false);
    });
});

describe("DNS phase in the plan", () => {
    let talosOwned: Plan;
    before(async () => {
        talosOwned = await planDev((s) => {
            s.cluster.coreDnsDisabled = false;
            s.coredns = {};
        });
    });

    it("installs no second CoreDNS when Talos runs its own, and still gates on it", () => {
        expect(talosOwned.errors).to.deep.equal([]);
        const coredns = byName(talosOwned, "coredns");
        expect(talosOwned.resources.filter((r) => r.parent === coredns.urn)).to.deep.equal([]);
        expect(talosOwned.resources.some((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "coredns")).to.equal(
            false,
        );
        const gate = byName(talosOwned, "dns-gate");
        expect(gate.dependsOn).to.deep.equal([byName(talosOwned, "network-gate").urn]);
        expect(talosOwned.phases.find((p) => p.name === "dns")!.gate).to.equal(gate.urn);
    });

    it("installs the pinned chart into kube-system when this program owns CoreDNS, after the network gate", async () => {
        const plan = await planDev();
        const release = byName(plan, "coredns-release");
        expect(release.phase).to.equal("dns");
        expect(release.inputs).to.include({ chart: "coredns", version: "1.46.2", namespace: "kube-system", createNamespace: false });
        expect((release.inputs.values as Json).service.clusterIPs).to.deep.equal(["10.96.0.10", "fd47:25e1:2f96:51:1000::a"]);
        expect(byName(plan, "coredns").dependsOn).to.deep.equal([byName(plan, "network-gate").urn]);
    });
});
