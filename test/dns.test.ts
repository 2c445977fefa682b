import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { validateConfig } from "../lib/config";
import { reservedClusterIP } from "../lib/checks/dns";
import { isUpstream } from "../lib/config/coredns";
import { parseCidr } from "../lib/net";
import type { Plan } from "../lib/plan/model";
import { corednsValues } from "../lib/values/coredns";
import { unknownChartKeys } from "./chart-keys";
import { SCHEMAS } from "./schemas";
import {
    byName,
    customDomainStack,
    devSections,
    devStackFindings,
    Json,
    newErrors,
    newProblems,
    planCustomDomain,
    planDev,
    raw,
    singleStack,
} from "./helpers";

// The custom-domain test stack, where this program installs CoreDNS.
function config(edit?: (s: Record<string, Json>) => void) {
    const s = devSections();
    customDomainStack(s);
    edit?.(s);
    return validateConfig(raw(s));
}
/** The errors an edit of the custom-domain stack brings; a warning the test did not name fails it (see newErrors). */
const errors = (edit: (s: Record<string, Json>) => void, warnings: string[] = []) => newErrors(edit, { warnings, base: customDomainStack });
/** Every problem an edit of the custom-domain stack brings, errors and warnings alike (see newProblems). */
const problems = (edit: (s: Record<string, Json>) => void) => newProblems(edit, {}, customDomainStack);
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
        expect(valuesOf().prometheus.monitor).to.deep.equal({ enabled: false });
    });

    it("uses only keys the coredns 1.46.2 chart knows", () => {
        // fullnameOverride is read by the chart's _helpers.tpl but not listed in values.yaml.
        const known = (v: unknown) => unknownChartKeys("coredns", "1.46.2", v, ["fullnameOverride"]);
        expect(known(valuesOf())).to.deep.equal([]);
        expect(known({ ...valuesOf(), replicaCont: 3 })).to.deep.equal(["replicaCont"]);
    });
});

