import { expect } from "chai";
import { validateConfig } from "../lib/config";
import { nativeRoutingCidrProblems } from "../lib/checks/cilium";
import { describeProblem, Problem } from "../lib/problems";
import {
    devSections,
    devStackFindings,
    ingressWithoutLoadBalancer,
    Json,
    newProblems,
    raw,
    reportPodSubnets,
    singleStack,
    withoutGateway,
} from "./helpers";

/** Every problem the edit adds to the dev stack, errors, warnings and checks-skipped notes alike (see newProblems). */
const problems = newProblems;

/** Peers with the gateway over IPv6 as well, from an IPv6 node network of the tests' own. */
function ipv6Peer(s: Record<string, Json>): void {
    s.cluster.nodeSubnets = [...s.cluster.nodeSubnets, "fd47:25e1:2f96:50::/64"];
    s.cilium.bgp.peers.push({ name: "gateway-v6", address: "fd47:25e1:2f96:50::1", asn: 64513 });
}

/** Every finding as [severity, rule, path]: tests assert the whole list, so a finding they did not expect fails them. */
const summary = (ps: Problem[]) => ps.map((p) => [p.severity, p.rule, p.path]);

/** The error at `path`, after the test has asserted the whole list with `summary`. */
function errorAt(ps: Problem[], path: string): Problem {
    const found = ps.filter((p) => p.severity === "error" && p.path === path);
    expect(found, `one error at ${path}`).to.have.length(1);
    return found[0];
}

function only(ps: Problem[], path: string, severity: "error" | "warning" = "error"): Problem {
    expect(
        ps.map((p) => `${p.severity} ${describeProblem(p)}`),
        "exactly one problem",
    ).to.have.length(1);
    expect(ps[0].severity).to.equal(severity);
    expect(ps[0].path).to.equal(path);
    expect(ps[0].fix).to.be.a("string").and.not.empty;
    return ps[0];
}

/**
 * The one schema error at `path`, and beside it only the note that the checks
 * reading its section did not run.
 */
