import { expect } from "chai";
import { validateConfig } from "../../lib/config";
import { checkGate } from "../../lib/gates/checker";
import { gateFlags, parseGateFlags } from "../../lib/gates/options";
import { gateOptions } from "../../lib/gates/targets";
import { evaluatePolicies } from "../../lib/plan/policies";
import type { Plan, PlanResource } from "../../lib/plan/model";
import { CRITICAL_ANNOTATION } from "../../lib/values/flux";
import { devConfig, healthy } from "../cluster-scenarios";
import { FakeKube } from "../fake-kube";
import { byName, devSections, Json, lineage, ofType, planDev, raw, ROOT } from "../helpers";
import { crdErrors } from "../schemas";

// `critical: false` (issue 14): a Kustomization later phases do not wait for,
// in Flux's generated dependsOn, in Pulumi's dependsOn chain and in the gate.

const KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization";
const ks = (plan: Plan, name: string) => byName(plan, `flux-ks-${name}`);
const specDeps = (r: PlanResource) => ((r.inputs as Json).spec.dependsOn ?? []).map((d: { name: string }) => d.name);
const annotations = (r: PlanResource) => (r.inputs as Json).metadata.annotations as Record<string, string>;

/** Every resource `r` waits for through Pulumi's dependsOn (its own and its ancestors'), transitively, with a component standing for everything below it. */
function waitedFor(plan: Plan, r: PlanResource): Set<string> {
    const out = new Set<string>();
    const visit = (x: PlanResource) => {
        for (const a of lineage(plan, x))
            for (const d of a.dependsOn) {
                if (out.has(d)) continue;
                out.add(d);
                const dep = plan.resources.find((y) => y.urn === d)!;
                for (const below of plan.resources.filter((y) => lineage(plan, y).some((l) => l.urn === d))) out.add(below.urn);
                visit(dep);
            }
    };
    visit(r);
    return out;
}

/** The dev stack with infrastructure-monitoring (phase storage-and-monitoring) marked non-critical. */
function monitoringOptional(s: Record<string, Json>): void {
    s.flux.phases[1].kustomizations[1].critical = false;
}