describe("CoreDNS config checks", () => {
    it("start from the custom-domain stack's own findings: the dev stack's advisory and the DNS-01 overlap, nothing else", () => {
        // What every other test here compares against: a finding of the stack itself would hide from them.
        expect(devStackFindings(customDomainStack).map((p) => [p.severity, p.rule, p.path])).to.deep.equal([
            ["warning", "lb-pool-not-announced", "talos-platform:cilium.loadBalancerPools[3]"],
            ["warning", "dns01-cluster-domain", "talos-platform:certManager.issuers[2].acme.cloudflare.dnsZones[0]"],
        ]);
    });

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
        // A schema error in the section: the checks that read it wait for the fix, and say so.
        const p = errors((s) => (s.coredns.upstreams = ["1.1.1.1", "dns.google"]), ["checks-skipped"]);
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

    it("checks ClusterIPs set through the values escape hatch, under that key and nowhere else", () => {
        const p = errors((s) => (s.coredns.values = { service: { clusterIPs: ["10.96.0.1"] } }));
        expect(p.map((x) => [x.path, x.value])).to.deep.equal([["talos-platform:coredns.values.service.clusterIPs[0]", "10.96.0.1"]]);
        expect(p[0].message).to.contain("kubernetes Service");
    });

    it("takes ClusterIPs from the escape hatch without a spurious error, deriving clusterIP and the family policy from them", () => {
        const edit = (s: Record<string, Json>) =>
            (s.coredns.values = { service: { clusterIPs: ["10.96.0.53", "fd47:25e1:2f96:51:1000::35"] } });
        // Valid, but not where Talos points kubelet: that is the only finding.
        expect(problems(edit).map((p) => [p.severity, p.rule, p.path])).to.deep.equal([
            ["warning", "coredns-not-at-cluster-dns", "talos-platform:coredns.values.service.clusterIPs"],
        ]);
        expect(valuesOf(edit).service).to.deep.include({
            clusterIP: "10.96.0.53",
            clusterIPs: ["10.96.0.53", "fd47:25e1:2f96:51:1000::35"],
            ipFamilyPolicy: "RequireDualStack",
        });
        const single = (s: Record<string, Json>) => (singleStack(s), (s.coredns.values = { service: { clusterIPs: ["10.96.0.53"] } }));
        expect(errors(single, ["coredns-not-at-cluster-dns"])).to.deep.equal([]);
        expect(valuesOf(single).service).to.deep.include({ clusterIP: "10.96.0.53", ipFamilyPolicy: "SingleStack" });
    });

    it("refuses an empty list of ClusterIPs from the escape hatch, which would leave the address to chance", () => {
        const p = errors((s) => (s.coredns.values = { service: { clusterIPs: [] } }));
        expect(p.map((x) => [x.path, x.value])).to.deep.equal([["talos-platform:coredns.values.service.clusterIPs", []]]);
        expect(p[0].fix).to.contain("10.96.0.10, fd47:25e1:2f96:51:1000::a");
    });

    it("refuses a clusterIP that differs from the first ClusterIP, naming both keys", () => {
        const p = errors((s) => (s.coredns.values = { service: { clusterIP: "10.96.0.11" } }));
        expect(p.map((x) => [x.path, x.value])).to.deep.equal([["talos-platform:coredns.values.service.clusterIP", "10.96.0.11"]]);
        expect(p[0].message).to.contain("talos-platform:cluster.serviceSubnets[0]").and.contain("10.96.0.10");
    });

    it("refuses the addresses the Service IP allocator never hands out, and accepts the ones it does", () => {
        // Every finding, errors and warnings: a reserved address is refused, and only an allowed one earns the kubelet warning.
        const paths = (ips: string[]) =>
            problems((s) => (s.coredns.clusterIPs = ips)).map((x) => {
                const at = x.path.replace("talos-platform:coredns.", "");
                return x.severity === "error" ? `${at} ${x.message}` : `${x.severity} ${x.rule} ${at}`;
            });
        expect(paths(["10.96.0.0", "fd47:25e1:2f96:51:1000::a"])).to.deep.equal([
            "clusterIPs[0] is the subnet's network address, which the API server never hands out",
        ]);
        expect(paths(["10.111.255.255", "fd47:25e1:2f96:51:1000::a"])).to.deep.equal([
            "clusterIPs[0] is the subnet's broadcast address, which the API server never hands out",
        ]);
        expect(paths(["10.96.0.10", "fd47:25e1:2f96:51:1000::"])).to.deep.equal([
            "clusterIPs[1] is the subnet's first address (its subnet-router anycast address), which the API server never hands out",
        ]);
        // IPv6 has no broadcast address, and the kubernetes Service takes the first usable address of the first subnet only.
        // Allowed addresses that are not Talos' clusterDNS: a warning, and only then.
        const elsewhere = "warning coredns-not-at-cluster-dns clusterIPs";
        expect(paths(["10.111.255.254", "fd47:25e1:2f96:51:1000::f:ffff"])).to.deep.equal([elsewhere]);
        expect(paths(["10.96.0.10", "fd47:25e1:2f96:51:1000::1"])).to.deep.equal([elsewhere]);
        expect(paths(["10.96.0.10", "fd47:25e1:2f96:51:1000::a"])).to.deep.equal([]);
    });

    it("reports a ClusterIP that is not an address as such, not as outside the subnet", () => {
        const p = errors((s) => (s.coredns.values = { service: { clusterIPs: ["foo"] } }));
        expect(p.map((x) => [x.path, x.message, x.value])).to.deep.equal([
            ["talos-platform:coredns.values.service.clusterIPs[0]", "is not an IP address", "foo"],
        ]);
    });

    it("reports escape-hatch values of the wrong kind as such, naming key, value and fix, without a stack trace", () => {
        const list = errors((s) => (s.coredns.values = { service: { clusterIPs: "10.96.0.10" } }));
        expect(list.map((x) => [x.path, x.message, x.value])).to.deep.equal([
            ["talos-platform:coredns.values.service.clusterIPs", "must be a list of strings, not a string", "10.96.0.10"],
        ]);
        expect(list[0].fix).to.contain("a list of strings");
        const element = errors((s) => (s.coredns.values = { service: { clusterIPs: ["foo", 3] } }));
        expect(element.map((x) => [x.path, x.message, x.value])).to.deep.equal([
            ["talos-platform:coredns.values.service.clusterIPs[1]", "must be a string, not a number", 3],
        ]);
        const map = errors((s) => (s.coredns.values = { service: "kube-dns" }));
        expect(map.map((x) => [x.path, x.message])).to.deep.equal([
            ["talos-platform:coredns.values.service", "must be a map, not a string"],
        ]);
        const labels = errors((s) => (s.coredns.values = { customLabels: { tier: 1 }, customAnnotations: "x" }));
        expect(labels.map((x) => x.path)).to.have.members([
            "talos-platform:coredns.values.customLabels.tier",
            "talos-platform:coredns.values.customAnnotations",
        ]);
        expect(labels).to.have.length(2);
    });

    it("rejects a service subnet too small for the default address, and takes one just large enough", () => {
        // Talos gives kube-dns the tenth address of the service subnet: a /29 (8 addresses) has none, a /28 (16) has it.
        const p = errors((s) => {
            singleStack(s);
            s.cluster.serviceSubnets = ["10.96.0.0/29"];
        });
        expect(p.map((x) => [x.path, x.message, x.fix, x.value])).to.deep.equal([
            [
                "talos-platform:cluster.serviceSubnets[0]",
                "is too small to hold CoreDNS' default address (its tenth)",
                "use a larger service subnet, or set coredns.clusterIPs",
                "10.96.0.0/29",
            ],
        ]);
        const fits = errors((s) => {
            singleStack(s);
            s.cluster.serviceSubnets = ["10.96.0.0/28"];
        });
        expect(fits).to.deep.equal([]);
    });

    it("refuses an empty list of ClusterIPs in the values, and more addresses than service subnets", () => {
        const none = errors((s) => (s.coredns.values = { service: { clusterIPs: [] } }));
        expect(none.map((x) => [x.path, x.message, x.fix])).to.deep.equal([
            [
                "talos-platform:coredns.values.service.clusterIPs",
                "lists no address, so the API server would pick kube-dns' ClusterIP at random, where kubelet does not send pods",
                // The tenth address of each of the dev stack's service subnets, 10.96.0.0/12 and fd47:25e1:2f96:51:1000::/108.
                "list one address per service subnet, e.g. 10.96.0.10, fd47:25e1:2f96:51:1000::a, or remove the key",
            ],
        ]);
        // Through the values: the typed key's schema takes no more than that and only addresses.
        const clusterIPs = (ips: string[]) => (s: Record<string, Json>) => (s.coredns.values = { service: { clusterIPs: ips } });
        const three = errors(clusterIPs(["10.96.0.10", "fd47:25e1:2f96:51:1000::a", "10.96.0.11"]));
        expect(three.map((x) => [x.path, x.message, x.fix])).to.deep.equal([
            [
                "talos-platform:coredns.values.service.clusterIPs",
                "lists 3 addresses but the cluster has 2 service subnet(s)",
                "give one address per service subnet, in the same order",
            ],
        ]);
    });

    it("offers the subnet's tenth address as the example when an address is not one or lies outside", () => {
        const clusterIPs = (ips: string[]) => (s: Record<string, Json>) => (s.coredns.values = { service: { clusterIPs: ips } });
        const notIp = errors(clusterIPs(["dns", "fd47:25e1:2f96:51:1000::a"]));
        expect(notIp.map((x) => x.fix)).to.deep.equal(["write a plain address inside 10.96.0.0/12, e.g. 10.96.0.10"]);
        const outside = errors(clusterIPs(["10.112.0.10", "fd47:25e1:2f96:51:1000::a"]));
        expect(outside.map((x) => [x.path, x.fix])).to.deep.equal([
            ["talos-platform:coredns.values.service.clusterIPs[0]", "pick an address inside 10.96.0.0/12, e.g. 10.96.0.10"],
        ]);
        expect(outside[0].message).to.contain("is outside talos-platform:cluster.serviceSubnets[0] (10.96.0.0/12)");
        const reserved = errors(clusterIPs(["10.96.0.1", "fd47:25e1:2f96:51:1000::a"]));
        expect(reserved.map((x) => [x.message, x.fix])).to.deep.equal([
            [
                "is the kubernetes Service's address (the first usable one of the subnet)",
                "pick another address inside 10.96.0.0/12, e.g. 10.96.0.10",
            ],
        ]);
    });

    it("judges an address only against a subnet of its own family", () => {
        // ::a60:0 and ::a60:1 have the numeric values of 10.96.0.0 and 10.96.0.1, the IPv4 subnet's reserved addresses.
        const v4 = parseCidr("10.96.0.0/12")!;
        expect(reservedClusterIP(v4, "10.96.0.0", true)).to.contain("network address");
        expect(reservedClusterIP(v4, "::a60:0", true)).to.equal(undefined);
        expect(reservedClusterIP(v4, "::a60:1", true)).to.equal(undefined);
        expect(reservedClusterIP(v4, "not an address", true)).to.equal(undefined);
    });

    it("warns, without blocking, when kube-dns is not where Talos points kubelet", () => {
        const found = problems((s) => (s.coredns.clusterIPs = ["10.96.0.53", "fd47:25e1:2f96:51:1000::35"]));
        expect(found.map((p) => [p.severity, p.rule, p.path])).to.deep.equal([
            ["warning", "coredns-not-at-cluster-dns", "talos-platform:coredns.clusterIPs"],
        ]);
        const w = found[0];
        expect(w.message).to.contain("10.96.0.10");
        expect(w.fix).to.contain("machine.kubelet.clusterDNS");
    });

    it("refuses fewer than two replicas, typed or through values", () => {
        // replicas has a schema minimum of 2: the section does not parse, and its checks wait for the fix.
        expect(errors((s) => (s.coredns.replicas = 1), ["checks-skipped"]).map((p) => p.path)).to.deep.equal([
            "talos-platform:coredns.replicas",
        ]);
        expect(errors((s) => (s.coredns.values = { replicaCount: 1 })).map((p) => p.path)).to.deep.equal([
            "talos-platform:coredns.values.replicaCount",
        ]);
    });

    it("reports a replica count of the wrong kind as a type error, not as too few", () => {
        const p = errors((s) => (s.coredns.values = { replicaCount: "3" }));
        expect(p.map((x) => [x.path, x.message, x.value])).to.deep.equal([
            ["talos-platform:coredns.values.replicaCount", "must be a whole number, not a string", "3"],
        ]);
        // An autoscaler's minimum likewise: "1" is a string, not one replica.
        const min = errors((s) => (s.coredns.values = { hpa: { enabled: true, minReplicas: "1" } }));
        expect(min.map((x) => [x.path, x.message, x.value])).to.deep.equal([
            ["talos-platform:coredns.values.hpa.minReplicas", "must be a whole number, not a string", "1"],
        ]);
    });

    it("counts the chart's autoscalers: an HPA's minimum, and the proportional autoscaler's", () => {
        const hpa = errors((s) => (s.coredns.values = { hpa: { enabled: true } }));
        expect(hpa.map((x) => [x.path, x.value])).to.deep.equal([["talos-platform:coredns.values.hpa.minReplicas", 1]]);
        expect(hpa[0].message).to.contain("chart's default");
        expect(errors((s) => (s.coredns.values = { hpa: { enabled: true, minReplicas: 2, maxReplicas: 4 } }))).to.deep.equal([]);
        // preventSinglePointFailure (on by default) keeps two replicas whatever autoscaler.min says.
        expect(errors((s) => (s.coredns.values = { autoscaler: { enabled: true } }))).to.deep.equal([]);
        const cpa = errors((s) => (s.coredns.values = { autoscaler: { enabled: true, preventSinglePointFailure: false, min: 1 } }));
        expect(cpa.map((x) => [x.path, x.value])).to.deep.equal([["talos-platform:coredns.values.autoscaler.min", 1]]);
        // With an autoscaler on, the replica count is not what runs.
        expect(errors((s) => (s.coredns.values = { replicaCount: 1, hpa: { enabled: true, minReplicas: 3 } }))).to.deep.equal([]);
    });

    it("words the replica problem with the count, and says when the count is the chart's default", () => {
        const one = errors((s) => (s.coredns.values = { replicaCount: 1 }));
        expect(one.map((p) => p.message)).to.deep.equal(["leaves CoreDNS with 1 replica; one node drain would stop DNS"]);
        const cpaMin = errors((s) => (s.coredns.values = { autoscaler: { enabled: true, preventSinglePointFailure: false, min: 1 } }));
        expect(cpaMin.map((p) => p.message)).to.deep.equal(["leaves CoreDNS with 1 replica; one node drain would stop DNS"]);
        // null deletes the program's count, so the chart's own replicaCount (its values.yaml) runs.
        const chart = parse(fs.readFileSync(path.join(SCHEMAS, "helm", "coredns", "1.46.2", "values.yaml"), "utf8")).replicaCount;
        expect(chart, "the coredns chart's default").to.equal(1);
        expect(errors((s) => (s.coredns.values = { replicaCount: null })).map((p) => [p.path, p.message, p.value])).to.deep.equal([
            [
                "talos-platform:coredns.values.replicaCount",
                `leaves CoreDNS with ${chart} replica (the chart's default); one node drain would stop DNS`,
                chart,
            ],
        ]);
        const chartDefault = errors((s) => (s.coredns.values = { autoscaler: { enabled: true, preventSinglePointFailure: false } }));
        expect(chartDefault.map((p) => [p.path, p.message])).to.deep.equal([
            [
                "talos-platform:coredns.values.autoscaler.min",
                "leaves CoreDNS with 0 replicas (the chart's default); one node drain would stop DNS",
            ],
        ]);
    });

    it("checks no ClusterIP and no replica count while Talos runs CoreDNS: the settings only earn the unused warning", () => {
        const found = newProblems((s) => {
            s.cluster.coreDnsDisabled = false;
            s.coredns.clusterIPs = ["10.96.0.1", "10.96.0.11"];
            s.coredns.values = { replicaCount: 1 };
        });
        expect(found.map((p) => [p.severity, p.rule, p.path])).to.deep.equal([
            ["warning", "coredns-settings-unused", "talos-platform:coredns.clusterIPs"],
        ]);
    });

    it("needs room for the tenth address only when it picks the address itself", () => {
        const tiny = (s: Record<string, Json>) => (singleStack(s), (s.cluster.serviceSubnets = ["10.96.0.0/29"]));
        expect(errors(tiny).map((p) => p.path)).to.deep.equal(["talos-platform:cluster.serviceSubnets[0]"]);
        expect(errors((s) => (tiny(s), (s.coredns.clusterIPs = ["10.96.0.5"])), ["coredns-not-at-cluster-dns"])).to.deep.equal([]);
        expect(
            errors((s) => (tiny(s), (s.coredns.values = { service: { clusterIPs: ["10.96.0.5"] } })), ["coredns-not-at-cluster-dns"]),
        ).to.deep.equal([]);
    });

    it("says that coredns settings do nothing while Talos runs CoreDNS", () => {
        const result = config((s) => {
            s.cluster.coreDnsDisabled = false;
            s.coredns.upstreams = ["8.8.8.8"];
        });
        const w = result.problems.find((p) => p.rule === "coredns-settings-unused")!;
        expect(w.severity).to.equal("warning");
        expect(w.path).to.equal("talos-platform:coredns.upstreams");
        expect(w.message, "the key is named once, as the path").to.not.contain("upstreams");
        expect(w.message).to.equal(
            "has no effect: cluster.coreDnsDisabled is false, so Talos runs CoreDNS and this program only gates on it",
        );
        const two = config((s) => {
            s.cluster.coreDnsDisabled = false;
            s.coredns.upstreams = ["8.8.8.8"];
            s.coredns.replicas = 3;
        }).problems.find((p) => p.rule === "coredns-settings-unused")!;
        expect(two.message).to.match(/only gates on it \(nor do talos-platform:coredns\.replicas\)$/);
        expect(two.fix).to.equal(
            "set cluster.coreDnsDisabled to true (and Talos cluster.coreDNS.disabled) to let this program own CoreDNS, or remove these keys",
        );
        const three = config((s) => {
            s.cluster.coreDnsDisabled = false;
            s.coredns.upstreams = ["8.8.8.8"];
            s.coredns.replicas = 3;
            s.coredns.clusterDomainFallthrough = false;
        }).problems.find((p) => p.rule === "coredns-settings-unused")!;
        expect(three.message).to.match(/\(nor do talos-platform:coredns\.replicas, talos-platform:coredns\.clusterDomainFallthrough\)$/);
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
        const plan = await planCustomDomain();
        const release = byName(plan, "coredns-release");
        expect(release.phase).to.equal("dns");
        expect(release.inputs).to.include({ chart: "coredns", version: "1.46.2", namespace: "kube-system", createNamespace: false });
        expect(release.inputs.repositoryOpts).to.deep.equal({ repo: "https://coredns.github.io/helm" });
        expect((release.inputs.values as Json).service.clusterIPs).to.deep.equal(["10.96.0.10", "fd47:25e1:2f96:51:1000::a"]);
        expect(byName(plan, "coredns").dependsOn).to.deep.equal([byName(plan, "network-gate").urn]);
    });
});
