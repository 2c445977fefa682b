import { expect } from "chai";
import { PlatformConfig, validateConfig } from "../lib/config";
import { valueAt } from "../lib/merge";
import { certManagerValues } from "../lib/values/cert-manager";
import { ciliumValues } from "../lib/values/cilium";
import { gatewayClassObject, gatewayNamespaceExists, gatewayObject, redirectRoute } from "../lib/values/gateway";
import { unknownChartKeys } from "./chart-keys";
import { devSections, Json, raw } from "./helpers";
import { crdErrors, valuesErrors } from "./schemas";

// What the `gateway` section makes of the charts' values and of the Gateway
// API objects, against the charts' values schemas and Gateway API v1.4.1's
// strict CRD schemas.

function config(edit?: (s: Record<string, Json>) => void): PlatformConfig {
    const s = devSections();
    edit?.(s);
    const { config, problems } = validateConfig(raw(s));
    if (!config) throw new Error(problems.map((p) => `${p.path} ${p.message}`).join("; "));
    return config;
}

describe("gateway: chart values", () => {
    it("turns on Cilium's Gateway API with the Gateway's traffic policy, in keys the 1.19.4 chart knows and its schema accepts", () => {
        const c = config((s) => (s.gateway.loadBalancer.externalTrafficPolicy = "Local"));
        const v = ciliumValues(c.cluster, c.cilium, c.gateway);
        expect(v.gatewayAPI).to.deep.equal({ enabled: true, externalTrafficPolicy: "Local" });
        // Kube-proxy replacement and the L7 proxy, which it needs: the first from Talos, the second the chart's default.
        expect(v.kubeProxyReplacement).to.equal(true);
        expect(valueAt(v, "l7Proxy")).to.equal(undefined);
        expect(unknownChartKeys("cilium", "1.19.4", v)).to.deep.equal([]);
        expect(valuesErrors("cilium", "1.19.4", v)).to.deep.equal([]);
    });

    it("leaves Cilium's values alone with the gateway off, and the escape hatch still wins", () => {
        const off = config((s) => (s.gateway.enabled = false));
        expect(ciliumValues(off.cluster, off.cilium, off.gateway)).to.not.have.property("gatewayAPI");
        expect(ciliumValues(off.cluster, off.cilium)).to.not.have.property("gatewayAPI");
        const c = config((s) => (s.cilium.values = { gatewayAPI: { enableAlpn: true } }));
        expect(ciliumValues(c.cluster, c.cilium, c.gateway).gatewayAPI).to.deep.equal({
            enabled: true,
            externalTrafficPolicy: "Cluster",
            enableAlpn: true,
        });
    });

    it("turns on cert-manager's Gateway API support the v1.21 way (config.gatewayAPI.enabled), which its schema accepts", () => {
        const c = config();
        const v = certManagerValues(c.certManager, c.cluster, { gatewayApi: true }) as Json;
        expect(v.config).to.deep.equal({ gatewayAPI: { enabled: true } });
        expect(valuesErrors("cert-manager", "v1.21.1", v)).to.deep.equal([]);
        expect(certManagerValues(c.certManager, c.cluster)).to.not.have.property("config");
    });
});

