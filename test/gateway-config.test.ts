import { expect } from "chai";
import { validateConfig } from "../lib/config";
import { hostnameProblem } from "../lib/checks/gateway";
import type { Problem } from "../lib/problems";
import { dns01Overlaps, dns01RecursiveNameservers } from "../lib/values/dns01";
import * as fs from "node:fs";
import * as path from "node:path";
import { customDomainStack, devSections, Json, raw } from "./helpers";
import { SCHEMAS } from "./schemas";

// The preflight rules of the `gateway` section, on the dev stack (which runs
// the Gateway next to ingress-nginx), each probed on both sides.

const NS = "talos-platform";

function check(edit?: (s: Record<string, Json>) => void): Problem[] {
    const s = devSections();
    edit?.(s);
    return validateConfig(raw(s)).problems;
}
const errors = (edit?: (s: Record<string, Json>) => void) => check(edit).filter((p) => p.severity === "error");
const at = (problems: Problem[], key: string) => problems.filter((p) => p.path === `${NS}:${key}`);
const paths = (problems: Problem[]) => problems.map((p) => p.path.slice(NS.length + 1));
/** The dev stack's HTTPS listeners, for a test to change. */
const listener = (over: Json = {}) => ({
    name: "web",
    hostname: "web.k8s.home.geoffdavis.com",
    protocol: "HTTPS",
    issuer: "letsencrypt-prod",
    ...over,
});

describe("gateway config: the dev stack", () => {
    it("runs the Gateway next to ingress-nginx without errors or warnings of its own", () => {
        const problems = check();
        expect(problems.filter((p) => p.severity === "error")).to.deep.equal([]);
        expect(problems.filter((p) => /gateway|ingress/.test(p.rule ?? ""))).to.deep.equal([]);
    });
});

