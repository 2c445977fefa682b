import { expect } from "chai";
import { validateConfig } from "../lib/config";
import { stackPolicyConfig } from "../lib/plan/policies";
import * as fluxValues from "../lib/values/flux";
import { fluxInstance, gitRepository, kustomization } from "../lib/values/flux";
import { customDomainStack, devSections, Json, planCustomDomain, raw, withFreshPlans } from "./helpers";
import { violations } from "./policies.test";

const FLUX_INSTANCE = "kubernetes:fluxcd.controlplane.io/v1:FluxInstance";
const GIT_REPOSITORY = "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository";
const KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization";

// The custom-domain test stack: a FluxInstance domain to check, and CoreDNS deployed by this program.
function testStack(): Record<string, Json> {
    const s = devSections();
    customDomainStack(s);
    return s;
}
// Computed in each test, not when the file loads: code run at load time is no test's (see stryker.config.mjs).
const config = () => validateConfig(raw(testStack())).config!;
// What the program emits: every policy must pass these.
const instance = () => fluxInstance(config().cluster, config().flux) as Json;
const source = () => gitRepository(config().flux) as Json;
const ks = () => {
    const { flux } = config();
    return kustomization(flux, 1, ["infrastructure-sources"], flux.phases[1].kustomizations[0]) as Json;
};

describe("policy flux-waits-for-ready", () => {
    it("passes the FluxInstance, GitRepository and Kustomization the program emits", async () => {
        for (const [type, obj] of [
            [FLUX_INSTANCE, instance()],
            [GIT_REPOSITORY, source()],
            [KUSTOMIZATION, ks()],
        ])
            expect(await violations("flux-waits-for-ready", type, obj), type).to.deep.equal([]);
    });

    it("fails a Kustomization that waits for something else, naming it", async () => {
        const obj = ks();
        obj.metadata.annotations["pulumi.com/waitFor"] = "condition=Reconciling";
        const v = await violations("flux-waits-for-ready", KUSTOMIZATION, obj);
        expect(v).to.have.length(1);
        expect(v[0].severity).to.equal("mandatory");
        expect(v[0].message).to.contain("infrastructure-longhorn").and.contain("condition=Reconciling");
    });

    it("fails a GitRepository without annotations at all", async () => {
        const obj = source();
        delete obj.metadata.annotations;
        expect(await violations("flux-waits-for-ready", GIT_REPOSITORY, obj)).to.have.length(1);
    });

    it("ignores other kinds", async () => {
        expect(await violations("flux-waits-for-ready", "kubernetes:core/v1:Secret", { metadata: { name: "x" } })).to.deep.equal([]);
    });
});

describe("policy flux-instance-cluster-domain", () => {
    let stack: ReturnType<typeof stackPolicyConfig>;
    beforeEach(() => (stack = stackPolicyConfig(config())));

    it("passes the emitted FluxInstance, with and without the stack's domain as config", async () => {
        expect(stack["flux-instance-cluster-domain"]).to.deep.equal({ dnsDomain: "k8s.home.geoffdavis.com" });
        expect(await violations("flux-instance-cluster-domain", FLUX_INSTANCE, instance(), stack)).to.deep.equal([]);
        expect(await violations("flux-instance-cluster-domain", FLUX_INSTANCE, instance())).to.deep.equal([]);
    });

    it("fails a FluxInstance left at cluster.local on the report's custom domain, naming both", async () => {
        const obj = instance();
        obj.spec.cluster.domain = "cluster.local";
        const v = await violations("flux-instance-cluster-domain", FLUX_INSTANCE, obj, stack);
        expect(v).to.have.length(1);
        expect(v[0].message).to.contain("'cluster.local'").and.contain("'k8s.home.geoffdavis.com'");
        // Without config the policy cannot know the domain, and says so in its description.
        expect(await violations("flux-instance-cluster-domain", FLUX_INSTANCE, obj)).to.deep.equal([]);
    });

    it("fails a FluxInstance whose domain is empty", async () => {
        const obj = instance();
        obj.spec.cluster.domain = "";
        const v = await violations("flux-instance-cluster-domain", FLUX_INSTANCE, obj);
        expect(v).to.have.length(1);
        expect(v[0].message).to.contain("cluster.local").and.contain("dnsDomain");
    });

    it("fails a FluxInstance with no cluster section", async () => {
        const obj = instance();
        delete obj.spec.cluster;
        expect(await violations("flux-instance-cluster-domain", FLUX_INSTANCE, obj, stack)).to.have.length(1);
    });
});

