import { expect } from "chai";
import { checkGate, CheckerIo } from "../../lib/gates/checker";
import {
    certificateFailure,
    certificateReadiness,
    challengesFor,
    diagnoseCertificate,
    issuanceFailed,
} from "../../lib/gates/certificate-ready";
import type { GateOptions } from "../../lib/gates/options";
import { gateOptions } from "../../lib/gates/targets";
import { validateConfig } from "../../lib/config";
import { certificate, devOptions, healthy } from "../cluster-scenarios";
import { FakeKube } from "../fake-kube";
import { devSections, Json, planDev, raw, ROOT } from "../helpers";

// The ingress phase waits for its default certificate: the gate, not
// pulumi.com/waitFor, so that a stuck issuance is named, not timed out in
// silence. Messages are cert-manager's and Cloudflare's own wording.

/** cert-manager's Cloudflare guide, Troubleshooting: the token lacks Zone:Zone:Read (or the zone was looked up wrong). */
const CLOUDFLARE_ZONE_LIST =
    "Error presenting challenge: Cloudflare API Error for GET \"/zones?name=k8s.home.geoffdavis.com\"\n Error: 0: Actor 'com.cloudflare.api.token.xxxx' requires permission 'com.cloudflare.api.account.zone.list' to list zones";
const PROPAGATION = 'Waiting for DNS-01 challenge propagation: DNS record for "k8s.home.geoffdavis.com" not yet propagated';
const RATE_LIMIT =
    'Failed to wait for order resource "default-tls-1-2468" to become ready: order is in "errored" state: Failed to create Order: 429 urn:ietf:params:acme:error:rateLimited: Error creating new order :: too many certificates already issued for "geoffdavis.com"';

const ingress = (): GateOptions["ingress"] => devOptions().ingress;

function challenge(name: string, dnsName: string, reason: string, wildcard = false): Json {
    return {
        apiVersion: "acme.cert-manager.io/v1",
        kind: "Challenge",
        metadata: { name, namespace: ingress().namespace },
        spec: { dnsName, wildcard, type: "DNS-01" },
        status: { state: "pending", presented: true, reason, processing: true },
    };
}

async function run(fake: FakeKube, over: Partial<GateOptions["ingress"]> = {}) {
    let text = "";
    const io: CheckerIo = { out: (t) => (text += t), err: (t) => (text += t), cwd: ROOT, signal: new AbortController().signal };
    const options = { ...ingress(), timeoutMs: 600, pollMs: 20, kubeconfig: fake.kubeconfig(), ...over };
    const started = Date.now();
    const result = await checkGate("ingress", options, io);
    return { result, out: text, ms: Date.now() - started };
}

