import { expect } from "chai";
import { resolveSection } from "../lib/config";
import type { CiliumConfig } from "../lib/config/cilium";
import type { ClusterConfig } from "../lib/config/cluster";
import { valueAt } from "../lib/merge";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { AGENT_CLIENT_RATE, bgpSecretsNamespace, ciliumValues, l2ClientRateLimit } from "../lib/values/cilium";
import { unknownChartKeys } from "./chart-keys";
import { Json, newErrors } from "./helpers";
import { SCHEMAS, valuesErrors } from "./schemas";

const BASE_CLUSTER = {
    name: "home-ops",
    apiEndpoint: "https://172.29.51.10:6443",
    nodeSubnets: ["172.29.51.0/24"],
    kubeProxyDisabled: true,
};

function cluster(extra: Json = {}): ClusterConfig {
    return resolveSection("cluster", { ...BASE_CLUSTER, ...extra });
}

function cilium(extra: Json = {}): CiliumConfig {
    return resolveSection("cilium", extra);
}

const DUAL = { podSubnets: ["10.244.0.0/16", "fd47:25e1:2f96:51::/64"], serviceSubnets: ["10.96.0.0/12", "fd47:25e1:2f96:51:1000::/108"] };
const BGP = { localASN: 64512, peers: [{ address: "172.29.51.1", asn: 64513 }] };

