import { expect } from "chai";
import { validateConfig } from "../lib/config";
import { redactUrl } from "../lib/config/flux";
import { looksLikeCredential } from "../lib/config/secrets";
import type { Plan } from "../lib/plan/model";
import { renderMarkdown, renderText } from "../lib/plan/render";
import { devSections, Json, planDev, raw } from "./helpers";

// Credentials pasted where they do not belong must never be echoed back:
// not in a problem, nor in the plan's text, JSON or PR-comment markdown.

const TOKEN = "ghp_R2d9Xq7LmN4vB8kT1sW6yZ3cF5hJ0aEuQpVo";
const CLOUDFLARE = "Xb3k9QmZ7vT2nR8wL4yP6sH1dJ5gF0cA9eU2iO7t";
const PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n-----END OPENSSH PRIVATE KEY-----";

/** Every output of a plan that did not deploy: its JSON, text and markdown. */
async function outputs(edit: (s: Record<string, Json>) => void): Promise<{ plan: Plan; all: string }> {
    const plan = await planDev(edit);
    expect(plan.resources).to.deep.equal([]);
    return { plan, all: [JSON.stringify(plan), renderText(plan), renderMarkdown(plan)].join("\n") };
}

describe("secrets in the wrong place: Git URLs", () => {
    it("redacts user information that may be a credential, and only that", () => {
        expect(redactUrl("https://git:tok@github.com/o/r")).to.equal("https://***@github.com/o/r");
        expect(redactUrl("https://tok@github.com/o/r")).to.equal("https://***@github.com/o/r");
        expect(redactUrl("ssh://git:pw@host/o/r")).to.equal("ssh://***@host/o/r");
        expect(redactUrl("user:pw@host:o/r")).to.equal("***@host:o/r");
        for (const kept of ["ssh://git@github.com/o/r", "git@github.com:o/r", "https://github.com/o/r@v1"])
            expect(redactUrl(kept)).to.equal(kept);
    });

    it("keeps a token in flux.source.url out of the plan's errors, text and markdown", async () => {
        const { plan, all } = await outputs(
            (s) => (s.flux.source.url = `https://x-access-token:${TOKEN}@github.com/geoffdavis/talos-gitops`),
        );
        expect(plan.errors.map((e) => e.path)).to.deep.equal(["talos-platform:flux.source.url"]);
        expect(plan.errors[0].value).to.equal("https://***@github.com/geoffdavis/talos-gitops");
        expect(plan.errors[0].message).to.contain("https://***@github.com");
        expect(all).to.not.contain(TOKEN);
    });

    it("redacts the URL in every problem about it, and in a URL Flux cannot clone", async () => {
        const { plan, all } = await outputs((s) => {
            s.flux.source.url = `http://git:${TOKEN}@github.com/geoffdavis/talos-gitops`;
            s.flux.source.httpsToken = { tokenSecret: "cloudflareApiToken" };
        });
        expect(plan.errors.map((e) => e.path)).to.have.members(["talos-platform:flux.source.url", "talos-platform:flux.source.httpsToken"]);
        expect(all).to.not.contain(TOKEN);
        const ftp = await outputs((s) => (s.flux.source.url = `ftp://git:${TOKEN}@example.com/repo`));
        expect(ftp.plan.errors.map((e) => e.value)).to.deep.equal(["ftp://***@example.com/repo"]);
        expect(ftp.all).to.not.contain(TOKEN);
    });
});

describe("secrets in the wrong place: secret-name fields", () => {
    it("tells names from credentials", () => {
        for (const name of [
            "fluxGitToken",
            "cloudflareApiToken",
            "CLOUDFLARE_API_TOKEN",
            "bgp-peer-1-password",
            "CloudflareApiTokenForHomeOps2024",
        ])
            expect(looksLikeCredential(name), name).to.equal(false);
        for (const token of [TOKEN, CLOUDFLARE, "glpat-Zx81kQ2mRt7Yv3Lp9Wc4", "a3f9c01b7e4d28f6c5a0b9e13d7f2c6a8b4e1d09"])
            expect(looksLikeCredential(token), token).to.equal(true);
    });

    it("never shows a PEM key or a token pasted into flux's tokenSecret or privateKeySecret", async () => {
        const { plan, all } = await outputs((s) => {
            s.flux.source.url = "ssh://git@github.com/geoffdavis/talos-gitops";
            s.flux.source.sshKey = { privateKeySecret: PEM, knownHosts: "github.com ssh-ed25519 AAAA" };
        });
        expect(plan.errors.map((e) => e.path)).to.deep.equal(["talos-platform:flux.source.sshKey.privateKeySecret"]);
        expect(plan.errors[0].value).to.equal(undefined);
        expect(plan.errors[0].message).to.contain("is not a config key name").and.contain("not shown");
        expect(all).to.not.contain("b3BlbnNzaC1rZXktdjEAAAAABG5vbmU");

        const token = await outputs((s) => (s.flux.source.httpsToken = { tokenSecret: TOKEN }));
        expect(token.plan.errors.map((e) => e.path)).to.deep.equal(["talos-platform:flux.source.httpsToken.tokenSecret"]);
        expect(token.plan.errors[0].message).to.contain("looks like a secret value");
        expect(token.all).to.not.contain(TOKEN);
    });

    it("hides the value of every secretKeyName field, in any section and for any kind of error", () => {
        const s = devSections();
        s.certManager.issuers[2].acme.cloudflare.apiTokenSecret = CLOUDFLARE;
        s.flux.source.httpsToken = { tokenSecret: 4711 };
        const p = validateConfig(raw(s)).problems.filter((x) => x.path.endsWith("apiTokenSecret") || x.path.endsWith("tokenSecret"));
        expect(p.map((x) => x.path)).to.have.members([
            "talos-platform:certManager.issuers[2].acme.cloudflare.apiTokenSecret",
            "talos-platform:flux.source.httpsToken.tokenSecret",
        ]);
        for (const x of p) expect(x.value, x.path).to.equal(undefined);
        expect(JSON.stringify(p)).to.not.contain(CLOUDFLARE).and.not.contain("4711");
    });
});