describe("flux: a non-critical Kustomization is no barrier", () => {
    let base: Plan;
    let plan: Plan;
    before(async () => {
        base = await planDev();
        plan = await planDev(monitoringOptional);
    });

    it("by default every Kustomization is a barrier: the next phase lists it in Flux's dependsOn and Pulumi waits for it", () => {
        expect(base.errors).to.deep.equal([]);
        expect(specDeps(ks(base, "infrastructure-external-dns"))).to.include("infrastructure-monitoring");
        expect(annotations(ks(base, "infrastructure-monitoring"))["pulumi.com/waitFor"]).to.equal("condition=Ready");
        expect(waitedFor(base, ks(base, "infrastructure-external-dns")).has(ks(base, "infrastructure-monitoring").urn)).to.equal(true);
    });

    it("is left out of the next phase's generated Flux dependsOn, which keeps the critical ones", () => {
        expect(plan.errors).to.deep.equal([]);
        expect(ofType(plan, KUSTOMIZATION)).to.have.length(9);
        for (const name of ["infrastructure-external-dns", "infrastructure-cloudflare-tunnel"]) {
            expect(specDeps(ks(plan, name)), name).to.deep.equal(["infrastructure-longhorn"]);
        }
        // Later phases still wait, through the chain, for the critical ones.
        expect(specDeps(ks(plan, "apps-dashboard"))).to.deep.equal(["infrastructure-external-dns", "infrastructure-cloudflare-tunnel"]);
    });

    it("is not waited for by Pulumi: no waitFor on it, and the next phase depends on the critical Kustomizations only", () => {
        const monitoring = ks(plan, "infrastructure-monitoring");
        expect(annotations(monitoring)).to.not.have.property("pulumi.com/waitFor");
        expect(annotations(monitoring)).to.not.have.property("pulumi.com/timeoutSeconds");
        expect(annotations(monitoring)[CRITICAL_ANNOTATION]).to.equal("false");
        expect(annotations(ks(plan, "infrastructure-longhorn"))["pulumi.com/waitFor"]).to.equal("condition=Ready");
        const networking = byName(plan, "flux-phase-networking");
        expect(networking.dependsOn).to.deep.equal([ks(plan, "infrastructure-longhorn").urn]);
        for (const name of ["infrastructure-external-dns", "apps-dashboard", "apps-monitoring"]) {
            const waits = waitedFor(plan, ks(plan, name));
            expect(waits.has(monitoring.urn), name).to.equal(false);
            expect(waits.has(ks(plan, "infrastructure-longhorn").urn), name).to.equal(true);
        }
        // Phases whose Kustomizations are all critical still wait for the whole previous phase.
        expect(byName(plan, "flux-phase-applications").dependsOn).to.deep.equal([networking.urn]);
    });

    it("still validates against the strict upstream Kustomization schema, and passes the policy pack", () => {
        expect(crdErrors(ks(plan, "infrastructure-monitoring").inputs as { apiVersion: string; kind: string })).to.deep.equal([]);
        expect(plan.findings.filter((f) => f.rule === "flux-waits-for-ready")).to.deep.equal([]);
        expect(plan.ok).to.equal(true);
    });

    it("a phase of only non-critical Kustomizations passes the barrier before it on", async () => {
        const p = await planDev((s) => {
            for (const k of s.flux.phases[1].kustomizations) k.critical = false;
        });
        expect(p.errors).to.deep.equal([]);
        const core = ["infrastructure-sources", "infrastructure-external-secrets", "infrastructure-onepassword"];
        expect(specDeps(ks(p, "infrastructure-external-dns"))).to.deep.equal(core);
        expect(byName(p, "flux-phase-networking").dependsOn).to.deep.equal([byName(p, "flux-phase-core").urn]);
        expect(waitedFor(p, ks(p, "infrastructure-external-dns")).has(ks(p, "infrastructure-longhorn").urn)).to.equal(false);
    });

    it("the policy still refuses a critical Kustomization without waitFor", async () => {
        const r = ks(base, "infrastructure-longhorn");
        const strip = (extra: Record<string, string>) => {
            const props = structuredClone(r.inputs) as Json;
            delete props.metadata.annotations["pulumi.com/waitFor"];
            Object.assign(props.metadata.annotations, extra);
            return [{ ...r, props }];
        };
        expect((await evaluatePolicies(strip({}))).map((f) => f.rule)).to.deep.equal(["flux-waits-for-ready"]);
        expect(await evaluatePolicies(strip({ [CRITICAL_ANNOTATION]: "false" }))).to.deep.equal([]);
    });
});

describe("flux: a critical Kustomization that names a non-critical one", () => {
    it("is refused, naming both, since it would make the non-critical one a barrier", () => {
        const s = devSections();
        monitoringOptional(s);
        s.flux.phases[2].kustomizations[0].dependsOn = ["infrastructure-monitoring"];
        const errors = validateConfig(raw(s)).problems.filter((p) => p.severity === "error");
        expect(errors.map((p) => p.path)).to.deep.equal(["talos-platform:flux.phases[2].kustomizations[0].dependsOn[0]"]);
        expect(errors[0].message).to.contain("infrastructure-monitoring, which is marked critical: false");
        expect(errors[0].fix).to.contain("talos-platform:flux.phases[2].kustomizations[0].critical");
    });

    it("is allowed when it is non-critical too", () => {
        const s = devSections();
        monitoringOptional(s);
        s.flux.phases[2].kustomizations[0].dependsOn = ["infrastructure-monitoring"];
        s.flux.phases[2].kustomizations[0].critical = false;
        expect(validateConfig(raw(s)).problems.filter((p) => p.severity === "error")).to.deep.equal([]);
    });
});

