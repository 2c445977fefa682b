import { expect } from "chai";
import { validateConfig } from "../lib/config";
import { corednsValues } from "../lib/values/coredns";
import { gateOptions } from "../lib/gates/targets";
import { certManagerValues, certManagerWebhook } from "../lib/values/cert-manager";
import { fluxInstance } from "../lib/values/flux";
import { customDomainStack, devSections, Json, planDev, raw, newErrors, newProblems } from "./helpers";

// The custom-domain test stack: its CoreDNS is this program's release, whose values these rules read.
function check(edit?: (s: Record<string, Json>) => void) {
    const s = devSections();
    customDomainStack(s);
    edit?.(s);
    return validateConfig(raw(s));
}
/** The errors an edit of the custom-domain stack brings; a warning the test did not name fails it (see newErrors). */
const errors = (edit: (s: Record<string, Json>) => void, warnings: string[] = []) => newErrors(edit, { warnings, base: customDomainStack });
/** The one problem an edit brings, an error at `path` (or one at each of `path`, in order): any other error or warning fails the test. */
const at = (edit: (s: Record<string, Json>) => void, path: string | string[]) => {
    const p = errors(edit);
    expect(p.map((x) => x.path)).to.deep.equal(typeof path === "string" ? [path] : path);
    return p[0];
};
/** ingress-nginx's pool key, then the shared Gateway's: the dev stack gives both Services addresses from bgp-ingress. */
const BOTH_POOL_KEYS = ["talos-platform:ingressNginx.loadBalancer.pool", "talos-platform:gateway.loadBalancer.pool"];

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

    it("rejects cert-manager's PodMonitor switch", () => {
        const p = errors((s) => (s.certManager.values = { prometheus: { podmonitor: { enabled: true } } }));
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:certManager.values.prometheus.podmonitor.enabled"]);
        expect(p[0].message).to.contain("PodMonitor").and.contain("monitoring.coreos.com");
    });

    it("rejects the flux-operator's ServiceMonitor, whose CRD the monitoring Kustomization brings after the operator", () => {
        // The program carries no chart data for the dev stack's flux-operator 0.58.1, so any flux.values earn
        // chart-values-unchecked beside the rule's error.
        const unchecked = ["chart-values-unchecked"];
        const p = errors((s) => (s.flux.values = { serviceMonitor: { create: true } }), unchecked);
        expect(p.map((x) => [x.path, x.value])).to.deep.equal([["talos-platform:flux.values.serviceMonitor.create", true]]);
        expect(p[0].message).to.contain("flux-operator").and.contain("ServiceMonitor").and.contain("gitops-phase");
        expect(errors((s) => (s.flux.values = { serviceMonitor: { create: false } }), unchecked)).to.deep.equal([]);
        const warned = newProblems((s) => (s.flux.values = { serviceMonitor: { create: false } }), {}, customDomainStack);
        expect(warned.map((x) => [x.severity, x.rule, x.path])).to.deep.equal([
            ["warning", "chart-values-unchecked", "talos-platform:flux.version"],
        ]);
    });

    it("rejects Cilium's cert-manager certificates for Hubble, which the network phase would create before cert-manager exists", () => {
        const hubble = (auto: Json) => (s: Record<string, Json>) => (s.cilium.values = { hubble: { tls: { auto } } });
        const p = errors(
            hubble({
                method: "certmanager",
                certManagerIssuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: "home-ops-ca" },
            }),
        );
        expect(p.map((x) => [x.path, x.value])).to.deep.equal([["talos-platform:cilium.values.hubble.tls.auto.method", "certmanager"]]);
        expect(p[0].message).to.contain("Certificate (cert-manager.io)").and.contain("certificates phase").and.contain("network-phase");
        expect(p[0].fix).to.contain("hubble.tls.auto.method to helm");
        // Without Hubble's TLS the chart renders no Certificate.
        expect(errors((s) => (s.cilium.values = { hubble: { tls: { enabled: false, auto: { method: "certmanager" } } } }))).to.deep.equal(
            [],
        );
        expect(errors(hubble({ method: "cronJob" }))).to.deep.equal([]);
    });

    it("rejects the clustermesh-apiserver's cert-manager certificates, but only when the apiserver is deployed", () => {
        const mesh = (useAPIServer: boolean) => (s: Record<string, Json>) =>
            (s.cilium.values = {
                clustermesh: {
                    useAPIServer,
                    apiserver: {
                        tls: { auto: { method: "certmanager", certManagerIssuerRef: { kind: "ClusterIssuer", name: "home-ops-ca" } } },
                    },
                },
            });
        expect(errors(mesh(true)).map((x) => x.path)).to.deep.equal(["talos-platform:cilium.values.clustermesh.apiserver.tls.auto.method"]);
        expect(errors(mesh(false))).to.deep.equal([]);
    });

    it("allows an object whose CRD an earlier phase installs: ingress-nginx's webhook certificate from cert-manager", () => {
        expect(
            errors((s) => (s.ingressNginx.values = { controller: { admissionWebhooks: { certManager: { enabled: true } } } })),
        ).to.deep.equal([]);
    });

    it("ignores CoreDNS' switches when Talos runs CoreDNS, since no chart is installed", () => {
        const p = newProblems((s) => {
            s.cluster.coreDnsDisabled = false;
            s.coredns.values = { prometheus: { monitor: { enabled: true } } };
        });
        // The only finding: the values do nothing at all.
        expect(p.map((x) => [x.severity, x.rule, x.path])).to.deep.equal([
            ["warning", "coredns-settings-unused", "talos-platform:coredns.values"],
        ]);
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

describe("rule: issuer references in chart certificates and annotations", () => {
    const hubble = (certManagerIssuerRef?: Json) => (s: Record<string, Json>) =>
        (s.cilium.values = {
            hubble: { tls: { auto: { method: "certmanager", ...(certManagerIssuerRef ? { certManagerIssuerRef } : {}) } } },
        });
    const refErrors = (edit: (s: Record<string, Json>) => void) =>
        errors(edit).filter((p) => p.path !== "talos-platform:cilium.values.hubble.tls.auto.method");

    it("checks Cilium's certManagerIssuerRef like every other reference", () => {
        const unknown = refErrors(hubble({ group: "cert-manager.io", kind: "ClusterIssuer", name: "ca" }));
        expect(unknown.map((x) => [x.path, x.value])).to.deep.equal([
            ["talos-platform:cilium.values.hubble.tls.auto.certManagerIssuerRef.name", "ca"],
        ]);
        expect(unknown[0].fix).to.contain("closest: home-ops-ca");
        const namespaced = refErrors(hubble({ name: "home-ops-ca" }));
        expect(namespaced.map((x) => x.message)).to.deep.equal([
            'the Certificate of hubble.tls.auto.method names a namespaced Issuer "home-ops-ca"; this program creates only ClusterIssuers, so nothing it manages answers it',
        ]);
        const empty = refErrors(hubble());
        expect(empty.map((x) => x.path)).to.deep.equal(["talos-platform:cilium.values.hubble.tls.auto.certManagerIssuerRef"]);
        expect(refErrors(hubble({ group: "cert-manager.io", kind: "ClusterIssuer", name: "home-ops-ca" }))).to.deep.equal([]);
    });

    it("reads annotations as cert-manager does: issuer with issuer-kind ClusterIssuer names a ClusterIssuer", () => {
        const annotate = (annotations: Json) => (s: Record<string, Json>) =>
            (s.ingressNginx.values = { controller: { service: { annotations } } });
        const key = "talos-platform:ingressNginx.values.controller.service.annotations.";
        expect(errors(annotate({ "cert-manager.io/issuer": "home-ops-ca", "cert-manager.io/issuer-kind": "ClusterIssuer" }))).to.deep.equal(
            [],
        );
        expect(
            errors(
                annotate({
                    "cert-manager.io/issuer": "ca",
                    "cert-manager.io/issuer-kind": "ClusterIssuer",
                    "cert-manager.io/issuer-group": "cert-manager.io",
                }),
            ).map((x) => x.path),
        ).to.deep.equal([key + "cert-manager.io/issuer"]);
        expect(
            errors(annotate({ "cert-manager.io/issuer": "home-ops-ca", "cert-manager.io/issuer-kind": "AWSPCAIssuer" }))[0].message,
        ).to.contain('an issuer of kind "AWSPCAIssuer"');
        expect(
            errors(
                annotate({
                    "cert-manager.io/issuer": "home-ops-ca",
                    "cert-manager.io/issuer-group": "awspca.cert-manager.io",
                    "cert-manager.io/issuer-kind": "ClusterIssuer",
                }),
            )[0].message,
        ).to.contain('group "awspca.cert-manager.io"');
    });

    it("refuses the annotation pairs cert-manager refuses, naming both keys", () => {
        const annotate = (annotations: Json) => (s: Record<string, Json>) =>
            (s.ingressNginx.values = { controller: { podAnnotations: annotations } });
        const key = "talos-platform:ingressNginx.values.controller.podAnnotations.";
        for (const other of ["cert-manager.io/issuer", "cert-manager.io/issuer-kind", "cert-manager.io/issuer-group"]) {
            const p = errors(annotate({ "cert-manager.io/cluster-issuer": "home-ops-ca", [other]: "x" }));
            expect(
                p.map((x) => x.path),
                other,
            ).to.have.length(1);
            expect(p[0].path + p[0].message)
                .to.contain(key + other)
                .and.contain(key + "cert-manager.io/cluster-issuer");
        }
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
        const e = at((s) => s.cilium.loadBalancerPools.push({ name: "catch-all", blocks: [{ cidr: "172.29.60.0/24" }] }), BOTH_POOL_KEYS);
        expect(e?.message).to.contain("2 pools (bgp-ingress, catch-all)");
        expect(e?.fix).to.contain("disjoint serviceSelectors");
    });

    it("accepts a pool that selects by namespace through Cilium's io.kubernetes.service.namespace", () => {
        const p = errors((s) => {
            s.cilium.loadBalancerPools[1].serviceSelector = { matchLabels: { "io.kubernetes.service.namespace": "ingress-nginx" } };
            // The pool now takes ingress-nginx's namespace only; the Gateway's Service lives elsewhere.
            delete s.gateway;
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

    it("checks an address another Service asks for at that Service's key, even the ingress controller's typed address", () => {
        const p = errors((s) => {
            s.coredns.values = {
                serviceType: "LoadBalancer",
                customLabels: { "io.cilium/lb-ipam-pool": "bgp-default" },
                service: { annotations: { "lbipam.cilium.io/ips": "172.29.52.201" } },
            };
        });
        expect(p.map((x) => [x.path, x.value])).to.deep.equal([
            ["talos-platform:coredns.values.service.annotations.lbipam.cilium.io/ips", "172.29.52.201"],
        ]);
    });

    it("checks Cilium's own LoadBalancer Services: the shared ingress and a LoadBalancer clustermesh-apiserver", () => {
        const ingress = errors((s) => (s.cilium.values = { ingressController: { enabled: true, loadbalancerMode: "shared" } }));
        expect(ingress.map((x) => x.path)).to.deep.equal(["talos-platform:cilium.values.ingressController.service.labels"]);
        expect(ingress[0].message).to.contain("kube-system/cilium-ingress").and.contain("no Cilium pool");
        // No typed pool key: the Service's labels are the thing to change.
        expect(ingress[0].fix).to.equal(
            "give the Service the labels of one pool's serviceSelector (bgp-default, bgp-ingress, bgp-reserved)",
        );
        const labelled = { enabled: true, service: { labels: { "io.cilium/lb-ipam-pool": "bgp-default" } } };
        expect(errors((s) => (s.cilium.values = { ingressController: labelled }))).to.deep.equal([]);
        // Behind host networking the shared Service is a ClusterIP.
        expect(errors((s) => (s.cilium.values = { ingressController: { enabled: true, hostNetwork: { enabled: true } } }))).to.deep.equal(
            [],
        );

        const mesh = (service: Json) => (s: Record<string, Json>) =>
            (s.cilium.values = { clustermesh: { useAPIServer: true, apiserver: { service } } });
        expect(errors(mesh({ type: "LoadBalancer" })).map((x) => x.path)).to.deep.equal([
            "talos-platform:cilium.values.clustermesh.apiserver.service.labels",
        ]);
        expect(errors(mesh({ type: "NodePort" }))).to.deep.equal([]);
        expect(errors(mesh({ type: "LoadBalancer", labels: { "io.cilium/lb-ipam-pool": "bgp-reserved" } }))).to.deep.equal([]);
    });

    it("suggests only pools of the Service's address family, or says none has one", () => {
        const unlabelled = (s: Record<string, Json>) => {
            delete s.ingressNginx.loadBalancer.pool;
            delete s.ingressNginx.loadBalancer.ip;
        };
        const p = at(unlabelled, "talos-platform:ingressNginx.loadBalancer.pool");
        expect(p?.fix).to.equal("name one of bgp-default, bgp-ingress, bgp-reserved");
        // No annotation carries a selector key, so the message says no more than that.
        expect(p?.message).to.match(/selected by no Cilium pool, so it would stay <pending>$/);
        // The IPv6 pool, now the only one, keeps the dev stack's finding that no IPv6 session announces it.
        const v6only = errors(
            (s) => (unlabelled(s), (s.cilium.loadBalancerPools = s.cilium.loadBalancerPools.slice(3))),
            ["lb-pool-not-announced"],
        ).find((p) => p.path === "talos-platform:ingressNginx.loadBalancer.pool");
        expect(v6only?.fix).to.contain("add a pool with an IPv4 block");
        // A pool with blocks of both families serves an IPv4 Service too.
        const dual = errors(
            (s) => (unlabelled(s), s.cilium.loadBalancerPools[2].blocks.push({ cidr: "fd47:25e1:2f96:52:200::/120" })),
            ["lb-pool-not-announced"],
        ).find((p) => p.path === "talos-platform:ingressNginx.loadBalancer.pool");
        expect(dual?.fix).to.equal("name one of bgp-default, bgp-ingress, bgp-reserved");
    });

    it("says which selector expression the named pool's labels cannot satisfy, instead of suggesting that very pool", () => {
        const e = at((s) => {
            s.cilium.loadBalancerPools[1].serviceSelector = { matchExpressions: [{ key: "edge", operator: "Exists" }] };
        }, BOTH_POOL_KEYS);
        expect(e?.fix)
            .to.contain("bgp-ingress's serviceSelector (edge Exists)")
            .and.contain("ingressNginx.values.controller.service.labels");
        expect(e?.fix).to.contain("or name another pool (bgp-default, bgp-reserved)");
        expect(
            errors((s) => {
                s.cilium.loadBalancerPools[1].serviceSelector = { matchExpressions: [{ key: "edge", operator: "Exists" }] };
                s.ingressNginx.values = { controller: { service: { labels: { edge: "yes" } } } };
                // An Exists selector gives the Gateway's Service no label to carry: the pool is ingress-nginx's alone here.
                delete s.gateway;
            }),
        ).to.deep.equal([]);
    });

    it("names the selector's Cilium namespace and name keys, which no label can carry, with an In expression's values", () => {
        const e = at((s) => {
            // The pool label and tier In (edge) become the Service's labels and hold; the other two cannot.
            s.cilium.loadBalancerPools[1].serviceSelector = {
                matchLabels: { "io.cilium/lb-ipam-pool": "bgp-ingress", "io.kubernetes.service.namespace": "apps" },
                matchExpressions: [
                    { key: "tier", operator: "In", values: ["edge"] },
                    { key: "io.kubernetes.service.name", operator: "In", values: ["web", "api"] },
                ],
            };
            delete s.gateway;
        }, "talos-platform:ingressNginx.loadBalancer.pool");
        expect(e?.fix).to.equal(
            "pool bgp-ingress's serviceSelector (io.kubernetes.service.namespace=apps; io.kubernetes.service.name In (web, api)) does not hold " +
                "for the Service's labels, and only matchLabels and In expressions become labels: set the labels it needs under " +
                "ingressNginx.values.controller.service.labels, or name another pool (bgp-default, bgp-reserved)",
        );
    });

    it("points at every annotation that carries a key of a pool's selector, matchExpressions keys included", () => {
        const e = at((s) => {
            s.cilium.loadBalancerPools[1].serviceSelector = { matchExpressions: [{ key: "edge", operator: "In", values: ["yes"] }] };
            delete s.ingressNginx.loadBalancer.pool;
            delete s.ingressNginx.loadBalancer.ip;
            const annotations = {
                edge: "yes",
                "io.cilium/lb-ipam-pool": "bgp-ingress",
                "external-dns.alpha.kubernetes.io/hostname": "k8s.example",
            };
            s.ingressNginx.values = { controller: { service: { annotations } } };
            delete s.gateway;
        }, "talos-platform:ingressNginx.loadBalancer.pool");
        // external-dns' annotation is no pool's selector key: it is not named.
        expect(e?.message).to.contain("; its annotations carry edge, io.cilium/lb-ipam-pool, but pools match labels");
    });

    it("leaves a Service whose labels are of the wrong kind to the type check", () => {
        const p = errors((s) => (s.ingressNginx.values = { controller: { service: { labels: { "io.cilium/lb-ipam-pool": 7 } } } }));
        expect(p.map((x) => [x.path, x.message])).to.deep.equal([
            ["talos-platform:ingressNginx.values.controller.service.labels.io.cilium/lb-ipam-pool", "must be a string, not a number"],
        ]);
    });

    it("checks every address of a list, even when the first is the typed one", () => {
        const p = errors((s) => {
            s.ingressNginx.values = { controller: { service: { annotations: { "lbipam.cilium.io/ips": "172.29.52.201,172.29.52.100" } } } };
        });
        expect(p.map((x) => [x.path, x.value])).to.deep.equal([
            ["talos-platform:ingressNginx.values.controller.service.annotations.lbipam.cilium.io/ips", "172.29.52.100"],
        ]);
        expect(p[0].fix).to.equal("pick an address from pool bgp-ingress");
        // Cilium splits the annotation at commas and trims each address.
        const spaced = errors((s) => {
            s.ingressNginx.values = {
                controller: { service: { annotations: { "lbipam.cilium.io/ips": "172.29.52.201, 172.29.52.100" } } },
            };
        });
        expect(spaced.map((x) => x.value)).to.deep.equal(["172.29.52.100"]);
    });

    it("checks the typed address against the pool that selects the Service, when labels in values pick another one", () => {
        const p = errors(
            (s) => (s.ingressNginx.values = { controller: { service: { labels: { "io.cilium/lb-ipam-pool": "bgp-default" } } } }),
        );
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:ingressNginx.loadBalancer.ip"]);
        expect(p[0].message).to.contain("outside bgp-default, the only pool that selects it");
    });

    it("names the labels in values, not the typed pool, when those labels select no pool", () => {
        const p = errors((s) => (s.ingressNginx.values = { controller: { service: { labels: { "io.cilium/lb-ipam-pool": "nope" } } } }));
        expect(p.map((x) => [x.path, x.value])).to.deep.equal([
            ["talos-platform:ingressNginx.values.controller.service.labels", { "io.cilium/lb-ipam-pool": "nope" }],
        ]);
    });

    it("takes an address from any block of a pool with several, typed or through values", () => {
        const twoBlocks = (s: Record<string, Json>) => s.cilium.loadBalancerPools[1].blocks.push({ cidr: "172.29.53.0/28" });
        expect(errors((s) => (twoBlocks(s), (s.ingressNginx.loadBalancer.ip = "172.29.53.5")))).to.deep.equal([]);
        expect(
            errors((s) => {
                twoBlocks(s);
                delete s.ingressNginx.loadBalancer.ip;
                s.ingressNginx.values = { controller: { service: { annotations: { "lbipam.cilium.io/ips": "172.29.53.5" } } } };
            }),
        ).to.deep.equal([]);
        expect(errors((s) => (twoBlocks(s), (s.ingressNginx.loadBalancer.ip = "172.29.53.16"))).map((x) => x.path)).to.deep.equal([
            "talos-platform:ingressNginx.loadBalancer.ip",
        ]);
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
        // The same address through values, beside a typed one it overrides, is still checked at its values key.
        const both = errors((s) => {
            s.ingressNginx.values = { controller: { service: { annotations: { "lbipam.cilium.io/ips": "172.29.52.150" } } } };
        });
        expect(both.map((x) => [x.path, x.value])).to.deep.equal([
            ["talos-platform:ingressNginx.values.controller.service.annotations.lbipam.cilium.io/ips", "172.29.52.150"],
        ]);
    });
});

describe("rule: a custom cluster domain reaches every component", () => {
    const custom = (s: Record<string, Json>) => (s.cluster.dnsDomain = "home.arpa");

    it("carries home.arpa into the CoreDNS zone, cert-manager's webhook names and the FluxInstance, without errors", () => {
        const result = check(custom);
        expect(newProblems(custom, {}, customDomainStack)).to.deep.equal([]);
        const c = result.config!;
        expect(JSON.stringify(corednsValues(c.cluster, c.coredns).servers)).to.contain('"home.arpa in-addr.arpa ip6.arpa"');
        expect((certManagerValues(c.certManager, c.cluster) as Json).webhook.extraArgs[0]).to.match(/\.svc\.home\.arpa$/);
        expect(fluxInstance(c.cluster, c.flux).spec.cluster).to.include({ domain: "home.arpa" });
    });

    it("rejects a CoreDNS server block that serves another zone, naming both keys", () => {
        const p = errors((s) => {
            custom(s);
            s.coredns.values = {
                servers: [{ zones: [{ zone: "." }], port: 53, plugins: [{ name: "kubernetes", parameters: "cluster.local" }] }],
            };
        });
        // The server block serves the wrong zone, and its parameters are a leftover cluster.local name.
        expect(p.map((x) => x.path)).to.deep.equal([
            "talos-platform:coredns.values.servers",
            "talos-platform:coredns.values.servers[0].plugins[0].parameters",
        ]);
        expect(p[0].message).to.contain("cluster.local").and.contain("talos-platform:cluster.dnsDomain is home.arpa");
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

    it("reports a CoreDNS servers value of the wrong kind with its own value, and no zone error on top", () => {
        const p = errors((s) => (custom(s), (s.coredns.values = { servers: "oops" })));
        expect(p.map((x) => [x.path, x.message, x.value])).to.deep.equal([
            ["talos-platform:coredns.values.servers", "must be a list of maps, not a string", "oops"],
        ]);
    });

    it("puts the webhook's name as the chart makes it into the serving certificate and the gate", () => {
        const c = check((s) => (custom(s), (s.certManager.values = { fullnameOverride: "cm", namespace: "pki" }))).config!;
        expect((certManagerValues(c.certManager, c.cluster) as Json).webhook.extraArgs).to.deep.equal([
            "--dynamic-serving-dns-names=cm-webhook.pki.svc.home.arpa",
        ]);
        expect(gateOptions(c).certificates).to.include({ deployment: "cm-webhook", namespace: "pki" });
        const long = check((s) => (s.certManager.values = { fullnameOverride: "x".repeat(60) })).config!;
        expect(certManagerWebhook(long.certManager).name).to.equal(`${"x".repeat(55)}-webhook`);
        const renamed = check((s) => (s.certManager.values = { nameOverride: "certs" })).config!;
        expect(certManagerWebhook(renamed.certManager).name).to.equal("cert-manager-certs-webhook");
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