describe("gateway config: what Cilium needs to serve Gateway API", () => {
    it("refuses the Gateway when Talos runs kube-proxy (no kube-proxy replacement), naming both keys, and accepts it off", () => {
        const kubeProxy = (s: Record<string, Json>) => (s.cluster.kubeProxyDisabled = false);
        const e = at(errors(kubeProxy), "gateway.enabled");
        expect(e).to.have.length(1);
        expect(e[0].message)
            .to.contain(`${NS}:cilium.values.kubeProxyReplacement is false`)
            .and.contain(`${NS}:cluster.kubeProxyDisabled`)
            .and.contain("Gateway API support requires kube-proxy-replacement enabled");
        expect(e[0].fix)
            .to.contain("cluster.proxy.disabled: true")
            .and.contain(`set ${NS}:cluster.kubeProxyDisabled to true`)
            .and.contain(`or leave ${NS}:gateway.enabled false`);
        expect(e[0].value).to.equal(true);
        expect(
            at(
                errors((s) => {
                    kubeProxy(s);
                    s.gateway.enabled = false;
                }),
                "gateway.enabled",
            ),
        ).to.deep.equal([]);
    });

    it("does not take nodePort.enabled in place of kube-proxy replacement from Cilium 1.19 on, and does before", () => {
        const nodePort = (version: string) => (s: Record<string, Json>) => {
            s.cluster.kubeProxyDisabled = false;
            s.cilium.version = version;
            s.cilium.values = { nodePort: { enabled: true } };
        };
        const e = at(errors(nodePort("1.19.4")), "gateway.enabled");
        expect(e).to.have.length(1);
        expect(e[0].message).to.contain("nodePort.enabled").and.contain("removed in 1.19").and.contain("cilium/cilium#41380");
        expect(at(errors(nodePort("1.18.6")), "gateway.enabled")).to.deep.equal([]);
        expect(at(errors(nodePort("1.19.0")), "gateway.enabled")).to.have.length(1);
        // Before 1.19 too, kube-proxy running and neither switch on leaves the controller off; the message then leaves nodePort out.
        const neither = at(
            errors((s) => {
                s.cluster.kubeProxyDisabled = false;
                s.cilium.version = "1.18.6";
            }),
            "gateway.enabled",
        );
        expect(neither).to.have.length(1);
        expect(neither[0].message).to.not.contain("nodePort");
    });

    it("refuses the L7 proxy off, and Cilium's Gateway API switched off through the values", () => {
        const l7 = errors((s) => (s.cilium.values = { l7Proxy: false }));
        expect(paths(l7)).to.deep.equal(["cilium.values.l7Proxy"]);
        expect(l7[0]).to.include({ value: false });
        expect(l7[0].message).to.contain(`while ${NS}:gateway.enabled is true`).and.contain("Envoy");
        // Cilium 1.19's values.yaml: l7Proxy: true.
        expect(l7[0].fix).to.contain("the chart's default is true");
        expect(errors((s) => (s.cilium.values = { l7Proxy: true }))).to.deep.equal([]);
        const off = errors((s) => (s.cilium.values = { gatewayAPI: { enabled: false } }));
        expect(paths(off)).to.deep.equal(["cilium.values.gatewayAPI.enabled"]);
        expect(off[0]).to.include({ value: false });
        expect(off[0].message).to.contain(`while ${NS}:gateway.enabled is true`);
        expect(off[0].fix).to.contain(`${NS}:gateway.enabled sets it`);
        // Saying what the section sets already is no mistake.
        expect(errors((s) => (s.cilium.values = { gatewayAPI: { enabled: true } }))).to.deep.equal([]);
    });

    it("refuses Cilium's Gateway API removed with a null, which leaves the chart's default (off)", () => {
        // Helm drops a null key, and Cilium 1.19's values.yaml has gatewayAPI.enabled: false.
        const key = errors((s) => (s.cilium.values = { gatewayAPI: { enabled: null } }));
        expect(paths(key)).to.deep.equal(["cilium.values.gatewayAPI.enabled"]);
        expect(key[0].value).to.equal(null);
        const map = errors((s) => (s.cilium.values = { gatewayAPI: null }));
        expect(paths(map)).to.deep.equal(["cilium.values.gatewayAPI"]);
        expect(map[0].value).to.equal(null);
        // cert-manager's gateway-shim the same way: its chart's config has no gatewayAPI switch on.
        expect(paths(errors((s) => (s.certManager.values = { config: { gatewayAPI: { enabled: null } } })))).to.deep.equal([
            "certManager.values.config.gatewayAPI.enabled",
        ]);
        expect(paths(errors((s) => (s.certManager.values = { config: null })))).to.deep.equal([
            "certManager.values.config.gatewayAPI.enabled",
        ]);
    });

    it("refuses cert-manager's Gateway API support switched off while a listener names an issuer", () => {
        const off = (s: Record<string, Json>) => (s.certManager.values = { config: { gatewayAPI: { enabled: false } } });
        const e = errors(off);
        expect(paths(e)).to.deep.equal(["certManager.values.config.gatewayAPI.enabled"]);
        expect(e[0]).to.include({ value: false });
        expect(e[0].message).to.contain(`listeners of ${NS}:gateway.listeners name an issuer`);
        expect(e[0].fix).to.contain(`${NS}:gateway.enabled sets it`);
        // One listener with an issuer is enough, beside an HTTP one that names none.
        expect(
            paths(
                errors((s) => {
                    off(s);
                    s.gateway.listeners.push({ name: "plain", hostname: "plain.k8s.home.geoffdavis.com", protocol: "HTTP", port: 8080 });
                }),
            ),
        ).to.deep.equal(["certManager.values.config.gatewayAPI.enabled"]);
        expect(
            errors((s) => {
                off(s);
                s.gateway.listeners = [listener({ issuer: undefined, certificateSecret: "web-tls" })];
            }),
        ).to.deep.equal([]);
    });

    it("warns when cilium.values turns Gateway API on without the gateway section, pointing to it", () => {
        const viaValues = (enabled: boolean) => (s: Record<string, Json>) => {
            s.gateway.enabled = enabled;
            s.cilium.values = { gatewayAPI: { enabled: true } };
        };
        const w = check(viaValues(false)).filter((p) => p.rule === "gateway-api-without-gateway-section");
        expect(w).to.have.length(1);
        expect(w[0]).to.include({ severity: "warning", path: `${NS}:cilium.values.gatewayAPI.enabled` });
        expect(w[0].fix).to.contain(`set ${NS}:gateway.enabled to true`);
        expect(w[0].message).to.contain(`while ${NS}:gateway.enabled is false`);
        expect(w[0].value).to.equal(true);
        expect(check(viaValues(true)).filter((p) => p.rule === "gateway-api-without-gateway-section")).to.deep.equal([]);
    });
});