describe("Cilium values for Talos", () => {
    it("single-stack with KubePrism: the Talos install guide's values, IPv4 only, API through localhost:7445", () => {
        const v = ciliumValues(cluster(), cilium());
        expect(v).to.deep.include({
            ipam: { mode: "kubernetes" },
            kubeProxyReplacement: true,
            k8sServiceHost: "localhost",
            k8sServicePort: 7445,
            cgroup: { autoMount: { enabled: false }, hostRoot: "/sys/fs/cgroup" },
            ipv4: { enabled: true },
            ipv6: { enabled: false },
        });
        expect(valueAt(v, "securityContext.capabilities.ciliumAgent")).to.deep.equal([
            "CHOWN",
            "KILL",
            "NET_ADMIN",
            "NET_RAW",
            "IPC_LOCK",
            "SYS_ADMIN",
            "SYS_RESOURCE",
            "DAC_OVERRIDE",
            "FOWNER",
            "SETGID",
            "SETUID",
        ]);
        expect(valueAt(v, "securityContext.capabilities.cleanCiliumState")).to.deep.equal(["NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"]);
        // Nothing configured, nothing enabled; Cilium's cluster.name stays its default.
        expect(v).to.not.have.any.keys("bgpControlPlane", "l2announcements", "bpf", "cluster");
    });

    it("dual-stack enables IPv6 next to IPv4", () => {
        const v = ciliumValues(cluster(DUAL), cilium());
        expect(v.ipv4).to.deep.equal({ enabled: true });
        expect(v.ipv6).to.deep.equal({ enabled: true });
    });

    it("IPv6-only turns IPv4 off", () => {
        const v = ciliumValues(cluster({ podSubnets: ["fd00:10:244::/56"], serviceSubnets: ["fd00:10:96::/112"] }), cilium());
        expect(v.ipv4).to.deep.equal({ enabled: false });
        expect(v.ipv6).to.deep.equal({ enabled: true });
    });

    it("without KubePrism, reaches the API server at the endpoint's own host and port", () => {
        const v = ciliumValues(cluster({ kubePrism: { enabled: false } }), cilium());
        expect(v).to.include({ k8sServiceHost: "172.29.51.10", k8sServicePort: 6443 });
        const v6 = ciliumValues(cluster({ kubePrism: { enabled: false }, apiEndpoint: "https://[fd47::10]" }), cilium());
        expect(v6).to.include({ k8sServiceHost: "fd47::10", k8sServicePort: 443 });
    });

    it("with KubePrism on a custom port, uses that port", () => {
        expect(ciliumValues(cluster({ kubePrism: { port: 7446 } }), cilium())).to.include({
            k8sServiceHost: "localhost",
            k8sServicePort: 7446,
        });
    });

    it("follows Talos' kube-proxy: replacement off when Talos runs kube-proxy", () => {
        expect(ciliumValues(cluster({ kubeProxyDisabled: false }), cilium()).kubeProxyReplacement).to.equal(false);
    });

    it("enables the BGP control plane, reading passwords from Cilium's namespace, only when BGP is configured", () => {
        const v = ciliumValues(cluster(), cilium({ bgp: BGP, namespace: "cilium" }));
        expect(v.bgpControlPlane).to.deep.equal({ enabled: true, secretsNamespace: { name: "cilium" } });
        expect(bgpSecretsNamespace(v)).to.equal("cilium");
        expect(bgpSecretsNamespace(ciliumValues(cluster(), cilium()))).to.equal("kube-system");
    });

    it("enables L2 announcements when configured, and no externalIPs key, which Cilium 1.19 does not have", () => {
        const v = ciliumValues(cluster(), cilium({ l2Announcements: [{ name: "lan", externalIPs: true }] }));
        expect(v.l2announcements).to.deep.equal({ enabled: true });
        expect(v).to.not.have.property("externalIPs");
    });

    it("leaves Cilium's cluster.name alone, even for a cluster name longer than Cilium's 32 characters", () => {
        const long = "a".repeat(40);
        expect(ciliumValues(cluster({ name: long }), cilium())).to.not.have.property("cluster");
        expect(valueAt(ciliumValues(cluster(), cilium({ values: { cluster: { name: "home" } } })), "cluster.name")).to.equal("home");
    });

    it("turns on legacy host routing when Talos forwards kube-dns to the host and eBPF masquerading is on", () => {
        const masq = { values: { bpf: { masquerade: true } } };
        expect(valueAt(ciliumValues(cluster(), cilium(masq)), "bpf.hostLegacyRouting")).to.equal(true);
        expect(valueAt(ciliumValues(cluster({ forwardKubeDNSToHost: false }), cilium(masq)), "bpf.hostLegacyRouting")).to.equal(undefined);
        expect(valueAt(ciliumValues(cluster(), cilium()), "bpf.hostLegacyRouting")).to.equal(undefined);
    });

    it("gives cluster-pool IPAM the Talos pod subnets, host bits masked, instead of Cilium's 10.0.0.0/8", () => {
        const v = ciliumValues(
            cluster({ podSubnets: ["10.244.0.0/16", "fd47:25e1:2f96:51:2000::/64"], serviceSubnets: DUAL.serviceSubnets }),
            cilium({ values: { ipam: { mode: "cluster-pool" } } }),
        );
        expect(v.ipam).to.deep.equal({
            mode: "cluster-pool",
            operator: { clusterPoolIPv4PodCIDRList: ["10.244.0.0/16"], clusterPoolIPv6PodCIDRList: ["fd47:25e1:2f96:51::/64"] },
        });
    });

    it("gives cluster-pool IPAM a list only for the families the cluster runs", () => {
        const pool = cilium({ values: { ipam: { mode: "cluster-pool" } } });
        expect(valueAt(ciliumValues(cluster(), pool), "ipam.operator")).to.deep.equal({ clusterPoolIPv4PodCIDRList: ["10.244.0.0/16"] });
        const v6only = cluster({ podSubnets: ["fd00:10:244::/56"], serviceSubnets: ["fd00:10:96::/112"] });
        expect(valueAt(ciliumValues(v6only, pool), "ipam.operator")).to.deep.equal({ clusterPoolIPv6PodCIDRList: ["fd00:10:244::/56"] });
    });

    it("merges the escape hatch last: it can override and delete computed values", () => {
        const v = ciliumValues(
            cluster(),
            cilium({ values: { k8sServicePort: 6443, cgroup: { autoMount: null }, hubble: { enabled: false } } }),
        );
        expect(v.k8sServicePort).to.equal(6443);
        expect(v.cgroup).to.deep.equal({ hostRoot: "/sys/fs/cgroup" });
        expect(v.hubble).to.deep.equal({ enabled: false });
    });
});

/** The vendored Cilium 1.19.4 chart's values.yaml, parsed. */
function chartDefaults(): Json {
    return parse(fs.readFileSync(path.join(SCHEMAS, "helm", "cilium", "1.19.4", "values.yaml"), "utf8"));
}

