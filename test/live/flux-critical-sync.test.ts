import { expect } from "chai";
import { validateConfig } from "../../lib/config";
import { checkGate, CheckerIo } from "../../lib/gates/checker";
import { barriersInGit } from "../../lib/gates/gitops";
import type { GateOptions } from "../../lib/gates/options";
import { gateOptions } from "../../lib/gates/targets";
import { deployment, gitRepository } from "../cluster-scenarios";
import { FakeKube } from "../fake-kube";
import { byName, devSections, Json, ofType, planDev, raw, ROOT } from "../helpers";

// `critical: false` (issue 14) meets flux.sync (issue 13): the program
// creates no Kustomization, and the gitops gate checks the graph Git holds.
// A non-critical one is still reported, never failed on, and the declared
// order asks nothing to wait for it.

const sync = (s: Record<string, Json>) => (s.flux.sync = { path: "./clusters/home-ops" });
/** infrastructure-monitoring (phase storage-and-monitoring) marked non-critical. */
const monitoringOptional = (s: Record<string, Json>) => (s.flux.phases[1].kustomizations[1].critical = false);

function configOf(...edits: Array<(s: Record<string, Json>) => void>) {
    const s = devSections();
    for (const e of edits) e(s);
    const r = validateConfig(raw(s, { fluxGitToken: { secret: true } }));
    if (!r.config) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join("; "));
    return { config: r.config, problems: r.problems };
}

describe("flux.sync with critical: false: what the stack declares", () => {
    it("declares no dependency on the non-critical Kustomization: the next phase waits for the critical ones only", () => {
        const o = gateOptions(configOf(sync, monitoringOptional).config).gitops;
        expect(o.rootKustomization).to.equal("flux-system");
        expect(o.nonCritical).to.deep.equal(["storage-and-monitoring/infrastructure-monitoring"]);
        expect(o.dependsOn!.filter((d) => d.endsWith("=infrastructure-monitoring"))).to.deep.equal([]);
        expect(o.dependsOn).to.include.members([
            "infrastructure-external-dns=infrastructure-longhorn",
            "infrastructure-cloudflare-tunnel=infrastructure-longhorn",
            // Its own place in the order is still declared: Git should apply it after the phase before it.
            "infrastructure-monitoring=infrastructure-onepassword",
        ]);
    });

    it("declares the dependency when it is critical (the default)", () => {
        const o = gateOptions(configOf(sync).config).gitops;
        expect(o.nonCritical).to.equal(undefined);
        expect(o.dependsOn).to.include.members([
            "infrastructure-external-dns=infrastructure-monitoring",
            "infrastructure-cloudflare-tunnel=infrastructure-monitoring",
        ]);
    });

    it("is not one of the settings Git owns: critical: false raises no flux-settings-owned-by-git, a timeout does", () => {
        const rule = (ps: { rule?: string; path: string }[]) =>
            ps.filter((p) => p.rule === "flux-settings-owned-by-git").map((p) => p.path);
        expect(rule(configOf(sync, monitoringOptional).problems)).to.deep.equal([]);
        const timed = configOf(sync, monitoringOptional, (s) => (s.flux.phases[1].kustomizations[1].timeout = "9m"));
        expect(rule(timed.problems)).to.deep.equal(["talos-platform:flux.phases[1].kustomizations[1].timeout"]);
    });

    it("plans OK with no Kustomization registered, and hands the gate the non-critical list", async () => {
        const plan = await planDev((s) => (sync(s), monitoringOptional(s)));
        expect(plan.errors).to.deep.equal([]);
        expect(ofType(plan, "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization")).to.deep.equal([]);
        const { create } = byName(plan, "gitops-gate-check").inputs as { create: string };
        expect(create)
            .to.contain("--root-kustomization flux-system")
            .and.contain("--non-critical storage-and-monitoring/infrastructure-monitoring")
            .and.contain("--depends-on infrastructure-external-dns=infrastructure-longhorn")
            .and.not.contain("=infrastructure-monitoring");
    });
});

