import { expect } from "chai";
import type { Finding } from "../lib/plan/model";
import { evaluatePolicies, PolicyInput } from "../lib/plan/policies";
import { INGRESS_NGINX_RETIRED, listenerTakes } from "../policies/ingress";
import type { Json } from "./helpers";

// The gateway policies and the ingress-nginx-retired notice, each with a
// passing case, a failing case and a missing-property case, over resources
// as the engine would register them.

const GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway";
const CLASS = "kubernetes:gateway.networking.k8s.io/v1:GatewayClass";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const CERTIFICATE = "kubernetes:cert-manager.io/v1:Certificate";

function resource(type: string, name: string, props: Json): PolicyInput {
    const urn = `urn:pulumi:test::talos-platform::${type}::${name}`;
    return { urn, type, name, parent: null, dependsOn: [], phase: null, inputs: props, props };
}

async function findings(rule: string, ...resources: PolicyInput[]): Promise<Finding[]> {
    return (await evaluatePolicies(resources)).filter((f) => f.rule === rule);
}

const https = (over: Json = {}) => ({
    name: "https",
    hostname: "*.example.com",
    port: 443,
    protocol: "HTTPS",
    tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: "web-tls" }] },
    ...over,
});
const gateway = (spec: Json, name = "platform") =>
    resource(GATEWAY, name, {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "Gateway",
        metadata: { name, namespace: "gateway" },
        spec,
    });
const cilium = (values: Json) => resource(RELEASE, "cilium-release", { chart: "cilium", version: "1.19.4", values });

describe("policy gateway-class-exists", () => {
    const gw = gateway({ gatewayClassName: "cilium", listeners: [https()] });

    it("passes a Gateway of class cilium next to a Cilium release with gatewayAPI.enabled, or of a class the stack creates", async () => {
        expect(await findings("gateway-class-exists", gw, cilium({ gatewayAPI: { enabled: true } }))).to.deep.equal([]);
        const edge = gateway({ gatewayClassName: "edge", listeners: [https()] });
        const cls = resource(CLASS, "edge", { metadata: { name: "edge" }, spec: { controllerName: "io.cilium/gateway-controller" } });
        expect(await findings("gateway-class-exists", edge, cls)).to.deep.equal([]);
    });

    it("fails a class nothing creates: Cilium's Gateway API off, the chart told not to create it, or another name", async () => {
        for (const values of [
            {},
            { gatewayAPI: { enabled: false } },
            { gatewayAPI: { enabled: true, gatewayClass: { create: "false" } } },
        ]) {
            const f = await findings("gateway-class-exists", gw, cilium(values));
            expect(f, JSON.stringify(values)).to.have.length(1);
            expect(f[0]).to.include({ severity: "mandatory", resource: gw.urn });
            expect(f[0].message).to.contain("Gateway gateway/platform names GatewayClass cilium, which nothing in the stack creates");
        }
        const other = await findings(
            "gateway-class-exists",
            gateway({ gatewayClassName: "nginx" }),
            cilium({ gatewayAPI: { enabled: true } }),
        );
        expect(other[0].message).to.contain("(it creates cilium)");
    });

    it("fails a Gateway without spec.gatewayClassName", async () => {
        const f = await findings("gateway-class-exists", gateway({ listeners: [https()] }), cilium({ gatewayAPI: { enabled: true } }));
        expect(f.map((x) => x.message)).to.deep.equal([
            "Gateway gateway/platform names no GatewayClass (spec.gatewayClassName): no controller would accept it.",
        ]);
    });
});

describe("policy gateway-https-certificate", () => {
    it("passes HTTPS listeners with a certificate, and HTTP listeners without", async () => {
        expect(
            await findings("gateway-https-certificate", gateway({ listeners: [https(), { name: "http", port: 80, protocol: "HTTP" }] })),
        ).to.deep.equal([]);
    });

    it("fails an HTTPS listener whose certificateRefs are empty", async () => {
        const f = await findings(
            "gateway-https-certificate",
            gateway({ listeners: [https({ tls: { mode: "Terminate", certificateRefs: [] } })] }),
        );
        expect(f).to.have.length(1);
        expect(f[0].severity).to.equal("mandatory");
        expect(f[0].message).to.contain("listener https is HTTPS without a certificate");
    });

    it("fails an HTTPS listener without tls at all, and passes a Gateway without listeners", async () => {
        expect(await findings("gateway-https-certificate", gateway({ listeners: [https({ tls: undefined })] }))).to.have.length(1);
        expect(await findings("gateway-https-certificate", gateway({}))).to.deep.equal([]);
    });
});

describe("policy gateway-listener-port-protocol", () => {
    it("passes one protocol per port, and HTTPS beside TLS, which Gateway API lets share a port", async () => {
        const tls = { name: "passthrough", hostname: "db.example.com", port: 443, protocol: "TLS", tls: { mode: "Passthrough" } };
        expect(
            await findings(
                "gateway-listener-port-protocol",
                gateway({ listeners: [https(), https({ name: "b", hostname: "b.example.com" }), tls] }),
            ),
        ).to.deep.equal([]);
    });

    it("fails HTTP on a port an HTTPS listener takes", async () => {
        const f = await findings(
            "gateway-listener-port-protocol",
            gateway({ listeners: [https(), { name: "plain", port: 443, protocol: "HTTP" }] }),
        );
        expect(f.map((x) => x.message)).to.deep.equal([
            "Gateway gateway/platform listener plain takes port 443 for HTTP, which listener https takes for HTTPS: Gateway API marks both Conflicted. Fix: move one of them to another port.",
        ]);
    });

    it("skips a listener without a port or protocol", async () => {
        expect(
            await findings(
                "gateway-listener-port-protocol",
                gateway({ listeners: [https(), { name: "x", protocol: "HTTP" }, { name: "y", port: 443 }] }),
            ),
        ).to.deep.equal([]);
    });
});

