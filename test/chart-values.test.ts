import { expect } from "chai";
import { it as mochaIt } from "mocha";
import { chartData, forgetFetched, useFetched } from "../lib/charts/catalog";
import { CHART_RULES, inRange, rulesFor, versionDefault } from "../lib/charts/rules";
import { describeProblem, Problem } from "../lib/problems";
import { releases } from "../lib/checks/crd-order";
import { byName, customDomainConfig, Json, newProblems, planCustomDomain, planDev } from "./helpers";

// The merged values of each release against what the program carries of
// its pinned chart: the chart's schema (errors), the keys of its values.yaml
// (the warning unknown-chart-value), the values it refuses, by version, and
// the objects it renders from values.

/**
 * The problems each test's edits brought that no helper below has looked at
 * yet: after a test passes, any left fail it, so a problem the test did not
 * ask about cannot hide behind a filter (see afterEach).
 */
let unasked = new Set<Problem>();
const seen = (found: Problem[]) => (found.forEach((p) => unasked.delete(p)), found);

/** Every problem the edit adds to the dev stack (see newProblems); each must be looked at before the test ends. */
function check(edit: (s: Record<string, Json>) => void = () => {}): Problem[] {
    const problems = newProblems(edit);
    problems.forEach((p) => unasked.add(p));
    return problems;
}
const at = (problems: Problem[], path: string) => seen(problems.filter((p) => p.path === `talos-platform:${path}`));
const only = (problems: Problem[], path: string): Problem => {
    const found = at(problems, path);
    expect(found, `${path} in ${JSON.stringify(problems.map((p) => p.path))}`).to.have.length(1);
    return found[0];
};
const rules = (problems: Problem[], rule: string) => seen(problems.filter((p) => p.rule === rule));
/** Every problem as [severity, rule, key]: the whole list, so each counts as asked about. */
const summary = (problems: Problem[]) => seen([...problems]).map((p) => [p.severity, p.rule, p.path]);

/** mocha's `it`, and then: every problem the test's edits brought was looked at. */
function it(title: string, body: (this: Mocha.Context) => unknown): void {
    mochaIt(title, async function () {
        unasked = new Set();
        await body.call(this);
        const left = [...unasked].map((p) => `${p.rule ?? "error"}: ${describeProblem(p)}`);
        expect(left, "problems the test did not ask about").to.deep.equal([]);
    });
}

