import { expect } from "chai";
import { validateConfig } from "../lib/config";
import { corednsValues } from "../lib/values/coredns";
import { certManagerValues } from "../lib/values/cert-manager";
import { fluxInstance } from "../lib/values/flux";
import { devSections, Json, planDev, raw } from "./helpers";

function check(edit?: (s: Record<string, Json>) => void) {
    const s = devSections();
    edit?.(s);
    return validateConfig(raw(s));
}
const errors = (edit: (s: Record<string, Json>) => void) => check(edit).problems.filter((p) => p.severity === "error");
const at = (edit: (s: Record<string, Json>) => void, path: string) => errors(edit).find((p) => p.path === path);

describe("rule: no object whose CRD comes later", () => {
    it("rejects the report's ingress-nginx ServiceMonitor, whose CRD the monitoring Kustomization brings after ingress", () => {
        const e = at(
            (s) => (s.ingressNginx.values = { controller: { metrics: { serviceMonitor: { enabled: true } } } }),
            "talos-platform:ingressNginx.values.controller.metrics.serviceMonitor.enabled",
        );
        expect(e?.message).to.contain("ServiceMonitor").and.contain("monitoring.coreos.com").and.contain("Flux");
        expect(e?.fix).to.contain("false");
    });

    it("rejects ServiceMonitors of CoreDNS, cert-manager and Cilium, and a PrometheusRule", () => {
        const p = errors((s) => {
            s.coredns.values = { prometheus: { monitor: { enabled: true } } };
            s.certManager.values = { prometheus: { servicemonitor: { enabled: true } } };
            s.cilium.values = { operator: { prometheus: { serviceMonitor: { enabled: true } } } };
            s.ingressNginx.values = { controller: { metrics: { prometheusRule: { enabled: true } } } };
        });
        expect(p.map((x) => x.path)).to.have.members([
            "talos-platform:cilium.values.operator.prometheus.serviceMonitor.enabled",
            "talos-platform:coredns.values.prometheus.monitor.enabled",
            "talos-platform:certManager.values.prometheus.servicemonitor.enabled",
            "talos-platform:ingressNginx.values.controller.metrics.prometheusRule.enabled",
        ]);
    });

    it("allows an object whose CRD an earlier phase installs: ingress-nginx's webhook certificate from cert-manager", () => {
        expect(
            errors((s) => (s.ingressNginx.values = { controller: { admissionWebhooks: { certManager: { enabled: true } } } })),
        ).to.deep.equal([]);
    });

    it("ignores CoreDNS' switches when Talos runs CoreDNS, since no chart is installed", () => {
        const p = errors((s) => {
            s.cluster.coreDnsDisabled = false;
            s.coredns.values = { prometheus: { monitor: { enabled: true } } };
        });
        expect(p).to.deep.equal([]);
    });
});

describe("rule: every issuer reference names a configured issuer", () => {
    it("rejects an unknown default-certificate issuer and ingress-shim default", () => {
        const p = errors((s) => {
            s.ingressNginx.defaultCertificate.issuer = "letsencrypt-production";
            s.certManager.defaultIssuer = "letsencrypt";
        });
        expect(p.map((x) => x.path)).to.have.members([
            "talos-platform:ingressNginx.defaultCertificate.issuer",
            "talos-platform:certManager.defaultIssuer",
        ]);
        expect(p.find((x) => x.path.includes("defaultCertificate"))!.fix).to.contain("closest: letsencrypt-prod");
    });

    it("rejects annotations that name an unknown ClusterIssuer, or any namespaced Issuer", () => {
        const p = errors((s) => {
            s.ingressNginx.values = {
                controller: { service: { annotations: { "cert-manager.io/cluster-issuer": "letsencrypt" } } },
                defaultBackend: { service: { annotations: { "cert-manager.io/issuer": "local" } } },
            };
        });
        expect(p.map((x) => x.path)).to.have.members([
            "talos-platform:ingressNginx.values.controller.service.annotations.cert-manager.io/cluster-issuer",
            "talos-platform:ingressNginx.values.defaultBackend.service.annotations.cert-manager.io/issuer",
        ]);
        expect(
            errors(
                (s) => (s.ingressNginx.values = { controller: { podAnnotations: { "cert-manager.io/cluster-issuer": "home-ops-ca" } } }),
            ),
        ).to.deep.equal([]);
    });

    it("rejects an ingress-shim default of kind Issuer set through values, and an unknown webhook certificate issuer", () => {
        const p = errors((s) => {
            s.certManager.values = { ingressShim: { defaultIssuerKind: "Issuer" } };
            s.ingressNginx.values = {
                controller: {
                    admissionWebhooks: {
                        certManager: { enabled: true, admissionCert: { issuerRef: { name: "nope", kind: "ClusterIssuer" } } },
                    },
                },
            };
        });
        expect(p.map((x) => x.path)).to.have.members([
            "talos-platform:certManager.defaultIssuer",
            "talos-platform:ingressNginx.values.controller.admissionWebhooks.certManager.admissionCert.issuerRef.name",
        ]);
    });
});

