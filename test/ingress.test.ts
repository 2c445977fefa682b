import { expect } from "chai";
import { validateConfig } from "../lib/config";
import type { Plan } from "../lib/plan/model";
import { ingressNginxServices, ingressNginxValues, labelsFor } from "../lib/values/ingress-nginx";
import { unknownChartKeys } from "./chart-keys";
import { byName, devSections, Json, planDev, raw, newErrors, newProblems } from "./helpers";

function check(edit?: (s: Record<string, Json>) => void) {
    const s = devSections();
    edit?.(s);
    return validateConfig(raw(s));
}
/** The errors an edit of the dev stack brings; a warning the test did not name fails it (see newErrors). */
const errors = (edit: (s: Record<string, Json>) => void, warnings: string[] = []) => newErrors(edit, { warnings });
const valuesOf = (edit?: (s: Record<string, Json>) => void): Json => {
    const c = check(edit).config!;
    return ingressNginxValues(c.ingressNginx, c.cilium.loadBalancerPools);
};

describe("ingress-nginx values", () => {
    it("labels the Service for its pool, asks for the fixed address by annotation, and keeps externalTrafficPolicy", () => {
        const { service } = valuesOf().controller;
        expect(service).to.deep.equal({
            type: "LoadBalancer",
            externalTrafficPolicy: "Cluster",
            labels: { "io.cilium/lb-ipam-pool": "bgp-ingress" },
            annotations: { "lbipam.cilium.io/ips": "172.29.52.201" },
        });
        expect(
            valuesOf((s) => (s.ingressNginx.loadBalancer.externalTrafficPolicy = "Local")).controller.service.externalTrafficPolicy,
        ).to.equal("Local");
    });

    it("runs two spread replicas, the admission webhook, the default IngressClass, metrics without ServiceMonitor, and the default certificate", () => {
        const { controller } = valuesOf();
        expect(controller.replicaCount).to.equal(2);
        expect(controller.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).to.equal(
            "kubernetes.io/hostname",
        );
        expect(controller.admissionWebhooks).to.deep.equal({ enabled: true });
        expect(controller.ingressClassResource).to.deep.equal({ name: "nginx", enabled: true, default: true });
        expect(controller.metrics).to.deep.equal({ enabled: true, serviceMonitor: { enabled: false }, prometheusRule: { enabled: false } });
        expect(controller.extraArgs).to.deep.equal({ "default-ssl-certificate": "ingress-nginx/default-tls" });
        expect(valuesOf((s) => delete s.ingressNginx.defaultCertificate).controller).to.not.have.property("extraArgs");
    });

    it("turns a pool selector into Service labels, leaving out Cilium's metadata keys", () => {
        expect(
            labelsFor({
                matchLabels: { a: "1" },
                matchExpressions: [
                    { key: "b", operator: "In", values: ["2", "3"] },
                    { key: "c", operator: "Exists" },
                    { key: "io.kubernetes.service.namespace", operator: "In", values: ["ingress-nginx"] },
                ],
            }),
        ).to.deep.equal({ a: "1", b: "2" });
        expect(labelsFor(undefined)).to.deep.equal({});
    });

    it("uses only keys the ingress-nginx 4.15.1 chart knows", () => {
        expect(unknownChartKeys("ingress-nginx", "4.15.1", valuesOf())).to.deep.equal([]);
        expect(unknownChartKeys("ingress-nginx", "4.15.1", { controller: { servce: {} } })).to.deep.equal(["controller.servce"]);
    });

    it("lists the Services the chart renders, with the labels Cilium will match", () => {
        const c = check().config!;
        const services = ingressNginxServices(c.ingressNginx, c.cilium.loadBalancerPools);
        expect(services.map((s) => `${s.name}:${s.type}`)).to.deep.equal([
            "ingress-nginx-controller:LoadBalancer",
            "ingress-nginx-controller-metrics:ClusterIP",
            "ingress-nginx-controller-admission:ClusterIP",
        ]);
        expect(services[0].labels).to.include({ "io.cilium/lb-ipam-pool": "bgp-ingress", "app.kubernetes.io/component": "controller" });
    });
});