describe("flux.sync with critical: false: barriers Git makes", () => {
    const k = (name: string, deps: string[]) => ({
        metadata: { name, namespace: "flux-system" },
        spec: { dependsOn: deps.map((d) => ({ name: d })) },
    });

    it("names the nearest critical Kustomizations that wait for the non-critical one, and counts those behind them", () => {
        const items = [k("mon", []), k("dns", ["mon"]), k("tunnel", ["dns"]), k("app", ["tunnel"]), k("other", [])];
        expect(barriersInGit(items, "flux-system", ["mon"], ["dns", "tunnel", "app", "other"])).to.deep.equal([
            "Kustomization flux-system/mon: marked critical: false, but Git makes dns wait for it (spec.dependsOn; and 2 more through it), so it is a barrier after all",
        ]);
    });

    it("names nothing when only non-critical ones wait for it, or nothing does", () => {
        const items = [k("mon", []), k("dash", ["mon"]), k("dns", [])];
        expect(barriersInGit(items, "flux-system", ["mon"], ["dns"])).to.deep.equal([]);
    });
});

describe("flux.sync with critical: false: the gitops gate against a fake API server", function () {
    this.timeout(20_000);
    let fake: FakeKube;
    const options = (): GateOptions["gitops"] => gateOptions(configOf(sync, monitoringOptional).config).gitops;
    const MONITORING_STEP = "Flux phase storage-and-monitoring: Kustomizations from Git exist, depend as declared and are Ready";
    const NETWORKING_STEP = "Flux phase networking: Kustomizations from Git exist, depend as declared and are Ready";

    /** The seed repository's order with monitoring off the path: nothing critical waits for it. */
    const apart: Record<string, string[]> = {
        "infrastructure-external-secrets": ["infrastructure-sources"],
        "infrastructure-onepassword": ["infrastructure-external-secrets"],
        "infrastructure-longhorn": ["infrastructure-onepassword"],
        "infrastructure-monitoring": ["infrastructure-onepassword"],
        "infrastructure-external-dns": ["infrastructure-longhorn"],
        "infrastructure-cloudflare-tunnel": ["infrastructure-longhorn"],
        "apps-dashboard": ["infrastructure-external-dns", "infrastructure-cloudflare-tunnel"],
        "apps-monitoring": ["infrastructure-external-dns", "infrastructure-cloudflare-tunnel"],
    };
    /** The seed repository's own order: networking waits for monitoring too. */
    const seed = {
        ...apart,
        "infrastructure-external-dns": ["infrastructure-longhorn", "infrastructure-monitoring"],
        "infrastructure-cloudflare-tunnel": ["infrastructure-longhorn", "infrastructure-monitoring"],
    };

    /** Git's Kustomizations, unlabelled; those in `unready` are not Ready, those in `absent` not there. */
    function repository(deps: Record<string, string[]>, unready: string[] = [], absent: string[] = []) {
        const g = options();
        for (const name of [g.rootKustomization!, ...g.kustomizations.map((e) => e.split("/")[1])]) {
            if (absent.includes(name)) continue;
            const ready = !unready.includes(name);
            fake.put({
                apiVersion: "kustomize.toolkit.fluxcd.io/v1",
                kind: "Kustomization",
                metadata: { name, namespace: g.namespace, generation: 1 },
                spec: { dependsOn: (deps[name] ?? []).map((d) => ({ name: d })) },
                status: {
                    observedGeneration: 1,
                    lastAppliedRevision: "main@sha1:4e9c1f0",
                    conditions: [
                        ready
                            ? { type: "Ready", status: "True", reason: "ReconciliationSucceeded", message: "" }
                            : { type: "Ready", status: "False", reason: "HealthCheckFailed", message: "grafana not ready" },
                    ],
                },
            });
        }
    }

    async function run(over: Partial<GateOptions["gitops"]> = {}) {
        let text = "";
        const io: CheckerIo = { out: (t) => (text += t), err: (t) => (text += t), cwd: ROOT, signal: new AbortController().signal };
        const started = Date.now();
        const result = await checkGate("gitops", { ...options(), timeoutMs: 600, pollMs: 20, kubeconfig: fake.kubeconfig(), ...over }, io);
        return { result, out: text, ms: Date.now() - started };
    }
    const detail = (r: Awaited<ReturnType<typeof run>>["result"], step: string) => r.passed.find((p) => p.name === step)?.detail;

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

    it("passes with it not Ready, and reports it in its phase's result", async () => {
        repository(apart, ["infrastructure-monitoring"]);
        const { result, out } = await run();
        expect(result.ok, out).to.equal(true);
        expect(detail(result, MONITORING_STEP)).to.equal(
            "1 Ready, in the declared order; not critical, not waited for: Kustomization flux-system/infrastructure-monitoring: Ready=False (HealthCheckFailed): grafana not ready",
        );
    });

    it("fails on the same Kustomization when it is critical (the default)", async () => {
        repository(apart, ["infrastructure-monitoring"]);
        const critical = gateOptions(configOf(sync).config).gitops;
        const { result } = await run({ nonCritical: undefined, dependsOn: critical.dependsOn, timeoutMs: 300 });
        expect(result.ok).to.equal(false);
        expect(result.failedStep).to.equal(MONITORING_STEP);
    });

    it("passes with it missing from Git, and says so", async () => {
        repository(apart, [], ["infrastructure-monitoring"]);
        const { result, out } = await run();
        expect(result.ok, out).to.equal(true);
        expect(detail(result, MONITORING_STEP)).to.equal(
            "1 Ready, in the declared order; not critical, not waited for: Kustomization flux-system/infrastructure-monitoring: not found",
        );
    });

    it("reports its own declared order missing in Git without failing, where a critical one fails at once", async () => {
        repository({ ...apart, "infrastructure-monitoring": [] });
        const { result, out } = await run();
        expect(result.ok, out).to.equal(true);
        expect(detail(result, MONITORING_STEP)).to.contain(
            "Kustomization flux-system/infrastructure-monitoring: spec.dependsOn [] does not make it wait for infrastructure-onepassword",
        );
        const critical = await run({
            nonCritical: undefined,
            dependsOn: gateOptions(configOf(sync).config).gitops.dependsOn,
            timeoutMs: 5000,
        });
        expect(critical.result.ok).to.equal(false);
        expect(critical.ms).to.be.below(4000);
        expect(critical.result.diagnosis!.link).to.equal("Flux phase storage-and-monitoring: dependency order in Git");
    });

    it("says where Git makes a critical Kustomization wait for it: a barrier after all", async () => {
        repository(seed);
        const { result, out } = await run();
        expect(result.ok, out).to.equal(true);
        expect(detail(result, MONITORING_STEP)).to.equal(
            "1 Ready, in the declared order; not critical, not waited for: Kustomization flux-system/infrastructure-monitoring: marked critical: false, but Git makes infrastructure-external-dns, infrastructure-cloudflare-tunnel wait for it (spec.dependsOn; and 2 more through them), so it is a barrier after all",
        );
        expect(detail(result, NETWORKING_STEP)).to.equal("2 Ready, in the declared order");
    });

    it("names that barrier where the critical Kustomization it holds back fails", async () => {
        repository(seed, ["infrastructure-monitoring", "infrastructure-external-dns"]);
        const { result } = await run({ timeoutMs: 300 });
        expect(result.ok).to.equal(false);
        expect(result.failedStep).to.equal(NETWORKING_STEP);
        expect(result.diagnosis!.evidence.filter((e) => e.startsWith("Kustomization"))).to.deep.equal([
            "Kustomization flux-system/infrastructure-external-dns: Ready=False (HealthCheckFailed): grafana not ready",
            "Kustomization flux-system/infrastructure-monitoring: marked critical: false, but Git makes infrastructure-external-dns, infrastructure-cloudflare-tunnel wait for it (spec.dependsOn), so it is a barrier after all",
        ]);
        expect(result.diagnosis!.fix).to.contain("remove the non-critical Kustomization from spec.dependsOn");
    });

    it("names no barrier where the failing critical Kustomization does not wait for it", async () => {
        repository(apart, ["infrastructure-monitoring", "infrastructure-external-dns"]);
        const { result } = await run({ timeoutMs: 300 });
        expect(result.failedStep).to.equal(NETWORKING_STEP);
        expect(result.diagnosis!.evidence.filter((e) => e.startsWith("Kustomization"))).to.deep.equal([
            "Kustomization flux-system/infrastructure-external-dns: Ready=False (HealthCheckFailed): grafana not ready",
        ]);
        expect(result.diagnosis!.fix).to.equal(undefined);
    });
});