describe("gateway config: listeners", () => {
    const withListeners =
        (...ls: Json[]) =>
        (s: Record<string, Json>) =>
            (s.gateway.listeners = ls);

    it("needs at least one listener when enabled", () => {
        const none = errors(withListeners());
        expect(paths(none)).to.deep.equal(["gateway.listeners"]);
        expect(none[0].value).to.deep.equal([]);
        expect(none[0].message).to.contain(`while ${NS}:gateway.enabled is true`);
        expect(none[0].fix).to.contain("issuer: <one of certManager.issuers>");
        expect(paths(errors(withListeners(listener())))).to.deep.equal([]);
    });

    it("refuses a repeated name, and the redirect listener's name while the redirect is on", () => {
        const repeated = errors(withListeners(listener(), listener({ hostname: "b.k8s.home.geoffdavis.com" })));
        expect(paths(repeated)).to.deep.equal(["gateway.listeners[1].name"]);
        expect(repeated[0]).to.include({ value: "web" });
        expect(repeated[0].message).to.contain(`repeats the name of ${NS}:gateway.listeners[0]`);
        expect(repeated[0].fix).to.contain("its own name");
        const redirect = errors(withListeners(listener({ name: "http-redirect" })));
        expect(paths(redirect)).to.deep.equal(["gateway.listeners[0].name"]);
        expect(redirect[0].message).to.contain(`(${NS}:gateway.httpsRedirect)`);
        expect(redirect[0].fix).to.contain(`or set ${NS}:gateway.httpsRedirect to false`);
        expect(
            errors((s) => {
                withListeners(listener({ name: "http-redirect" }))(s);
                s.gateway.httpsRedirect = false;
            }),
        ).to.deep.equal([]);
    });

    it("takes a wildcard only as the whole left-most label", () => {
        expect(hostnameProblem("*.k8s.home.geoffdavis.com")).to.equal(undefined);
        expect(hostnameProblem("k8s.home.geoffdavis.com")).to.equal(undefined);
        expect(hostnameProblem("app.*.geoffdavis.com")?.message).to.contain("label 2");
        expect(hostnameProblem("app.*.geoffdavis.com")?.fix).to.equal("write it as *.geoffdavis.com");
        // Nothing right of the wildcard to keep: the fix shows the form with an example domain.
        expect(hostnameProblem("app.*")?.fix).to.equal("write it as *.example.com");
        expect(hostnameProblem("*app.geoffdavis.com")?.message).to.contain("part of the left-most label");
        expect(hostnameProblem("App.geoffdavis.com")?.fix).to.equal("write app.geoffdavis.com");
        expect(hostnameProblem("172.29.52.202")?.message).to.contain("IP address");
        expect(hostnameProblem("-bad.example.com")?.message).to.equal("is not a DNS name");
        expect(hostnameProblem("-bad.example.com")?.fix).to.contain("e.g. app.example.com");
        expect(hostnameProblem("172.29.52.202")?.fix).to.contain("app.example.com");
        expect(hostnameProblem("App.geoffdavis.com")?.message).to.contain("lower case");
        const e = errors(withListeners(listener({ hostname: "app.*.k8s.home.geoffdavis.com" })));
        expect(paths(e)).to.deep.equal(["gateway.listeners[0].hostname"]);
        expect(e[0].value).to.equal("app.*.k8s.home.geoffdavis.com");
    });

    it("agrees with the Gateway API CRD's listener hostname (pattern, at most 253 characters) and with DNS's 63-character labels", () => {
        const schema = JSON.parse(
            fs.readFileSync(path.join(SCHEMAS, "json-strict", "gateway.networking.k8s.io_v1", "Gateway.json"), "utf8"),
        ).properties.spec.properties.listeners.items.properties.hostname;
        const crdTakes = (h: string) => h.length <= schema.maxLength && new RegExp(schema.pattern).test(h);
        const label = (n: number) => "a".repeat(n);
        // 63-character labels, dot-joined up to 253 and 254 characters.
        const long = (n: number) => `${[label(63), label(63), label(63)].join(".")}.${label(n - 3 * 64)}`;
        expect(long(253)).to.have.length(253);
        const probes = [long(253), long(254), "web-.example.com", "web_1.example.com", "w.example.com", "*.example.com", "a-b.c"];
        for (const h of probes) expect(hostnameProblem(h) === undefined, h).to.equal(crdTakes(h));
        expect(hostnameProblem(long(254))?.message).to.contain("253 characters");
        expect(hostnameProblem(long(254))?.fix).to.equal("use a shorter name");
        // The CRD's pattern leaves label length to DNS (RFC 1035: at most 63 octets).
        expect(hostnameProblem(`${label(63)}.example.com`)).to.equal(undefined);
        expect(hostnameProblem(`${label(64)}.example.com`)?.message).to.equal("is not a DNS name");
    });

    it("keeps hostnames unique per port, not across ports", () => {
        const same = listener({ name: "b" });
        const e = errors(withListeners(listener(), same));
        expect(paths(e)).to.deep.equal(["gateway.listeners[1].hostname"]);
        expect(e[0]).to.include({ value: "web.k8s.home.geoffdavis.com" });
        // Gateway API: listeners that share a port and hostname are Conflicted.
        expect(e[0].message).to.contain(`repeats the hostname of ${NS}:gateway.listeners[0] on port 443`).and.contain("Conflicted");
        expect(e[0].fix).to.contain("another hostname or port");
        expect(errors(withListeners(listener(), { ...same, port: 8443 }))).to.deep.equal([]);
    });

    it("keeps one protocol per port, the redirect listener's port 80 included", () => {
        const http = { name: "plain", hostname: "plain.k8s.home.geoffdavis.com", protocol: "HTTP", port: 8443 };
        const e = errors(withListeners(listener({ port: 8443 }), http));
        expect(paths(e)).to.deep.equal(["gateway.listeners[1].port"]);
        expect(e[0].message).to.contain("port 8443 for HTTP").and.contain(`which ${NS}:gateway.listeners[0] takes for HTTPS`);
        expect(e[0].fix).to.contain("another port");
        expect(e[0].value).to.equal(8443);
        // An HTTP listener on 80 with its own host shares the redirect listener's port and protocol.
        expect(errors(withListeners(listener(), { ...http, port: undefined }))).to.deep.equal([]);
        const on80 = withListeners(listener({ port: 80 }));
        expect(paths(errors(on80))).to.deep.equal(["gateway.listeners[0].port"]);
        expect(errors(on80).at(0)?.message).to.contain(`the redirect listener http-redirect (${NS}:gateway.httpsRedirect)`);
        expect(
            errors((s) => {
                on80(s);
                s.gateway.httpsRedirect = false;
            }),
        ).to.deep.equal([]);
    });

    it("blames the protocol of a listener that left its port to the protocol's default, and the port given otherwise", () => {
        // Gateway API's default ports: 80 for HTTP, 443 for HTTPS.
        const http443 = { name: "plain", hostname: "plain.k8s.home.geoffdavis.com", protocol: "HTTP", port: 443 };
        const byDefault = errors(withListeners(http443, listener()));
        expect(paths(byDefault)).to.deep.equal(["gateway.listeners[1].protocol"]);
        expect(byDefault[0].value).to.equal("HTTPS");
        const given = errors(withListeners(http443, listener({ port: 443 })));
        expect(paths(given)).to.deep.equal(["gateway.listeners[1].port"]);
        expect(given[0].value).to.equal(443);
    });

    it("names the first listener that took a port, not a later one of the same protocol", () => {
        const http = { name: "plain", hostname: "plain.k8s.home.geoffdavis.com", protocol: "HTTP", port: 8443 };
        const e = errors(
            withListeners(listener({ port: 8443 }), listener({ name: "b", hostname: "b.k8s.home.geoffdavis.com", port: 8443 }), http),
        );
        expect(paths(e)).to.deep.equal(["gateway.listeners[2].port"]);
        expect(e[0].message).to.contain(`which ${NS}:gateway.listeners[0] takes for HTTPS`);
    });

    it("needs an issuer or a Secret on HTTPS, and neither on HTTP", () => {
        const bare = errors(withListeners(listener({ issuer: undefined })));
        expect(paths(bare)).to.deep.equal(["gateway.listeners[0]"]);
        expect(bare[0].fix).to.contain("issuer").and.contain("certificateSecret");
        expect(bare[0].message).to.contain("HTTPS without a certificate");
        expect(errors(withListeners(listener({ issuer: undefined, certificateSecret: "web-tls" })))).to.deep.equal([]);
        const http = errors(withListeners(listener({ protocol: "HTTP" })));
        expect(paths(http)).to.deep.equal(["gateway.listeners[0].issuer"]);
        expect(http[0]).to.include({ value: "letsencrypt-prod" });
        expect(http[0].message).to.contain("HTTP listener");
        expect(http[0].fix).to.contain("set protocol to HTTPS");
        expect(errors(withListeners(listener({ protocol: "HTTP", issuer: undefined })))).to.deep.equal([]);
    });

    it("names only issuers certManager.issuers creates, suggesting the closest", () => {
        const e = errors(withListeners(listener({ issuer: "letsencrypt-prd" })));
        expect(paths(e)).to.deep.equal(["gateway.listeners[0].issuer"]);
        expect(e[0].fix).to.contain("closest: letsencrypt-prod");
        expect(e[0].message).to.contain("names no issuer of certManager.issuers");
        // The first issuer of the list is one too.
        expect(errors(withListeners(listener({ issuer: "selfsigned-issuer" })))).to.deep.equal([]);
    });

    it("takes one issuer per Gateway, and no Secret of its own beside an issuer", () => {
        const two = errors(
            withListeners(listener(), listener({ name: "b", hostname: "b.k8s.home.geoffdavis.com", issuer: "letsencrypt-staging" })),
        );
        expect(paths(two)).to.deep.equal(["gateway.listeners[1].issuer"]);
        expect(two[0].message)
            .to.contain(`names letsencrypt-staging, while ${NS}:gateway.listeners[0].issuer names letsencrypt-prod`)
            .and.contain("one issuer per Gateway")
            .and.contain("cert-manager.io/cluster-issuer");
        expect(two[0].fix).to.equal("name letsencrypt-prod in every listener that names an issuer");
        // An HTTP listener's issuer is a mistake of its own, not the Gateway's issuer.
        const httpFirst = errors(
            withListeners(
                { name: "plain", hostname: "plain.k8s.home.geoffdavis.com", protocol: "HTTP", issuer: "letsencrypt-staging" },
                listener(),
            ),
        );
        expect(paths(httpFirst)).to.deep.equal(["gateway.listeners[0].issuer"]);
        const own = errors(
            withListeners(
                listener(),
                listener({ name: "b", hostname: "b.k8s.home.geoffdavis.com", issuer: undefined, certificateSecret: "b-tls" }),
            ),
        );
        expect(paths(own)).to.deep.equal(["gateway.listeners[1].certificateSecret"]);
        expect(own[0].message)
            .to.contain(`whose ${NS}:gateway.listeners[0] names issuer letsencrypt-prod`)
            .and.contain("would overwrite this Secret");
        expect(own[0].fix).to.contain("give this listener issuer letsencrypt-prod as well");
        // With the issuer named as well, cert-manager writes into that Secret: no conflict.
        expect(
            errors(withListeners(listener(), listener({ name: "b", hostname: "b.k8s.home.geoffdavis.com", certificateSecret: "b-tls" }))),
        ).to.deep.equal([]);
    });

    it("needs the hostname in an ACME issuer's DNS-01 zones, when it has zones", () => {
        const outside = errors(withListeners(listener({ hostname: "app.example.org" })));
        expect(paths(outside)).to.deep.equal(["gateway.listeners[0].hostname"]);
        expect(outside[0].message).to.contain("k8s.home.geoffdavis.com, geoffdavis.com");
        expect(outside[0].fix).to.contain(`${NS}:certManager.issuers[3].acme.cloudflare.dnsZones`);
        // The zone itself, and a wildcard under it, are the zone's.
        expect(errors(withListeners(listener({ hostname: "geoffdavis.com" })))).to.deep.equal([]);
        expect(errors(withListeners(listener({ hostname: "*.geoffdavis.com" })))).to.deep.equal([]);
        // A name that only ends like a zone is not in it.
        expect(paths(errors(withListeners(listener({ hostname: "notgeoffdavis.com" }))))).to.deep.equal(["gateway.listeners[0].hostname"]);
        // A private CA answers for any name.
        expect(errors(withListeners(listener({ hostname: "app.example.org", issuer: "home-ops-ca" })))).to.deep.equal([]);
    });

    it("needs a selector with from: Selector, and none otherwise", () => {
        const routes = (namespaces: Json) => (s: Record<string, Json>) => (s.gateway.allowedRoutes = { namespaces });
        const missing = errors(routes({ from: "Selector" }));
        expect(paths(missing)).to.deep.equal(["gateway.allowedRoutes.namespaces.selector"]);
        expect(missing[0].message).to.contain("missing while from is Selector");
        expect(missing[0].fix).to.contain("matchLabels");
        expect(errors(routes({ from: "Selector", selector: { matchLabels: { "talos-platform/gateway": "platform" } } }))).to.deep.equal([]);
        const ignored = errors(routes({ from: "Same", selector: { matchLabels: { a: "b" } } }));
        expect(paths(ignored)).to.deep.equal(["gateway.allowedRoutes.namespaces.selector"]);
        expect(ignored[0].message).to.contain("from is Same, so Gateway API ignores it");
        expect(ignored[0].fix).to.contain("set from to Selector, or remove the selector");
        expect(errors(routes({ from: "Same" }))).to.deep.equal([]);
    });

    it("checks nothing of a disabled gateway", () => {
        expect(
            errors((s) => {
                s.gateway.enabled = false;
                s.gateway.listeners = [listener({ hostname: "app.*.x", issuer: "nope" })];
                s.gateway.loadBalancer = { pool: "nope", ip: "10.0.0.1" };
            }),
        ).to.deep.equal([]);
    });
});

