import { expect } from "chai";
import { validateConfig } from "../../lib/config";
import { checkGate, CheckerIo } from "../../lib/gates/checker";
import { gitopsSteps, missingDependencies } from "../../lib/gates/gitops";
import type { GateOptions } from "../../lib/gates/options";
import { gateOptions } from "../../lib/gates/targets";
import { destroySteps } from "../../lib/lifecycle/destroy";
import { renderMarkdown, renderText } from "../../lib/plan/render";
import { fluxDistribution, fluxInstance, kustomization } from "../../lib/values/flux";
import { deployment, gitRepository } from "../cluster-scenarios";
import { FakeKube } from "../fake-kube";
import { byName, descendants, devSections, Json, newErrors, newProblems, ofType, planDev, raw, ROOT } from "../helpers";
import { crdErrors } from "../schemas";

// flux.sync: the Flux Operator's own bootstrap. The FluxInstance's .spec.sync
// owns the root GitRepository and Kustomization; flux.phases is the graph
// the gitops gate expects to find in Git.

const KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization";
const GIT_REPOSITORY = "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository";

const sync = (s: Record<string, Json>) => (s.flux.sync = { path: "./clusters/home-ops" });

const otherKeys = { fluxGitToken: { secret: true } };
function check(edit?: (s: Record<string, Json>) => void) {
    const s = devSections();
    edit?.(s);
    return validateConfig(raw(s, otherKeys));
}
/** The errors an edit of the dev stack brings; a warning the test did not name fails it (see newErrors). */
const errors = (edit: (s: Record<string, Json>) => void, warnings: string[] = []) => newErrors(edit, { otherKeys, warnings });
/** A schema error in the flux section: the cross-checks that read it wait for the fix, and say so. */
const SKIPPED = ["checks-skipped"];
/** Every new finding of an edit, as [severity, rule, path]: errors, warnings and notes alike (see newProblems). */
const findings = (edit: (s: Record<string, Json>) => void) => newProblems(edit, otherKeys).map((p) => [p.severity, p.rule, p.path]);
const configOf = (edit?: (s: Record<string, Json>) => void) => {
    const r = check(edit);
    if (!r.config) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join("; "));
    return r.config;
};

describe("flux.sync: config", () => {
    it("takes a path inside the repository, as the Kustomization paths", () => {
        expect(errors(sync)).to.deep.equal([]);
        expect(errors((s) => (s.flux.sync = { path: "." }))).to.deep.equal([]);
        const p = errors((s) => (s.flux.sync = { path: "clusters/home-ops" }), SKIPPED);
        expect(p.map((x) => [x.path, x.value])).to.deep.equal([["talos-platform:flux.sync.path", "clusters/home-ops"]]);
        expect(p[0].fix).to.contain("./clusters/home-ops");
        expect(errors((s) => (s.flux.sync = { path: "./clusters/../.." }), SKIPPED).map((x) => x.path)).to.deep.equal([
            "talos-platform:flux.sync.path",
        ]);
        expect(errors((s) => (s.flux.sync = { path: "./x", kind: "OCIRepository" }), SKIPPED).map((x) => x.path)).to.deep.equal([
            "talos-platform:flux.sync.kind",
        ]);
    });

    it("refuses a semver range with sync, which takes one Git ref name, and accepts it without", () => {
        const ranged = (s: Record<string, Json>) => {
            delete s.flux.source.branch;
            s.flux.source.semver = ">=1.0.0";
        };
        const p = errors((s) => (sync(s), ranged(s)));
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:flux.source.semver"]);
        expect(p[0].message).to.contain("refs/heads/<branch> or refs/tags/<tag>");
        expect(errors(ranged)).to.deep.equal([]);
    });

    it("needs kustomize-controller for the root Kustomization even without phases", () => {
        const p = errors((s) => {
            sync(s);
            s.flux.phases = [];
            s.flux.components = ["source-controller", "helm-controller"];
        });
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:flux.components"]);
        expect(p[0].message).to.contain("root Kustomization of talos-platform:flux.sync");
    });

    it("says flux.deletionPolicy belongs in Git with sync, instead of warning that it deletes workloads", () => {
        expect(findings((s) => (sync(s), (s.flux.deletionPolicy = "Delete")))).to.deep.equal([
            ["warning", "flux-settings-owned-by-git", "talos-platform:flux.deletionPolicy"],
        ]);
        expect(findings((s) => (s.flux.deletionPolicy = "Delete"))).to.deep.equal([
            ["warning", "flux-deletes-workloads", "talos-platform:flux.deletionPolicy"],
        ]);
    });

    it("tells the destroy guard that Git's Kustomizations go with the FluxInstance, not through Pulumi", () => {
        const gitops = (c: ReturnType<typeof configOf>) => destroySteps(c).find((x) => x.phase === "gitops")!.removes;
        expect(gitops(configOf(sync)))
            .to.contain("the Kustomizations from Git; what they applied stays")
            .and.not.contain("deletionPolicy");
        expect(gitops(configOf())).to.contain("9 Kustomizations (deletionPolicy Orphan");
    });

    it("warns that a Kustomization's settings belong in Git with sync, and only then", () => {
        const tuned = (s: Record<string, Json>) => {
            s.flux.phases[1].kustomizations[0].interval = "5m";
            s.flux.phases[2].kustomizations[1].prune = false;
        };
        const w = newProblems((s) => (sync(s), tuned(s)), otherKeys);
        expect(w.map((x) => [x.severity, x.rule, x.path])).to.deep.equal([
            ["warning", "flux-settings-owned-by-git", "talos-platform:flux.phases[1].kustomizations[0].interval"],
        ]);
        expect(w[0].message).to.contain("1 more").and.contain("talos-platform:flux.phases[2].kustomizations[1].prune");
        expect(findings(tuned)).to.deep.equal([]);
        expect(findings(sync)).to.deep.equal([]);
    });
});

