import { expect } from "chai";
import type { Finding } from "../lib/plan/model";
import { evaluatePolicies } from "../lib/plan/policies";
import { phaseOfUrn } from "../policies/crd-order";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const ISSUER = "kubernetes:cert-manager.io/v1:ClusterIssuer";

/** The findings of one rule for one resource, registered under `parentType` when given. */
async function findings(rule: string, type: string, props: Record<string, unknown>, parentType?: string): Promise<Finding[]> {
    const urn = `urn:pulumi:test::talos-platform::${parentType ? parentType + "$" : ""}${type}::subject`;
    const all = await evaluatePolicies([{ urn, type, name: "subject", parent: null, dependsOn: [], phase: null, inputs: props, props }]);
    return all.filter((f) => f.rule === rule);
}

describe("policy ingress-nginx-retired", () => {
    const release = { chart: "ingress-nginx", version: "4.15.1", repositoryOpts: { repo: "https://kubernetes.github.io/ingress-nginx" } };

    it("advises, never blocks, on an ingress-nginx release, pointing to Gateway API", async () => {
        const f = await findings("ingress-nginx-retired", RELEASE, release);
        expect(f).to.have.length(1);
        expect(f[0].severity).to.equal("advisory");
        expect(f[0].message).to.contain("retired in March 2026").and.contain("Gateway API");
    });

    it("passes other charts", async () => {
        expect(await findings("ingress-nginx-retired", RELEASE, { ...release, chart: "cilium" })).to.deep.equal([]);
    });

    it("passes a release without a chart", async () => {
        expect(await findings("ingress-nginx-retired", RELEASE, { version: "4.15.1" })).to.deep.equal([]);
    });
});

describe("policy cluster-issuer-waits-for-ready", () => {
    const issuer = (annotations?: Record<string, string>) => ({
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name: "letsencrypt-prod", ...(annotations ? { annotations } : {}) },
        spec: { selfSigned: {} },
    });

    it("passes an issuer that waits for condition=Ready", async () => {
        expect(await findings("cluster-issuer-waits-for-ready", ISSUER, issuer({ "pulumi.com/waitFor": "condition=Ready" }))).to.deep.equal(
            [],
        );
    });

    it("fails one that waits for something else, as mandatory", async () => {
        const f = await findings("cluster-issuer-waits-for-ready", ISSUER, issuer({ "pulumi.com/waitFor": "condition=Available" }));
        expect(f).to.have.length(1);
        expect(f[0].severity).to.equal("mandatory");
        expect(f[0].message).to.contain("letsencrypt-prod").and.contain('"condition=Available"');
    });

    it("fails one without annotations", async () => {
        expect(await findings("cluster-issuer-waits-for-ready", ISSUER, issuer())).to.have.length(1);
        expect(await findings("cluster-issuer-waits-for-ready", ISSUER, {})).to.have.length(1);
    });

    it("ignores other kinds", async () => {
        expect(await findings("cluster-issuer-waits-for-ready", "kubernetes:cert-manager.io/v1:Certificate", issuer())).to.deep.equal([]);
    });
});