describe("rule: each LoadBalancer Service is selected by exactly one Cilium pool", () => {
    it("rejects the report's setup: the pool named in an annotation selects nothing", () => {
        const e = at((s) => {
            delete s.ingressNginx.loadBalancer.pool;
            delete s.ingressNginx.loadBalancer.ip;
            s.ingressNginx.values = { controller: { service: { annotations: { "io.cilium/lb-ipam-pool": "bgp-ingress" } } } };
        }, "talos-platform:ingressNginx.loadBalancer.pool");
        expect(e?.message)
            .to.contain("ingress-nginx/ingress-nginx-controller")
            .and.contain("no Cilium pool")
            .and.contain("annotations select nothing");
    });

    it("rejects a Service two pools select, naming both", () => {
        const e = at(
            (s) => s.cilium.loadBalancerPools.push({ name: "catch-all", blocks: [{ cidr: "172.29.60.0/24" }] }),
            "talos-platform:ingressNginx.loadBalancer.pool",
        );
        expect(e?.message).to.contain("2 pools (bgp-ingress, catch-all)");
        expect(e?.fix).to.contain("disjoint serviceSelectors");
    });

    it("accepts a pool that selects by namespace through Cilium's io.kubernetes.service.namespace", () => {
        const p = errors((s) => {
            s.cilium.loadBalancerPools[1].serviceSelector = { matchLabels: { "io.kubernetes.service.namespace": "ingress-nginx" } };
        });
        expect(p).to.deep.equal([]);
    });

    it("checks every LoadBalancer Service the charts emit: a metrics Service and kube-dns made LoadBalancers", () => {
        const p = errors((s) => {
            s.ingressNginx.values = { controller: { metrics: { service: { type: "LoadBalancer" } } } };
            s.coredns.values = { serviceType: "LoadBalancer" };
        });
        expect(p.map((x) => x.path)).to.have.members([
            "talos-platform:ingressNginx.values.controller.metrics.service.labels",
            "talos-platform:coredns.values.customLabels",
        ]);
        expect(p[0].message).to.contain("LoadBalancer Service");
    });

    it("checks an address requested through values against the pool that selects the Service", () => {
        const p = errors((s) => {
            delete s.ingressNginx.loadBalancer.ip;
            s.ingressNginx.values = { controller: { service: { annotations: { "lbipam.cilium.io/ips": "172.29.52.150" } } } };
        });
        expect(p.map((x) => x.path)).to.deep.equal([
            "talos-platform:ingressNginx.values.controller.service.annotations.lbipam.cilium.io/ips",
        ]);
        expect(p[0].message).to.contain("bgp-ingress");
    });
});

describe("rule: a custom cluster domain reaches every component", () => {
    const custom = (s: Record<string, Json>) => (s.cluster.dnsDomain = "home.arpa");

    it("carries home.arpa into the CoreDNS zone, cert-manager's webhook names and the FluxInstance, without errors", () => {
        const result = check(custom);
        expect(result.problems.filter((p) => p.severity === "error")).to.deep.equal([]);
        const c = result.config!;
        expect(JSON.stringify(corednsValues(c.cluster, c.coredns).servers)).to.contain('"home.arpa in-addr.arpa ip6.arpa"');
        expect((certManagerValues(c.certManager, c.cluster) as Json).webhook.extraArgs[0]).to.match(/\.svc\.home\.arpa$/);
        expect(fluxInstance(c.cluster, c.flux).spec.cluster).to.include({ domain: "home.arpa" });
    });

    it("rejects a CoreDNS server block that serves another zone, naming both keys", () => {
        const e = at((s) => {
            custom(s);
            s.coredns.values = {
                servers: [{ zones: [{ zone: "." }], port: 53, plugins: [{ name: "kubernetes", parameters: "cluster.local" }] }],
            };
        }, "talos-platform:coredns.values.servers");
        expect(e?.message).to.contain("cluster.local").and.contain("talos-platform:cluster.dnsDomain is home.arpa");
    });

    it("rejects webhook arguments that drop the cluster domain, and leftover cluster.local names in any values", () => {
        const p = errors((s) => {
            custom(s);
            s.certManager.values = {
                webhook: { extraArgs: ["--v=2"] },
                https_proxy: "http://proxy:3128",
                no_proxy: "10.96.0.0/12,.svc.cluster.local",
            };
        });
        expect(p.map((x) => x.path)).to.have.members([
            "talos-platform:certManager.values.webhook.extraArgs",
            "talos-platform:certManager.values.no_proxy",
        ]);
    });

    it("rejects Hubble Relay left on cluster.local", () => {
        const e = at((s) => {
            custom(s);
            s.cilium.values = { hubble: { relay: { enabled: true } } };
        }, "talos-platform:cilium.values.hubble.peerService.clusterDomain");
        expect(e?.message).to.contain("Hubble Relay");
        expect(
            errors(
                (s) => (
                    custom(s),
                    (s.cilium.values = { hubble: { relay: { enabled: true }, peerService: { clusterDomain: "home.arpa" } } })
                ),
            ),
        ).to.deep.equal([]);
    });

    it("leaves cluster.local alone on a cluster.local cluster", () => {
        expect(
            errors((s) => {
                s.cluster.dnsDomain = "cluster.local";
                s.certManager.values = { no_proxy: ".svc.cluster.local" };
            }),
        ).to.deep.equal([]);
    });

    it("stops the plan before any resource when a rule fails", async () => {
        const plan = await planDev((s) => (s.ingressNginx.values = { controller: { metrics: { serviceMonitor: { enabled: true } } } }));
        expect(plan.resources).to.deep.equal([]);
        expect(plan.errors.map((e) => e.path)).to.deep.equal([
            "talos-platform:ingressNginx.values.controller.metrics.serviceMonitor.enabled",
        ]);
    });
});
