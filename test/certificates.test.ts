import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { ClusterIssuers } from "../components/cluster-issuers";
import { PlatformConfig, validateConfig } from "../lib/config";
import type { Plan } from "../lib/plan/model";
import { runPlan } from "../lib/plan/run";
import { caCertificate, certManagerValues, clusterIssuer } from "../lib/values/cert-manager";
import { defaultCertificate } from "../lib/values/ingress-nginx";
import {
    byName,
    devSecretKeys,
    devSections,
    errorsOnly,
    Json,
    newErrors,
    ofType,
    planDev,
    raw,
    withoutDevFindings,
    withoutGateway,
} from "./helpers";
import { crdErrors, valuesErrors } from "./schemas";

const ISSUER = "kubernetes:cert-manager.io/v1:ClusterIssuer";
const CERTIFICATE = "kubernetes:cert-manager.io/v1:Certificate";
const SECRET = "kubernetes:core/v1:Secret";
const TOKEN = "cf-token-7d1e0c4b9a2f5e8d3c6b1a0f";

function check(edit?: (s: Record<string, Json>) => void, otherKeys = devSecretKeys()) {
    const s = devSections();
    edit?.(s);
    return validateConfig({ sections: s, otherKeys });
}
/** The errors an edit of the dev stack brings; a warning the test did not name fails it (see newErrors). */
const errors = (edit: (s: Record<string, Json>) => void, warnings: string[] = []) => newErrors(edit, { warnings });