describe("flux: the gitops gate and a non-critical Kustomization", function () {
    this.timeout(20_000);
    let fake: FakeKube;
    beforeEach(async () => {
        fake = await new FakeKube().start();
    });
    afterEach(async () => {
        await fake.stop();
    });

    function optionalConfig() {
        const s = devSections();
        monitoringOptional(s);
        const { config, problems } = validateConfig(raw(s));
        if (!config) throw new Error(problems.map((p) => p.message).join("; "));
        return config;
    }

    function notReady(name: string) {
        const path = `/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/${name}`;
        const k = fake.objects.get(path);
        fake.put({
            ...k,
            status: {
                observedGeneration: 1,
                conditions: [{ type: "Ready", status: "False", reason: "HealthCheckFailed", message: "grafana not ready" }],
            },
        });
    }

    it("passes its Flux phase with it not Ready, and reports it", async () => {
        const config = optionalConfig();
        healthy(fake, config);
        notReady("infrastructure-monitoring");
        const options = { ...gateOptions(config).gitops, kubeconfig: fake.kubeconfig(), timeoutMs: 2000, pollMs: 20 };
        expect(options.nonCritical).to.deep.equal(["storage-and-monitoring/infrastructure-monitoring"]);
        let out = "";
        const result = await checkGate("gitops", options, {
            out: (t) => (out += t),
            err: (t) => (out += t),
            cwd: ROOT,
            signal: new AbortController().signal,
        });
        expect(result.ok, out).to.equal(true);
        const step = result.passed.find((p) => p.name === "Flux phase storage-and-monitoring: Kustomizations Ready")!;
        expect(step.detail).to.equal(
            "1 Ready; not critical, not waited for: Kustomization flux-system/infrastructure-monitoring: Ready=False (HealthCheckFailed): grafana not ready",
        );
    });

    it("passes with it missing, and says so", async () => {
        const config = optionalConfig();
        healthy(fake, config);
        fake.remove({
            apiVersion: "kustomize.toolkit.fluxcd.io/v1",
            kind: "Kustomization",
            metadata: { name: "infrastructure-monitoring", namespace: "flux-system" },
        });
        const options = { ...gateOptions(config).gitops, kubeconfig: fake.kubeconfig(), timeoutMs: 2000, pollMs: 20 };
        const result = await checkGate("gitops", options, {
            out: () => undefined,
            err: () => undefined,
            cwd: ROOT,
            signal: new AbortController().signal,
        });
        expect(result.ok).to.equal(true);
        expect(result.passed.find((p) => p.name.startsWith("Flux phase storage-and-monitoring"))!.detail).to.contain(
            "Kustomization flux-system/infrastructure-monitoring: not found",
        );
    });

    it("still fails on the same Kustomization when it is critical (the default)", async () => {
        const config = devConfig();
        healthy(fake, config);
        notReady("infrastructure-monitoring");
        const options = { ...gateOptions(config).gitops, kubeconfig: fake.kubeconfig(), timeoutMs: 300, pollMs: 20 };
        expect(options.nonCritical).to.equal(undefined);
        const result = await checkGate("gitops", options, {
            out: () => undefined,
            err: () => undefined,
            cwd: ROOT,
            signal: new AbortController().signal,
        });
        expect(result.ok).to.equal(false);
        expect(result.failedStep).to.equal("Flux phase storage-and-monitoring: Kustomizations Ready");
    });

    it("gets the non-critical list on the command line pulumi up runs, and parses it back", () => {
        const options = gateOptions(optionalConfig()).gitops;
        const flags = gateFlags("gitops", options);
        const at = flags.indexOf("--non-critical");
        expect(flags.slice(at, at + 2)).to.deep.equal(["--non-critical", "storage-and-monitoring/infrastructure-monitoring"]);
        const parsed = parseGateFlags("gitops", flags, { ...options, nonCritical: [] }).options;
        expect(parsed.nonCritical).to.deep.equal(["storage-and-monitoring/infrastructure-monitoring"]);
    });
});
