import { expect } from "chai";
import { resolveSection } from "../lib/config";
import type { CiliumConfig } from "../lib/config/cilium";
import type { ClusterConfig } from "../lib/config/cluster";
import { valueAt } from "../lib/merge";
import { bgpSecretsNamespace, ciliumValues } from "../lib/values/cilium";
import { unknownChartKeys } from "./chart-keys";
import { Json } from "./helpers";
import { valuesErrors } from "./schemas";

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