describe("cert-manager values and objects against upstream schemas", () => {
    // Computed in each test, not when the file loads: code run at load time is no test's (see stryker.config.mjs).
    let config: PlatformConfig;
    beforeEach(() => (config = validateConfig(raw(devSections())).config!));

    it("chart values validate against v1.21.1's schema, with CRDs kept, webhook, cainjector and the ingress-shim default", () => {
        const v = certManagerValues(config.certManager, config.cluster) as Json;
        expect(valuesErrors("cert-manager", "v1.21.1", v)).to.deep.equal([]);
        expect(v.crds).to.deep.equal({ enabled: true, keep: true });
        expect(v.cainjector.enabled).to.equal(true);
        expect(v.webhook.extraArgs).to.deep.equal([
            `--dynamic-serving-dns-names=cert-manager-webhook.cert-manager.svc.${config.cluster.dnsDomain}`,
        ]);
        expect(v.ingressShim).to.deep.equal({
            defaultIssuerName: "letsencrypt-prod",
            defaultIssuerKind: "ClusterIssuer",
            defaultIssuerGroup: "cert-manager.io",
        });
        expect(v.prometheus.servicemonitor.enabled).to.equal(false);
        expect(valuesErrors("cert-manager", "v1.21.1", { ...v, crd: { enabled: true } })).to.not.deep.equal([]);
    });

    it("runs controller, webhook and cainjector twice, on different nodes, with a budget that lets a drain evict one", () => {
        const v = certManagerValues(config.certManager, config.cluster) as Json;
        const spread = (name: string, component: string) => ({
            podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                    {
                        weight: 100,
                        podAffinityTerm: {
                            labelSelector: {
                                matchLabels: {
                                    "app.kubernetes.io/name": name,
                                    "app.kubernetes.io/instance": "cert-manager",
                                    "app.kubernetes.io/component": component,
                                },
                            },
                            topologyKey: "kubernetes.io/hostname",
                        },
                    },
                ],
            },
        });
        for (const [at, name, component] of [
            [v, "cert-manager", "controller"],
            [v.webhook, "webhook", "webhook"],
            [v.cainjector, "cainjector", "cainjector"],
        ]) {
            expect(at.replicaCount, component).to.equal(2);
            expect(at.podDisruptionBudget, component).to.deep.equal({ enabled: true, minAvailable: 1 });
            expect(at.affinity, component).to.deep.equal(spread(name, component));
        }
    });

    it("chart values stay valid against v1.21.1's schema with the escape hatches the tests use, and a misspelled one does not", () => {
        for (const values of [
            { clusterResourceNamespace: "pki" },
            { fullnameOverride: "cm", namespace: "pki" },
            { nameOverride: "certs" },
            { ingressShim: { defaultIssuerKind: "Issuer" } },
            { webhook: { replicaCount: 3, extraArgs: ["--v=2"] }, podDisruptionBudget: { enabled: false } },
            { replicaCount: 1, podDisruptionBudget: { enabled: false }, cainjector: { enabled: false } },
            { prometheus: { servicemonitor: { enabled: false } }, https_proxy: "http://proxy:3128", no_proxy: "10.96.0.0/12" },
        ]) {
            const merged = certManagerValues({ ...config.certManager, values }, config.cluster);
            expect(valuesErrors("cert-manager", "v1.21.1", merged), JSON.stringify(values)).to.deep.equal([]);
        }
        const typo = certManagerValues({ ...config.certManager, values: { webhook: { replicaCont: 3 } } }, config.cluster);
        expect(valuesErrors("cert-manager", "v1.21.1", typo).join("\n")).to.contain("replicaCont");
    });

    it("every ClusterIssuer, the CA certificate and the default certificate conform to the strict CRD schemas", () => {
        const objects = [
            ...config.certManager.issuers.map(clusterIssuer),
            ...config.certManager.issuers.map((i) => caCertificate(i, config.certManager)).filter((x) => x !== undefined),
            defaultCertificate(config.ingressNginx)!,
        ];
        expect(objects.map((o) => o.kind)).to.deep.equal([
            "ClusterIssuer",
            "ClusterIssuer",
            "ClusterIssuer",
            "ClusterIssuer",
            "Certificate",
            "Certificate",
        ]);
        for (const o of objects) expect(crdErrors(o), `${o.kind} ${o.metadata.name}`).to.deep.equal([]);
    });

    it("builds each issuer kind as cert-manager expects it", () => {
        const [selfSigned, ca, staging] = config.certManager.issuers.map(clusterIssuer);
        expect(selfSigned.spec).to.deep.equal({ selfSigned: {} });
        expect(ca.spec).to.deep.equal({ ca: { secretName: "home-ops-ca-keypair" } });
        expect(staging.spec.acme).to.deep.equal({
            server: "https://acme-staging-v02.api.letsencrypt.org/directory",
            email: "admin@geoffdavis.com",
            privateKeySecretRef: { name: "letsencrypt-staging-account-key" },
            solvers: [
                {
                    dns01: { cloudflare: { apiTokenSecretRef: { name: "letsencrypt-staging-cloudflare-api-token", key: "api-token" } } },
                    selector: { dnsZones: ["k8s.home.geoffdavis.com", "geoffdavis.com"] },
                },
            ],
        });
        const cert = caCertificate(config.certManager.issuers[1], config.certManager)!;
        expect(cert.spec).to.include({ isCA: true, secretName: "home-ops-ca-keypair", commonName: "home-ops platform CA" });
        expect(cert.spec.issuerRef).to.deep.equal({ name: "selfsigned-issuer", kind: "ClusterIssuer", group: "cert-manager.io" });
    });

    it("the strict schema would catch a misspelled issuer field", () => {
        const bad = clusterIssuer(config.certManager.issuers[2]);
        (bad.spec.acme as Json).privateKeyRef = { name: "x" };
        expect(crdErrors(bad).join("\n")).to.contain("privateKeyRef");
    });
});