describe("gateway config: its address", () => {
    const lb = (loadBalancer: Json) => (s: Record<string, Json>) => (s.gateway.loadBalancer = loadBalancer);

    it("names a pool of cilium.loadBalancerPools, suggesting the closest", () => {
        const e = errors(lb({ pool: "bgp-ingres", ip: "172.29.52.202" }));
        expect(paths(e)).to.include("gateway.loadBalancer.pool");
        const pool = e.find((p) => p.path.endsWith("gateway.loadBalancer.pool"))!;
        expect(pool).to.include({ value: "bgp-ingres" });
        expect(pool.message).to.contain("names no pool in cilium.loadBalancerPools");
        expect(pool.fix).to.contain("use one of bgp-default, bgp-ingress, bgp-reserved, bgp-default-ipv6 (closest: bgp-ingress)");
        // With no pool at all there is nothing to choose from.
        const none = errors((s) => {
            s.cilium.loadBalancerPools = [];
            delete s.cilium.bgp;
            s.ingressNginx.enabled = false;
            s.gateway.loadBalancer = { pool: "bgp-ingress" };
        });
        expect(at(none, "gateway.loadBalancer.pool").map((p) => p.fix)).to.deep.equal(["add the pool under cilium.loadBalancerPools"]);
    });

    it("takes a fixed address only from its pool, and not ingress-nginx's", () => {
        const noPool = at(errors(lb({ ip: "172.29.52.202" })), "gateway.loadBalancer.ip");
        expect(noPool).to.have.length(1);
        expect(noPool[0].message).to.contain(`but ${NS}:gateway.loadBalancer.pool names no pool`);
        expect(noPool[0].fix).to.contain(`set ${NS}:gateway.loadBalancer.pool to the cilium.loadBalancerPools entry`);
        const outside = errors(lb({ pool: "bgp-ingress", ip: "172.29.52.100" }));
        expect(paths(outside)).to.deep.equal(["gateway.loadBalancer.ip"]);
        expect(outside[0]).to.include({ value: "172.29.52.100" });
        expect(outside[0].message).to.contain("is not in pool bgp-ingress (172.29.52.200-172.29.52.220)").and.not.contain("excluded");
        expect(outside[0].fix).to.contain(`inside 172.29.52.200-172.29.52.220, or change ${NS}:gateway.loadBalancer.pool`);
        expect(errors(lb({ pool: "bgp-ingress", ip: "172.29.52.220" }))).to.deep.equal([]);
        const shared = errors(lb({ pool: "bgp-ingress", ip: "172.29.52.201" }));
        expect(paths(shared)).to.deep.equal(["gateway.loadBalancer.ip"]);
        expect(shared[0].message).to.contain(`ingress-nginx's address too (${NS}:ingressNginx.loadBalancer.ip)`);
        expect(shared[0].fix).to.contain("pick another address from pool bgp-ingress:");
        // Without a pool named, the fix names none.
        const sharedNoPool = at(errors(lb({ ip: "172.29.52.201" })), "gateway.loadBalancer.ip");
        expect(sharedNoPool.map((p) => p.fix)).to.include.members([
            "pick another address: side by side, each serves on its own address, and DNS moves from one to the other (docs/gateway-api.md)",
        ]);
        expect(
            errors((s) => {
                lb({ pool: "bgp-ingress", ip: "172.29.52.201" })(s);
                s.ingressNginx.enabled = false;
            }),
        ).to.deep.equal([]);
    });

    it("counts a CIDR pool's first and last addresses out only with allowFirstLastIPs false (CiliumLoadBalancerIPPool: No)", () => {
        const cidrPool =
            (allowFirstLastIPs: boolean | undefined, ip = "172.29.52.224") =>
            (s: Record<string, Json>) => {
                s.cilium.loadBalancerPools[1].blocks = [{ cidr: "172.29.52.224/28" }];
                if (allowFirstLastIPs !== undefined) s.cilium.loadBalancerPools[1].allowFirstLastIPs = allowFirstLastIPs;
                s.ingressNginx.loadBalancer.ip = "172.29.52.230";
                s.gateway.loadBalancer = { pool: "bgp-ingress", ip };
            };
        expect(errors(cidrPool(undefined))).to.deep.equal([]);
        expect(errors(cidrPool(true))).to.deep.equal([]);
        expect(errors(cidrPool(false, "172.29.52.225"))).to.deep.equal([]);
        expect(paths(errors(cidrPool(false, "172.29.52.239")))).to.deep.equal(["gateway.loadBalancer.ip"]);
        const reserved = errors(cidrPool(false));
        expect(paths(reserved)).to.deep.equal(["gateway.loadBalancer.ip"]);
        expect(reserved[0].message).to.contain("is not in pool bgp-ingress (172.29.52.224/28, first and last addresses excluded)");
        expect(reserved[0].fix).to.contain("inside 172.29.52.224/28");
        // Every block of the pool is offered.
        const twoBlocks = errors((s) => {
            cidrPool(undefined, "172.29.52.100")(s);
            s.cilium.loadBalancerPools[1].blocks.push({ start: "172.29.52.240", stop: "172.29.52.250" });
        });
        expect(twoBlocks.map((p) => p.message)).to.include(
            "is not in pool bgp-ingress (172.29.52.224/28, 172.29.52.240-172.29.52.250); Cilium would leave the Gateway without an address",
        );
    });

    it("needs a pool whose selector its Service's labels satisfy (they come from the pool's matchLabels and In expressions)", () => {
        const e = errors((s) => {
            s.cilium.loadBalancerPools[1].serviceSelector = {
                matchExpressions: [{ key: "io.kubernetes.service.namespace", operator: "In", values: ["ingress-nginx"] }],
            };
            s.ingressNginx.loadBalancer = { pool: "bgp-ingress", ip: "172.29.52.201" };
        });
        const gw = at(e, "gateway.loadBalancer.pool");
        expect(gw).to.have.length(1);
        expect(gw[0].message).to.contain("gateway/cilium-gateway-platform selected by no Cilium pool");
        expect(gw[0].fix).to.contain("name a pool whose selector those can satisfy");
    });

    it("with no pool at all, offers a pool or turning the gateway off", () => {
        const e = errors((s) => {
            s.cilium.loadBalancerPools = [];
            delete s.cilium.bgp;
            s.ingressNginx.enabled = false;
            s.gateway.loadBalancer = {};
        });
        expect(paths(e)).to.deep.equal(["cilium.loadBalancerPools"]);
        expect(e[0].fix).to.contain(`turn the gateway off (${NS}:gateway.enabled: false)`);
    });

    it("refuses externalTrafficPolicy Local on an L2-announced pool, at the gateway's key or Cilium's", () => {
        const l2 = (s: Record<string, Json>) => {
            delete s.cilium.bgp;
            s.cilium.l2Announcements = [{ name: "lan", pools: ["bgp-ingress"] }];
            // ARP reaches only the nodes' network, and the Gateway's pool must be reachable (severity from context);
            // the other pools would overlap that network unannounced.
            s.cilium.loadBalancerPools = s.cilium.loadBalancerPools.filter((p: Json) => p.name === "bgp-ingress");
            s.cluster.nodeSubnets.push("172.29.52.0/24");
            s.ingressNginx.enabled = false;
        };
        const typed = errors((s) => {
            l2(s);
            s.gateway.loadBalancer.externalTrafficPolicy = "Local";
        });
        expect(paths(typed)).to.deep.equal(["gateway.loadBalancer.externalTrafficPolicy"]);
        expect(typed[0].message).to.contain("gateway/cilium-gateway-platform");
        expect(
            paths(
                errors((s) => {
                    l2(s);
                    s.cilium.values = { gatewayAPI: { externalTrafficPolicy: "Local" } };
                }),
            ),
        ).to.deep.equal(["cilium.values.gatewayAPI.externalTrafficPolicy"]);
        expect(errors(l2)).to.deep.equal([]);
    });
});