describe("Flux distribution version", () => {
    const version = (v: string, operator?: string) => (s: Record<string, Json>) => {
        s.flux.distribution = { version: v };
        if (operator) s.flux.version = operator;
    };

    it("accepts an exact version or a patch wildcard, nothing wider", () => {
        for (const ok of ["2.9.4", "v2.9.4", "2.9.0", "2.9.x", "v2.9.x"])
            expect(
                errors(version(ok)).map((p) => p.path),
                ok,
            ).to.deep.equal([]);
        for (const bad of ["2.x", "2.*", "2.9", "latest", "2.9.X", "~2.9.0", ">=2.9.0"])
            expect(
                errors(version(bad), SKIPPED).map((p) => p.path),
                bad,
            ).to.deep.equal(["talos-platform:flux.distribution.version"]);
    });

    // flux-operator v0.58.1's config/data/flux holds v2.2.3 ... v2.8.3, v2.8.5 ... v2.8.8, v2.9.0 ... v2.9.4 (no v2.8.4).
    it("resolves as flux-operator 0.58.1 does, from the Flux releases it bundles", () => {
        const resolve = (v: string) => fluxDistribution(configOf(version(v)).flux).resolvesTo;
        expect(resolve("2.9.x")).to.equal("2.9.4");
        expect(resolve("2.8.x")).to.equal("2.8.8");
        expect(resolve("2.7.x")).to.equal("2.7.5");
        expect(resolve("2.9.2")).to.equal("2.9.2");
        expect(fluxDistribution(configOf(version("2.9.x")).flux).resolvedBy).to.equal(
            "flux-operator 0.58.1 at deploy time: the newest 2.9 release it bundles",
        );
    });

    it("refuses a version the pinned operator does not bundle, and leaves other operator versions to deploy time", () => {
        // A release candidate is an exact version too, and bundled by none.
        for (const missing of ["2.8.4", "2.10.x", "2.9.5", "2.9.4-rc.1"]) {
            const p = errors(version(missing));
            expect(
                p.map((x) => x.path),
                missing,
            ).to.deep.equal(["talos-platform:flux.distribution.version"]);
            expect(p[0].message).to.contain("flux-operator 0.58.1");
        }
        expect(errors(version("2.10.x", "0.59.0"))).to.deep.equal([]);
        const d = fluxDistribution(configOf(version("2.10.x", "0.59.0")).flux);
        expect(d.resolvesTo).to.equal(undefined);
        expect(d.resolvedBy).to.contain("flux-operator 0.59.0 at deploy time");
    });

    it("puts a patch wildcard into a FluxInstance the strict schema takes", () => {
        const c = configOf(version("2.9.x"));
        const obj = fluxInstance(c.cluster, c.flux) as Json;
        expect(obj.spec.distribution.version).to.equal("2.9.x");
        expect(crdErrors(obj)).to.deep.equal([]);
    });
});