describe("chart values against the pinned charts", () => {
    it("finds nothing in the dev stack: every key the program sets is one its charts have", async () => {
        const p = check();
        expect(p.filter((x) => ["unknown-chart-value", "chart-values-unchecked"].includes(x.rule ?? ""))).to.deep.equal([]);
        expect(p.filter((x) => x.severity === "error")).to.deep.equal([]);
        const plan = await planDev();
        expect(plan.findings.filter((f) => f.rule.startsWith("chart-") || f.rule === "unknown-chart-value")).to.deep.equal([]);
        // With this program's CoreDNS too.
        const own = check((s) => (s.cluster.coreDnsDisabled = true));
        expect(own.filter((x) => x.path.startsWith("talos-platform:coredns.values") || x.rule === "unknown-chart-value")).to.deep.equal([]);
    });

    it("checks the values Helm receives, DNS-01's self-check resolvers and CoreDNS fallthrough included", async () => {
        // The custom-domain stack: its ACME zones reach the cluster domain, and this program runs CoreDNS.
        const checked = releases(customDomainConfig());
        const plan = await planCustomDomain();
        for (const [section, release] of [
            ["certManager", "cert-manager-release"],
            ["coredns", "coredns-release"],
        ]) {
            expect(checked.find((r) => r.section === section)!.values, section).to.deep.equal(byName(plan, release).inputs.values);
        }
        expect((checked.find((r) => r.section === "certManager")!.values as Json).extraArgs).to.include(
            "--dns01-recursive-nameservers-only",
        );
    });

    describe("each carried values.schema.json refuses what its chart refuses, naming the key, the value and the schema's message", () => {
        it("cilium 1.19.4: a string where the schema wants a whole number", () => {
            const p = only(
                check((s) => (s.cilium.values = { hubble: { relay: { replicas: "two" } } })),
                "cilium.values.hubble.relay.replicas",
            );
            expect(p.severity).to.equal("error");
            expect(p.value).to.equal("two");
            expect(p.message).to.contain("cilium 1.19.4 chart's values.schema.json").and.contain("must be integer");
            expect(p.fix).to.equal("set it to a whole number");
        });

        it("cert-manager v1.21.1: a key its schema does not allow (it allows no unknown keys), with the key it likely meant", () => {
            const problems = check((s) => (s.certManager.values = { webhook: { replicaCont: 3 } }));
            const p = only(problems, "certManager.values.webhook.replicaCont");
            expect(p.severity).to.equal("error");
            expect(p.value).to.equal(3);
            expect(p.message)
                .to.contain("cert-manager v1.21.1 chart's values.schema.json")
                .and.contain("not a key the chart's schema allows");
            expect(p.fix).to.equal("did you mean 'replicaCount'?");
            // The schema said it: no second, advisory line about the same key.
            expect(rules(problems, "unknown-chart-value")).to.deep.equal([]);
        });

        it("cert-manager v1.21.1: a string where the schema wants a number; a key the program reads is left to its own type check", () => {
            const q = only(
                check((s) => (s.certManager.values = { webhook: { timeoutSeconds: "30s" } })),
                "certManager.values.webhook.timeoutSeconds",
            );
            expect(q.message).to.contain("must be number");
            expect(q.fix).to.equal("set it to a number");
            const typed = only(
                check((s) => (s.certManager.values = { prometheus: { servicemonitor: "yes" } })),
                "certManager.values.prometheus.servicemonitor",
            );
            expect(typed.message).to.equal("must be a map, not a string");
        });

        it("flux-operator 0.49.0 (draft 2019-09): an enum and a type", () => {
            const problems = check((s) => {
                s.flux.version = "0.49.0";
                s.flux.values = { logLevel: "verbose", reporting: { interval: 5 } };
            });
            const level = only(problems, "flux.values.logLevel");
            expect(level.message).to.contain("must be equal to one of the allowed values");
            expect(level.value).to.equal("verbose");
            expect(level.fix).to.equal('use one of "debug", "info", "error"');
            expect(only(problems, "flux.values.reporting.interval").fix).to.equal("set it to a string");
        });

        it("the same values pass at the chart's own defaults", () => {
            const p = check((s) => {
                s.flux.version = "0.49.0";
                s.flux.values = { logLevel: "debug", resources: { limits: { cpu: "1" } } };
            });
            expect(p.filter((x) => x.path.startsWith("talos-platform:flux."))).to.deep.equal([]);
        });
    });

    describe("unknown-chart-value", () => {
        it("names a misspelled key with the nearest existing one", () => {
            const p = only(
                check((s) => (s.cilium.values = { bpf: { masqurade: true } })),
                "cilium.values.bpf.masqurade",
            );
            expect(p).to.include({ severity: "warning", rule: "unknown-chart-value", value: true });
            expect(p.message).to.contain("cilium 1.19.4 chart").and.contain("the chart ignores it");
            expect(p.fix).to.equal("did you mean 'masquerade'? (bpf.masquerade)");
        });

        it("points a key put at the wrong level to where the chart has it", () => {
            const p = only(
                check((s) => (s.ingressNginx.values = { replicaCount: 3 })),
                "ingressNginx.values.replicaCount",
            );
            expect(p.fix).to.contain("controller.replicaCount");
            const q = only(
                check((s) => (s.ingressNginx.values = { controler: { kind: "DaemonSet" } })),
                "ingressNginx.values.controler",
            );
            expect(q.fix).to.equal("did you mean 'controller'? (controller)");
        });

        it("leaves free-form maps alone: empty maps and lists by default, label maps, Kubernetes objects, commented and template-read keys", () => {
            const p = check((s) => {
                s.ingressNginx.values = {
                    controller: {
                        podAnnotations: { "example.com/anything": "x" },
                        config: { "use-forwarded-headers": "true" },
                        extraArgs: { "enable-ssl-passthrough": "" },
                        nodeSelector: { "node-role.kubernetes.io/ingress": "" },
                        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: {} } },
                        // Only in a comment of values.yaml.
                        startupProbe: { httpGet: { path: "/healthz" } },
                    },
                };
                // This program's CoreDNS, so that its values are checked at all.
                s.cluster.coreDnsDisabled = true;
                s.coredns.values = { fullnameOverride: "kube-dns", service: { loadBalancerIP: "" } };
            });
            expect(rules(p, "unknown-chart-value")).to.deep.equal([]);
            const misspelled = check((s) => {
                s.cluster.coreDnsDisabled = true;
                s.coredns.values = { service: { loadBalancerIPs: "" } };
            });
            expect(rules(misspelled, "unknown-chart-value").map((x) => x.path)).to.deep.equal([
                "talos-platform:coredns.values.service.loadBalancerIPs",
            ]);
        });

        it("is an error when a key the program itself sets is one the chart lacks (a chart version that dropped it): severity from context", () => {
            const carried = chartData("cilium", "1.19.4")!;
            const keys = { ...carried.keys.keys };
            delete keys.k8sServiceHost;
            useFetched({ ...carried, version: "1.19.5", origin: "fetched", keys: { ...carried.keys, version: "1.19.5", keys } });
            try {
                const p = only(
                    check((s) => (s.cilium.version = "1.19.5")),
                    "cilium.values.k8sServiceHost",
                );
                expect(p.rule).to.equal("unknown-chart-value");
                expect(p.severity).to.equal("error");
                expect(p.message).to.equal(
                    "is set by talos-platform, but the cilium 1.19.5 chart has no such key and ignores it. The platform relies on it (talos-platform sets it for the network phase, and its checks and gates take it as in effect), so this is an error here, not a warning",
                );
                // The same chart without a key only the user sets: advisory, as the misspelled key above.
                const both = check(
                    (s) => ((s.cilium.version = "1.19.5"), (s.cilium.values = { ...s.cilium.values, bpf: { masqurade: true } })),
                );
                const user = only(both, "cilium.values.bpf.masqurade");
                expect(user).to.include({ severity: "warning", rule: "unknown-chart-value" });
                // Beside it, the program's own key as before: still an error.
                expect(only(both, "cilium.values.k8sServiceHost").severity).to.equal("error");
            } finally {
                forgetFetched();
            }
        });
    });

    describe("chart-values-unchecked", () => {
        it("advises when the pinned version has no carried data and there are values to check", () => {
            const p = only(
                check((s) => (s.cilium.version = "1.19.5")),
                "cilium.version",
            );
            expect(p).to.include({ severity: "warning", rule: "chart-values-unchecked", value: "1.19.5" });
            expect(p.fix).to.contain("npm run plan -- --fetch-charts").and.contain("https://helm.cilium.io");
            // An older pin is no advice for a newer version.
            expect(p.fix).to.not.contain("pin 1.19.4");
            expect(
                only(
                    check((s) => (s.cilium.version = "1.18.7")),
                    "cilium.version",
                ).fix,
            ).to.contain("or pin 1.19.4, which it carries");
        });

        it("stays quiet for a chart whose values are its defaults (flux-operator with no values)", () => {
            expect(at(check(), "flux.version")).to.deep.equal([]);
            expect(
                only(
                    check((s) => (s.flux.values = { logLevel: "debug" })),
                    "flux.version",
                ).rule,
            ).to.equal("chart-values-unchecked");
        });
    });
});

