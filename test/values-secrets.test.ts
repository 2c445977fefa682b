import { expect } from "chai";
import { validateConfig } from "../lib/config";
import type { Problem } from "../lib/problems";
import { byName, devSections, Json, planCustomDomain, planDev, raw } from "./helpers";

const PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
const RANDOM = "xY3kP9qLm2ZvT7wRb4Nc";

function problems(edit: (s: Record<string, Json>) => void): Problem[] {
    const s = devSections();
    edit(s);
    return validateConfig(raw(s)).problems.filter((p) => p.rule === "secret-in-values" || p.path.includes(".values."));
}

describe("secrets pasted into values", () => {
    it("refuses a PEM private key, as is or base64-encoded, and a token of a known issuer, without showing them", () => {
        for (const secret of [PEM, Buffer.from(PEM).toString("base64"), "ghp_" + "a1B2c3D4e5F6g7H8i9J0"]) {
            const p = problems(
                (s) => (s.cilium.values = { clustermesh: { config: { clusters: [{ name: "a", tls: { cert: "x", key: secret } }] } } }),
            );
            expect(p.map((x) => [x.severity, x.path])).to.deep.equal([
                ["error", "talos-platform:cilium.values.clustermesh.config.clusters[0].tls.key"],
            ]);
            expect(JSON.stringify(p)).to.not.contain(secret.slice(4, 20));
            expect(p[0].fix).to.contain("pulumi config set --secret");
        }
    });

    it("warns about a credential-shaped string under a key named like one, and deploys it as a secret", async () => {
        const edit = (s: Record<string, Json>) => (s.coredns.values = { extraSecrets: [{ name: "x", password: RANDOM }] });
        const p = problems(edit);
        expect(p.map((x) => [x.severity, x.rule, x.path])).to.deep.equal([
            ["warning", "secret-in-values", "talos-platform:coredns.values.extraSecrets[0].password"],
        ]);
        // The custom-domain test stack installs CoreDNS, whose values hold the credential.
        const plan = await planCustomDomain(edit);
        expect(plan.ok).to.equal(true);
        expect(JSON.stringify(plan)).to.not.contain(RANDOM);
        expect(byName(plan, "coredns-release").inputs.values).to.equal("[secret]");
    });

    it("leaves names of secrets, words and short strings alone", () => {
        const p = problems(
            (s) =>
                (s.ingressNginx.values = {
                    controller: {
                        existingSecret: "ingress-nginx-basic-auth-secret",
                        auth: { passwordSecretName: "aB3dE5fG7hJ9kL1mN3pQ", password: "changeme", token: "not-a-credential-at-all" },
                    },
                }),
        );
        // The chart has neither key (unknown-chart-value says so); no secret is suspected in them.
        expect(p.filter((x) => x.rule !== "unknown-chart-value")).to.deep.equal([]);
    });

    it("finds nothing in the dev stack, whose release values stay readable in the plan", async () => {
        expect(problems(() => undefined)).to.deep.equal([]);
        const plan = await planDev();
        for (const release of ["cilium-release", "cert-manager-release", "ingress-nginx-release"])
            expect(byName(plan, release).inputs.values, release).to.be.an("object");
    });
});