describe("flux.sync: objects", () => {
    it("gives the FluxInstance the sync of the operator's docs (kind, url, ref, path), named as flux bootstrap names it", () => {
        const c = configOf(sync);
        const obj = fluxInstance(c.cluster, c.flux) as Json;
        expect(obj.spec.sync).to.deep.equal({
            kind: "GitRepository",
            url: "https://github.com/geoffdavis/talos-gitops",
            ref: "refs/heads/main",
            path: "./clusters/home-ops",
            interval: "1m",
            name: "flux-system",
        });
        expect(crdErrors(obj)).to.deep.equal([]);
        const typo = structuredClone(obj);
        typo.spec.sync.pullsecret = "x";
        expect(crdErrors(typo).join("\n")).to.contain("pullsecret");
    });

    it("follows a tag as refs/tags/<tag>, and reads its credentials from the Secret the program creates", () => {
        const c = configOf((s) => {
            sync(s);
            delete s.flux.source.branch;
            s.flux.source.tag = "v1.2.0";
            s.flux.source.httpsToken = { tokenSecret: "fluxGitToken" };
        });
        const spec = (fluxInstance(c.cluster, c.flux) as Json).spec.sync;
        expect(spec.ref).to.equal("refs/tags/v1.2.0");
        expect(spec.pullSecret).to.equal("flux-system-git-auth");
        expect(fluxInstance(configOf().cluster, configOf().flux).spec).to.not.have.property("sync");
    });

    it("gives every program-owned Kustomization a 2m retryInterval the strict schema takes, unless told otherwise", () => {
        const c = configOf((s) => (s.flux.phases[0].kustomizations[1].retryInterval = "30s"));
        const [a, b] = c.flux.phases[0].kustomizations.map((k) => kustomization(c.flux, 0, [], k));
        expect(a.spec.retryInterval).to.equal("2m");
        expect(b.spec.retryInterval).to.equal("30s");
        expect(crdErrors(a)).to.deep.equal([]);
    });
});

describe("flux.sync: the plan", () => {
    it("registers no GitRepository and no Kustomization, only the expected graph, and is OK", async () => {
        const plan = await planDev(sync);
        expect(plan.errors).to.deep.equal([]);
        expect(plan.ok).to.equal(true);
        expect(ofType(plan, KUSTOMIZATION)).to.deep.equal([]);
        expect(ofType(plan, GIT_REPOSITORY)).to.deep.equal([]);
        expect(plan.resources.map((r) => r.name)).to.not.include("flux-crds");
        const phases = ofType(plan, "talos-platform:gitops:FluxPhase");
        expect(phases.map((p) => p.inputs.subphase)).to.deep.equal(["core", "storage-and-monitoring", "networking", "applications"]);
        for (const p of phases) {
            expect(p.inputs.definedIn).to.equal("git");
            expect(descendants(plan, p.name)).to.deep.equal([]);
        }
        const gitops = plan.phases.find((p) => p.name === "gitops")!;
        expect(gitops.subphases.map((s) => s.resources.length)).to.deep.equal([1, 1, 1, 1]);
        expect(byName(plan, "flux").inputs.fluxOwnership).to.deep.equal({
            kustomizations: "git",
            root: "flux-system",
            path: "./clusters/home-ops",
        });
        expect(renderText(plan)).to.contain(
            "Kustomizations in Git, applied by the FluxInstance's sync (root flux-system, path ./clusters/home-ops)",
        );
    });

    it("holds the FluxInstance back until the Git credentials Secret exists", async () => {
        const plan = await planDev((s) => (sync(s), (s.flux.source.httpsToken = { tokenSecret: "fluxGitToken" })), {
            config: { fluxGitToken: "ghp_placeholderplaceholderplaceholder00" },
            secretKeys: ["talos-platform:fluxGitToken"],
        });
        const instance = byName(plan, "flux-instance");
        expect(instance.dependsOn).to.include(byName(plan, "flux-git-credentials").urn);
        expect(instance.dependsOn).to.include(byName(plan, "flux-operator-crds").urn);
    });

    it("keeps today's mode the default: the program owns the GitRepository and the Kustomizations", async () => {
        const plan = await planDev();
        expect(ofType(plan, GIT_REPOSITORY)).to.have.length(1);
        expect(ofType(plan, KUSTOMIZATION)).to.have.length(9);
        expect(byName(plan, "flux").inputs.fluxOwnership).to.deep.equal({ kustomizations: "talos-platform" });
        expect(renderText(plan))
            .to.contain("Flux 2.9.4 (flux-operator 0.58.1: an exact version it bundles)")
            .and.not.contain("Kustomizations in Git");
    });

    it("says what a patch wildcard resolves to", async () => {
        const plan = await planDev((s) => (s.flux.distribution.version = "2.9.x"));
        expect(byName(plan, "flux").inputs.fluxDistribution).to.deep.include({ version: "2.9.x", resolvesTo: "2.9.4" });
        expect(renderText(plan)).to.contain("Flux 2.9.x → 2.9.4 (flux-operator 0.58.1 at deploy time: the newest 2.9 release it bundles)");
        expect(renderMarkdown(plan)).to.contain("Flux 2.9.x → 2.9.4 (flux-operator 0.58.1 at deploy time");
    });
});