describe("ingress config checks", () => {
    it("rejects a pool that cilium.loadBalancerPools does not define, suggesting the closest", () => {
        const p = errors((s) => (s.ingressNginx.loadBalancer.pool = "bgp-ingres"));
        const e = p.find((x) => x.path === "talos-platform:ingressNginx.loadBalancer.pool")!;
        expect(e.message).to.contain("names no pool");
        expect(e.fix).to.contain("closest: bgp-ingress");
    });

    it("rejects a fixed address outside the pool", () => {
        const p = errors((s) => (s.ingressNginx.loadBalancer.ip = "172.29.52.100"));
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:ingressNginx.loadBalancer.ip"]);
        expect(p[0].message).to.equal("is not in pool bgp-ingress (172.29.52.200-172.29.52.220); Cilium would leave the Service pending");
        expect(p[0].fix).to.equal("pick an address inside 172.29.52.200-172.29.52.220, or change ingressNginx.loadBalancer.pool");
    });

    it("takes an address at either end of its pool and refuses the one just outside, typed or through values, IPv4 and IPv6", () => {
        const IP_KEY = "talos-platform:ingressNginx.loadBalancer.ip";
        const VALUES_KEY = "talos-platform:ingressNginx.values.controller.service.annotations.lbipam.cilium.io/ips";
        // Every finding, errors and warnings, as [path] per finding.
        const typed = (pool: string, ip: string, service: Json = {}) =>
            newProblems((s) => {
                s.ingressNginx.loadBalancer.pool = pool;
                s.ingressNginx.loadBalancer.ip = ip;
                s.ingressNginx.values = { controller: { service } };
            }).map((x) => x.path);
        const viaValues = (pool: string, ip: string, service: Json = {}) =>
            newProblems((s) => {
                s.ingressNginx.loadBalancer.pool = pool;
                delete s.ingressNginx.loadBalancer.ip;
                s.ingressNginx.values = { controller: { service: { ...service, annotations: { "lbipam.cilium.io/ips": ip } } } };
            }).map((x) => x.path);
        // bgp-ingress is start 172.29.52.200, stop 172.29.52.220 in the dev stack; Cilium's range includes both.
        // bgp-default-ipv6 is fd47:25e1:2f96:52:100::/120, first and last addresses allowed (Cilium's default).
        const v6 = { ipFamilies: ["IPv6"] };
        const cases: [string, string, Json, boolean][] = [
            ["bgp-ingress", "172.29.52.199", {}, false],
            ["bgp-ingress", "172.29.52.200", {}, true],
            ["bgp-ingress", "172.29.52.220", {}, true],
            ["bgp-ingress", "172.29.52.221", {}, false],
            ["bgp-default-ipv6", "fd47:25e1:2f96:52:ff:ffff:ffff:ffff", v6, false],
            ["bgp-default-ipv6", "fd47:25e1:2f96:52:100::", v6, true],
            ["bgp-default-ipv6", "fd47:25e1:2f96:52:100::ff", v6, true],
            ["bgp-default-ipv6", "fd47:25e1:2f96:52:100::100", v6, false],
        ];
        // The dev stack's BGP sessions are IPv4, so an IPv6 controller's pool is announced by nothing: an error
        // (severity from context) that these cases carry besides the address's own.
        const UNANNOUNCED_V6 = "talos-platform:cilium.loadBalancerPools[3]";
        for (const [pool, ip, service, inside] of cases) {
            const pre = pool === "bgp-default-ipv6" ? [UNANNOUNCED_V6] : [];
            expect(typed(pool, ip, service), `${ip} typed`).to.deep.equal([...pre, ...(inside ? [] : [IP_KEY])]);
            expect(viaValues(pool, ip, service), `${ip} through values`).to.deep.equal([...pre, ...(inside ? [] : [VALUES_KEY])]);
        }
    });

    it("honours allowFirstLastIPs: false for CIDR pools", () => {
        const edit = (ip: string) => (s: Record<string, Json>) => {
            s.cilium.loadBalancerPools[1].blocks = [{ cidr: "172.29.53.0/28" }];
            s.cilium.loadBalancerPools[1].allowFirstLastIPs = false;
            s.ingressNginx.loadBalancer.ip = ip;
            // The Gateway next to it draws from the same pool.
            s.gateway.loadBalancer.ip = "172.29.53.2";
        };
        const first = errors(edit("172.29.53.0"));
        expect(first.map((x) => x.path)).to.deep.equal(["talos-platform:ingressNginx.loadBalancer.ip"]);
        expect(first[0].message).to.contain("is not in pool bgp-ingress (172.29.53.0/28, first and last addresses excluded)");
        expect(errors(edit("172.29.53.15")).map((x) => x.path)).to.deep.equal(["talos-platform:ingressNginx.loadBalancer.ip"]);
        expect(errors(edit("172.29.53.14"))).to.deep.equal([]);
        expect(errors(edit("172.29.53.1"))).to.deep.equal([]);
    });

    it("with no pool at all, names cilium.loadBalancerPools and offers a pool with its announcement, or a NodePort", () => {
        const p = errors((s) => {
            s.cilium.loadBalancerPools = [];
            delete s.cilium.bgp;
            s.ingressNginx.loadBalancer = {};
            delete s.gateway;
        });
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:cilium.loadBalancerPools"]);
        expect(p[0].value).to.deep.equal([]);
        expect(p[0].message).to.contain("ingress-nginx/ingress-nginx-controller would get no address");
        expect(p[0].fix)
            .to.contain(
                "add a pool and announce it, e.g. cilium.loadBalancerPools: [{ name: lan, blocks: [{ start: <first>, stop: <last> }] }]",
            )
            .and.contain("cilium.l2Announcements")
            .and.contain("talos-platform:ingressNginx.values.controller.service.type to NodePort");
        const nodePort = errors((s) => {
            s.cilium.loadBalancerPools = [];
            delete s.cilium.bgp;
            s.ingressNginx.loadBalancer = {};
            s.ingressNginx.values = { controller: { service: { type: "NodePort" } } };
            delete s.gateway;
        });
        expect(nodePort, "the fix it offers works").to.deep.equal([]);
    });

    it("rejects a fixed address without a pool, and one of a family the Service does not have", () => {
        expect(errors((s) => delete s.ingressNginx.loadBalancer.pool).map((x) => x.path)).to.include(
            "talos-platform:ingressNginx.loadBalancer.ip",
        );
        const v6 = errors((s) => {
            s.ingressNginx.loadBalancer.pool = "bgp-default-ipv6";
            s.ingressNginx.loadBalancer.ip = "fd47:25e1:2f96:52:100::10";
        });
        expect(v6.map((x) => x.path)).to.deep.equal(["talos-platform:ingressNginx.loadBalancer.ip"]);
        expect(v6[0].message).to.contain("IPv6").and.contain("ipFamilies");
    });

    it("refuses fewer than two replicas, typed, through values, or through autoscaling", () => {
        // replicas has a schema minimum of 2: the section does not parse, and its checks wait for the fix.
        expect(errors((s) => (s.ingressNginx.replicas = 1), ["checks-skipped"]).map((p) => p.path)).to.deep.equal([
            "talos-platform:ingressNginx.replicas",
        ]);
        expect(errors((s) => (s.ingressNginx.values = { controller: { replicaCount: 1 } })).map((p) => p.path)).to.deep.equal([
            "talos-platform:ingressNginx.values.controller.replicaCount",
        ]);
        const hpa = (min: number) => (s: Record<string, Json>) =>
            (s.ingressNginx.values = { controller: { autoscaling: { enabled: true, minReplicas: min } } });
        expect(errors(hpa(1)).map((p) => p.path)).to.deep.equal(["talos-platform:ingressNginx.values.controller.autoscaling.minReplicas"]);
        expect(errors(hpa(2))).to.deep.equal([]);
    });

    it("uses the same replica rule for KEDA, skips a DaemonSet, and reports a count of the wrong kind as such", () => {
        const keda = errors((s) => (s.ingressNginx.values = { controller: { keda: { enabled: true } } }));
        expect(keda.map((p) => [p.path, p.value])).to.deep.equal([["talos-platform:ingressNginx.values.controller.keda.minReplicas", 1]]);
        expect(errors((s) => (s.ingressNginx.values = { controller: { kind: "DaemonSet", replicaCount: 1 } }))).to.deep.equal([]);
        const typed = errors((s) => (s.ingressNginx.values = { controller: { replicaCount: "3", autoscaling: { minReplicas: 2 } } }));
        expect(typed.map((p) => [p.path, p.message])).to.deep.equal([
            ["talos-platform:ingressNginx.values.controller.replicaCount", "must be a whole number, not a string"],
        ]);
        const min = errors((s) => (s.ingressNginx.values = { controller: { autoscaling: { enabled: true, minReplicas: "2" } } }));
        expect(min.map((p) => [p.path, p.message])).to.deep.equal([
            ["talos-platform:ingressNginx.values.controller.autoscaling.minReplicas", "must be a whole number, not a string"],
        ]);
    });

    it("rejects an unknown externalTrafficPolicy", () => {
        const p = errors((s) => (s.ingressNginx.loadBalancer.externalTrafficPolicy = "local"), ["checks-skipped"]);
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:ingressNginx.loadBalancer.externalTrafficPolicy"]);
        expect(p[0].fix).to.contain('"Local"');
    });
});