describe("the ingress gate and the default certificate", function () {
    this.timeout(20_000);
    let fake: FakeKube;
    beforeEach(async () => {
        fake = await new FakeKube().start();
        healthy(fake);
    });
    afterEach(async () => {
        expect(fake.livePods(), "probe pods left behind").to.deep.equal([]);
        await fake.stop();
    });

    const o = () => ingress();

    it("checks the dev stack's default certificate, named as the component creates it", () => {
        expect(o().certificate).to.equal("default-tls");
    });

    it("passes once the Certificate is Ready, and says until when it is valid", async () => {
        const { result, out } = await run(fake);
        expect(result.ok, out).to.equal(true);
        const step = result.passed.find((p) => p.name === "default TLS certificate issued (Certificate ingress-nginx/default-tls Ready)")!;
        expect(step.detail).to.contain("Ready=True").and.contain("valid until 2027-02-24T10:00:00Z");
    });

    it("waits for a Certificate that does not exist yet, and blames the ingress phase at the timeout", async () => {
        fake.remove(certificate(o().namespace, "default-tls"));
        const { result } = await run(fake);
        expect(result.ok).to.equal(false);
        expect(result.timedOut).to.equal(true);
        expect(result.diagnosis!.evidence[0]).to.equal("Certificate ingress-nginx/default-tls: not found");
        expect(result.diagnosis!.cause).to.contain("ingress phase has not created");
    });

    it("names the DNS-01 self-check when the challenge waits for propagation, and keeps waiting until the timeout", async () => {
        fake.put(
            certificate(o().namespace, "default-tls", {
                status: "False",
                reason: "DoesNotExist",
                message: "Issuing certificate as Secret does not exist",
            }),
            challenge("default-tls-1-2468-1357", "k8s.home.geoffdavis.com", PROPAGATION, true),
            challenge("other-tls-1-1-1", "grafana.example.org", "unrelated"),
        );
        const { result, ms } = await run(fake);
        expect(result.timedOut).to.equal(true);
        expect(ms).to.be.at.least(550);
        const d = result.diagnosis!;
        expect(d.link).to.equal("cert-manager DNS-01 self-check (letsencrypt-prod)");
        expect(d.evidence).to.include(
            `Challenge ingress-nginx/default-tls-1-2468-1357 (DNS-01 for *.k8s.home.geoffdavis.com): pending, record presented: ${PROPAGATION}`,
        );
        expect(d.evidence.join("\n")).to.not.contain("grafana.example.org");
        expect(d.fix).to.contain("talos-platform:certManager.dns01SelfCheck");
    });

    it("fails at once when cert-manager has given up for now (Issuing=False), naming the Cloudflare token's permissions", async () => {
        fake.put(
            certificate(
                o().namespace,
                "default-tls",
                { status: "False", reason: "Failed", message: "The certificate request has failed to complete and will be retried" },
                {
                    issuing: {
                        status: "False",
                        reason: "Failed",
                        message: `The certificate request has failed to complete and will be retried: ${CLOUDFLARE_ZONE_LIST}`,
                    },
                    lastFailureTime: "2026-12-06T10:00:00Z",
                },
            ),
        );
        const { result, ms } = await run(fake, { timeoutMs: 5000 });
        expect(result.ok).to.equal(false);
        expect(result.timedOut).to.not.equal(true);
        expect(ms).to.be.below(4000);
        expect(result.diagnosis!.link).to.equal("cert-manager → Cloudflare API (letsencrypt-prod)");
        expect(result.diagnosis!.fix).to.contain("Zone:DNS:Edit and Zone:Zone:Read");
    });

    it("does not count a Ready left from before a spec change", async () => {
        fake.put(certificate(o().namespace, "default-tls", undefined, { generation: 2 }));
        const { result } = await run(fake);
        expect(result.ok).to.equal(false);
        expect(result.diagnosis!.evidence[0]).to.contain("for generation 1 < 2");
    });

    it("passes as soon as the Certificate turns Ready while it waits", async () => {
        fake.put(certificate(o().namespace, "default-tls", { status: "False", reason: "InProgress", message: "Issuing" }));
        setTimeout(() => fake.put(certificate(o().namespace, "default-tls")), 200);
        const { result, out } = await run(fake, { timeoutMs: 3000 });
        expect(result.ok, out).to.equal(true);
    });

    it("still judges the Certificate when the checker may not list Challenges", async () => {
        fake.put(certificate(o().namespace, "default-tls", { status: "False", reason: "InProgress", message: "Issuing" }));
        fake.forbid = /\/challenges$/;
        const { result } = await run(fake);
        expect(result.timedOut).to.equal(true);
        expect(result.diagnosis!.evidence.join("\n")).to.contain("Challenges in ingress-nginx: not readable");
    });

    it("has no certificate step when no default certificate is configured", async () => {
        const s = devSections();
        delete s.ingressNginx.defaultCertificate;
        const config = validateConfig(raw(s)).config!;
        const options = gateOptions(config).ingress;
        expect(options.certificate).to.equal(undefined);
        fake.remove(certificate(o().namespace, "default-tls"));
        const { result } = await run(fake, options);
        expect(result.ok).to.equal(true);
        // The dev stack's Gateway has certificate Secrets of its own to check; ingress-nginx's steps name none.
        expect(
            result.passed
                .map((p) => p.name)
                .filter((n) => !n.startsWith("Gateway"))
                .join("\n"),
        ).to.not.contain("certificate");
    });
});