describe("gateway: the Gateway API objects", () => {
    it("builds the dev stack's Gateway: Cilium's class, the pool's labels and the address for its Service, one issuer, TLS listeners and the redirect listener", () => {
        const c = config();
        const gw = gatewayObject(c.gateway, c.cilium.loadBalancerPools) as Json;
        expect(gw.metadata).to.deep.equal({
            name: "platform",
            namespace: "gateway",
            annotations: { "cert-manager.io/cluster-issuer": "letsencrypt-prod" },
        });
        expect(gw.spec.gatewayClassName).to.equal("cilium");
        expect(gw.spec.infrastructure).to.deep.equal({
            labels: { "io.cilium/lb-ipam-pool": "bgp-ingress" },
            annotations: { "lbipam.cilium.io/ips": "172.29.52.202" },
        });
        expect(gw.spec.listeners).to.deep.equal([
            {
                name: "https-apex",
                hostname: "k8s.home.geoffdavis.com",
                port: 443,
                protocol: "HTTPS",
                tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: "platform-https-apex-tls" }] },
                allowedRoutes: { namespaces: { from: "All" } },
            },
            {
                name: "https-wildcard",
                hostname: "*.k8s.home.geoffdavis.com",
                port: 443,
                protocol: "HTTPS",
                tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: "platform-https-wildcard-tls" }] },
                allowedRoutes: { namespaces: { from: "All" } },
            },
            { name: "http-redirect", port: 80, protocol: "HTTP", allowedRoutes: { namespaces: { from: "Same" } } },
        ]);
        expect(crdErrors(gw)).to.deep.equal([]);
    });

    it("redirects HTTP to HTTPS with a 301 on the redirect listener, to 443 or the HTTPS port", () => {
        const route = redirectRoute(config().gateway) as Json;
        expect(route.metadata).to.deep.equal({ name: "platform-https-redirect", namespace: "gateway" });
        expect(route.spec).to.deep.equal({
            parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "platform", sectionName: "http-redirect" }],
            rules: [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }],
        });
        expect(crdErrors(route)).to.deep.equal([]);
        const on8443 = redirectRoute(config((s) => s.gateway.listeners.forEach((l: Json) => (l.port = 8443))).gateway) as Json;
        expect(on8443.spec.rules[0].filters[0].requestRedirect).to.deep.equal({ scheme: "https", statusCode: 301, port: 8443 });
        expect(crdErrors(on8443)).to.deep.equal([]);
    });

    it("adds no redirect without an HTTPS listener or with httpsRedirect off", () => {
        const http = config((s) => (s.gateway.listeners = [{ name: "web", hostname: "web.k8s.home.geoffdavis.com", protocol: "HTTP" }]));
        expect(redirectRoute(http.gateway)).to.equal(undefined);
        expect((gatewayObject(http.gateway, []) as Json).spec.listeners.map((l: Json) => l.name)).to.deep.equal(["web"]);
        expect((gatewayObject(http.gateway, []) as Json).metadata).to.not.have.property("annotations");
        const off = config((s) => (s.gateway.httpsRedirect = false));
        expect(redirectRoute(off.gateway)).to.equal(undefined);
    });

    it("serves a listener's own Secret without an annotation, takes the namespace selector, and leaves out what is unset", () => {
        const c = config((s) => {
            s.gateway.listeners = [
                { name: "web", hostname: "web.k8s.home.geoffdavis.com", protocol: "HTTPS", certificateSecret: "web-tls" },
            ];
            s.gateway.allowedRoutes = {
                namespaces: { from: "Selector", selector: { matchLabels: { "talos-platform/gateway": "platform" } } },
            };
            s.gateway.loadBalancer = { pool: "bgp-ingress" };
        });
        const gw = gatewayObject(c.gateway, c.cilium.loadBalancerPools) as Json;
        expect(gw.metadata).to.not.have.property("annotations");
        // Any address of the pool: its labels, no fixed address.
        expect(gw.spec.infrastructure).to.deep.equal({ labels: { "io.cilium/lb-ipam-pool": "bgp-ingress" } });
        expect((gatewayObject({ ...c.gateway, loadBalancer: { externalTrafficPolicy: "Cluster" } }, []) as Json).spec).to.not.have.property(
            "infrastructure",
        );
        expect(gw.spec.listeners[0].tls.certificateRefs[0].name).to.equal("web-tls");
        expect(gw.spec.listeners[0].allowedRoutes).to.deep.equal({
            namespaces: { from: "Selector", selector: { matchLabels: { "talos-platform/gateway": "platform" } } },
        });
        expect(crdErrors(gw)).to.deep.equal([]);
    });

    it("creates a GatewayClass for Cilium's controller only for a class other than cilium", () => {
        expect(gatewayClassObject(config().gateway)).to.equal(undefined);
        const cls = gatewayClassObject(config((s) => (s.gateway.className = "edge")).gateway) as Json;
        expect(cls).to.deep.equal({
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "GatewayClass",
            metadata: { name: "edge" },
            spec: { controllerName: "io.cilium/gateway-controller" },
        });
        expect(crdErrors(cls)).to.deep.equal([]);
    });

    it("is checked against schemas strict enough to refuse a wrong field", () => {
        const gw = gatewayObject(config().gateway, []) as Json;
        gw.spec.listeners[0].tls.mode = "Terminated";
        expect(crdErrors(gw).join(" ")).to.contain("/spec/listeners/0/tls/mode");
        const route = redirectRoute(config().gateway) as Json;
        route.spec.rules[0].filters[0].requestRedirect.code = 301;
        expect(crdErrors(route).join(" ")).to.contain('"additionalProperty":"code"');
    });

    it("creates the Gateway's namespace unless Kubernetes, Cilium, cert-manager or ingress-nginx has it", () => {
        expect(gatewayNamespaceExists(config())).to.equal(false);
        for (const ns of ["kube-system", "default", "cert-manager", "ingress-nginx"])
            expect(gatewayNamespaceExists(config((s) => (s.gateway.namespace = ns))), ns).to.equal(true);
        expect(
            gatewayNamespaceExists(
                config((s) => {
                    s.gateway.namespace = "ingress-nginx";
                    s.ingressNginx.enabled = false;
                }),
            ),
        ).to.equal(false);
    });
});
