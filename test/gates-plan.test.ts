import { expect } from "chai";
import type { Plan } from "../lib/plan/model";
import { parseGateFlags } from "../lib/gates/options";
import { FLUX_PHASE_LABEL, gateOptions, RELEASES } from "../lib/gates/targets";
import { kustomization } from "../lib/values/flux";
import { PHASES } from "../lib/phases";
import { devConfig } from "./cluster-scenarios";
import { byName, ofType, planDev } from "./helpers";

const PREFIX = "node -r ts-node/register/transpile-only cli/gate.ts";
/** What follows the gate's name: no stack file on disk may change what the flags say. */
const NO_STACK = "--no-stack";

function gateCommand(plan: Plan, phase: string): { create: string; triggers: unknown[] } {
    return byName(plan, `${phase}-gate-check`).inputs as { create: string; triggers: unknown[] };
}

describe("gates in the offline plan", () => {
    let plan: Plan;
    before(async () => {
        plan = await planDev();
    });

    it("runs the checker for each phase, after the phase, with the phase's options as flags", () => {
        const gateUrns = new Set(plan.resources.filter((r) => /^talos-platform:[a-z]+:Gate$/.test(r.type)).map((r) => r.urn));
        expect(ofType(plan, "command:local:Command").filter((c) => gateUrns.has(c.parent!))).to.have.length(5);
        const options = gateOptions(devConfig());
        // The component each gate closes: the gate runs after it, and after nothing else.
        const component = { network: "cilium", dns: "coredns", certificates: "cert-manager", ingress: "ingress-nginx", gitops: "flux" };
        for (const phase of PHASES) {
            const check = byName(plan, `${phase}-gate-check`);
            const { create } = gateCommand(plan, phase);
            expect(create.startsWith(`${PREFIX} ${phase} ${NO_STACK} `), create).to.equal(true);
            // Every flag round-trips to the options the doctor would use.
            const argv = create.slice(`${PREFIX} ${phase} ${NO_STACK} `.length).split(" ");
            // Every option but those that by contract never reach a command line (see test/gates-units.test.ts).
            const never = [
                "kubeconfig",
                "contextFrom",
                ...(["network", "dns", "ingress"].includes(phase) ? [] : ["probeImage", "probeNamespace"]),
            ];
            expect(parseGateFlags(phase, argv, {} as never).options).to.deep.equal(
                Object.fromEntries(Object.entries(options[phase]).filter(([k, v]) => v !== undefined && !never.includes(k))),
            );
            expect(check.dependsOn, phase).to.deep.equal([byName(plan, component[phase]).urn]);
            expect(byName(plan, component[phase]).phase, phase).to.equal(phase);
        }
        expect(gateCommand(plan, "network").create)
            .to.contain("--service-ip 10.96.0.1")
            .and.contain("--kube-proxy-replacement true")
            .and.contain("--timeout 2m --poll 2s");
        expect(gateCommand(plan, "dns").create)
            .to.contain("--dns-domain k8s.home.geoffdavis.com")
            .and.contain("--resolve github.com")
            .and.contain("--timeout 3m");
    });

    it("gives every checker command in the plan, CRD waits included, --no-stack: no stack file on disk picks its settings", () => {
        const checks = ofType(plan, "command:local:Command")
            .map((c) => String(c.inputs.create))
            .filter((c) => c.startsWith(PREFIX));
        expect(checks.length).to.be.greaterThan(PHASES.length);
        for (const create of checks) expect(create, create).to.match(new RegExp(`^${PREFIX} [a-z]+ ${NO_STACK} `));
    });

    it("re-runs a gate only when its own phase's inputs change", async () => {
        const again = await planDev();
        const changed = await planDev((s) => (s.cilium.values = { operator: { replicas: 1 } }));
        const gitops = await planDev((s) => (s.flux.source.branch = "release"));
        for (const phase of PHASES) {
            const t = gateCommand(plan, phase).triggers;
            expect(t).to.have.length(1);
            expect(String(t[0])).to.match(/^sha256:[0-9a-f]{16}$/);
            expect(gateCommand(again, phase).triggers, phase).to.deep.equal(t);
            expect(gateCommand(changed, phase).triggers[0] !== t[0], `cilium change re-runs ${phase}`).to.equal(phase === "network");
            expect(gateCommand(gitops, phase).triggers[0] !== t[0], `flux change re-runs ${phase}`).to.equal(phase === "gitops");
        }
    });

    it("follows the kube context into every gate", async () => {
        const withContext = await planDev((s) => (s.cluster.kubeContext = "admin@home-ops"));
        for (const phase of PHASES) expect(gateCommand(withContext, phase).create).to.contain("--context admin@home-ops");
        expect(gateCommand(plan, "network").create).to.not.contain("--context");
    });

    it("looks for the releases and labels the components actually create", () => {
        const releases = ofType(plan, "kubernetes:helm.sh/v3:Release").map((r) => r.inputs.name);
        expect(releases).to.include.members(Object.values(RELEASES));
        const config = devConfig();
        const k = kustomization(config.flux, 0, [], config.flux.phases[0].kustomizations[0]);
        expect(Object.keys(k.metadata.labels ?? {})).to.include(FLUX_PHASE_LABEL);
    });
});
