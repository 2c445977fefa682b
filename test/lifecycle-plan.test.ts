import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { GUARD_MESSAGE_ENV } from "../components/destroy-guard";
import type { Recorded } from "../lib/lifecycle/binding";
import { gateDigest, NO_GATE_RUNS } from "../lib/lifecycle/gate-runs";
import type { ClusterSource } from "../lib/lifecycle/source";
import type { Plan, PlanResource } from "../lib/plan/model";
import { renderMarkdown, renderText } from "../lib/plan/render";
import { byName, descendants, Json, ofType, planCustomDomain, planDev } from "./helpers";
import { crdErrors } from "./schemas";

// Lifecycle options, gate triggers and the destroy guard, under Pulumi's
// mock engine. A "live" cluster here is a stub source: what the program
// would read from the kubeconfig's cluster and the stack's outputs.

const RELEASE = "kubernetes:helm.sh/v3:Release";
const KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization";
const UID_A = "6f1c2a4e-3b5d-4c7e-9f8a-0b1c2d3e4f5a";
const UID_B = "0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d";
/** The dev stack's API endpoint: the server a kubeconfig for its cluster names. */
const DEV_SERVER = "https://172.29.51.10:6443";

/** A source whose kubeconfig reaches the dev cluster with `uid`, and whose stack recorded `recorded`. */
function liveSource(uid: string, recorded: Recorded = {}, server = DEV_SERVER): ClusterSource {
    return { live: async () => ({ kind: "live", context: "admin@home-ops", server, uid }), recorded: async () => recorded };
}

/** Runs `fn` with console.log captured: the mock engine prints pulumi.log.info there. */
async function capturingLog<T>(fn: () => Promise<T>): Promise<{ result: T; logged: string }> {
    const log = console.log;
    let logged = "";
    console.log = (...args: unknown[]) => void (logged += args.map(String).join(" ") + "\n");
    try {
        return { result: await fn(), logged };
    } finally {
        console.log = log;
    }
}

/** The commands of every Gate and CrdWait component, from the plan's parent links. */
function checkCommands(plan: Plan): PlanResource[] {
    const checkers = plan.resources.filter((r) => /^talos-platform:[a-z]+:(Gate|CrdWait)$/.test(r.type)).map((r) => r.urn);
    return plan.resources.filter((r) => r.type === "command:local:Command" && r.parent !== null && checkers.includes(r.parent));
}