describe("policy no-crd-from-later-phase", () => {
    const INGRESS = "talos-platform:ingress:IngressNginx";
    const release = (values?: unknown) => ({
        chart: "ingress-nginx",
        version: "4.15.1",
        repositoryOpts: { repo: "https://kubernetes.github.io/ingress-nginx" },
        ...(values ? { values } : {}),
    });

    it("reads the phase from the component in the URN", () => {
        expect(phaseOfUrn(`urn:pulumi:dev::p::${INGRESS}$${RELEASE}::ingress-nginx-release`)).to.equal("ingress");
        expect(phaseOfUrn(`urn:pulumi:dev::p::${RELEASE}::x`)).to.equal(undefined);
    });

    it("passes a release that keeps the ServiceMonitor off", async () => {
        const values = { controller: { metrics: { enabled: true, serviceMonitor: { enabled: false } } } };
        expect(await findings("no-crd-from-later-phase", RELEASE, release(values), INGRESS)).to.deep.equal([]);
    });

    it("fails one that turns it on, with the same message as the config check", async () => {
        const f = await findings(
            "no-crd-from-later-phase",
            RELEASE,
            release({ controller: { metrics: { serviceMonitor: { enabled: true } } } }),
            INGRESS,
        );
        expect(f).to.have.length(1);
        expect(f[0].severity).to.equal("mandatory");
        expect(f[0].message)
            .to.contain("controller.metrics.serviceMonitor.enabled")
            .and.contain("monitoring.coreos.com")
            .and.contain("Fix:");
    });

    it("falls back to the chart's phase outside a component, and passes an earlier-phase CRD", async () => {
        expect(
            await findings("no-crd-from-later-phase", RELEASE, release({ controller: { metrics: { serviceMonitor: { enabled: true } } } })),
        ).to.have.length(1);
        const webhookCert = { controller: { admissionWebhooks: { certManager: { enabled: true } } } };
        expect(await findings("no-crd-from-later-phase", RELEASE, release(webhookCert), INGRESS)).to.deep.equal([]);
    });

    it("judges a release by the phase of the component it is registered under, not by its chart's usual phase", async () => {
        const NETWORK = "talos-platform:network:Cilium";
        const webhookCert = { controller: { admissionWebhooks: { certManager: { enabled: true } } } };
        // ingress-nginx's webhook Certificate under a network-phase component: cert-manager only comes in the certificates phase.
        const early = await findings("no-crd-from-later-phase", RELEASE, release(webhookCert), NETWORK);
        expect(early.map((f) => f.severity)).to.deep.equal(["mandatory"]);
        expect(early[0].message).to.equal(
            "ingress-nginx's controller.admissionWebhooks.certManager.enabled makes it emit a Certificate (cert-manager.io), whose CRD cert-manager installs only in the certificates phase; the network-phase release would fail on an unknown kind. " +
                "Fix: leave controller.admissionWebhooks.certManager.enabled false: cert-manager is installed only in the certificates phase, after this one.",
        );
        // Under a certificates-phase component, the same phase that installs cert-manager's CRDs: not later, so passed.
        expect(
            await findings("no-crd-from-later-phase", RELEASE, release(webhookCert), "talos-platform:certificates:CertManager"),
        ).to.deep.equal([]);
        // Cilium's Hubble certificates from cert-manager under an ingress-phase component: cert-manager came before.
        const cilium = {
            chart: "cilium",
            version: "1.19.4",
            repositoryOpts: { repo: "https://helm.cilium.io" },
            values: { hubble: { tls: { auto: { method: "certmanager" } } } },
        };
        expect(await findings("no-crd-from-later-phase", RELEASE, cilium, INGRESS)).to.deep.equal([]);
        // The same release outside any component falls back to the chart's phase: network, before cert-manager.
        expect((await findings("no-crd-from-later-phase", RELEASE, cilium)).map((f) => f.severity)).to.deep.equal(["mandatory"]);
    });

    it("passes a release without values", async () => {
        expect(await findings("no-crd-from-later-phase", RELEASE, release(), INGRESS)).to.deep.equal([]);
    });

    it("fails a flux-operator release that creates its ServiceMonitor, and passes one that does not", async () => {
        const GITOPS = "talos-platform:gitops:Flux";
        const operator = (create: boolean) => ({
            chart: "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator",
            version: "0.58.1",
            values: { serviceMonitor: { create } },
        });
        const f = await findings("no-crd-from-later-phase", RELEASE, operator(true), GITOPS);
        expect(f.map((x) => x.message)).to.have.length(1);
        expect(f[0].message).to.equal(
            "flux-operator's serviceMonitor.create makes it emit a ServiceMonitor (monitoring.coreos.com), whose CRD the monitoring Kustomization (Flux) installs only after every phase; the gitops-phase release would fail on an unknown kind. " +
                "Fix: leave serviceMonitor.create false until the monitoring Kustomization (Flux) comes before this phase; ship the ServiceMonitor from a later Kustomization instead.",
        );
        expect(await findings("no-crd-from-later-phase", RELEASE, operator(false), GITOPS)).to.deep.equal([]);
    });

    it("fails a Cilium release whose Hubble certificates come from cert-manager, which the network phase precedes", async () => {
        const NETWORK = "talos-platform:network:Cilium";
        const cilium = (method: string) => ({
            chart: "cilium",
            version: "1.19.4",
            repositoryOpts: { repo: "https://helm.cilium.io" },
            values: { hubble: { tls: { auto: { method } } } },
        });
        const f = await findings("no-crd-from-later-phase", RELEASE, cilium("certmanager"), NETWORK);
        expect(f).to.have.length(1);
        expect(f[0].message).to.contain("hubble.tls.auto.method: certmanager").and.contain("cert-manager.io");
        expect(await findings("no-crd-from-later-phase", RELEASE, cilium("helm"), NETWORK)).to.deep.equal([]);
    });
});