describe("ClusterIssuers in the plan", () => {
    let plan: Plan;
    before(async () => {
        plan = await planDev();
    });
    const dependsOn = (name: string) => byName(plan, name).dependsOn;
    const urn = (name: string) => byName(plan, name).urn;

    it("registers four issuers, one token Secret per ACME issuer and the CA certificate, under the certificates phase", () => {
        expect(ofType(plan, ISSUER).map((r) => r.name)).to.have.members([
            "cluster-issuers-selfsigned-issuer",
            "cluster-issuers-home-ops-ca",
            "cluster-issuers-letsencrypt-staging",
            "cluster-issuers-letsencrypt-prod",
        ]);
        expect(ofType(plan, SECRET).map((r) => r.name)).to.have.members([
            "cluster-issuers-letsencrypt-staging-token",
            "cluster-issuers-letsencrypt-prod-token",
        ]);
        expect(ofType(plan, CERTIFICATE).map((r) => r.name)).to.have.members([
            "cluster-issuers-home-ops-ca-certificate",
            "ingress-nginx-default-certificate",
        ]);
        for (const r of [...ofType(plan, ISSUER), ...ofType(plan, SECRET)]) {
            expect(r.phase, r.name).to.equal("certificates");
            expect(r.parent).to.equal(urn("cluster-issuers"));
        }
    });

    it("registers ClusterIssuers and Certificates that conform to the strict CRD schemas, and release values that fit the chart's", async () => {
        const objects = [...ofType(plan, ISSUER), ...ofType(plan, CERTIFICATE)];
        expect(objects).to.have.length(6);
        for (const o of objects) expect(crdErrors(o.inputs as { apiVersion: string; kind: string }), o.name).to.deep.equal([]);
        expect(valuesErrors("cert-manager", "v1.21.1", byName(plan, "cert-manager-release").inputs.values)).to.deep.equal([]);
        const hatch = await planDev((s) => (s.certManager.values = { clusterResourceNamespace: "pki", webhook: { replicaCount: 3 } }));
        expect(hatch.errors).to.deep.equal([]);
        expect(valuesErrors("cert-manager", "v1.21.1", byName(hatch, "cert-manager-release").inputs.values)).to.deep.equal([]);
        for (const o of [...ofType(hatch, ISSUER), ...ofType(hatch, CERTIFICATE)])
            expect(crdErrors(o.inputs as { apiVersion: string; kind: string }), o.name).to.deep.equal([]);
    });

    it("makes every issuer wait for Ready", () => {
        for (const r of ofType(plan, ISSUER))
            expect((r.inputs.metadata as Json).annotations, r.name).to.deep.equal({ "pulumi.com/waitFor": "condition=Ready" });
        expect(plan.findings.filter((f) => f.rule === "cluster-issuer-waits-for-ready")).to.deep.equal([]);
    });

    it("orders the issuers: after the gate; CA certificate after its signer; CA issuer after its certificate; ACME after its Secret", () => {
        expect(dependsOn("cluster-issuers")).to.deep.equal([urn("certificates-gate")]);
        // The gate must not wait for the issuers, or it would wait for itself.
        expect(dependsOn("certificates-gate")).to.not.include(urn("cluster-issuers"));
        expect(dependsOn("cluster-issuers-home-ops-ca-certificate")).to.deep.equal([urn("cluster-issuers-selfsigned-issuer")]);
        expect(dependsOn("cluster-issuers-home-ops-ca")).to.deep.equal([urn("cluster-issuers-home-ops-ca-certificate")]);
        expect(dependsOn("cluster-issuers-letsencrypt-prod")).to.deep.equal([urn("cluster-issuers-letsencrypt-prod-token")]);
        expect(dependsOn("cluster-issuers-selfsigned-issuer")).to.deep.equal([]);
        expect(dependsOn("ingress-nginx")).to.include(urn("cluster-issuers"));
        expect(dependsOn("ingress-gate")).to.include(urn("cluster-issuers"));
    });

    it("stores the Cloudflare token in cert-manager's namespace, referenced by name", () => {
        const secret = byName(plan, "cluster-issuers-letsencrypt-prod-token");
        expect(secret.inputs.metadata).to.deep.equal({ name: "letsencrypt-prod-cloudflare-api-token", namespace: "cert-manager" });
        expect(secret.inputs.stringData).to.equal("[secret]");
    });

    it("puts issuer Secrets and the CA into clusterResourceNamespace when the values move it, creating that namespace", async () => {
        const moved = await planDev((s) => (s.certManager.values = { clusterResourceNamespace: "pki" }));
        const ns = byName(moved, "cluster-issuers-namespace");
        expect(ns.inputs.metadata).to.deep.equal({ name: "pki" });
        expect((byName(moved, "cluster-issuers-letsencrypt-prod-token").inputs.metadata as Json).namespace).to.equal("pki");
        expect((byName(moved, "cluster-issuers-home-ops-ca-certificate").inputs.metadata as Json).namespace).to.equal("pki");
        expect(byName(moved, "cluster-issuers-letsencrypt-prod-token").dependsOn).to.deep.equal([ns.urn]);
        expect(() => byName(plan, "cluster-issuers-namespace")).to.throw();
    });

    it("creates an empty issuers component, still after the gate, when no issuers are configured", async () => {
        const none = await planDev((s) => {
            s.certManager = { version: "v1.21.1" };
            delete s.ingressNginx.defaultCertificate;
            withoutGateway(s);
        });
        expect(none.errors).to.deep.equal([]);
        expect(ofType(none, ISSUER)).to.deep.equal([]);
        expect(ofType(none, SECRET)).to.deep.equal([]);
        expect(byName(none, "cluster-issuers").dependsOn).to.deep.equal([byName(none, "certificates-gate").urn]);
    });
});