describe("values a chart refuses, by chart version (lib/charts/rules.ts)", () => {
    it("cert-manager ≥ v1.15.0 refuses installCRDs next to crds.enabled, which the program sets", () => {
        const p = only(
            check((s) => (s.certManager.values = { installCRDs: true })),
            "certManager.values.installCRDs",
        );
        expect(p.severity).to.equal("error");
        expect(p.message)
            .to.contain("the deprecated .installCRDs option cannot be enabled at the same time as its replacement .crds.enabled")
            .and.contain("cert-manager/cert-manager#6760");
        expect(p.fix).to.contain("remove installCRDs");
        expect(
            at(
                check((s) => (s.certManager.values = { installCRDs: false })),
                "certManager.values.installCRDs",
            ),
        ).to.deep.equal([]);
    });

    it("cert-manager before v1.15.0 has no crds.enabled: the program's CRDs would not be installed; from v1.15.0 on they are", () => {
        const before = check((s) => (s.certManager.version = "v1.14.7"));
        // No data is carried for either version, so each also gets the advisory that its values went unchecked.
        const VERSION = "talos-platform:certManager.version";
        expect(summary(before)).to.deep.equal([
            ["error", undefined, VERSION],
            ["warning", "chart-values-unchecked", VERSION],
        ]);
        expect(before[0].message).to.contain("older than cert-manager v1.15.0");
        expect(before[0].value).to.equal("v1.14.7");
        const from = check((s) => (s.certManager.version = "v1.15.0"));
        expect(summary(from)).to.deep.equal([["warning", "chart-values-unchecked", VERSION]]);
        // Nor does the installCRDs rule hold before the change that made it.
        const installCrds = check((s) => {
            s.certManager.version = "v1.14.7";
            s.certManager.values = { installCRDs: true };
        });
        expect(summary(installCrds)).to.deep.equal(summary(before));
    });

    it("cilium ≥ 1.18.0 refuses k8sServiceHostRef next to k8sServiceHost, which the program sets", () => {
        const p = only(
            check((s) => (s.cilium.values = { k8sServiceHostRef: { name: "api", key: "host" } })),
            "cilium.values.k8sServiceHostRef",
        );
        expect(p.message).to.contain("Both k8sServiceHostRef and k8sServiceHost are set").and.contain("talos-platform sets k8sServiceHost");
        // The chart fails only when both name and key are set.
        expect(
            at(
                check((s) => (s.cilium.values = { k8sServiceHostRef: { name: "api" } })),
                "cilium.values.k8sServiceHostRef",
            ),
        ).to.deep.equal([]);
        // Before 1.18.0 the chart had neither the key nor the refusal (the config refuses Cilium before 1.18.0 anyway).
        expect(rulesFor("cilium", "1.17.9").map((r) => r.id)).to.not.include("cilium-k8sServiceHostRef-with-k8sServiceHost");
        expect(rulesFor("cilium", "1.18.0").map((r) => r.id)).to.include("cilium-k8sServiceHostRef-with-k8sServiceHost");
    });

    it("cilium refuses keys removed in 1.15 and 1.16 from 1.17.0 on, in the chart's words, not as a mere unknown key", () => {
        const problems = check((s) => (s.cilium.values = { tunnel: "vxlan" }));
        const p = only(problems, "cilium.values.tunnel");
        expect(p.severity).to.equal("error");
        expect(p.message).to.contain("tunnel was deprecated in v1.14 and has been removed in v1.15");
        expect(p.fix).to.contain("routingMode");
        expect(rulesFor("cilium", "1.16.9").some((r) => r.id === "cilium-removed-tunnel")).to.equal(false);
        expect(rulesFor("cilium", "1.17.0").some((r) => r.id === "cilium-removed-tunnel")).to.equal(true);
        // proxy.prometheus.enabled is refused even when false: the chart tests its string form. The refusal says it
        // all: proxy, a map the 1.19 chart no longer has, is not reported again as an unknown key.
        expect(summary(check((s) => (s.cilium.values = { proxy: { prometheus: { enabled: false } } })))).to.deep.equal([
            ["error", undefined, "talos-platform:cilium.values.proxy.prometheus.enabled"],
        ]);
    });

    it("ingress-nginx defaults by chart version: snippets off from 4.8.0, risk levels from 4.8.1, High from 4.12.0", () => {
        expect(versionDefault("ingress-nginx", "4.7.5", "controller.allowSnippetAnnotations")).to.equal(true);
        expect(versionDefault("ingress-nginx", "4.8.0", "controller.allowSnippetAnnotations")).to.equal(false);
        expect(versionDefault("ingress-nginx", "4.8.0", "annotations-risk-level")).to.equal(null);
        expect(versionDefault("ingress-nginx", "4.8.1", "annotations-risk-level")).to.equal("Critical");
        expect(versionDefault("ingress-nginx", "4.11.8", "annotations-risk-level")).to.equal("Critical");
        expect(versionDefault("ingress-nginx", "4.12.0", "annotations-risk-level")).to.equal("High");
        expect(versionDefault("ingress-nginx", "4.15.1", "annotations-risk-level")).to.equal("High");
    });

    it("every rule names the upstream change it comes from, and every range is a valid semver range", () => {
        for (const r of CHART_RULES) {
            expect(r.source.change, r.id).to.match(/\S/);
            expect(r.source.release, r.id).to.match(/\d+\.\d+\.\d+/);
            expect(r.source.url, r.id).to.match(/^https:\/\//);
            expect(() => inRange("1.0.0", r.versions), r.id).to.not.throw();
        }
        expect(new Set(CHART_RULES.map((r) => r.id)).size).to.equal(CHART_RULES.length);
        // A "v" prefix and pre-releases are compared as versions.
        expect(inRange("v1.15.0-alpha.0", ">=1.15.0-0")).to.equal(true);
        expect(inRange("v1.14.99", ">=1.15.0-0")).to.equal(false);
        expect(inRange("latest", ">=0.0.0")).to.equal(false);
    });
});

describe("objects charts render from values", () => {
    it("an extraObjects custom resource whose CRD comes in the same release or later is an error", () => {
        const problems = check(
            (s) =>
                (s.certManager.values = {
                    extraObjects: [
                        "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: '{{ template \"cert-manager.fullname\" . }}'\n",
                        "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: extra\nspec:\n  selfSigned: {}\n",
                        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n",
                    ],
                }),
        );
        const late = only(problems, "certManager.values.extraObjects[0]");
        expect(late.severity).to.equal("error");
        expect(late.message).to.contain("ServiceMonitor (monitoring.coreos.com/v1)").and.contain("only after every phase");
        const same = only(problems, "certManager.values.extraObjects[1]");
        expect(same.message).to.contain("in this same release");
        expect(same.fix).to.contain("certManager.issuers");
        expect(at(problems, "certManager.values.extraObjects[2]")).to.deep.equal([]);
    });

    it("a CRD no phase installs is a warning; a map item where cert-manager's tpl takes a string is an error", () => {
        const problems = check(
            (s) =>
                (s.certManager.values = {
                    extraObjects: [
                        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: r\n",
                        { apiVersion: "v1", kind: "ConfigMap" },
                    ],
                }),
        );
        expect(only(problems, "certManager.values.extraObjects[0]").rule).to.equal("chart-object-crd-unknown");
        expect(only(problems, "certManager.values.extraObjects[1]").message).to.contain("tpl, which takes a string");
    });

    it("a rendered Certificate names an issuer the program creates", () => {
        const cert = (issuer: string) =>
            `apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: c\nspec:\n  secretName: c\n  issuerRef: { name: ${issuer}, kind: ClusterIssuer }\n`;
        const bad = check((s) => (s.certManager.values = { extraObjects: [cert("nope")] }));
        expect(
            at(bad, "certManager.values.extraObjects[0]")
                .map((p) => p.message)
                .join("\n"),
        ).to.contain('names ClusterIssuer "nope"');
        const good = check((s) => (s.certManager.values = { extraObjects: [cert("letsencrypt-prod")] }));
        expect(
            at(good, "certManager.values.extraObjects[0]")
                .map((p) => p.message)
                .join("\n"),
        ).to.not.contain("names ClusterIssuer");
    });

    it("a rendered LoadBalancer Service must be selected by exactly one pool", () => {
        const svc = (labels: string) =>
            `apiVersion: v1\nkind: Service\nmetadata:\n  name: extra-lb\n  labels: { ${labels} }\nspec:\n  type: LoadBalancer\n`;
        const none = only(
            check((s) => (s.certManager.values = { extraObjects: [svc("app: x")] })),
            "certManager.values.extraObjects[0]",
        );
        expect(none.message).to.contain("LoadBalancer Service cert-manager/extra-lb selected by no Cilium pool");
        // Without ipFamilies, a pool of either family can serve it.
        expect(none.fix).to.equal(
            "give the Service the labels of one pool's serviceSelector (bgp-default, bgp-ingress, bgp-reserved, bgp-default-ipv6)",
        );
        const asks = only(
            check(
                (s) =>
                    (s.certManager.values = {
                        extraObjects: [
                            svc("io.cilium/lb-ipam-pool: bgp-default").replace(
                                "spec:",
                                "  annotations: { lbipam.cilium.io/ips: 172.29.52.201 }\nspec:",
                            ),
                        ],
                    }),
            ),
            "certManager.values.extraObjects[0].lbipam.cilium.io/ips",
        );
        expect(asks.message).to.contain("asks for 172.29.52.201 for the LoadBalancer Service cert-manager/extra-lb, outside bgp-default");
        expect(
            at(
                check((s) => (s.certManager.values = { extraObjects: [svc("io.cilium/lb-ipam-pool: bgp-default")] })),
                "certManager.values.extraObjects[0]",
            ),
        ).to.deep.equal([]);
    });

    it("a rendered Service is a core v1 Service, ClusterIP unless its type says otherwise, checked for its families and traffic policy", () => {
        const item = (lines: string[]) => lines.join("\n") + "\n";
        const lb = (spec: string[], labels = "io.cilium/lb-ipam-pool: bgp-default") =>
            item([
                "apiVersion: v1",
                "kind: Service",
                "metadata:",
                "  name: extra-lb",
                `  labels: { ${labels} }`,
                "spec:",
                "  type: LoadBalancer",
                ...spec,
            ]);
        // Kubernetes' default Service type is ClusterIP: no pool needed.
        const plain = item(["apiVersion: v1", "kind: Service", "metadata:", "  name: plain", "spec:", "  ports: [{ port: 80 }]"]);
        expect(summary(check((s) => (s.certManager.values = { extraObjects: [plain] })))).to.deep.equal([]);
        // Knative's Service (serving.knative.dev) is no LoadBalancer Service, whatever its spec says.
        const knative = item([
            "apiVersion: serving.knative.dev/v1",
            "kind: Service",
            "metadata:",
            "  name: k",
            "spec:",
            "  type: LoadBalancer",
        ]);
        expect(summary(check((s) => (s.certManager.values = { extraObjects: [knative] })))).to.deep.equal([
            ["warning", "chart-object-crd-unknown", "talos-platform:certManager.values.extraObjects[0]"],
        ]);
        // An IPv6-only Service needs a pool with an IPv6 block.
        const v6 = only(
            check((s) => {
                s.cilium.loadBalancerPools = s.cilium.loadBalancerPools.slice(0, 3);
                s.certManager.values = { extraObjects: [lb(["  ipFamilies: [IPv6]"], "app: x")] };
            }),
            "certManager.values.extraObjects[0]",
        );
        expect(v6.fix).to.equal("add a pool with an IPv6 block under cilium.loadBalancerPools; none of the pools has one");
        // Cilium's L2 guide: externalTrafficPolicy Local is incompatible with L2 announcements.
        const local = check((s) => {
            s.cilium.l2Announcements = [{ name: "lan", pools: ["bgp-default"] }];
            s.certManager.values = { extraObjects: [lb(["  externalTrafficPolicy: Local"])] };
        });
        rules(local, "l2-pool-outside-node-subnets");
        const p = only(local, "certManager.values.extraObjects[0]");
        expect(p.message).to.contain("is Local for the LoadBalancer Service cert-manager/extra-lb");
        expect(p.value).to.equal("Local");
        // Left out, the policy is Cluster, which L2 announcements serve.
        expect(
            summary(
                check((s) => {
                    s.cilium.l2Announcements = [{ name: "lan", pools: ["bgp-default"] }];
                    s.certManager.values = { extraObjects: [lb([])] };
                }),
            ),
        ).to.deep.equal([["warning", "l2-pool-outside-node-subnets", "talos-platform:cilium.loadBalancerPools[0].blocks[0]"]]);
    });

    describe("ingress-nginx's admission of annotations on Ingresses the charts render", () => {
        const hubbleIngress = (annotations: Record<string, string>) => ({
            hubble: { relay: { enabled: true }, ui: { enabled: true, ingress: { enabled: true, className: "nginx", annotations } } },
        });
        const SNIPPET = "nginx.ingress.kubernetes.io/configuration-snippet";
        const key = `cilium.values.hubble.ui.ingress.annotations.${SNIPPET}`;

        it("refuses a snippet annotation while snippets are off (the chart's default since 4.8.0)", () => {
            const p = only(
                check((s) => (s.cilium.values = hubbleIngress({ [SNIPPET]: "more_set_headers 'X: y';" }))),
                key,
            );
            expect(p.severity).to.equal("error");
            expect(p.message).to.contain(
                `"${SNIPPET} annotation cannot be used. Snippet directives are disabled by the Ingress administrator"`,
            );
            expect(p.fix).to.contain("controller.allowSnippetAnnotations: true").and.contain("annotations-risk-level: Critical");
        });

        it("with snippets allowed, refuses them above the risk level: High from chart 4.12.0, Critical before", () => {
            const edit = (version: string, level?: string) => (s: Record<string, Json>) => {
                s.cilium.values = hubbleIngress({ [SNIPPET]: "more_set_headers 'X: y';" });
                s.ingressNginx.version = version;
                s.ingressNginx.values = {
                    controller: { allowSnippetAnnotations: true, ...(level ? { config: { "annotations-risk-level": level } } : {}) },
                };
            };
            // No data is carried for 4.12.0, 4.11.8 or 4.7.5: each also gets the advisory that its values went unchecked.
            const unchecked = ["warning", "chart-values-unchecked", "talos-platform:ingressNginx.version"];
            const at412 = check(edit("4.12.0"));
            expect(summary(at412)).to.deep.equal([unchecked, ["error", undefined, `talos-platform:${key}`]]);
            const high = at412[1];
            expect(high.message)
                .to.contain("risk Critical")
                .and.contain("above annotations-risk-level High")
                .and.contain("is too risky for environment");
            expect(summary(check(edit("4.11.8")))).to.deep.equal([unchecked]);
            expect(summary(check(edit("4.15.1", "Critical")))).to.deep.equal([]);
            // A level lowered by hand refuses High annotations too.
            const auth = "nginx.ingress.kubernetes.io/auth-url";
            const medium = check((s) => {
                s.cilium.values = hubbleIngress({ [auth]: "https://auth.example.com/check" });
                s.ingressNginx.values = { controller: { config: { "annotations-risk-level": "Medium" } } };
            });
            expect(summary(medium)).to.deep.equal([
                ["error", undefined, `talos-platform:cilium.values.hubble.ui.ingress.annotations.${auth}`],
            ]);
            expect(medium[0].message).to.contain("risk High");
            expect(summary(check((s) => (s.cilium.values = hubbleIngress({ [auth]: "https://auth.example.com/check" }))))).to.deep.equal(
                [],
            );
        });

        it("before chart 4.8.0 snippets were on by default", () => {
            const p = check((s) => {
                s.cilium.values = hubbleIngress({ [SNIPPET]: "x" });
                s.ingressNginx.version = "4.7.5";
            });
            // Only the advisory that no data is carried for 4.7.5.
            expect(summary(p)).to.deep.equal([["warning", "chart-values-unchecked", "talos-platform:ingressNginx.version"]]);
        });

        it("leaves Ingresses of another class alone, and says the webhook fails a later phase's release", () => {
            const other = check((s) => {
                s.cilium.values = hubbleIngress({ [SNIPPET]: "x" });
                s.cilium.values.hubble.ui.ingress.className = "cilium";
            });
            expect(summary(other)).to.deep.equal([]);
            const fluxProblems = check(
                (s) =>
                    (s.flux.values = {
                        web: { ingress: { enabled: true, annotations: { "nginx.ingress.kubernetes.io/server-snippet": "x" } } },
                    }),
            );
            // The dev stack pins flux-operator 0.58.1, for which no chart data is carried: values given there are unchecked.
            expect(summary(fluxProblems)).to.deep.equal([
                ["warning", "chart-values-unchecked", "talos-platform:flux.version"],
                ["error", undefined, "talos-platform:flux.values.web.ingress.annotations.nginx.ingress.kubernetes.io/server-snippet"],
            ]);
            const flux = fluxProblems[1];
            expect(flux.message).to.contain("admission webhook refuses the Ingress, and the gitops-phase release fails");
        });
    });
});