describe("ingress phase in the plan", () => {
    let plan: Plan;
    before(async () => {
        plan = await planDev();
    });

    it("installs the pinned chart and the default certificate after the release, under the ingress phase", () => {
        const release = byName(plan, "ingress-nginx-release");
        expect(release.inputs).to.include({ chart: "ingress-nginx", version: "4.15.1", namespace: "ingress-nginx" });
        const cert = byName(plan, "ingress-nginx-default-certificate");
        expect(cert.phase).to.equal("ingress");
        expect(cert.dependsOn).to.deep.equal([release.urn]);
        expect((cert.inputs.spec as Json).issuerRef).to.deep.equal({
            name: "letsencrypt-prod",
            kind: "ClusterIssuer",
            group: "cert-manager.io",
        });
        // Issuance may take minutes; the certificate is not waited on.
        expect((cert.inputs.metadata as Json).annotations).to.equal(undefined);
    });

    it("reports the retirement of ingress-nginx as an advisory finding that says what is left to move to the dev stack's Gateway, without blocking", () => {
        const f = plan.findings.filter((x) => x.rule === "ingress-nginx-retired");
        expect(f).to.have.length(1);
        expect(f[0]).to.include({ severity: "advisory", resource: byName(plan, "ingress-nginx-release").urn });
        expect(f[0].message).to.contain("March 2026").and.contain("Gateway API").and.contain("talos-platform:gateway");
        expect(f[0].message)
            .to.contain("every Ingress of class nginx and, as it is the default class, every Ingress without ingressClassName")
            .and.contain("HTTPRoute on gateway/platform (172.29.52.202)")
            .and.contain("ingress2gateway")
            .and.contain("DNS: the names that resolve to 172.29.52.201 (ingress-nginx), to 172.29.52.202")
            .and.contain("talos-platform:ingressNginx.enabled to false");
        // The Gateway's listeners take both names of ingress-nginx's default certificate.
        expect(f[0].message).to.not.contain("no Gateway listener takes them");
        expect(plan.ok).to.equal(true);
    });
});