describe("lifecycle options in the offline plan", () => {
    let plan: Plan;
    /** The test stack where this program runs CoreDNS (the dev stack leaves it to Talos). */
    let ownDns: Plan;
    before(async () => {
        plan = await planDev();
        ownDns = await planCustomDomain();
    });

    it("gives every resource an options object holding only the lifecycle options that are set", () => {
        const allowed = ["protect", "retainOnDelete", "deleteBeforeReplace", "customTimeouts", "ignoreChanges"];
        for (const r of plan.resources) {
            expect(r.options, r.name).to.be.an("object");
            for (const [k, v] of Object.entries(r.options!)) {
                expect(allowed, `${r.name}.${k}`).to.include(k);
                expect(v, `${r.name}.${k}`).to.not.equal(false);
            }
        }
        expect(byName(plan, "network-gate-check").options).to.deep.equal({});
    });

    it("protects the network phase's release, pools and BGP objects and the CoreDNS release, and nothing else", () => {
        const cilium = descendants(plan, "cilium");
        const objects = cilium.filter((r) => r.type === RELEASE || r.type.startsWith("kubernetes:cilium.io/"));
        // The dev stack: one release, four pools, three BGP objects.
        expect(objects).to.have.length(8);
        const protectedOnes = (p: Plan) =>
            p.resources
                .filter((r) => r.options?.protect)
                .map((r) => r.name)
                .sort();
        // The dev stack's Gateway API CRDs are the network phase's too.
        const crds = ofType(plan, "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition").map((r) => r.name);
        expect(crds).to.have.length(6);
        expect(protectedOnes(plan)).to.deep.equal([...objects.map((r) => r.name), ...crds].sort());
        expect(protectedOnes(ownDns)).to.deep.equal([...objects.map((r) => r.name), ...crds, "coredns-release"].sort());
        // The CRD wait is not: deleting a command removes nothing from the cluster.
        expect(byName(plan, "cilium-crds-check").options).to.deep.equal({});
    });

    it("replaces every Helm release delete-first: a create-first replacement collides with Helm's ownership check", () => {
        const releases = ofType(ownDns, RELEASE);
        expect(releases.map((r) => r.inputs.name).sort()).to.deep.equal([
            "cert-manager",
            "cilium",
            "coredns",
            "flux-operator",
            "ingress-nginx",
        ]);
        for (const r of releases) expect(r.options?.deleteBeforeReplace, r.name).to.equal(true);
        expect(ownDns.resources.filter((r) => r.options?.deleteBeforeReplace)).to.have.length(releases.length);
    });

    it("keeps the FluxInstance when Pulumi deletes it, so the Flux Operator never uninstalls Flux", () => {
        expect(byName(plan, "flux-instance").options).to.deep.equal({ retainOnDelete: true });
        // And the Gateway API CRDs, whatever the protection: deleting one deletes every route of its kind.
        expect(plan.resources.filter((r) => r.options?.retainOnDelete).map((r) => r.name)).to.deep.equal([
            ...ofType(plan, "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition").map((r) => r.name),
            "flux-instance",
        ]);
    });

    it("gives every Kustomization deletionPolicy Orphan and a delete timeout of minutes, valid against kustomize-controller's schema", () => {
        const ks = ofType(plan, KUSTOMIZATION);
        expect(ks).to.have.length(9);
        for (const k of ks) {
            const spec = k.inputs.spec as Json;
            expect(spec.deletionPolicy, k.name).to.equal("Orphan");
            expect(k.options?.customTimeouts, k.name).to.deep.equal({ delete: "5m" });
            expect(crdErrors(k.inputs as Json), k.name).to.deep.equal([]);
        }
        expect(byName(plan, "flux-source").options?.customTimeouts).to.deep.equal({ delete: "5m" });
    });

    it("passes each policy flux.deletionPolicy names to every Kustomization, and refuses one kustomize-controller does not know", async () => {
        for (const policy of ["MirrorPrune", "Delete", "WaitForTermination"]) {
            const p = await planDev((s) => (s.flux.deletionPolicy = policy));
            for (const k of ofType(p, KUSTOMIZATION)) {
                expect((k.inputs.spec as Json).deletionPolicy, `${policy} ${k.name}`).to.equal(policy);
                expect(crdErrors(k.inputs as Json), k.name).to.deep.equal([]);
            }
            expect(
                p.findings.map((f) => f.rule),
                policy,
            ).to.include("flux-deletes-workloads");
        }
        const bad = await planDev((s) => (s.flux.deletionPolicy = "Prune"));
        expect(bad.resources).to.have.length(0);
        expect(bad.errors.map((e) => e.path)).to.deep.equal(["talos-platform:flux.deletionPolicy"]);
        expect(plan.findings.map((f) => f.rule)).to.not.include("flux-deletes-workloads");
    });

    it("with lifecycle.protect false protects nothing, lets the FluxInstance go, disarms the guard, and says so", async () => {
        const off = await planDev((s) => (s.lifecycle = { protect: false }));
        // Only the Gateway API CRDs stay kept on delete: deleting a CRD deletes every route of its kind.
        expect(off.resources.filter((r) => r.options?.protect || r.options?.retainOnDelete).map((r) => r.name)).to.deep.equal(
            ofType(off, "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition").map((r) => r.name),
        );
        expect(byName(off, "destroy-guard-command").inputs.delete).to.equal("true");
        expect(off.findings.find((f) => f.rule === "protection-off")?.resource).to.equal("talos-platform:lifecycle.protect");
        expect(off.binding?.protect).to.equal(false);
        // Only what decides deletion changed: every input of every resource but the guard's is the same.
        const inputs = (p: Plan) => p.resources.filter((r) => !r.name.startsWith("destroy-guard")).map((r) => [r.name, r.inputs]);
        expect(inputs(off)).to.deep.equal(inputs(plan));
    });

    it("marks protected, kept and orphaning resources in the text and markdown plans, with the binding", async () => {
        const text = renderText(plan);
        expect(text).to.match(/cilium-release {2}\(Release\).*\[protected\]/);
        expect(text).to.match(/flux-instance {2}\(FluxInstance\).*\[kept on delete\]/);
        expect(text).to.match(/flux-ks-apps-dashboard .*\[on delete, keeps what it applied\]/);
        expect(text).to.not.match(/cert-manager-release .*\[/);
        expect(text).to.contain(
            "bound to the kubeconfig's current context · the kube-system UID its last `pulumi up` recorded · protected",
        );
        const md = renderMarkdown(plan);
        expect(md).to.contain("| network | `cilium-release` *protected* |");
        expect(md).to.contain("| gitops | `flux-instance` *kept on delete* |");
        const deleting = renderText(await planDev((s) => (s.flux.deletionPolicy = "Delete")));
        expect(deleting).to.match(/flux-ks-apps-dashboard .*\[on delete, deletes what it applied\]/);
    });
});

describe("the destroy guard", () => {
    let plan: Plan;
    before(async () => {
        // The test stack where this program runs CoreDNS, so a destroy has every phase to go through.
        plan = await planCustomDomain();
    });

    it("depends on every top-level component, so `pulumi destroy` deletes it before anything else", () => {
        const guard = byName(plan, "destroy-guard-command");
        const components = plan.resources.filter((r) => r.parent === null && r.phase !== null).map((r) => r.urn);
        // The Gateway API CRDs, Cilium, CoreDNS, cert-manager, the ClusterIssuers, ingress-nginx, the Gateway, Flux and five gates.
        expect(components).to.have.length(13);
        expect([...guard.dependsOn].sort()).to.deep.equal([...components].sort());
    });

    it("armed, its delete fails with a message naming what a destroy removes, in Pulumi's order, and how to confirm", () => {
        const guard = byName(plan, "destroy-guard-command");
        const env = guard.inputs.environment as Record<string, string>;
        const run = spawnSync("/bin/sh", ["-c", String(guard.inputs.delete)], {
            env: { PATH: process.env.PATH, ...env },
            encoding: "utf8",
        });
        expect(run.status).to.equal(1);
        const message = run.stderr;
        expect(message).to.contain("pulumi destroy stopped before its first delete");
        // Dependents go first: GitOps, then ingress, certificates, DNS (this program runs CoreDNS here), network.
        const order = ["gitops:", "ingress:", "certificates:", "dns:", "network:"].map((p) => message.indexOf(`  ${p}`));
        expect(order.every((i) => i > 0)).to.equal(true);
        expect([...order].sort((a, b) => a - b)).to.deep.equal(order);
        expect(message).to.contain("9 Kustomizations (deletionPolicy Orphan: what they applied stays)");
        expect(message).to.contain("pulumi config set --path talos-platform:lifecycle.protect false; pulumi up");
        // The command line itself stays short: the message travels in the environment.
        expect(String(guard.inputs.delete)).to.not.contain("Kustomization");
        expect(Object.keys(env)).to.deep.equal([GUARD_MESSAGE_ENV]);
        expect(byName(plan, "destroy-guard-command").inputs.create).to.equal("true");
    });

    it("leaves the DNS line out when Talos runs CoreDNS", async () => {
        const talosDns = await planDev();
        const env = byName(talosDns, "destroy-guard-command").inputs.environment as Record<string, string>;
        expect(env[GUARD_MESSAGE_ENV]).to.not.contain("  dns:");
        expect(env[GUARD_MESSAGE_ENV]).to.contain("  network:");
    });
});

describe("gates that follow the cluster", () => {
    it("a changed cluster identity changes every gate's and CRD wait's triggers, and nothing else", async () => {
        const { result: a } = await capturingLog(() => planDev(undefined, { clusterSource: liveSource(UID_A) }));
        const { result: b } = await capturingLog(() => planDev(undefined, { clusterSource: liveSource(UID_B) }));
        expect(a.errors).to.deep.equal([]);
        expect(b.resources.map((r) => r.urn)).to.deep.equal(a.resources.map((r) => r.urn));
        // Five gates and three CRD waits (Cilium's, the Flux Operator's, the Flux distribution's).
        const checks = checkCommands(a).map((r) => r.name);
        expect(checks).to.have.length(8);
        // And the Gateway API CRDs' pre-check: a rebuilt cluster may hold another installer's CRDs.
        const changed = a.resources.filter((r, i) => JSON.stringify(r.inputs) !== JSON.stringify(b.resources[i].inputs)).map((r) => r.name);
        expect(changed.sort()).to.deep.equal([...checks, "gateway-api-precheck"].sort());
        for (const name of [...checks, "gateway-api-precheck"]) {
            const ra = byName(a, name);
            const rb = byName(b, name);
            expect({ ...ra.inputs, triggers: undefined }, name).to.deep.equal({ ...rb.inputs, triggers: undefined });
            expect(ra.inputs.triggers, name).to.include(`kube-system-uid:${UID_A}`);
            expect(rb.inputs.triggers, name).to.include(`kube-system-uid:${UID_B}`);
        }
    });

    it("gives the provider the checked context and the fixed clusterIdentifier", async () => {
        const { result } = await capturingLog(() => planDev(undefined, { clusterSource: liveSource(UID_A) }));
        expect(byName(result, "kubernetes").inputs).to.include({ context: "admin@home-ops", clusterIdentifier: "talos-platform" });
        const offline = await planDev();
        expect(byName(offline, "kubernetes").inputs.context).to.equal(undefined);
        expect(byName(offline, "kubernetes").inputs.clusterIdentifier).to.equal("talos-platform");
    });

    it("shows the pinned identity offline, in the binding and in every check's triggers", async () => {
        const pinned = await planDev((s) => (s.cluster.identity = UID_A));
        expect(pinned.binding?.identity).to.equal(UID_A);
        for (const c of checkCommands(pinned)) expect(c.inputs.triggers, c.name).to.include(`kube-system-uid:${UID_A}`);
        expect(renderText(pinned)).to.contain(`kube-system UID ${UID_A}`);
        const bad = await planDev((s) => (s.cluster.identity = "kube-system"));
        expect(bad.errors.map((e) => e.path)).to.deep.equal(["talos-platform:cluster.identity"]);
    });

    it("prints the doctor hint when no gate runs, and not when one does", async () => {
        // What the first `up` recorded once its gates had run.
        const { result: first, logged: firstLog } = await capturingLog(() => planDev(undefined, { clusterSource: liveSource(UID_A) }));
        expect(firstLog).to.contain(`bound to the cluster whose kube-system UID is ${UID_A}`);
        const checked = gateDigest(
            checkCommands(first).map((r) => ({ name: r.name, create: r.inputs.create, triggers: r.inputs.triggers })),
        );
        const binding = { uid: UID_A, server: DEV_SERVER, context: "admin@home-ops" };
        const recorded: Recorded = { binding, gatesChecked: checked };

        const same = await capturingLog(() => planDev(undefined, { clusterSource: liveSource(UID_A, recorded) }));
        expect(same.logged).to.contain(NO_GATE_RUNS);
        expect(same.logged).to.not.contain("bound to the cluster");
        // A changed phase runs its gate: no hint.
        const changed = await capturingLog(() =>
            planDev((s) => (s.cilium.values = { operator: { replicas: 1 } }), { clusterSource: liveSource(UID_A, recorded) }),
        );
        expect(changed.logged).to.not.contain(NO_GATE_RUNS);
        // So does a rebuilt cluster, once accepted.
        const rebuilt = await capturingLog(() =>
            planDev((s) => (s.cluster.identity = UID_B), { clusterSource: liveSource(UID_B, recorded) }),
        );
        expect(rebuilt.result.errors).to.deep.equal([]);
        expect(rebuilt.logged).to.not.contain(NO_GATE_RUNS);
    });
});

describe("one cluster per stack, in the program", () => {
    const recordedA: Recorded = { binding: { uid: UID_A, server: DEV_SERVER, context: "admin@home-ops" } };

    it("refuses another cluster's UID before registering anything, naming both clusters and the way to accept a rebuild", async () => {
        const plan = await planDev(undefined, { clusterSource: liveSource(UID_B, recordedA) });
        expect(plan.resources).to.deep.equal([]);
        expect(plan.errors).to.have.length(1);
        const [e] = plan.errors;
        expect(e.path).to.equal("talos-platform:cluster.identity");
        expect(e.message).to.contain(`kube-system UID is ${UID_B}`).and.contain(`bound to the cluster with UID ${UID_A}`);
        expect(e.message).to.contain(`recorded by this stack's last \`pulumi up\` through ${DEV_SERVER}`);
        expect(e.fix).to.contain(`pulumi config set --path talos-platform:cluster.identity ${UID_B}`).and.contain("pulumi up --refresh");
    });

    it("refuses a kubeconfig whose server is not the stack's, and accepts it once listed as an alias", async () => {
        const elsewhere = "https://10.20.0.5:6443";
        const plan = await planDev(undefined, { clusterSource: liveSource(UID_A, {}, elsewhere) });
        expect(plan.resources).to.deep.equal([]);
        expect(plan.errors.map((e) => e.path)).to.deep.equal(["talos-platform:cluster.apiEndpoint"]);
        expect(plan.errors[0].message).to.contain(elsewhere).and.contain(DEV_SERVER);
        const aliased = await capturingLog(() =>
            planDev((s) => (s.cluster.apiServerAliases = [elsewhere]), { clusterSource: liveSource(UID_A, {}, elsewhere) }),
        );
        expect(aliased.result.errors).to.deep.equal([]);
    });

    it("lets a pinned identity override the recorded one", async () => {
        const { result } = await capturingLog(() =>
            planDev((s) => (s.cluster.identity = UID_B), { clusterSource: liveSource(UID_B, recordedA) }),
        );
        expect(result.errors).to.deep.equal([]);
        const refused = await planDev((s) => (s.cluster.identity = UID_A), { clusterSource: liveSource(UID_B) });
        expect(refused.errors[0].message).to.contain(`pinned in talos-platform:cluster.identity`);
    });
});

describe("a release in another namespace on a deployed stack", () => {
    const binding = { uid: UID_A, server: DEV_SERVER, context: "admin@home-ops" };
    const deployed = (releaseNamespaces: Recorded["releaseNamespaces"]) => liveSource(UID_A, { binding, releaseNamespaces });

    it("is refused before anything is registered, with the outage and the two ways forward", async () => {
        const plan = await planDev((s) => (s.ingressNginx.namespace = "ingress"), {
            clusterSource: deployed({ cilium: "kube-system", ingressNginx: "ingress-nginx" }),
        });
        expect(plan.resources).to.deep.equal([]);
        expect(plan.errors.map((e) => e.path)).to.deep.equal(["talos-platform:ingressNginx.namespace"]);
        const [e] = plan.errors;
        expect(e.message).to.contain("from ingress-nginx, where this stack's last `pulumi up` installed it, to ingress");
        expect(e.message).to.contain("ingress traffic stops");
        expect(e.fix).to.contain("keep ingress-nginx").and.contain("talos-platform:lifecycle.allowNamespaceMove[0]' ingressNginx");
    });

    it("goes ahead delete-first, unprotected for that update, once lifecycle.allowNamespaceMove names it, and the plan says what stops", async () => {
        const { result } = await capturingLog(() =>
            planDev(
                (s) => {
                    s.cilium.namespace = "cilium";
                    s.lifecycle = { allowNamespaceMove: ["cilium"] };
                },
                { clusterSource: deployed({ cilium: "kube-system" }) },
            ),
        );
        expect(result.errors).to.deep.equal([]);
        expect(byName(result, "cilium-release").options).to.deep.equal({ deleteBeforeReplace: true });
        // Only the moving section loses its protection.
        expect(byName(result, "cilium-pool-bgp-default").options).to.deep.equal({});
        expect(
            byName(await planCustomDomain((s) => (s.lifecycle = { allowNamespaceMove: ["cilium"] })), "coredns-release").options,
        ).to.deep.equal({
            protect: true,
            deleteBeforeReplace: true,
        });
        const finding = result.findings.find((f) => f.rule === "namespace-move-allowed");
        expect(finding?.message).to.contain("every pod loses its network");
    });

    it("is refused for Flux even when asked, and lifecycle.allowNamespaceMove does not take it", async () => {
        const plan = await planDev((s) => (s.flux.namespace = "flux"), { clusterSource: deployed({ flux: "flux-system" }) });
        expect(plan.errors.map((e) => e.path)).to.deep.equal(["talos-platform:flux.namespace"]);
        expect(plan.errors[0].message).to.contain("the FluxInstance, which is kept on delete, would stay behind");
        const asked = await planDev((s) => (s.lifecycle = { allowNamespaceMove: ["flux"] }));
        expect(asked.errors.map((e) => e.path)).to.deep.equal(["talos-platform:lifecycle.allowNamespaceMove[0]"]);
    });

    it("is not a move when the release is no longer deployed", async () => {
        // The last `up` ran CoreDNS; now Talos does (the dev stack).
        const { result } = await capturingLog(() =>
            planDev(undefined, { clusterSource: deployed({ coredns: "kube-system", cilium: "kube-system" }) }),
        );
        expect(result.errors).to.deep.equal([]);
    });
});