describe("the Cloudflare API token", () => {
    it("never appears in the plan, while the Secret holds a secret", async () => {
        const plan = await planDev(undefined, { config: { "talos-platform:cloudflareApiToken": TOKEN } });
        expect(plan.errors).to.deep.equal([]);
        expect(JSON.stringify(plan)).to.not.contain(TOKEN);
        // Redaction only replaces secrets, so the token is in no plain input; and the Secret did receive one.
        for (const s of ofType(plan, SECRET)) expect(s.inputs.stringData).to.equal("[secret]");
        expect(JSON.stringify(byName(plan, "cert-manager-release").inputs)).to.not.contain("[secret]");
    });

    it("reaches the Secret's stringData as a Pulumi secret", async () => {
        await pulumi.runtime.setMocks(
            { newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: () => ({}) },
            "talos-platform",
            "unit",
            true,
        );
        pulumi.runtime.setAllConfig({ "talos-platform:cloudflareApiToken": TOKEN }, ["talos-platform:cloudflareApiToken"]);
        const c = validateConfig(raw(devSections())).config!;
        const issuers = new ClusterIssuers("ci", { config: c.certManager });
        const secret = issuers.tokenSecrets["letsencrypt-prod"];
        expect(await pulumi.isSecret(secret.stringData)).to.equal(true);
        const data = await new Promise((resolve) => secret.stringData.apply(resolve));
        expect(data).to.deep.equal({ "api-token": TOKEN });
        expect(await new Promise((resolve) => secret.metadata.name.apply(resolve))).to.equal("letsencrypt-prod-cloudflare-api-token");
    });

    it("must be set, and set as a secret", () => {
        const missing = errorsOnly(withoutDevFindings(check(undefined, {}).problems));
        expect(missing.map((p) => p.path)).to.deep.equal([
            "talos-platform:certManager.issuers[2].acme.cloudflare.apiTokenSecret",
            "talos-platform:certManager.issuers[3].acme.cloudflare.apiTokenSecret",
        ]);
        expect(missing[0].fix).to.contain("pulumi config set --secret talos-platform:cloudflareApiToken");
        // One mistake, one problem: it names every issuer that uses the key.
        const plain = errorsOnly(withoutDevFindings(check(undefined, { cloudflareApiToken: { secret: false } }).problems));
        expect(plain.map((p) => p.path)).to.deep.equal(["talos-platform:cloudflareApiToken"]);
        expect(plain[0].message)
            .to.contain("plain text")
            .and.contain("talos-platform:certManager.issuers[2].acme.cloudflare.apiTokenSecret")
            .and.contain("talos-platform:certManager.issuers[3].acme.cloudflare.apiTokenSecret");
    });

    it("stops a plan that would run without it, registering nothing", async () => {
        const plan = await runPlan({ stack: "dev", config: devSections() });
        expect(plan.resources).to.deep.equal([]);
        expect(plan.errors.map((e) => e.path)).to.include("talos-platform:certManager.issuers[2].acme.cloudflare.apiTokenSecret");
    });
});