describe("flux.sync: the gitops gate", () => {
    it("looks for the root Kustomization and the declared dependencies only with sync", () => {
        const o = gateOptions(configOf(sync)).gitops;
        expect(o.rootKustomization).to.equal("flux-system");
        expect(o.dependsOn).to.include.members([
            "infrastructure-external-secrets=infrastructure-sources",
            "infrastructure-onepassword=infrastructure-external-secrets",
            "infrastructure-longhorn=infrastructure-onepassword",
            "apps-monitoring=infrastructure-cloudflare-tunnel",
        ]);
        expect(o.dependsOn!.filter((d) => d.startsWith("infrastructure-sources="))).to.deep.equal([]);
        const program = gateOptions(configOf()).gitops;
        expect(program.rootKustomization).to.equal(undefined);
        expect(program.dependsOn).to.equal(undefined);
        expect(gitopsSteps(o).map((s) => s.name)).to.include("Kustomization flux-system/flux-system (the FluxInstance's sync) Ready");
    });

    it("follows dependencies through other Kustomizations, and keeps namespaces apart", () => {
        const k = (name: string, deps: Array<string | { name: string; namespace: string }>) => ({
            metadata: { name, namespace: "flux-system" },
            spec: { dependsOn: deps.map((d) => (typeof d === "string" ? { name: d } : d)) },
        });
        const items = [k("a", []), k("b", ["a"]), k("c", ["b"]), k("d", [{ name: "a", namespace: "other" }])];
        expect(missingDependencies(items, "flux-system", ["c=a", "c=b"], ["c"])).to.deep.equal([]);
        expect(missingDependencies(items, "flux-system", ["d=a"], ["d"])).to.deep.equal([
            "Kustomization flux-system/d: spec.dependsOn [a] does not make it wait for a, which talos-platform:flux.phases puts before it",
        ]);
        expect(missingDependencies(items, "flux-system", ["b=c"], ["a", "c"])).to.deep.equal([]);
    });

    describe("against a fake API server", function () {
        this.timeout(20_000);
        let fake: FakeKube;
        const config = () => configOf(sync);
        const options = (): GateOptions["gitops"] => gateOptions(config()).gitops;

        /** The repository's Kustomizations, unlabelled, each waiting for what `deps` says. */
        function repository(deps: Record<string, string[]>, ready = true) {
            const g = options();
            const names = [g.rootKustomization!, ...g.kustomizations.map((e) => e.split("/")[1])];
            for (const name of names) {
                fake.put({
                    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
                    kind: "Kustomization",
                    metadata: { name, namespace: g.namespace, generation: 1 },
                    spec: { dependsOn: (deps[name] ?? []).map((d) => ({ name: d })) },
                    status: {
                        observedGeneration: 1,
                        lastAppliedRevision: "main@sha1:4e9c1f0",
                        conditions: [
                            {
                                type: "Ready",
                                status: ready ? "True" : "False",
                                reason: ready ? "ReconciliationSucceeded" : "Progressing",
                                message: "",
                            },
                        ],
                    },
                });
            }
        }
        /** The seed repository's order, as a chain per phase that reaches everything flux.phases puts earlier. */
        const ordered: Record<string, string[]> = {
            "infrastructure-external-secrets": ["infrastructure-sources"],
            "infrastructure-onepassword": ["infrastructure-external-secrets"],
            "infrastructure-longhorn": ["infrastructure-onepassword"],
            "infrastructure-monitoring": ["infrastructure-onepassword"],
            "infrastructure-external-dns": ["infrastructure-longhorn", "infrastructure-monitoring"],
            "infrastructure-cloudflare-tunnel": ["infrastructure-longhorn", "infrastructure-monitoring"],
            "apps-dashboard": ["infrastructure-external-dns", "infrastructure-cloudflare-tunnel"],
            "apps-monitoring": ["infrastructure-external-dns", "infrastructure-cloudflare-tunnel"],
        };

        async function run(over: Partial<GateOptions["gitops"]> = {}) {
            let text = "";
            const io: CheckerIo = { out: (t) => (text += t), err: (t) => (text += t), cwd: ROOT, signal: new AbortController().signal };
            const started = Date.now();
            const result = await checkGate(
                "gitops",
                { ...options(), timeoutMs: 600, pollMs: 20, kubeconfig: fake.kubeconfig(), ...over },
                io,
            );
            return { result, out: text, ms: Date.now() - started };
        }

        beforeEach(async () => {
            fake = await new FakeKube().start();
            const g = options();
            fake.put(...g.deployments.map((d) => deployment(g.namespace, d)));
            const repo = gitRepository(g, { type: "Ready", status: "True", reason: "Succeeded", message: "stored artifact" });
            repo.status.artifact = { revision: "main@sha1:4e9c1f0" };
            fake.put(repo);
        });
        afterEach(async () => {
            await fake.stop();
        });

        it("passes when Git holds every expected Kustomization, Ready, in an order that reaches the declared one", async () => {
            repository(ordered);
            const { result, out } = await run();
            expect(result.ok, out).to.equal(true);
            expect(result.passed.map((p) => p.name)).to.include.members([
                "Kustomization flux-system/flux-system (the FluxInstance's sync) Ready",
                "Flux phase applications: Kustomizations from Git exist, depend as declared and are Ready",
            ]);
            expect(result.passed.at(-1)!.detail).to.equal("2 Ready, in the declared order");
        });

        it("fails at once, naming the Kustomization and the dependency Git lacks", async () => {
            repository({ ...ordered, "infrastructure-monitoring": [] });
            const { result, ms } = await run({ timeoutMs: 5000 });
            expect(result.ok).to.equal(false);
            expect(ms).to.be.below(4000);
            expect(result.failedStep).to.equal(
                "Flux phase storage-and-monitoring: Kustomizations from Git exist, depend as declared and are Ready",
            );
            expect(result.diagnosis!.link).to.equal("Flux phase storage-and-monitoring: dependency order in Git");
            expect(result.diagnosis!.evidence).to.deep.equal([
                "Kustomization flux-system/infrastructure-monitoring: spec.dependsOn [] does not make it wait for infrastructure-sources, which talos-platform:flux.phases puts before it",
                "Kustomization flux-system/infrastructure-monitoring: spec.dependsOn [] does not make it wait for infrastructure-external-secrets, which talos-platform:flux.phases puts before it",
                "Kustomization flux-system/infrastructure-monitoring: spec.dependsOn [] does not make it wait for infrastructure-onepassword, which talos-platform:flux.phases puts before it",
            ]);
            expect(result.diagnosis!.blocks).to.deep.equal(["Flux phase networking", "Flux phase applications"]);
        });

        it("waits for a Kustomization Git has not produced, and says where it should come from", async () => {
            repository(ordered);
            fake.remove({
                apiVersion: "kustomize.toolkit.fluxcd.io/v1",
                kind: "Kustomization",
                metadata: { name: "apps-dashboard", namespace: "flux-system" },
            });
            const { result } = await run();
            expect(result.timedOut).to.equal(true);
            expect(result.diagnosis!.evidence[0]).to.equal("Kustomization flux-system/apps-dashboard: not found");
            expect(result.diagnosis!.cause).to.contain("talos-platform:flux.sync.path");
        });

        it("blames the root Kustomization when it has not applied", async () => {
            repository(ordered, false);
            const { result } = await run();
            expect(result.failedStep).to.equal("Kustomization flux-system/flux-system (the FluxInstance's sync) Ready");
            expect(result.diagnosis!.fix).to.contain("talos-platform:flux.sync.path");
        });

        it("reads the Kustomizations without the phase label the program would have put on them", async () => {
            repository(ordered);
            await run();
            expect(fake.requests.filter((r) => r.path.endsWith("/kustomizations")).length).to.be.greaterThan(0);
            expect(fake.requests.some((r) => r.method !== "GET" && r.method !== "EXEC")).to.equal(false);
        });
    });
});