describe("policy ingress-nginx-retired", () => {
    const release = (values: Json = {}) =>
        resource(RELEASE, "ingress-nginx-release", { chart: "ingress-nginx", version: "4.15.1", values });
    const values = {
        controller: {
            ingressClassResource: { name: "nginx", enabled: true, default: true },
            service: { annotations: { "lbipam.cilium.io/ips": "172.29.52.201" } },
            extraArgs: { "default-ssl-certificate": "ingress-nginx/default-tls" },
        },
    };
    const certificate = resource(CERTIFICATE, "default-certificate", {
        metadata: { name: "default-tls", namespace: "ingress-nginx" },
        spec: { secretName: "default-tls", dnsNames: ["example.com", "*.example.com", "old.example.org"] },
    });
    const gw = gateway({
        gatewayClassName: "cilium",
        infrastructure: { annotations: { "lbipam.cilium.io/ips": "172.29.52.202" } },
        listeners: [https(), https({ name: "apex", hostname: "example.com" })],
    });

    it("without a Gateway in the stack, points to the gateway section", async () => {
        const f = await findings("ingress-nginx-retired", release(values));
        expect(f).to.have.length(1);
        expect(f[0]).to.include({ severity: "advisory", message: INGRESS_NGINX_RETIRED });
        expect(f[0].message).to.contain("talos-platform:gateway").and.contain("docs/gateway-api.md");
    });

    it("with a Gateway, says what is left to move: the routes, the names no listener takes, DNS, then ingressNginx.enabled", async () => {
        const f = await findings("ingress-nginx-retired", release(values), certificate, gw);
        expect(f).to.have.length(1);
        expect(f[0].resource).to.equal("urn:pulumi:test::talos-platform::kubernetes:helm.sh/v3:Release::ingress-nginx-release");
        expect(f[0].message)
            .to.contain("every Ingress of class nginx and, as it is the default class, every Ingress without ingressClassName")
            .and.contain("HTTPRoute on gateway/platform (172.29.52.202) (ingress2gateway converts them)")
            .and.contain(
                "the names old.example.org: ingress-nginx's default certificate serves them, and no Gateway listener takes them yet",
            )
            .and.contain("DNS: the names that resolve to 172.29.52.201 (ingress-nginx), to 172.29.52.202")
            .and.contain("Then set talos-platform:ingressNginx.enabled to false");
    });

    it("with what the release leaves unset, still names the class, DNS and the last step", async () => {
        const f = await findings("ingress-nginx-retired", release(), gateway({ gatewayClassName: "cilium", listeners: [https()] }));
        expect(f[0].message)
            .to.contain("every Ingress of class nginx, each as an HTTPRoute on gateway/platform (ingress2gateway")
            .and.contain("DNS: the names that resolve to ingress-nginx's address, to the Gateway's address")
            .and.not.contain("default class");
    });

    it("passes other charts", async () => {
        expect(await findings("ingress-nginx-retired", resource(RELEASE, "cilium-release", { chart: "cilium" }), gw)).to.deep.equal([]);
    });

    it("takes a name by a listener of the same name or a wildcard one label above it", () => {
        expect(listenerTakes("*.example.com", "app.example.com")).to.equal(true);
        expect(listenerTakes("*.example.com", "*.example.com")).to.equal(true);
        expect(listenerTakes("*.example.com", "a.b.example.com")).to.equal(false);
        expect(listenerTakes("*.example.com", "example.com")).to.equal(false);
        expect(listenerTakes("example.com", "example.com")).to.equal(true);
        expect(listenerTakes("app.example.com", "*.example.com")).to.equal(false);
    });
});

describe("two owners, with the Gateway and without ingress-nginx", () => {
    const KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization";
    const ks = (name: string, path: string) =>
        resource(KUSTOMIZATION, name, {
            apiVersion: "kustomize.toolkit.fluxcd.io/v1",
            kind: "Kustomization",
            metadata: { name, namespace: "flux-system", annotations: {} },
            spec: { path },
        });
    const owners = async (props: PolicyInput, config: Json) =>
        (await evaluatePolicies([props], { "flux-single-owner": config })).filter((f) => f.rule === "flux-single-owner");

    it("refuses a Kustomization that installs the Gateway API CRDs this program installs, and not when it leaves them to another owner", async () => {
        const crds = ks("gateway-api", "./infrastructure/gateway-api-crds");
        const f = await owners(crds, { coreDnsDisabled: false, ingressNginx: true, gatewayApiCrds: true });
        expect(f).to.have.length(1);
        expect(f[0].message).to.contain("duplicates gateway-api, which this program deploys in its network phase (the Gateway API CRDs)");
        expect(await owners(crds, { coreDnsDisabled: false, ingressNginx: true, gatewayApiCrds: false })).to.deep.equal([]);
        expect(await owners(crds, {})).to.deep.equal([]);
    });

    it("leaves ingress-nginx to Flux once this program no longer deploys it", async () => {
        const nginx = ks("infrastructure-ingress-nginx", "./infrastructure/ingress-nginx");
        expect(await owners(nginx, { ingressNginx: true })).to.have.length(1);
        expect(await owners(nginx, {})).to.have.length(1);
        expect(await owners(nginx, { ingressNginx: false })).to.deep.equal([]);
    });
});