describe("cert-manager availability checks", () => {
    it("refuses a single webhook replica: its failurePolicy is Fail", () => {
        const p = errors((s) => (s.certManager.values = { webhook: { replicaCount: 1 } }));
        expect(p.map((x) => [x.path, x.value])).to.deep.equal([["talos-platform:certManager.values.webhook.replicaCount", 1]]);
        expect(p[0].message).to.contain("failurePolicy is Fail");
        expect(errors((s) => (s.certManager.values = { webhook: { replicaCount: 3 } }))).to.deep.equal([]);
    });

    it("refuses a budget that no eviction can satisfy, naming both keys, and accepts one that is off", () => {
        const p = errors((s) => (s.certManager.values = { replicaCount: 1 }));
        expect(p.map((x) => [x.path, x.value])).to.deep.equal([["talos-platform:certManager.values.podDisruptionBudget.minAvailable", 1]]);
        expect(p[0].message).to.contain("talos-platform:certManager.values.replicaCount at 1").and.contain("drain");
        expect(errors((s) => (s.certManager.values = { replicaCount: 1, podDisruptionBudget: { enabled: false } }))).to.deep.equal([]);
        const injector = errors((s) => (s.certManager.values = { cainjector: { podDisruptionBudget: { minAvailable: "100%" } } }));
        expect(injector.map((x) => x.path)).to.deep.equal([
            "talos-platform:certManager.values.cainjector.podDisruptionBudget.minAvailable",
        ]);
        expect(errors((s) => (s.certManager.values = { cainjector: { enabled: false, replicaCount: 1 } }))).to.deep.equal([]);
    });
});

describe("issuer config checks", () => {
    it("requires exactly one issuer kind", () => {
        const p = errors(
            (s) => {
                s.certManager.issuers[0].ca = { signedBy: "x" };
                s.certManager.issuers.push({ name: "nothing" });
            },
            ["checks-skipped"],
        );
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:certManager.issuers[0]", "talos-platform:certManager.issuers[4]"]);
        expect(p.find((x) => x.path.endsWith("issuers[0]"))!.message).to.contain("selfSigned and ca");
        expect(p.find((x) => x.path.endsWith("issuers[4]"))!.fix).to.contain("exactly one of selfSigned, ca, acme");
    });

    it("rejects two issuers with one name", () => {
        const p = errors((s) => (s.certManager.issuers[3].name = "letsencrypt-staging"));
        // The renamed issuer also leaves the references to letsencrypt-prod dangling: the Gateway's HTTPS listeners' too.
        expect(p.map((x) => x.path)).to.deep.equal([
            "talos-platform:certManager.issuers[3].name",
            "talos-platform:gateway.listeners[0].issuer",
            "talos-platform:gateway.listeners[1].issuer",
            "talos-platform:ingressNginx.defaultCertificate.issuer",
            "talos-platform:certManager.defaultIssuer",
        ]);
        expect(p.find((x) => x.path.endsWith("issuers[3].name"))!.message).to.contain("talos-platform:certManager.issuers[2]");
    });

    it("requires a CA issuer to be signed by a configured self-signed issuer", () => {
        const unknown = errors((s) => (s.certManager.issuers[1].ca.signedBy = "selfsigned"));
        expect(unknown.map((x) => x.path)).to.deep.equal(["talos-platform:certManager.issuers[1].ca.signedBy"]);
        expect(unknown[0].fix).to.contain("selfsigned-issuer");
        const acme = errors((s) => (s.certManager.issuers[1].ca.signedBy = "letsencrypt-prod"));
        expect(acme.map((x) => x.path)).to.deep.equal(["talos-platform:certManager.issuers[1].ca.signedBy"]);
        expect(acme[0].message).to.contain("not a selfSigned issuer");
    });

    it("rejects a bad ACME server, e-mail and wildcard DNS zone", () => {
        const p = errors(
            (s) => {
                s.certManager.issuers[2].acme.server = "http://acme.example";
                s.certManager.issuers[2].acme.email = "admin";
                s.certManager.issuers[2].acme.cloudflare.dnsZones = ["*.geoffdavis.com"];
            },
            ["checks-skipped"],
        );
        expect(p.map((x) => x.path)).to.deep.equal([
            "talos-platform:certManager.issuers[2].acme.server",
            "talos-platform:certManager.issuers[2].acme.email",
            "talos-platform:certManager.issuers[2].acme.cloudflare.dnsZones[0]",
        ]);
        expect(p[2].fix).to.contain("covers its subdomains");
    });
});