describe("ingressNginx.enabled: false", () => {
    it("drops ingress-nginx's own rules, which would otherwise refuse these settings", () => {
        const broken = (s: Record<string, Json>) => {
            s.ingressNginx.replicas = 2;
            s.ingressNginx.values = { controller: { replicaCount: 1 } };
            s.ingressNginx.loadBalancer = { pool: "nope", ip: "10.9.9.9" };
            s.ingressNginx.defaultCertificate.issuer = "nope";
        };
        expect(paths(errors(broken))).to.include.members([
            "ingressNginx.values.controller.replicaCount",
            "ingressNginx.loadBalancer.pool",
            "ingressNginx.defaultCertificate.issuer",
        ]);
        expect(
            errors((s) => {
                broken(s);
                s.ingressNginx.enabled = false;
            }),
        ).to.deep.equal([]);
    });

    it("warns when nothing serves ingress any more, and not while the Gateway does", () => {
        const w = check((s) => {
            s.ingressNginx.enabled = false;
            s.gateway.enabled = false;
        }).filter((p) => p.rule === "no-ingress");
        expect(w).to.have.length(1);
        expect(w[0].path).to.equal(`${NS}:ingressNginx.enabled`);
        expect(w[0].fix).to.contain("docs/gateway-api.md").and.contain(`(${NS}:gateway.enabled: true)`);
        expect(w[0].message).to.contain(`and ${NS}:gateway.enabled is false too`);
        expect(w[0].value).to.equal(false);
        expect(check((s) => (s.ingressNginx.enabled = false)).filter((p) => p.rule === "no-ingress")).to.deep.equal([]);
    });
});