describe("reading a Certificate's state", () => {
    const cert = (ready: Json, extra: Json = {}) => certificate("ingress-nginx", "default-tls", ready, extra);

    it("is Ready only for Ready=True at the current generation", () => {
        expect(certificateReadiness(cert(undefined)).ready).to.equal(true);
        expect(certificateReadiness(cert(undefined, { generation: 2 })).ready).to.equal(false);
        expect(certificateReadiness(cert({ status: "False", reason: "x", message: "y" })).ready).to.equal(false);
        expect(certificateReadiness({}).summary).to.equal("Ready=Unknown");
    });

    it("has failed only when Issuing is False after a failure, not while it is still issuing", () => {
        const failing = {
            status: "False",
            reason: "Failed",
            message: "The certificate request has failed to complete and will be retried: x",
        };
        expect(issuanceFailed(cert({ status: "False", reason: "Failed", message: "" }, { issuing: failing }))).to.equal(true);
        const issuing = { status: "True", reason: "Issuing", message: "Issuing certificate as Secret does not exist" };
        expect(issuanceFailed(cert({ status: "False", reason: "DoesNotExist", message: "" }, { issuing }))).to.equal(false);
    });

    it("tells the links apart from cert-manager's and the ACME server's messages", () => {
        expect(certificateFailure([PROPAGATION])).to.equal("self-check");
        expect(certificateFailure([CLOUDFLARE_ZONE_LIST])).to.equal("dns-provider");
        expect(certificateFailure([RATE_LIMIT])).to.equal("rate-limit");
        expect(certificateFailure(['Failed to wait for order resource "x" to become ready: order is in "invalid" state'])).to.equal(
            "acme-rejected",
        );
        expect(
            certificateFailure(['Referenced "ClusterIssuer" not found: clusterissuer.cert-manager.io "letsencrypt-prod" not found']),
        ).to.equal("issuer");
        expect(certificateFailure(["Failed to determine a valid solver configuration for the set of domains on the Order"])).to.equal(
            "no-solver",
        );
        expect(certificateFailure(["Issuing certificate as Secret does not exist"])).to.equal("other");
    });

    it("matches a wildcard name's Challenge, which names the domain below it", () => {
        const c = cert(undefined);
        const chs = [challenge("a", "k8s.home.geoffdavis.com", "x", true), challenge("b", "www.k8s.home.geoffdavis.com", "y")];
        expect(challengesFor(c, chs).map((x: Json) => x.metadata.name)).to.deep.equal(["a"]);
    });

    it("blocks the later phases and names what the controller serves meanwhile", () => {
        const d = diagnoseCertificate(cert({ status: "False", reason: "x", message: "y" }), [], {
            namespace: "ingress-nginx",
            certificate: "default-tls",
        });
        expect(d.blocks[0]).to.contain("self-signed fake one");
        expect(d.blocks.join("; ")).to.contain("(gitops)");
    });
});

describe("the default certificate in the plan", () => {
    it("is not waited on by Pulumi, and its gate carries the certificate", async () => {
        const plan = await planDev();
        const cert = plan.resources.find(
            (r) => r.type === "kubernetes:cert-manager.io/v1:Certificate" && (r.inputs.metadata as Json).name === "default-tls",
        )!;
        expect((cert.inputs.metadata as Json).annotations ?? {}).to.not.have.property("pulumi.com/waitFor");
        const gate = plan.resources.find((r) => r.name === "ingress-gate-check")!;
        const argv = String(gate.inputs.create);
        expect(argv).to.contain("--certificate default-tls");
    });
});