function onlySchemaError(ps: Problem[], path: string): Problem {
    const section = path.replace(/^talos-platform:/, "").split(/[.[]/)[0];
    const note = ps.filter((p) => p.rule === "checks-skipped");
    expect(summary(note), "the checks-skipped note").to.deep.equal([["warning", "checks-skipped", K(section)]]);
    return only(
        ps.filter((p) => p.rule !== "checks-skipped"),
        path,
    );
}

const K = (path: string) => `talos-platform:${path}`;

describe("network checks: the dev stack", () => {
    it("has one advisory finding: its IPv6 pool, which its IPv4-only peer does not announce", () => {
        // The dev stack's own finding: its IPv6 pool, which no IPv6 session announces.
        const DEV_FINDINGS = devStackFindings();
        expect(DEV_FINDINGS.map((p) => [p.severity, p.rule, p.path])).to.deep.equal([
            ["warning", "lb-pool-not-announced", K("cilium.loadBalancerPools[3]")],
        ]);
        expect(DEV_FINDINGS[0].fix).to.equal(
            "add a BGP peer with the router's IPv6 address: each session here carries its own address family only (see bgp-family-without-session)",
        );
    });

    it("has no finding once the router is also a peer over IPv6", () => {
        expect(validateConfig(raw(((s) => (ipv6Peer(s), s))(devSections()))).problems).to.deep.equal([]);
    });
});

describe("network checks: kube-proxy replacement", () => {
    it("rejects the incident: Talos kube-proxy disabled, kubeProxyReplacement false, naming both keys", () => {
        const p = only(
            problems((s) => (s.cilium.values = { kubeProxyReplacement: false })),
            K("cilium.values.kubeProxyReplacement"),
        );
        const text = describeProblem(p);
        expect(text).to.contain(K("cluster.kubeProxyDisabled")).and.contain(K("cilium.values.kubeProxyReplacement"));
        expect(text).to.contain("10.96.0.1:443");
        expect(p.value).to.equal(false);
        expect(p.fix)
            .to.contain(`remove ${K("cilium.values.kubeProxyReplacement")}`)
            .and.contain("or set it to true");
    });

    it("rejects the incident through a key deleted with null: the chart's default is false", () => {
        const p = only(
            problems((s) => (s.cilium.values = { kubeProxyReplacement: null })),
            K("cilium.values.kubeProxyReplacement"),
        );
        // The incident itself, not a value of the wrong kind.
        expect(p.message).to.contain(`is false while ${K("cluster.kubeProxyDisabled")} is true`);
    });

    it("rejects the reverse, kube-proxy running with replacement on, naming both keys", () => {
        const p = only(
            problems((s) => {
                s.cluster.kubeProxyDisabled = false;
                s.cilium.values = { kubeProxyReplacement: true };
            }),
            K("cilium.values.kubeProxyReplacement"),
        );
        expect(p.message).to.contain(K("cluster.kubeProxyDisabled")).and.contain("both program");
    });

    it("accepts kube-proxy running without replacement, and the chart's string 'true'", () => {
        // Without the dev stack's Gateway: Cilium serves Gateway API only with kube-proxy replacement.
        expect(
            problems((s) => {
                s.cluster.kubeProxyDisabled = false;
                withoutGateway(s);
            }),
        ).to.deep.equal([]);
        expect(problems((s) => (s.cilium.values = { kubeProxyReplacement: "true" }))).to.deep.equal([]);
        // The 1.19.4 chart's own default is the string "false" (values.yaml: kubeProxyReplacement: "false").
        expect(
            problems((s) => {
                s.cluster.kubeProxyDisabled = false;
                s.cilium.values = { kubeProxyReplacement: "false" };
                withoutGateway(s);
            }),
        ).to.deep.equal([]);
        expect(
            only(
                problems((s) => (s.cilium.values = { kubeProxyReplacement: "false" })),
                K("cilium.values.kubeProxyReplacement"),
            ).message,
        ).to.contain("is false while");
    });

    it("rejects the legacy strings and says which boolean to use", () => {
        const strict = only(
            problems((s) => (s.cilium.values = { kubeProxyReplacement: "strict" })),
            K("cilium.values.kubeProxyReplacement"),
        );
        expect(strict.message).to.contain('"strict"').and.contain("Cilium 1.18 and later take only true or false");
        expect(strict.message).to.contain("kubeProxyReplacement must be explicitly set to a valid value (true or false)");
        expect(strict.fix).to.match(/^use true/);
        expect(strict.value).to.equal("strict");
        const partial = only(
            problems((s) => {
                s.cluster.kubeProxyDisabled = false;
                s.cilium.values = { kubeProxyReplacement: "partial" };
            }),
            K("cilium.values.kubeProxyReplacement"),
        );
        expect(partial.fix).to.match(/^use false/);
        const invalid = only(
            problems((s) => (s.cilium.values = { kubeProxyReplacement: "yes" })),
            K("cilium.values.kubeProxyReplacement"),
        );
        expect(invalid.message).to.equal("must be true or false");
        expect(invalid.value).to.equal("yes");
        expect(invalid.fix).to.match(/^use true: Talos runs no kube-proxy/);
        // Nor is the API server's address checked against a setting that is neither.
        only(
            problems((s) => (s.cilium.values = { kubeProxyReplacement: "yes", k8sServiceHost: "10.96.0.1" })),
            K("cilium.values.kubeProxyReplacement"),
        );
    });

    it("rejects a k8sServiceHost inside a Service subnet while replacing kube-proxy, naming both keys", () => {
        const fromValues = only(
            problems((s) => (s.cilium.values = { k8sServiceHost: "10.96.0.1", k8sServicePort: 443 })),
            K("cilium.values.k8sServiceHost"),
        );
        expect(fromValues.message).to.contain(K("cluster.serviceSubnets[0]")).and.contain("very ClusterIP");
        const fromEndpoint = only(
            problems((s) => {
                s.cluster.kubePrism = { enabled: false };
                s.cluster.apiEndpoint = "https://10.96.0.1:443";
            }),
            K("cluster.apiEndpoint"),
        );
        expect(fromEndpoint.message).to.contain(K("cluster.serviceSubnets[0]"));
        expect(fromEndpoint.value).to.equal("10.96.0.1");
        expect(fromEndpoint.fix)
            .to.contain(`KubePrism (${K("cluster.kubePrism.enabled")}: true, host localhost)`)
            .and.contain(`own address (${K("cluster.apiEndpoint")})`)
            .and.contain(`remove ${K("cilium.values.k8sServiceHost")}`);
    });

    it("rejects an in-cluster name or an empty k8sServiceHost while replacing kube-proxy", () => {
        for (const host of [
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "KUBERNETES.default.",
            "kubernetes.default.svc.cluster.local",
            "kubernetes.default.svc.home.arpa",
        ]) {
            expect(
                only(
                    problems(
                        (s) => (
                            (s.cluster.dnsDomain = host.endsWith("home.arpa") ? "home.arpa" : "cluster.local"),
                            (s.cilium.values = { k8sServiceHost: host })
                        ),
                    ),
                    K("cilium.values.k8sServiceHost"),
                ).message,
                host,
            ).to.contain("in-cluster name");
        }
        for (const host of [null, ""]) {
            const empty = only(
                problems((s) => (s.cilium.values = { k8sServiceHost: host })),
                K("cilium.values.k8sServiceHost"),
            );
            expect(empty.message, String(host)).to.contain("is empty while kube-proxy replacement is on");
        }
    });

    it("accepts KubePrism, the API server's own address, and a Service address when kube-proxy runs", () => {
        expect(problems((s) => (s.cluster.kubePrism = { enabled: false }))).to.deep.equal([]);
        expect(
            problems((s) => {
                s.cluster.kubeProxyDisabled = false;
                s.cilium.values = { k8sServiceHost: "10.96.0.1" };
                withoutGateway(s);
            }),
        ).to.deep.equal([]);
    });
});

describe("network checks: datapath", () => {
    it("rejects forwardKubeDNSToHost with eBPF masquerading when host legacy routing is turned off, naming all three keys", () => {
        const p = only(
            problems((s) => (s.cilium.values = { bpf: { masquerade: true, hostLegacyRouting: false } })),
            K("cilium.values.bpf.hostLegacyRouting"),
        );
        expect(p.message).to.contain(K("cluster.forwardKubeDNSToHost")).and.contain(K("cilium.values.bpf.masquerade"));
        expect(p.value).to.equal(false);
        expect(p.fix).to.contain(`or turn off ${K("cluster.forwardKubeDNSToHost")}`);
    });

    it("accepts eBPF masquerading with the computed host legacy routing, or without host DNS forwarding", () => {
        expect(problems((s) => (s.cilium.values = { bpf: { masquerade: true } }))).to.deep.equal([]);
        expect(
            problems((s) => {
                s.cluster.forwardKubeDNSToHost = false;
                s.cilium.values = { bpf: { masquerade: true, hostLegacyRouting: false } };
            }),
        ).to.deep.equal([]);
    });

    it("rejects DSR and hybrid load balancing on the default VXLAN tunnel", () => {
        for (const mode of ["dsr", "hybrid"]) {
            const p = only(
                problems((s) => (s.cilium.values = { loadBalancer: { mode } })),
                K("cilium.values.loadBalancer.mode"),
            );
            // Cilium's defaults when the chart leaves them empty: tunnel routing over VXLAN.
            expect(p.message).to.contain(`is ${mode} with tunnel routing over vxlan`).and.contain("dead loop");
            expect(p.fix).to.contain("routingMode: native").and.contain("dsrDispatch: geneve");
            expect(p.fix).to.contain("ipv4NativeRoutingCIDR").and.contain("ipv6NativeRoutingCIDR");
        }
    });

    it("rejects Geneve dispatch without the Geneve tunnel protocol", () => {
        const p = only(
            problems((s) => (s.cilium.values = { loadBalancer: { mode: "dsr", dsrDispatch: "geneve" } })),
            K("cilium.values.loadBalancer.dsrDispatch"),
        );
        expect(p.message).to.contain("is geneve while tunnelProtocol is vxlan");
        expect(p.fix).to.contain("set tunnelProtocol: geneve");
    });

    it("rejects native routing without ipv4NativeRoutingCIDR on an IPv4-only cluster", () => {
        only(
            problems((s) => {
                singleStack(s);
                s.cilium.values = { loadBalancer: { mode: "dsr" }, routingMode: "native" };
            }),
            K("cilium.values.ipv4NativeRoutingCIDR"),
        );
    });

    it("rejects native routing on a dual-stack cluster without ipv6NativeRoutingCIDR, IPv6 being masqueraded by default", () => {
        const p = only(
            problems((s) => (s.cilium.values = { routingMode: "native", ipv4NativeRoutingCIDR: "10.244.0.0/16" })),
            K("cilium.values.ipv6NativeRoutingCIDR"),
        );
        expect(p.message).to.contain("IPv6 masquerading").and.contain("does not start");
        const both = problems((s) => (s.cilium.values = { routingMode: "native" }));
        expect(both.map((x) => x.path)).to.deep.equal([K("cilium.values.ipv4NativeRoutingCIDR"), K("cilium.values.ipv6NativeRoutingCIDR")]);
        expect(both[0].message).to.contain("with IPv4 masquerading (enableIPv4Masquerade, on by default)");
        expect(both[0].fix).to.contain("the IPv4 pod subnet");
    });

    it("needs no IPv4 CIDR when IPv4 is off or not masqueraded, or when ENI or Alibaba Cloud IPAM derives it; IPv6 still needs one there", () => {
        const native = { routingMode: "native", ipv6NativeRoutingCIDR: "fd47:25e1:2f96:100::/56" };
        const ipv4Cidr = (values: Json) => nativeRoutingCidrProblems(values).map((p) => p.key);
        expect(ipv4Cidr({ ...native, ipv6: { enabled: true } })).to.deep.equal(["ipv4NativeRoutingCIDR"]);
        expect(ipv4Cidr({ ...native, ipv4: { enabled: false }, ipv6: { enabled: true } })).to.deep.equal([]);
        expect(ipv4Cidr({ ...native, enableIPv4Masquerade: false })).to.deep.equal([]);
        for (const mode of ["eni", "alibabacloud"]) {
            expect(ipv4Cidr({ ...native, ipam: { mode } }), mode).to.deep.equal([]);
            expect(ipv4Cidr({ routingMode: "native", ipam: { mode }, ipv6: { enabled: true } }), mode).to.deep.equal([
                "ipv6NativeRoutingCIDR",
            ]);
        }
        expect(ipv4Cidr({ ...native, ipam: { mode: "kubernetes" } })).to.deep.equal(["ipv4NativeRoutingCIDR"]);
    });

    it("accepts native routing without an IPv6 CIDR when IPv6 is not masqueraded or ip-masq-agent decides", () => {
        const native = { routingMode: "native", ipv4NativeRoutingCIDR: "10.244.0.0/16" };
        expect(problems((s) => (s.cilium.values = { ...native, enableIPv6Masquerade: false }))).to.deep.equal([]);
        expect(problems((s) => (s.cilium.values = { routingMode: "native", ipMasqAgent: { enabled: true } }))).to.deep.equal([]);
    });

    it("accepts DSR on native routing with its CIDRs, and on Geneve with Geneve dispatch", () => {
        expect(
            problems(
                (s) =>
                    (s.cilium.values = {
                        loadBalancer: { mode: "dsr" },
                        routingMode: "native",
                        ipv4NativeRoutingCIDR: "10.244.0.0/16",
                        ipv6NativeRoutingCIDR: "fd47:25e1:2f96:100::/56",
                    }),
            ),
        ).to.deep.equal([]);
        expect(
            problems((s) => (s.cilium.values = { loadBalancer: { mode: "dsr", dsrDispatch: "geneve" }, tunnelProtocol: "geneve" })),
        ).to.deep.equal([]);
    });

    it("rejects cluster-pool IPAM whose pod CIDR list differs from the Talos pod subnets", () => {
        const p = problems(
            (s) =>
                (s.cilium.values = {
                    ipam: { mode: "cluster-pool", operator: { clusterPoolIPv4PodCIDRList: ["10.0.0.0/8"] } },
                }),
        ).filter((x) => x.path.includes("clusterPool"));
        const err = only(p, K("cilium.values.ipam.operator.clusterPoolIPv4PodCIDRList"));
        expect(err.message).to.contain(`differs from ${K("cluster.podSubnets[0]")} (10.244.0.0/16)`);
        expect(err.value).to.deep.equal(["10.0.0.0/8"]);
        const clusterPool = (operator: Json) => (s: Record<string, Json>) =>
            (s.cilium.values = { ipam: { mode: "cluster-pool", operator } });
        // A second range beside the pod subnet hands out addresses Talos does not route as well.
        const extra = problems(clusterPool({ clusterPoolIPv4PodCIDRList: ["10.244.0.0/16", "10.0.0.0/8"] }));
        expect(summary(extra)).to.deep.equal([["error", undefined, K("cilium.values.ipam.operator.clusterPoolIPv4PodCIDRList")]]);
        // Removed with null, the list is Cilium's default, 10.0.0.0/8.
        const unset = only(
            problems(clusterPool({ clusterPoolIPv4PodCIDRList: null })),
            K("cilium.values.ipam.operator.clusterPoolIPv4PodCIDRList"),
        );
        expect(unset.message).to.contain("is unset (Cilium's default is not the cluster's)");
        // The IPv6 list is named after the IPv6 pod subnet, the dev stack's second.
        const v6 = only(
            problems(clusterPool({ clusterPoolIPv6PodCIDRList: ["fd00::/104"] })),
            K("cilium.values.ipam.operator.clusterPoolIPv6PodCIDRList"),
        );
        expect(v6.message).to.contain(K("cluster.podSubnets[1]"));
    });

    it("takes a cluster-pool list as the chart does: a single string too (values.schema.json: array or string), in any spelling of the subnet", () => {
        const clusterPool = (operator: Json) => (s: Record<string, Json>) =>
            (s.cilium.values = { ipam: { mode: "cluster-pool", operator } });
        expect(problems(clusterPool({ clusterPoolIPv4PodCIDRList: "10.244.0.0/16" }))).to.deep.equal([]);
        expect(problems(clusterPool({ clusterPoolIPv4PodCIDRList: "10.0.0.0/8" })).map((p) => p.path)).to.deep.equal([
            K("cilium.values.ipam.operator.clusterPoolIPv4PodCIDRList"),
        ]);
        const v6 = (s: Record<string, Json>) => s.cluster.podSubnets.find((c: string) => c.includes(":"));
        const expanded = problems((s) => {
            const [net, prefix] = v6(s).split("/");
            clusterPool({ clusterPoolIPv6PodCIDRList: [`${net.replace("::", ":0:0::")}/${prefix}`] })(s);
        });
        expect(expanded).to.deep.equal([]);
        // On a single-stack cluster there is no IPv6 list to check.
        expect(
            problems((s) => {
                singleStack(s);
                s.cilium.values = { ipam: { mode: "cluster-pool" } };
            }),
        ).to.deep.equal([]);
    });

    it("accepts cluster-pool IPAM with the computed lists (the report's IPv6 overlap is then reported on its own)", () => {
        expect(problems((s) => (s.cilium.values = { ipam: { mode: "cluster-pool" } }))).to.deep.equal([]);
        const p = problems((s) => {
            reportPodSubnets(s);
            s.cilium.values = { ipam: { mode: "cluster-pool" } };
        });
        expect(summary(p)).to.deep.equal([
            ["warning", "cidr-host-bits", K("cluster.podSubnets[1]")],
            ["error", undefined, K("cluster.podSubnets[1]")],
        ]);
    });
});

describe("network checks: the chart", () => {
    it("refuses a Cilium older than 1.18.0, naming the key, the version and why", () => {
        for (const version of ["1.17.9", "1.18.0-rc.1", "1.9.18"]) {
            const p = onlySchemaError(
                problems((s) => (s.cilium.version = version)),
                K("cilium.version"),
            );
            expect(p.value, version).to.equal(version);
            expect(p.message).to.contain("1.18.0").and.contain("cilium.io/v2");
            expect(p.fix).to.contain("1.18.0 or later");
        }
    });

    it("accepts Cilium 1.18.0 and later", () => {
        for (const version of ["1.18.0", "1.18.7", "1.19.4", "1.20.0", "2.0.0-pre.1"]) {
            // Versions other than 1.19.4 get the advisory that their values went unchecked (chart-values.test.ts).
            expect(
                problems((s) => (s.cilium.version = version)).filter((p) => p.rule !== "chart-values-unchecked"),
                version,
            ).to.deep.equal([]);
        }
    });

    it("checks a cluster.name set through the values against Cilium's 32-character limit", () => {
        for (const name of ["a".repeat(33), "Home_Ops", "-home"]) {
            const p = only(
                problems((s) => (s.cilium.values = { cluster: { name } })),
                K("cilium.values.cluster.name"),
            );
            expect(p.message, name).to.contain("32");
        }
        expect(problems((s) => (s.cilium.values = { cluster: { name: "a".repeat(32) } }))).to.deep.equal([]);
    });

    it("accepts a Talos cluster name longer than Cilium's limit: Cilium's cluster.name is not set from it", () => {
        expect(problems((s) => (s.cluster.name = "a".repeat(63)))).to.deep.equal([]);
    });
});

describe("network checks: features the chart must enable", () => {
    it("rejects BGP configured while the values disable the BGP control plane, naming both keys", () => {
        const p = only(
            problems((s) => (s.cilium.values = { bgpControlPlane: { enabled: false } })),
            K("cilium.values.bgpControlPlane.enabled"),
        );
        expect(p.message).to.contain(K("cilium.bgp"));
        expect(p.value).to.equal(false);
        expect(p.fix).to.contain(`or remove ${K("cilium.bgp")}`);
    });

    it("rejects L2 announcements disabled in the values, or without kube-proxy replacement", () => {
        const l2 = [{ name: "lan", pools: ["bgp-default"] }];
        const disabled = problems((s) => {
            s.cilium.l2Announcements = l2;
            s.cilium.values = { l2announcements: { enabled: false } };
        });
        // bgp-default lies off the node network, which ARP cannot reach: that warning comes with each case.
        const offNodes = ["warning", "l2-pool-outside-node-subnets", K("cilium.loadBalancerPools[0].blocks[0]")];
        expect(summary(disabled)).to.deep.equal([offNodes, ["error", undefined, K("cilium.values.l2announcements.enabled")]]);
        const off = errorAt(disabled, K("cilium.values.l2announcements.enabled"));
        expect(off.value).to.equal(false);
        expect(off.message).to.contain(`while ${K("cilium.l2Announcements")} configures them`);
        expect(off.fix).to.contain(`or remove ${K("cilium.l2Announcements")}`);
        // A legacy kubeProxyReplacement is reported once, at its key, not again as L2 without replacement.
        const legacy = problems((s) => {
            s.cilium.l2Announcements = l2;
            s.cilium.values = { kubeProxyReplacement: "strict" };
        });
        expect(summary(legacy)).to.deep.equal([offNodes, ["error", undefined, K("cilium.values.kubeProxyReplacement")]]);
        const noKpr = problems((s) => {
            s.cluster.kubeProxyDisabled = false;
            s.cilium.l2Announcements = l2;
        });
        // The Gateway needs kube-proxy replacement as well, and says so at its own key.
        expect(summary(noKpr)).to.deep.equal([
            offNodes,
            ["error", undefined, K("cilium.l2Announcements")],
            ["error", undefined, K("gateway.enabled")],
        ]);
        expect(errorAt(noKpr, K("cilium.l2Announcements")).message).to.contain(K("cilium.values.kubeProxyReplacement"));
        expect(errorAt(noKpr, K("cilium.l2Announcements")).fix).to.contain(`set ${K("cluster.kubeProxyDisabled")} to true`);
        // Talos already runs without kube-proxy: the fix is the values key, not the Talos one.
        const kprOff = problems((s) => {
            s.cilium.l2Announcements = l2;
            s.cilium.values = { kubeProxyReplacement: false };
        });
        expect(summary(kprOff)).to.deep.equal([
            offNodes,
            ["error", undefined, K("cilium.values.kubeProxyReplacement")],
            ["error", undefined, K("cilium.l2Announcements")],
        ]);
        const fix = errorAt(kprOff, K("cilium.l2Announcements")).fix;
        expect(fix)
            .to.contain(`remove ${K("cilium.values.kubeProxyReplacement")}`)
            .and.not.contain("run Talos without kube-proxy");
    });
});

describe("network checks: address ranges and pools", () => {
    it("rejects a pool block written as a bare string, and shows the block rewritten in the accepted form", () => {
        const cidr = problems((s) => (s.cilium.loadBalancerPools[0].blocks = ["172.29.52.0/25"]));
        const e = onlySchemaError(cidr, K("cilium.loadBalancerPools[0].blocks[0]"));
        expect(e.value).to.equal("172.29.52.0/25");
        expect(e.message).to.contain("cidr").and.contain("start and stop");
        expect(e.fix).to.equal('write it as { cidr: "172.29.52.0/25" }');

        const address = problems((s) => (s.cilium.loadBalancerPools[0].blocks = ["172.29.52.100"]));
        expect(onlySchemaError(address, K("cilium.loadBalancerPools[0].blocks[0]")).fix).to.equal(
            'write a single address as { start: "172.29.52.100", stop: "172.29.52.100" }',
        );

        const other = problems((s) => (s.cilium.loadBalancerPools[0].blocks = [{ from: "172.29.52.1" }]));
        expect(onlySchemaError(other, K("cilium.loadBalancerPools[0].blocks[0]")).fix)
            .to.contain("{ cidr:")
            .and.contain("{ start:");
    });

    it("rejects a pool overlapping the pod subnet, naming both keys", () => {
        const p = problems((s) => s.cilium.loadBalancerPools.push({ name: "bad", blocks: [{ start: "10.244.3.0", stop: "10.244.3.9" }] }));
        // A pool without a serviceSelector selects every Service: the ingress and Gateway Services now have two pools.
        expect(summary(p)).to.deep.equal([
            ["error", undefined, K("cluster.podSubnets[0]")],
            ["error", undefined, K("ingressNginx.loadBalancer.pool")],
            ["error", undefined, K("gateway.loadBalancer.pool")],
        ]);
        const err = p[0];
        expect(err.message).to.contain(K("cilium.loadBalancerPools[4].blocks[0]"));
    });

    it("rejects two pools sharing addresses, a range against a CIDR", () => {
        const p = problems((s) => s.cilium.loadBalancerPools.push({ name: "dup", blocks: [{ cidr: "172.29.52.192/28" }] }));
        // 172.29.52.192/28 reaches into bgp-default (…199) and bgp-ingress (200…), and, without a selector, takes every Service.
        expect(summary(p)).to.deep.equal([
            ["error", undefined, K("cilium.loadBalancerPools[0].blocks[0]")],
            ["error", undefined, K("cilium.loadBalancerPools[1].blocks[0]")],
            ["error", undefined, K("ingressNginx.loadBalancer.pool")],
            ["error", undefined, K("gateway.loadBalancer.pool")],
        ]);
        expect(p[0].message).to.contain(K("cilium.loadBalancerPools[4].blocks[0]"));
        expect(p[1].message).to.contain(K("cilium.loadBalancerPools[4].blocks[0]"));
        // Each error shows its own block as written, a range by both ends, and the other one's in the message.
        expect(p.slice(0, 2).map((x) => x.value)).to.deep.equal(["172.29.52.100-172.29.52.199", "172.29.52.200-172.29.52.220"]);
        expect(p[0].message).to.contain("(172.29.52.192/28)");
    });

    it("rejects a BGP pool inside the node subnet, but accepts it there when L2 announcements answer ARP for it", () => {
        const lan = {
            name: "lan",
            blocks: [{ start: "172.29.51.200", stop: "172.29.51.220" }],
            serviceSelector: { matchLabels: { lan: "yes" } },
        };
        const bgp = problems((s) => s.cilium.loadBalancerPools.push(lan));
        expect(summary(bgp)).to.deep.equal([["error", undefined, K("cluster.nodeSubnets[0]")]]);
        expect(bgp[0].fix).to.contain("announce pool lan with cilium.l2Announcements");
        const l2 = problems((s) => {
            s.cilium.loadBalancerPools.push(lan);
            s.cilium.l2Announcements = [{ name: "lan", pools: ["lan"] }];
            s.cilium.bgp.advertisements = [{ name: "bgp", pools: ["bgp-default", "bgp-ingress", "bgp-reserved", "bgp-default-ipv6"] }];
        });
        expect(l2).to.deep.equal([]);
    });

    it("tolerates a Service subnet inside a pod subnet only: inside the node network it is an overlap", () => {
        const p = problems((s) => (s.cluster.serviceSubnets[0] = "172.29.51.128/25"));
        expect(summary(p)).to.deep.equal([["error", undefined, K("cluster.serviceSubnets[0]")]]);
        expect(p[0].message).to.contain(`overlaps ${K("cluster.nodeSubnets[0]")} (172.29.51.0/24)`);
    });

    it("tolerates an ARP-announced pool inside a node subnet only: inside the pod subnet it is an overlap", () => {
        const p = problems((s) => {
            s.cilium.loadBalancerPools.push({
                name: "lan",
                blocks: [{ start: "10.244.200.1", stop: "10.244.200.9" }],
                serviceSelector: { matchLabels: { lan: "yes" } },
            });
            s.cilium.l2Announcements = [{ name: "lan", pools: ["lan"] }];
        });
        expect(summary(p)).to.deep.equal([
            ["error", undefined, K("cluster.podSubnets[0]")],
            ["warning", "l2-pool-outside-node-subnets", K("cilium.loadBalancerPools[4].blocks[0]")],
        ]);
        expect(p[0].fix).to.equal(
            `give each range its own addresses: change ${K("cluster.podSubnets[0]")} or ${K("cilium.loadBalancerPools[4].blocks[0]")}`,
        );
    });

    it("reports a misspelled pool in an L2 policy as that, not as the pool overlapping the node network", () => {
        const p = problems((s) => {
            s.cilium.loadBalancerPools.push({ name: "lan", blocks: [{ start: "172.29.51.200", stop: "172.29.51.220" }] });
            s.cilium.l2Announcements = [{ name: "lan", pools: ["lna"] }];
        });
        // No overlap error at cluster.nodeSubnets[0]; the pool, without a selector, takes the ingress Service too.
        expect(summary(p)).to.deep.equal([
            ["error", undefined, K("cilium.l2Announcements[0].pools[0]")],
            ["error", undefined, K("ingressNginx.loadBalancer.pool")],
            ["error", undefined, K("gateway.loadBalancer.pool")],
        ]);
    });

    it("rejects a BGP pool inside the node subnet when L2 announces only another pool, or only external IPs", () => {
        const lan = (name: string, start: string, stop: string, label: string) => ({
            name,
            blocks: [{ start, stop }],
            serviceSelector: { matchLabels: { lan: label } },
        });
        const twoPools = (s: Record<string, Json>) =>
            s.cilium.loadBalancerPools.push(
                lan("lan", "172.29.51.200", "172.29.51.220", "yes"),
                lan("lan2", "172.29.51.230", "172.29.51.240", "two"),
            );
        const other = problems((s) => {
            twoPools(s);
            s.cilium.l2Announcements = [{ name: "lan", pools: ["lan"] }];
        });
        expect(summary(other)).to.deep.equal([["error", undefined, K("cluster.nodeSubnets[0]")]]);
        expect(other[0].message).to.contain(K("cilium.loadBalancerPools[5].blocks[0]"));
        expect(other[0].fix).to.contain("announce pool lan2 with cilium.l2Announcements");

        // Cilium's L2 policy with loadBalancerIPs: false answers ARP for no LoadBalancer address.
        const external = problems((s) => {
            s.cilium.loadBalancerPools.push(lan("lan", "172.29.51.200", "172.29.51.220", "yes"));
            s.cilium.l2Announcements = [{ name: "ext", loadBalancerIPs: false, externalIPs: true }];
        });
        expect(summary(external)).to.deep.equal([["error", undefined, K("cluster.nodeSubnets[0]")]]);
        expect(external[0].fix).to.contain("announce pool lan with cilium.l2Announcements");

        // A misspelled name beside a correct one is still the misspelling's error alone.
        const typo = problems((s) => {
            twoPools(s);
            s.cilium.l2Announcements = [{ name: "lan", pools: ["lan", "lna2"] }];
        });
        expect(summary(typo)).to.deep.equal([["error", undefined, K("cilium.l2Announcements[0].pools[1]")]]);
    });

    it("rejects node subnets that overlap each other, asking for addresses of their own", () => {
        const p = problems((s) => (s.cluster.nodeSubnets = ["172.29.51.0/24", "172.29.51.128/25"]));
        expect(summary(p)).to.deep.equal([["error", undefined, K("cluster.nodeSubnets[0]")]]);
        expect(p[0].message).to.contain(`overlaps ${K("cluster.nodeSubnets[1]")} (172.29.51.128/25)`);
        expect(p[0].fix).to.equal(
            `give each range its own addresses: change ${K("cluster.nodeSubnets[0]")} or ${K("cluster.nodeSubnets[1]")}`,
        );
    });

    it("warns about an L2-announced pool outside every node subnet", () => {
        const p = problems((s) => (s.cilium.l2Announcements = [{ name: "lan", pools: ["bgp-default"] }]));
        expect(only(p, K("cilium.loadBalancerPools[0].blocks[0]"), "warning").rule).to.equal("l2-pool-outside-node-subnets");
        const two = problems((s) => {
            s.cluster.nodeSubnets = ["172.29.51.0/24", "172.29.60.0/24"];
            s.cilium.l2Announcements = [{ name: "lan", pools: ["bgp-default"] }];
        });
        const w = only(two, K("cilium.loadBalancerPools[0].blocks[0]"), "warning");
        expect(w.message).to.contain(`outside ${K("cluster.nodeSubnets")} (172.29.51.0/24, 172.29.60.0/24)`);
        expect(w.value).to.equal("172.29.52.100-172.29.52.199");
    });

    it("rejects pool blocks that are not CIDRs or ranges, pointing at the field", () => {
        const bad = (blocks: Json[]) => problems((s) => (s.cilium.loadBalancerPools = [{ name: "p", blocks }]));
        onlySchemaError(bad([{ cidr: "172.29.52.0/33" }]), K("cilium.loadBalancerPools[0].blocks[0].cidr"));
        expect(
            onlySchemaError(bad([{ start: "172.29.52.9", stop: "172.29.52.1" }]), K("cilium.loadBalancerPools[0].blocks[0].stop")).message,
        ).to.contain("comes before start");
        expect(
            onlySchemaError(bad([{ start: "172.29.52.1", stop: "fd00::1" }]), K("cilium.loadBalancerPools[0].blocks[0].stop")).message,
        ).to.contain("same address family");
        onlySchemaError(bad([{ start: "172.29.52.1/32", stop: "172.29.52.9" }]), K("cilium.loadBalancerPools[0].blocks[0].start"));
    });

    it("rejects a pool of an address family the cluster does not run, naming the cluster's Service subnets", () => {
        const p = problems((s) => {
            s.cluster.podSubnets = ["10.244.0.0/16"];
            s.cluster.serviceSubnets = ["10.96.0.0/12"];
        });
        const err = only(p, K("cilium.loadBalancerPools[3].blocks[0]"));
        expect(err.message)
            .to.contain("is ipv6")
            .and.contain(`${K("cluster.serviceSubnets")} (10.96.0.0/12) runs only ipv4`);
    });

    it("rejects two L2 policies, peer configs or advertisements with one name, naming the first", () => {
        const l2 = only(
            problems((s) => {
                s.cilium.l2Announcements = [
                    { name: "lan", pools: ["bgp-default"], loadBalancerIPs: false },
                    { name: "lan", pools: ["bgp-reserved"], loadBalancerIPs: false },
                ];
            }),
            K("cilium.l2Announcements[1].name"),
        );
        expect(l2.message).to.equal(`repeats the name of ${K("cilium.l2Announcements[0]")}; both would be the same object`);
        expect(l2.fix).to.equal(`give ${K("cilium.l2Announcements[1]")} a name of its own`);
        expect(l2.value).to.equal("lan");
        const pc = only(
            problems((s) => s.cilium.bgp.peerConfigs.push({ name: "default" })),
            K("cilium.bgp.peerConfigs[1].name"),
        );
        expect(pc.message).to.contain(K("cilium.bgp.peerConfigs[0]"));
        const adv = only(
            problems((s) => (s.cilium.bgp.advertisements = [{ name: "lb" }, { name: "lb", pools: ["bgp-default"] }])),
            K("cilium.bgp.advertisements[1].name"),
        );
        expect(adv.message).to.contain(K("cilium.bgp.advertisements[0]"));
    });

    it("rejects two pools with one name", () => {
        const p = problems((s) =>
            s.cilium.loadBalancerPools.push({
                name: "bgp-default",
                blocks: [{ cidr: "172.29.53.0/24" }],
                serviceSelector: { matchLabels: { pool: "second" } },
            }),
        );
        expect(only(p, K("cilium.loadBalancerPools[4].name")).message).to.contain(K("cilium.loadBalancerPools[0]"));
    });
});

describe("network checks: BGP", () => {
    it("rejects ASNs outside 1–4294967295 and accepts 4-byte private ones", () => {
        onlySchemaError(
            problems((s) => (s.cilium.bgp.localASN = 0)),
            K("cilium.bgp.localASN"),
        );
        onlySchemaError(
            problems((s) => (s.cilium.bgp.peers[0].asn = 4294967296)),
            K("cilium.bgp.peers[0].asn"),
        );
        expect(problems((s) => (s.cilium.bgp.localASN = 4200000000))).to.deep.equal([]);
    });

    it("rejects duplicate peer addresses, naming both peers", () => {
        const p = problems((s) => s.cilium.bgp.peers.push({ name: "again", address: "172.29.51.1", asn: 64513 }));
        const err = only(p, K("cilium.bgp.peers[1].address"));
        expect(err.message).to.contain(K("cilium.bgp.peers[0].address"));
        expect(err.fix).to.equal(`remove one of ${K("cilium.bgp.peers[0]")} and ${K("cilium.bgp.peers[1]")}`);
        expect(err.value).to.equal("172.29.51.1");
    });

    it("warns about a peer outside every node subnet, unless eBGP multihop reaches it", () => {
        // The only peer, and ingress-nginx's pool is announced by BGP alone: an error (test/severity.test.ts has both ways).
        const p = problems((s) => (s.cilium.bgp.peers[0].address = "192.168.1.1"));
        expect(only(p, K("cilium.bgp.peers[0].address"), "error").message).to.contain(K("cluster.nodeSubnets"));
        expect(
            problems((s) => {
                s.cilium.bgp.peers[0].address = "192.168.1.1";
                s.cilium.bgp.peerConfigs[0].ebgpMultihop = 2;
            }),
        ).to.deep.equal([]);
    });

    it("warns about a peer outside every node subnet at ebgpMultihop 1, Cilium's default, and not about an iBGP peer", () => {
        const outside = (s: Record<string, Json>) => (s.cilium.bgp.peers[0].address = "192.168.1.1");
        const ttl1 = problems((s) => (outside(s), (s.cilium.bgp.peerConfigs[0].ebgpMultihop = 1)));
        const p = only(ttl1, K("cilium.bgp.peers[0].address"));
        expect(p.rule).to.equal("bgp-peer-outside-node-subnets");
        expect(p.message).to.contain(`is in none of ${K("cluster.nodeSubnets")} (172.29.51.0/24)`);
        expect(p.fix).to.contain(`set ebgpMultihop on ${K("cilium.bgp.peerConfigs")} entry 'default'`);
        expect(p.value).to.equal("192.168.1.1");
        // eBGP multihop limits eBGP sessions only: a peer in the local AS is an iBGP session.
        expect(problems((s) => (outside(s), (s.cilium.bgp.peers[0].asn = 64512)))).to.deep.equal([]);
    });

    it("rejects a peer naming a peer config that is not configured, naming both keys", () => {
        const all = problems((s) => (s.cilium.bgp.peers[0].peerConfig = "gateway"));
        // The IPv4 pools go unannounced too.
        expect(summary(all)).to.deep.equal([
            ["error", undefined, K("cilium.bgp.peers[0].peerConfig")],
            ["warning", "lb-pool-not-announced", K("cilium.loadBalancerPools[0]")],
            // ingress-nginx's pool: an error (severity from context).
            ["error", "lb-pool-not-announced", K("cilium.loadBalancerPools[1]")],
            ["warning", "lb-pool-not-announced", K("cilium.loadBalancerPools[2]")],
        ]);
        const p = all[0];
        expect(p.message).to.contain("'gateway'").and.contain("send no routes");
        expect(p.fix).to.contain(K("cilium.bgp.peerConfigs"));
        const two = problems((s) => {
            s.cilium.bgp.peers[0].peerConfig = "gateway";
            s.cilium.bgp.peerConfigs.push({ name: "spare" });
        });
        expect(two[0].fix).to.equal(`add an entry named 'gateway' under ${K("cilium.bgp.peerConfigs")}, or use one of default, spare`);
        expect(two[0].value).to.equal("gateway");
    });

    it("rejects a family whose selector matches no advertisement: sessions up, no routes", () => {
        const p = problems((s) => {
            ipv6Peer(s);
            s.cilium.bgp.advertisements = [{ name: "lb", labels: { announce: "yes" } }];
        });
        // ingress-nginx's pool among them is an error (severity from context).
        expect(p.filter((x) => x.severity === "warning").map((x) => x.rule)).to.deep.equal(Array(3).fill("lb-pool-not-announced"));
        expect(p.filter((x) => x.rule === "lb-pool-not-announced" && x.severity === "error").map((x) => x.path)).to.deep.equal([
            K("cilium.loadBalancerPools[1]"),
        ]);
        const errs = p.filter((x) => x.severity === "error" && !x.rule);
        expect(errs.map((x) => x.path)).to.deep.equal([K("cilium.bgp.peerConfigs[0].families"), K("cilium.bgp.peerConfigs[0].families")]);
        expect(errs[0].message).to.contain("family ipv4/unicast").and.contain("send no routes");
        expect(errs[1].message).to.contain("family ipv6/unicast");
        expect(errs[0].fix).to.contain(K("cilium.bgp.advertisements"));
    });

    it("points a family with a selector of its own at that selector, showing it", () => {
        const selector = { matchLabels: { announce: "v6" } };
        const p = problems((s) => {
            ipv6Peer(s);
            s.cilium.bgp.peerConfigs[0].families = [{ afi: "ipv4" }, { afi: "ipv6", advertisements: selector }];
        });
        // The IPv6 pool, whose family now selects nothing, stays unannounced.
        expect(summary(p)).to.deep.equal([
            ["error", undefined, K("cilium.bgp.peerConfigs[0].families[1].advertisements")],
            ["warning", "lb-pool-not-announced", K("cilium.loadBalancerPools[3]")],
        ]);
        expect(p[0].value).to.deep.equal(selector);
        expect(p[0].message).to.equal(
            `CiliumBGPPeerConfig 'default' family ipv6/unicast selects no deployed CiliumBGPAdvertisement (selector ${JSON.stringify(selector)}): the session would come up and send no routes`,
        );
    });

    it("accepts families and advertisements that agree on other labels", () => {
        expect(
            problems((s) => {
                ipv6Peer(s);
                s.cilium.bgp.advertisements = [{ name: "lb", labels: { announce: "yes" } }];
                s.cilium.bgp.peerConfigs[0].families = [
                    { afi: "ipv4", advertisements: { matchLabels: { announce: "yes" } } },
                    { afi: "ipv6", advertisements: { matchExpressions: [{ key: "announce", operator: "Exists" }] } },
                ];
            }),
        ).to.deep.equal([]);
    });

    it("warns about a pool that no advertisement announces, and an IPv6 pool without an IPv6 family", () => {
        const subset = problems(
            (s) => (s.cilium.bgp.advertisements = [{ name: "lb", pools: ["bgp-default", "bgp-ingress", "bgp-default-ipv6"] }]),
        );
        expect(only(subset, K("cilium.loadBalancerPools[2]"), "warning").rule).to.equal("lb-pool-not-announced");
        const v4only = problems((s) => {
            ipv6Peer(s);
            s.cilium.bgp.peerConfigs[0].families = [{ afi: "ipv4" }];
        });
        const gap = only(v4only, K("cilium.loadBalancerPools[3]"), "warning");
        expect(gap.message).to.contain("(ipv6)");
        expect(gap.fix).to.contain("the IPv6 family in the peer config");
    });

    it("counts pools selecting by In and Exists expressions as announced, by BGP or by L2", () => {
        // A Service labelled tier=web or carrying the label lan at all gets these pools' addresses: announcing them must reach it.
        const exprPools = (s: Record<string, Json>) =>
            s.cilium.loadBalancerPools.push(
                {
                    name: "in",
                    blocks: [{ cidr: "172.29.53.0/28" }],
                    serviceSelector: { matchExpressions: [{ key: "tier", operator: "In", values: ["web", "api"] }] },
                },
                {
                    name: "ex",
                    blocks: [{ cidr: "172.29.53.16/28" }],
                    serviceSelector: { matchExpressions: [{ key: "lan", operator: "Exists" }] },
                },
            );
        expect(problems(exprPools)).to.deep.equal([]);
        expect(
            problems((s) => {
                exprPools(s);
                s.cluster.nodeSubnets = ["172.29.51.0/24", "172.29.53.0/24"];
                s.cilium.bgp.advertisements = [{ name: "lb", pools: ["bgp-default", "bgp-ingress", "bgp-reserved"] }];
                s.cilium.l2Announcements = [{ name: "lan", pools: ["in", "ex"] }];
            }),
        ).to.deep.equal([]);
    });

    it("warns about every pool when nothing announces at all", () => {
        const p = problems((s) => delete s.cilium.bgp);
        expect(p.map((x) => x.rule)).to.deep.equal(Array(4).fill("lb-pool-not-announced"));
    });

    it("rejects advertisements and L2 policies that name unknown pools", () => {
        const p = problems((s) => {
            s.cilium.bgp.advertisements = [{ name: "lb", pools: ["bgp-default", "bgp-ingres"] }];
        });
        // The pools the advertisement no longer names go unannounced.
        expect(summary(p)).to.deep.equal([
            ["error", undefined, K("cilium.bgp.advertisements[0].pools[1]")],
            // ingress-nginx's pool: an error (severity from context).
            ["error", "lb-pool-not-announced", K("cilium.loadBalancerPools[1]")],
            ["warning", "lb-pool-not-announced", K("cilium.loadBalancerPools[2]")],
        ]);
        const err = p[0];
        expect(err.fix).to.equal("use one of bgp-default, bgp-ingress, bgp-reserved, bgp-default-ipv6");
        expect(err.message).to.equal(`names no entry of ${K("cilium.loadBalancerPools")}`);
        expect(err.value).to.equal("bgp-ingres");
    });

    it("with no pool at all, tells an L2 policy naming one to add it first", () => {
        const p = problems((s) => {
            ingressWithoutLoadBalancer(s);
            s.cilium.loadBalancerPools = [];
            s.cilium.l2Announcements = [{ name: "lan", pools: ["lan"] }];
        });
        expect(summary(p)).to.deep.equal([
            ["error", undefined, K("cilium.l2Announcements[0].pools[0]")],
            ["warning", "bgp-advertisement-empty", K("cilium.bgp.advertisements[0]")],
        ]);
        expect(p[0].fix).to.equal("add the pool under cilium.loadBalancerPools first");
    });

    it("warns about an advertisement that advertises nothing", () => {
        const p = problems((s) => (s.cilium.bgp.advertisements = [{ name: "loadbalancer-ips" }, { name: "empty", pools: [] }]));
        const w = only(p, K("cilium.bgp.advertisements[1]"), "warning");
        expect(w.rule).to.equal("bgp-advertisement-empty");
        expect(w.message).to.equal("advertises nothing: it names no pool and podCIDR is off");
        expect(w.fix).to.equal(`list pools under ${K("cilium.bgp.advertisements[1].pools")}, set podCIDR, or remove it`);
        expect(w.value).to.equal("empty");
    });

    it("warns about a family that no session of its peer config carries, naming the peers and the family", () => {
        const p = only(
            problems((s) => (s.cilium.bgp.peerConfigs[0].families = [{ afi: "ipv4" }, { afi: "ipv6" }])),
            K("cilium.bgp.peerConfigs[0].families[1].afi"),
            "warning",
        );
        expect(p.rule).to.equal("bgp-family-without-session");
        expect(p.message).to.contain("IPv6 routes").and.contain("gateway 172.29.51.1").and.contain("IPv4-mapped");
        expect(p.fix).to.equal("peer with the router's IPv6 address through a peer config of its own that sends ipv6, and drop ipv6 here");
        expect(p.value).to.equal("ipv6");
        // Only the peers that use the peer config are named.
        const shared = problems((s) => {
            s.cilium.bgp.peerConfigs[0].families = [{ afi: "ipv4" }, { afi: "ipv6" }];
            s.cilium.bgp.peerConfigs.push({ name: "other" });
            s.cilium.bgp.peers.push(
                { name: "gateway-2", address: "172.29.51.2", asn: 64513 },
                { name: "edge", address: "172.29.51.3", asn: 64513, peerConfig: "other" },
            );
        });
        expect(only(shared, K("cilium.bgp.peerConfigs[0].families[1].afi"), "warning").message).to.contain(
            "every peer using 'default' (gateway 172.29.51.1, gateway-2 172.29.51.2) is reached over IPv4",
        );
    });

    it("says nothing of the families of a peer config no peer uses: it has no session", () => {
        expect(problems((s) => s.cilium.bgp.peerConfigs.push({ name: "spare", families: [{ afi: "ipv6" }] }))).to.deep.equal([]);
    });

    it("gives an IPv6 peer its own family by default, so the IPv6 pool is announced over IPv6", () => {
        expect(problems(ipv6Peer)).to.deep.equal([]);
        expect(
            problems((s) => {
                ipv6Peer(s);
                s.cilium.bgp.peers[1].peerConfig = "ipv6";
                s.cilium.bgp.peerConfigs.push({ name: "ipv6" });
            }),
        ).to.deep.equal([]);
    });

    it("rejects a peer named like another peer's derived name, peer-<address>", () => {
        const p = only(
            problems((s) => {
                s.cilium.bgp.peers = [
                    { address: "172.29.51.1", asn: 64513 },
                    { name: "peer-172-29-51-1", address: "172.29.51.2", asn: 64513 },
                ];
            }),
            K("cilium.bgp.peers[1].name"),
        );
        expect(p.message).to.contain(K("cilium.bgp.peers[0]")).and.contain("derived from its address 172.29.51.1");
        expect(p.value).to.equal("peer-172-29-51-1");
        expect(p.fix).to.equal(`give ${K("cilium.bgp.peers[1]")} a name of its own`);
    });

    it("rejects an unnamed peer whose derived name another peer already has", () => {
        const p = only(
            problems((s) => {
                s.cilium.bgp.peers = [
                    { name: "peer-172-29-51-2", address: "172.29.51.1", asn: 64513 },
                    { address: "172.29.51.2", asn: 64513 },
                ];
            }),
            K("cilium.bgp.peers[1].name"),
        );
        // The first peer's name is its own, not derived.
        expect(p.message).to.equal(
            `repeats the name of ${K("cilium.bgp.peers[0]")} (peer-172-29-51-2); Cilium would see one peer where two are configured`,
        );
        expect(p.value).to.equal("peer-172-29-51-2");
    });

    it("reports two unnamed peers at one address once, as the same router", () => {
        const p = problems(
            (s) =>
                (s.cilium.bgp.peers = [
                    { address: "172.29.51.1", asn: 64513 },
                    { address: "172.29.51.1", asn: 64513 },
                ]),
        );
        expect(only(p, K("cilium.bgp.peers[1].address")).message).to.contain("same router");
    });

    it("rejects a keepalive longer than the hold time, as the CRD would at apply time", () => {
        onlySchemaError(
            problems((s) => (s.cilium.bgp.peerConfigs[0].timers = { holdTimeSeconds: 9, keepAliveTimeSeconds: 10 })),
            K("cilium.bgp.peerConfigs[0].timers.keepAliveTimeSeconds"),
        );
        onlySchemaError(
            problems((s) => (s.cilium.bgp.peerConfigs[0].timers = { keepAliveTimeSeconds: 91 })),
            K("cilium.bgp.peerConfigs[0].timers.keepAliveTimeSeconds"),
        );
    });

    it("requires the BGP password to be a secret key that is set", () => {
        const withAuth = (s: Record<string, Json>) => (s.cilium.bgp.peerConfigs[0].authSecret = "bgpPassword");
        only(problems(withAuth), K("cilium.bgp.peerConfigs[0].authSecret"));
        only(problems(withAuth, { bgpPassword: { secret: false } }), K("bgpPassword"));
        expect(problems(withAuth, { bgpPassword: { secret: true } })).to.deep.equal([]);
    });
});

// Cilium 1.19's L2 announcements guide, "Limitations": L2 announcements are
// "incompatible with the externalTrafficPolicy: Local on services".
describe("network checks: externalTrafficPolicy Local on an L2-announced pool", () => {
    const TYPED = K("ingressNginx.loadBalancer.externalTrafficPolicy");
    const VALUES = K("ingressNginx.values.controller.service.externalTrafficPolicy");
    const l2 = (pools?: string[]) => (s: Record<string, Json>) =>
        (s.cilium.l2Announcements = [{ name: "lan", ...(pools ? { pools } : {}) }]);
    const local = (s: Record<string, Json>) => (s.ingressNginx.loadBalancer.externalTrafficPolicy = "Local");
    const both =
        (...edits: ((s: Record<string, Json>) => void)[]) =>
        (s: Record<string, Json>) =>
            edits.forEach((e) => e(s));

    // The dev stack's pools are BGP pools outside the node network: each one L2 announces also earns that
    // finding, an error for ingress-nginx's pool (1), which the platform's own Service gets its address from.
    const outside = (i: number) => [
        i === 1 ? "error" : "warning",
        "l2-pool-outside-node-subnets",
        K(`cilium.loadBalancerPools[${i}].blocks[0]`),
    ];

    it("refuses Local on the ingress Service when L2 announces its pool, naming both keys", () => {
        const ps = problems(both(l2(["bgp-ingress"]), local));
        expect(summary(ps)).to.deep.equal([outside(1), ["error", undefined, TYPED]]);
        const p = errorAt(ps, TYPED);
        expect(p.message).to.contain(K("cilium.l2Announcements[0]")).and.contain("externalTrafficPolicy: Local");
        expect(p.message).to.contain("ingress-nginx/ingress-nginx-controller").and.contain("bgp-ingress");
        expect(p.fix).to.contain("Cluster").and.contain("cilium.bgp");
        expect(p.value).to.equal("Local");
    });

    it("names the values key when the escape hatch sets Local", () => {
        const viaValues = (s: Record<string, Json>) =>
            (s.ingressNginx.values = { controller: { service: { externalTrafficPolicy: "Local" } } });
        const ps = problems(both(l2(["bgp-ingress"]), viaValues));
        expect(summary(ps)).to.deep.equal([outside(1), ["error", undefined, VALUES]]);
        expect(errorAt(ps, VALUES).value).to.equal("Local");
    });

    it("refuses it under an L2 entry that announces every pool", () => {
        const ps = problems(both(l2(), local));
        // The node-network warning is for IPv4 pools (ARP); the IPv6 pool, now announced, loses the dev stack's not-announced warning.
        expect(summary(ps)).to.deep.equal([outside(0), outside(1), outside(2), ["error", undefined, TYPED]]);
        expect(errorAt(ps, TYPED).message).to.contain(K("cilium.l2Announcements[0]"));
    });

    it("names every L2 entry that announces the pool", () => {
        const ps = problems(
            both(
                (s) =>
                    (s.cilium.l2Announcements = [
                        { name: "a", pools: ["bgp-ingress"] },
                        { name: "b", pools: ["bgp-ingress"] },
                    ]),
                local,
            ),
        );
        expect(summary(ps)).to.deep.equal([outside(1), ["error", undefined, TYPED]]);
        const keys = `${K("cilium.l2Announcements[0]")} and ${K("cilium.l2Announcements[1]")}`;
        expect(errorAt(ps, TYPED).message).to.contain(`announced by L2 (${keys})`);
        expect(errorAt(ps, TYPED).fix).to.equal(`set it to Cluster, or announce pool bgp-ingress with cilium.bgp instead of ${keys}`);
    });

    it("leaves a Local Service that two pools select to the pool-selection error", () => {
        const ps = problems(
            both(l2(["bgp-ingress"]), local, (s) =>
                s.cilium.loadBalancerPools.push({ name: "catch-all", blocks: [{ cidr: "172.29.60.0/24" }] }),
            ),
        );
        expect(summary(ps)).to.deep.equal([
            outside(1),
            ["error", undefined, K("ingressNginx.loadBalancer.pool")],
            ["error", undefined, K("gateway.loadBalancer.pool")],
        ]);
    });

    it("accepts Local on a NodePort ingress Service: it takes no address from the L2-announced pool", () => {
        const nodePort = (s: Record<string, Json>) => {
            delete s.ingressNginx.loadBalancer.ip;
            s.ingressNginx.values = { controller: { service: { type: "NodePort" } } };
            delete s.gateway;
        };
        // No platform Service uses bgp-ingress any more: its node-network finding is a warning.
        expect(summary(problems(both(l2(["bgp-ingress"]), local, nodePort)))).to.deep.equal([
            ["warning", "l2-pool-outside-node-subnets", K("cilium.loadBalancerPools[1].blocks[0]")],
        ]);
    });

    it("accepts Local when only BGP announces the pool, or L2 announces another pool, and Cluster under L2", () => {
        expect(summary(problems(local))).to.deep.equal([]);
        expect(summary(problems(both(l2(["bgp-default"]), local)))).to.deep.equal([outside(0)]);
        expect(summary(problems(l2(["bgp-ingress"])))).to.deep.equal([outside(1)]);
    });
});