describe("Cilium pod rollouts on config change", () => {
    it("turns on the three switches the 1.19.4 chart has, each off by default there", () => {
        const chart = chartDefaults();
        // The chart's own keys and defaults: a misspelled switch would be a key values.yaml lacks.
        expect([chart.rollOutCiliumPods, chart.operator.rollOutPods, chart.envoy.rollOutPods]).to.deep.equal([false, false, false]);
        const v = ciliumValues(cluster(), cilium());
        expect([valueAt(v, "rollOutCiliumPods"), valueAt(v, "operator.rollOutPods"), valueAt(v, "envoy.rollOutPods")]).to.deep.equal([
            true,
            true,
            true,
        ]);
    });

    it("leaves each switch to the escape hatch", () => {
        const v = ciliumValues(cluster(), cilium({ values: { rollOutCiliumPods: false, envoy: { rollOutPods: null } } }));
        expect(valueAt(v, "rollOutCiliumPods")).to.equal(false);
        expect(valueAt(v, "envoy")).to.deep.equal({});
        expect(valueAt(v, "operator.rollOutPods")).to.equal(true);
    });
});

describe("Cilium operator replicas", () => {
    it("defaults to the chart's own count, 2", () => {
        expect(chartDefaults().operator.replicas).to.equal(2);
        expect(valueAt(ciliumValues(cluster(), cilium()), "operator.replicas")).to.equal(2);
    });

    it("takes 1 for a cluster that knows it runs on one node, and refuses 0", () => {
        expect(valueAt(ciliumValues(cluster(), cilium({ operatorReplicas: 1 })), "operator.replicas")).to.equal(1);
        // A schema minimum: the cilium section does not parse, and the checks that read it wait for the fix.
        const errors = newErrors((s) => (s.cilium.operatorReplicas = 0), { warnings: ["checks-skipped"] });
        expect(errors.map((p) => p.path)).to.deep.equal(["talos-platform:cilium.operatorReplicas"]);
    });
});

describe("the agent's API client rate limit with L2 announcements (Cilium 1.19 L2 announcements guide)", () => {
    const L2 = { l2Announcements: [{ name: "lan" }] };

    it("sizes the lease traffic as the guide's example does: 65 Services, 2s renew deadline, 32.5 QPS", () => {
        // The guide's "Sizing client rate limit": QPS = #services * (1 / leaseRenewDeadline) = 65 * (1 / 2s) = 32.5,
        // rounded up to whole requests (the chart takes integers), on top of the agent's own 10 QPS / 20 burst
        // (the chart's @default of k8sClientRateLimit.qps and .burst).
        const v = ciliumValues(
            cluster(),
            cilium({ ...L2, l2AnnouncedServices: 65, values: { l2announcements: { leaseRenewDeadline: "2s" } } }),
        );
        expect(v.k8sClientRateLimit).to.deep.equal({ qps: 10 + 33, burst: 20 + 33 });
        expect(l2ClientRateLimit(64, "2s")).to.deep.equal({ qps: 10 + 32, burst: 20 + 32 });
    });

    it("starts from the agent's own limit, which the 1.19.4 chart documents as 10 QPS and a burst of 20", () => {
        const text = fs.readFileSync(path.join(SCHEMAS, "helm", "cilium", "1.19.4", "values.yaml"), "utf8");
        const m = /^k8sClientRateLimit:[\s\S]*?@default -- (\d+)\n\s+qps:[\s\S]*?@default -- (\d+)\n\s+burst:/m.exec(text);
        expect(m && [Number(m[1]), Number(m[2])]).to.deep.equal([AGENT_CLIENT_RATE.qps, AGENT_CLIENT_RATE.burst]);
    });

    it("uses the guide's default renew deadline, 5s, and 50 Services unless told", () => {
        expect(ciliumValues(cluster(), cilium(L2)).k8sClientRateLimit).to.deep.equal({ qps: 20, burst: 30 });
        expect(l2ClientRateLimit(1, undefined)).to.deep.equal({ qps: 11, burst: 21 });
        expect(l2ClientRateLimit(5, "5s")).to.deep.equal({ qps: 11, burst: 21 });
        expect(l2ClientRateLimit(6, "5s")).to.deep.equal({ qps: 12, burst: 22 });
        // A sub-second deadline (the guide's fast-failover example) multiplies the traffic.
        expect(l2ClientRateLimit(50, "200ms")).to.deep.equal({ qps: 260, burst: 270 });
        // Not a duration Cilium takes: sized for its default.
        expect(l2ClientRateLimit(50, 5)).to.deep.equal({ qps: 20, burst: 30 });
        // A zero deadline renews nothing: sized for the default too, not for infinite traffic.
        expect(l2ClientRateLimit(50, "0s")).to.deep.equal({ qps: 20, burst: 30 });
    });

    it("sets no rate limit without L2 announcements, refuses a count below 1, and lets the escape hatch decide", () => {
        expect(ciliumValues(cluster(), cilium())).to.not.have.property("k8sClientRateLimit");
        const v = ciliumValues(cluster(), cilium({ ...L2, values: { k8sClientRateLimit: { qps: 100 } } }));
        expect(v.k8sClientRateLimit).to.deep.equal({ qps: 100, burst: 30 });
        const errors = newErrors((s) => (s.cilium.l2AnnouncedServices = 0), { warnings: ["checks-skipped"] });
        expect(errors.map((p) => p.path)).to.deep.equal(["talos-platform:cilium.l2AnnouncedServices"]);
    });
});