describe("gateway config: Flux and the two owners", () => {
    const withKustomization = (name: string, path: string) => (s: Record<string, Json>) =>
        s.flux.phases[3].kustomizations.push({ name, path });

    it("refuses a Kustomization that would install the Gateway API CRDs too, and takes it with crds: existing", () => {
        const e = errors(withKustomization("gateway-api-crds", "./infrastructure/gateway-api"));
        expect(paths(e)).to.deep.equal(["flux.phases[3].kustomizations[2].name"]);
        expect(e[0].message).to.contain("the Gateway API CRDs");
        expect(
            errors((s) => {
                withKustomization("gateway-api-crds", "./infrastructure/gateway-api")(s);
                s.gateway.gatewayApi = { crds: "existing" };
            }),
        ).to.deep.equal([]);
    });

    it("leaves ingress-nginx to Flux once ingressNginx.enabled is false", () => {
        const nginx = withKustomization("infrastructure-ingress-nginx", "./infrastructure/ingress-nginx");
        expect(paths(errors(nginx))).to.deep.equal(["flux.phases[3].kustomizations[2].name"]);
        expect(
            errors((s) => {
                nginx(s);
                s.ingressNginx.enabled = false;
            }),
        ).to.deep.equal([]);
    });
});

describe("gateway config: DNS-01 under the cluster domain", () => {
    it("counts the Gateway's ACME listener names with the default certificate's, and alone once ingress-nginx is off", () => {
        const overlaps = (edit: (s: Record<string, Json>) => void) => {
            const s = devSections();
            customDomainStack(s);
            // No zone of their own (every zone): only certificate names can reach into the domain.
            for (const i of s.certManager.issuers) if (i.acme) i.acme.cloudflare.dnsZones = [];
            edit(s);
            const { config, problems } = validateConfig(raw(s));
            if (!config) throw new Error(problems.map((p) => p.message).join("; "));
            return { keys: dns01Overlaps(config).map((o) => o.key.slice(NS.length + 1)), nameservers: dns01RecursiveNameservers(config) };
        };
        const both = overlaps(() => undefined);
        expect(both.keys).to.deep.equal([
            "ingressNginx.defaultCertificate.dnsNames[0]",
            "ingressNginx.defaultCertificate.dnsNames[1]",
            "gateway.listeners[0].hostname",
            "gateway.listeners[1].hostname",
        ]);
        const gatewayOnly = overlaps((s) => (s.ingressNginx.enabled = false));
        expect(gatewayOnly.keys).to.deep.equal(["gateway.listeners[0].hostname", "gateway.listeners[1].hostname"]);
        // cert-manager's self-check still asks public resolvers for the Gateway's certificates.
        expect(gatewayOnly.nameservers).to.not.equal(undefined);
        // A private CA solves no DNS-01 challenge.
        expect(
            overlaps((s) => {
                s.ingressNginx.enabled = false;
                for (const l of s.gateway.listeners) l.issuer = "home-ops-ca";
            }).keys,
        ).to.deep.equal([]);
    });
});