describe("policy flux-distribution-pinned", () => {
    it("passes the emitted FluxInstance", async () => {
        expect(await violations("flux-distribution-pinned", FLUX_INSTANCE, instance())).to.deep.equal([]);
    });

    it("fails a version range, with the same fix as the config check", async () => {
        const obj = instance();
        obj.spec.distribution.version = "2.x";
        const v = await violations("flux-distribution-pinned", FLUX_INSTANCE, obj);
        expect(v).to.have.length(1);
        expect(v[0].message).to.contain('"2.x"');
        const s = devSections();
        s.flux.distribution.version = "2.x";
        const problem = validateConfig(raw(s)).problems.find((p) => p.path === "talos-platform:flux.distribution.version")!;
        expect(v[0].message).to.contain(problem.fix);
    });

    it("fails a FluxInstance without a distribution", async () => {
        const obj = instance();
        delete obj.spec.distribution;
        expect(await violations("flux-distribution-pinned", FLUX_INSTANCE, obj)).to.have.length(1);
    });

    it("passes a patch wildcard, which the operator resolves within one minor version, and fails a minor wildcard", async () => {
        for (const [version, n] of [
            ["2.9.x", 0],
            ["v2.9.x", 0],
            ["2.x.x", 1],
            ["2.9.*", 1],
            ["2.9.x-rc", 1],
        ] as const) {
            const obj = instance();
            obj.spec.distribution.version = version;
            expect(await violations("flux-distribution-pinned", FLUX_INSTANCE, obj), version).to.have.length(n);
        }
    });
});

describe("policy flux-single-owner", () => {
    it("passes the dev stack's Kustomizations", async () => {
        expect(await violations("flux-single-owner", KUSTOMIZATION, ks())).to.deep.equal([]);
    });

    it("fails a Kustomization for ingress-nginx with the config check's message", async () => {
        const obj = ks();
        obj.metadata.name = "infrastructure-ingress-nginx";
        const v = await violations("flux-single-owner", KUSTOMIZATION, obj);
        expect(v).to.have.length(1);
        expect(v[0].message).to.contain("duplicates ingress-nginx, which this program deploys in its ingress phase");
        // One source of truth: the config check says the same.
        const s = devSections();
        s.flux.phases[2].kustomizations.push({ name: "infrastructure-ingress-nginx", path: "./infrastructure/ingress-nginx" });
        const problem = validateConfig(raw(s)).problems.find((p) => p.path.endsWith("kustomizations[2].name"))!;
        expect(v[0].message).to.equal(problem.message + ".");
    });

    it("says who runs CoreDNS from its config, as the config check does", async () => {
        const obj = ks();
        obj.metadata.name = "kube-dns";
        const talos = await violations("flux-single-owner", KUSTOMIZATION, obj);
        expect(talos[0].message).to.contain("which Talos runs");
        const ours = await violations("flux-single-owner", KUSTOMIZATION, obj, stackPolicyConfig(config()));
        expect(ours[0].message).to.contain("which this program deploys in its dns phase");
    });

    it("gets the stack's config in the offline plan", async () => {
        // A Kustomization emitted under a name its config does not have, which only the policy can then catch.
        const original = fluxValues.kustomization;
        const values = fluxValues as { kustomization: typeof original };
        values.kustomization = (flux, phase, previous, k) => {
            const obj = original(flux, phase, previous, k);
            if (k.name === "apps-dashboard") obj.metadata.name = "kube-dns";
            return obj;
        };
        try {
            const plan = await withFreshPlans(() => planCustomDomain());
            expect(plan.errors).to.deep.equal([]);
            const found = plan.findings.filter((f) => f.rule === "flux-single-owner");
            expect(found.map((f) => f.severity)).to.deep.equal(["mandatory"]);
            // The test stack sets cluster.coreDnsDisabled: without it, the policy would blame Talos.
            expect(found[0].message).to.contain("which this program deploys in its dns phase");
        } finally {
            values.kustomization = original;
        }
    });

    it("fails on the path alone, and passes a Kustomization with neither name nor path", async () => {
        const obj = ks();
        obj.spec.path = "./infrastructure/coredns";
        expect(await violations("flux-single-owner", KUSTOMIZATION, obj)).to.have.length(1);
        expect(await violations("flux-single-owner", KUSTOMIZATION, { spec: {} })).to.deep.equal([]);
    });

    it("passes a Kustomization marked as not owned by the platform", async () => {
        const obj = ks();
        obj.spec.path = "./infrastructure/issuers";
        obj.metadata.annotations["talos-platform/not-owned-by-platform"] = "true";
        expect(await violations("flux-single-owner", KUSTOMIZATION, obj)).to.deep.equal([]);
        obj.metadata.annotations["talos-platform/not-owned-by-platform"] = "false";
        expect(await violations("flux-single-owner", KUSTOMIZATION, obj)).to.have.length(1);
    });
});

describe("policy flux-git-url-without-credentials", () => {
    it("passes the emitted GitRepository and an ssh://git@ URL", async () => {
        expect(await violations("flux-git-url-without-credentials", GIT_REPOSITORY, source())).to.deep.equal([]);
        const ssh = source();
        ssh.spec.url = "ssh://git@github.com/geoffdavis/talos-gitops";
        expect(await violations("flux-git-url-without-credentials", GIT_REPOSITORY, ssh)).to.deep.equal([]);
    });

    it("fails a token in the URL without repeating it", async () => {
        const obj = source();
        obj.spec.url = "https://x-access-token:ghp_leaked@github.com/geoffdavis/talos-gitops";
        const v = await violations("flux-git-url-without-credentials", GIT_REPOSITORY, obj);
        expect(v).to.have.length(1);
        expect(v[0].message).to.contain("carries credentials").and.not.contain("ghp_leaked");
    });

    it("passes a GitRepository without a URL (the API server rejects it anyway)", async () => {
        const obj = source();
        delete obj.spec.url;
        expect(await violations("flux-git-url-without-credentials", GIT_REPOSITORY, obj)).to.deep.equal([]);
    });
});