/** Every feature the values builder has: BGP, L2, cluster-pool IPAM, eBPF masquerading, native routing with DSR. */
const EVERY_FEATURE: [ClusterConfig, CiliumConfig] = [
    cluster({ ...DUAL, kubePrism: { enabled: false } }),
    cilium({
        bgp: BGP,
        l2Announcements: [{ name: "lan", externalIPs: true }],
        values: {
            ipam: { mode: "cluster-pool" },
            bpf: { masquerade: true },
            routingMode: "native",
            autoDirectNodeRoutes: true,
            ipv4NativeRoutingCIDR: "10.244.0.0/16",
            ipv6NativeRoutingCIDR: "fd47:25e1:2f96:51::/64",
            loadBalancer: { mode: "dsr" },
        },
    }),
];

const CASES: Array<[string, ClusterConfig, CiliumConfig]> = [
    ["single-stack, KubePrism", cluster(), cilium()],
    ["dual-stack, no KubePrism", cluster({ ...DUAL, kubePrism: { enabled: false } }), cilium()],
    ["BGP and L2", cluster(DUAL), cilium({ bgp: BGP, l2Announcements: [{ name: "lan", externalIPs: true }] })],
    [
        "cluster-pool, masquerading, native routing",
        cluster(DUAL),
        cilium({
            values: {
                ipam: { mode: "cluster-pool" },
                bpf: { masquerade: true },
                routingMode: "native",
                ipv4NativeRoutingCIDR: "10.244.0.0/16",
            },
        }),
    ],
    ["every feature", ...EVERY_FEATURE],
];

describe("Cilium values against Cilium 1.19.4's values.schema.json", () => {
    for (const [label, c, ci] of CASES) {
        it(`validates: ${label}`, () => {
            expect(valuesErrors("cilium", "1.19.4", ciliumValues(c, ci))).to.deep.equal([]);
        });
    }

    it("would catch a value of the wrong type", () => {
        const v = ciliumValues(cluster(), cilium({ values: { ipv6: { enabled: "yes" } } }));
        expect(valuesErrors("cilium", "1.19.4", v).join("\n")).to.contain("/ipv6/enabled must be boolean");
    });
});

// Cilium's values.schema.json allows unknown keys, so a misspelled one passes
// it; the chart's own values.yaml lists every key it reads.
describe("Cilium values against the keys of Cilium 1.19.4's values.yaml", () => {
    for (const [label, c, ci] of CASES) {
        it(`uses only keys the chart knows: ${label}`, () => {
            expect(unknownChartKeys("cilium", "1.19.4", ciliumValues(c, ci))).to.deep.equal([]);
        });
    }

    it("catches a misspelled key that the values schema lets through", () => {
        const v = ciliumValues(cluster(), cilium({ values: { bpf: { masqurade: true } } }));
        expect(valuesErrors("cilium", "1.19.4", v)).to.deep.equal([]);
        expect(unknownChartKeys("cilium", "1.19.4", v)).to.deep.equal(["bpf.masqurade"]);
    });

    it("catches the externalIPs.enabled key of older charts", () => {
        expect(unknownChartKeys("cilium", "1.19.4", { externalIPs: { enabled: true } })).to.deep.equal(["externalIPs"]);
    });
});
