import { expect } from "chai";
import { validateConfig } from "../lib/config";
import { fluxInstance, gitRepository, kustomization } from "../lib/values/flux";
import { devSections, Json, raw } from "./helpers";
import { violations } from "./policies.test";

const FLUX_INSTANCE = "kubernetes:fluxcd.controlplane.io/v1:FluxInstance";
const GIT_REPOSITORY = "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository";
const KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization";

const config = validateConfig(raw(devSections())).config!;
// What the program emits: every policy must pass these.
const instance = () => fluxInstance(config.cluster, config.flux) as Json;
const source = () => gitRepository(config.flux) as Json;
const ks = () => kustomization(config.flux, 1, ["infrastructure-sources"], config.flux.phases[1].kustomizations[0]) as Json;

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
    it("passes the emitted FluxInstance", async () => {
        expect(await violations("flux-instance-cluster-domain", FLUX_INSTANCE, instance())).to.deep.equal([]);
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
        expect(await violations("flux-instance-cluster-domain", FLUX_INSTANCE, obj)).to.have.length(1);
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
        expect(v[0].message).to.contain('"2.x"').and.contain("exact version");
    });

    it("fails a FluxInstance without a distribution", async () => {
        const obj = instance();
        delete obj.spec.distribution;
        expect(await violations("flux-distribution-pinned", FLUX_INSTANCE, obj)).to.have.length(1);
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

    it("fails on the path alone, and passes a Kustomization with neither name nor path", async () => {
        const obj = ks();
        obj.spec.path = "./infrastructure/coredns";
        expect(await violations("flux-single-owner", KUSTOMIZATION, obj)).to.have.length(1);
        expect(await violations("flux-single-owner", KUSTOMIZATION, { spec: {} })).to.deep.equal([]);
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
