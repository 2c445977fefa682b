import { expect } from "chai";
import type { Plan, PlanResource } from "../lib/plan/model";
import { renderText } from "../lib/plan/render";
import { byName, descendants, Json, lineage, ofType, planDev } from "./helpers";
import { crdErrors } from "./schemas";

const KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization";
const GIT_REPOSITORY = "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository";
const FLUX_INSTANCE = "kubernetes:fluxcd.controlplane.io/v1:FluxInstance";
const FLUX_PHASE = "talos-platform:gitops:FluxPhase";
const CRD_WAIT = "talos-platform:gitops:CrdWait";
const DEV_PHASES = ["core", "storage-and-monitoring", "networking", "applications"];

const inp = (r: PlanResource): Json => r.inputs;
const ks = (plan: Plan, name: string) => byName(plan, `flux-ks-${name}`);
const urnOf = (plan: Plan, name: string) => byName(plan, name).urn;
const specDeps = (r: PlanResource) => ((inp(r).spec.dependsOn ?? []) as Array<{ name: string }>).map((d) => d.name);
const fluxObjects = (plan: Plan) => plan.resources.filter((r) => /^kubernetes:[a-z.]*fluxcd[a-z.]*\//.test(r.type));

/** Does `r` wait for `urn`, through its own dependsOn or an ancestor's, transitively? */
function waitsFor(plan: Plan, r: PlanResource, urn: string, seen = new Set<string>()): boolean {
    for (const a of lineage(plan, r)) {
        for (const d of a.dependsOn) {
            if (d === urn) return true;
            if (seen.has(d)) continue;
            seen.add(d);
            const dep = plan.resources.find((x) => x.urn === d)!;
            if (waitsFor(plan, dep, urn, seen)) return true;
            // A dependency on a component waits for everything below it.
            if (plan.resources.some((x) => x.urn === urn && lineage(plan, x).some((y) => y.urn === d))) return true;
        }
    }
    return false;
}

describe("gitops plan: the dev stack", () => {
    let plan: Plan;
    before(async () => {
        plan = await planDev();
    });

    it("registers the operator, two CRD waits, the instance, the source, and one Kustomization per config entry", () => {
        expect(plan.errors).to.deep.equal([]);
        expect(ofType(plan, FLUX_INSTANCE)).to.have.length(1);
        expect(ofType(plan, GIT_REPOSITORY)).to.have.length(1);
        expect(ofType(plan, CRD_WAIT)).to.have.length(2);
        expect(ofType(plan, FLUX_PHASE)).to.have.length(4);
        expect(ofType(plan, KUSTOMIZATION)).to.have.length(9);
        // A public repository needs no credentials.
        expect(descendants(plan, "flux").filter((r) => r.type === "kubernetes:core/v1:Secret")).to.deep.equal([]);
        expect(ofType(plan, GIT_REPOSITORY)[0].inputs.spec).to.not.have.property("secretRef");
    });

    it("lists the Flux phases as sub-phases of gitops, in order, each with its Kustomizations", () => {
        const gitops = plan.phases.find((p) => p.name === "gitops")!;
        expect(gitops.subphases.map((s) => s.name)).to.deep.equal(DEV_PHASES);
        const members = (i: number) =>
            gitops.subphases[i].resources.map((u) => plan.resources.find((r) => r.urn === u)!).filter((r) => r.type === KUSTOMIZATION);
        expect(members(1).map((r) => inp(r).metadata.name)).to.deep.equal(["infrastructure-longhorn", "infrastructure-monitoring"]);
        expect(gitops.subphases[0].resources[0]).to.equal(urnOf(plan, "flux-phase-core"));
        for (const s of gitops.subphases) for (const u of s.resources) expect(gitops.resources).to.include(u);
        for (const p of plan.phases.filter((x) => x.name !== "gitops")) expect(p.subphases).to.deep.equal([]);
    });

    it("says which components stay out of Flux because this program deploys them", () => {
        const excluded = inp(byName(plan, "flux")).excludedFromFlux as Array<{ component: string; phase: string; owner: string }>;
        expect(excluded.map((e) => `${e.component}@${e.phase}`)).to.deep.equal([
            // The dev stack's Gateway: this program installs the Gateway API CRDs.
            "gateway-api@network",
            "cilium@network",
            "coredns@dns",
            "cert-manager@certificates",
            "ingress-nginx@ingress",
            "flux@gitops",
        ]);
        // The dev stack's Talos runs CoreDNS (talconfig.yaml leaves it on): the one component Flux leaves to Talos.
        expect(excluded.map((e) => e.owner)).to.deep.equal([
            "talos-platform",
            "talos-platform",
            "Talos",
            "talos-platform",
            "talos-platform",
            "talos-platform",
        ]);
        const line = renderText(plan)
            .split("\n")
            .find((l) => l.includes("not in Flux"))!;
        expect(line).to.contain("run by Talos: CoreDNS (dns)");
        expect(line.split("run by Talos")[0]).to.not.contain("CoreDNS");
    });

    it("generates Flux dependsOn from the phases: the previous phase's Kustomizations, then the extras", () => {
        expect(specDeps(ks(plan, "infrastructure-sources"))).to.deep.equal([]);
        expect(specDeps(ks(plan, "infrastructure-onepassword"))).to.deep.equal(["infrastructure-external-secrets"]);
        const core = ["infrastructure-sources", "infrastructure-external-secrets", "infrastructure-onepassword"];
        expect(specDeps(ks(plan, "infrastructure-longhorn"))).to.deep.equal(core);
        expect(specDeps(ks(plan, "apps-dashboard"))).to.deep.equal(["infrastructure-external-dns", "infrastructure-cloudflare-tunnel"]);
    });

    it("makes Pulumi wait for each Kustomization to be Ready, and each Flux phase for the previous one", () => {
        for (const r of ofType(plan, KUSTOMIZATION)) {
            expect(inp(r).metadata.annotations["pulumi.com/waitFor"], r.name).to.equal("condition=Ready");
            expect(Number(inp(r).metadata.annotations["pulumi.com/timeoutSeconds"]), r.name).to.be.greaterThan(600);
        }
        const phases = DEV_PHASES.map((p) => byName(plan, `flux-phase-${p}`));
        expect(phases[0].dependsOn).to.deep.equal([urnOf(plan, "flux-source")]);
        for (let i = 1; i < phases.length; i++) expect(phases[i].dependsOn, phases[i].name).to.deep.equal([phases[i - 1].urn]);
        // Each Kustomization is a child of its phase, so it waits for whatever the phase waits for.
        expect(ks(plan, "infrastructure-longhorn").parent).to.equal(phases[1].urn);
        expect(waitsFor(plan, ks(plan, "apps-dashboard"), ks(plan, "infrastructure-onepassword").urn)).to.equal(true);
        expect(waitsFor(plan, ks(plan, "infrastructure-sources"), ks(plan, "infrastructure-longhorn").urn)).to.equal(false);
    });

    it("orders explicit dependencies within a phase, and nothing else", () => {
        expect(ks(plan, "infrastructure-sources").dependsOn).to.deep.equal([]);
        expect(ks(plan, "infrastructure-external-secrets").dependsOn).to.deep.equal([ks(plan, "infrastructure-sources").urn]);
        expect(ks(plan, "infrastructure-onepassword").dependsOn).to.deep.equal([ks(plan, "infrastructure-external-secrets").urn]);
        expect(ks(plan, "infrastructure-longhorn").dependsOn).to.deep.equal([]);
        expect(ks(plan, "infrastructure-monitoring").dependsOn).to.deep.equal([]);
    });

    it("waits for the Flux CRDs before creating any Flux object", () => {
        const operatorCrds = byName(plan, "flux-operator-crds");
        const crds = byName(plan, "flux-crds");
        expect(byName(plan, "flux-operator-crds-check").dependsOn).to.deep.equal([urnOf(plan, "flux-operator")]);
        expect(inp(byName(plan, "flux-operator-crds-check")).create).to.contain("--crd fluxinstances.fluxcd.controlplane.io");
        const check = inp(byName(plan, "flux-crds-check")).create as string;
        expect(check)
            .to.contain("--crd gitrepositories.source.toolkit.fluxcd.io")
            .and.contain("--crd kustomizations.kustomize.toolkit.fluxcd.io");
        expect(byName(plan, "flux-instance").dependsOn).to.deep.equal([operatorCrds.urn]);
        expect(byName(plan, "flux-crds-check").dependsOn).to.deep.equal([urnOf(plan, "flux-instance")]);
        expect(byName(plan, "flux-source").dependsOn).to.deep.equal([crds.urn]);
        for (const r of fluxObjects(plan)) {
            const wait = r.type === FLUX_INSTANCE ? operatorCrds : crds;
            expect(waitsFor(plan, r, wait.urn), r.name).to.equal(true);
        }
    });

    it("waits for the FluxInstance and the GitRepository to be Ready too", () => {
        for (const name of ["flux-instance", "flux-source"]) {
            expect(inp(byName(plan, name)).metadata.annotations["pulumi.com/waitFor"], name).to.equal("condition=Ready");
        }
    });

    it("pins the operator chart and the Flux distribution, and passes the cluster domain", () => {
        expect(byName(plan, "flux-operator").inputs).to.include({ version: "0.58.1" });
        const spec = inp(byName(plan, "flux-instance")).spec;
        expect(spec.distribution).to.deep.equal({ version: "2.9.4", registry: "ghcr.io/fluxcd" });
        expect(spec.components).to.include.members(["source-controller", "kustomize-controller"]);
        expect(spec.cluster).to.deep.equal({ type: "kubernetes", domain: "cluster.local", networkPolicy: true });
        expect(inp(byName(plan, "flux-source")).spec).to.deep.equal({
            url: "https://github.com/geoffdavis/talos-gitops",
            ref: { branch: "main" },
            interval: "1m",
        });
    });

    it("emits only Flux objects that validate against the strict upstream schemas", () => {
        const objects = fluxObjects(plan);
        expect(objects).to.have.length(11);
        for (const r of objects) expect(crdErrors(r.inputs as { apiVersion: string; kind: string }), r.name).to.deep.equal([]);
    });

    it("has no advisory or mandatory gitops finding", () => {
        expect(plan.findings.filter((f) => f.rule.startsWith("flux"))).to.deep.equal([]);
    });
});

describe("gitops plan: variations", () => {
    it("says this program, not Talos, runs CoreDNS when cluster.coreDnsDisabled is true", async () => {
        const plan = await planDev((s) => (s.cluster.coreDnsDisabled = true));
        expect(plan.errors).to.deep.equal([]);
        const excluded = inp(byName(plan, "flux")).excludedFromFlux as Array<{ component: string; owner: string }>;
        expect(excluded.map((e) => e.owner)).to.deep.equal(Array(6).fill("talos-platform"));
        expect(renderText(plan)).to.not.contain("run by Talos");
    });

    it("gives Flux a custom cluster domain, as the report's cluster needed", async () => {
        const plan = await planDev((s) => (s.cluster.dnsDomain = "home-ops.local"));
        expect(inp(byName(plan, "flux-instance")).spec.cluster.domain).to.equal("home-ops.local");
    });

    it("keeps a Kustomization's URN when it moves to another Flux phase", async () => {
        const before = await planDev();
        const after = await planDev((s) => {
            const [moved] = s.flux.phases[3].kustomizations.splice(1, 1);
            s.flux.phases[2].kustomizations.push(moved);
        });
        expect(after.errors).to.deep.equal([]);
        expect(ks(after, "apps-monitoring").urn).to.equal(ks(before, "apps-monitoring").urn);
        expect(ks(after, "apps-monitoring").parent).to.equal(urnOf(after, "flux-phase-networking"));
        expect(inp(ks(after, "apps-monitoring")).metadata.labels["talos-platform/flux-phase"]).to.equal("networking");
    });

    it("registers nothing at all when the phases have a cycle", async () => {
        const plan = await planDev((s) => (s.flux.phases[0].kustomizations[0].dependsOn = ["infrastructure-onepassword"]));
        expect(plan.resources).to.deep.equal([]);
        // Reported at the dependency that closes the cycle, walking in config order; the fix names all three.
        expect(plan.errors.map((e) => e.path)).to.deep.equal(["talos-platform:flux.phases[0].kustomizations[1].dependsOn[0]"]);
        expect(plan.errors[0].message).to.contain(
            "infrastructure-sources → infrastructure-onepassword → infrastructure-external-secrets → infrastructure-sources",
        );
    });

    it("follows a tag or a semver range instead of a branch", async () => {
        const tag = await planDev((s) => {
            delete s.flux.source.branch;
            s.flux.source.tag = "v1.2.0";
        });
        expect(inp(byName(tag, "flux-source")).spec.ref).to.deep.equal({ tag: "v1.2.0" });
        const semver = await planDev((s) => {
            delete s.flux.source.branch;
            s.flux.source.semver = ">=1.0.0 <2.0.0";
        });
        expect(inp(byName(semver, "flux-source")).spec.ref).to.deep.equal({ semver: ">=1.0.0 <2.0.0" });
    });

    it("emits timeouts, retry intervals, health checks and extras that still validate", async () => {
        const plan = await planDev((s: Record<string, Json>) => {
            Object.assign(s.flux.phases[1].kustomizations[0], {
                timeout: "15m",
                retryInterval: "2m",
                wait: false,
                prune: false,
                healthChecks: [{ apiVersion: "apps/v1", kind: "DaemonSet", name: "longhorn-manager", namespace: "longhorn-system" }],
                dependsOn: ["infrastructure-sources"],
            });
        });
        const r = ks(plan, "infrastructure-longhorn");
        expect(inp(r).spec).to.include({ timeout: "15m", retryInterval: "2m", wait: false, prune: false });
        // Two attempts of 15m and the 2m between them.
        expect(inp(r).metadata.annotations["pulumi.com/timeoutSeconds"]).to.equal(String(2 * 15 * 60 + 2 * 60));
        expect(specDeps(r)).to.deep.equal(["infrastructure-sources", "infrastructure-external-secrets", "infrastructure-onepassword"]);
        expect(crdErrors(r.inputs as { apiVersion: string; kind: string })).to.deep.equal([]);
    });
});

describe("gitops plan: Git credentials", () => {
    const TOKEN = "ghp_0123456789abcdefTOKEN";
    const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n-----END OPENSSH PRIVATE KEY-----";

    it("puts an HTTPS token into a Secret the GitRepository references, and nowhere else", async () => {
        const plan = await planDev((s) => (s.flux.source.httpsToken = { tokenSecret: "fluxGitToken" }), {
            config: { fluxGitToken: TOKEN },
            secretKeys: ["fluxGitToken"],
        });
        expect(plan.errors).to.deep.equal([]);
        const secrets = descendants(plan, "flux").filter((r) => r.type === "kubernetes:core/v1:Secret");
        expect(secrets).to.have.length(1);
        expect(inp(secrets[0]).metadata).to.deep.equal({ name: "flux-system-git-auth", namespace: "flux-system" });
        expect(inp(secrets[0]).stringData).to.equal("[secret]");
        expect(inp(byName(plan, "flux-source")).spec.secretRef).to.deep.equal({ name: "flux-system-git-auth" });
        expect(byName(plan, "flux-source").dependsOn).to.include(secrets[0].urn);
        expect(JSON.stringify(plan)).to.not.contain(TOKEN);
        expect(crdErrors(byName(plan, "flux-source").inputs as { apiVersion: string; kind: string })).to.deep.equal([]);
    });

    it("puts an SSH deploy key and known_hosts into the Secret, and the key nowhere else", async () => {
        const plan = await planDev(
            (s) => {
                s.flux.source.url = "ssh://git@github.com/geoffdavis/talos-gitops";
                s.flux.source.sshKey = { privateKeySecret: "fluxDeployKey", knownHosts: "github.com ssh-ed25519 AAAAC3Nza" };
            },
            { config: { fluxDeployKey: KEY }, secretKeys: ["fluxDeployKey"] },
        );
        expect(plan.errors).to.deep.equal([]);
        const [secret] = descendants(plan, "flux").filter((r) => r.type === "kubernetes:core/v1:Secret");
        expect(inp(secret).stringData).to.equal("[secret]");
        expect(inp(byName(plan, "flux-source")).spec.secretRef).to.deep.equal({ name: inp(secret).metadata.name });
        const json = JSON.stringify(plan);
        expect(json).to.not.contain("b3BlbnNzaC1rZXktdjEAAAAABG5vbmU");
    });

    it("refuses to deploy when the token's secret key is missing", async () => {
        const plan = await planDev((s) => (s.flux.source.httpsToken = { tokenSecret: "fluxGitToken" }));
        expect(plan.resources).to.deep.equal([]);
        expect(plan.errors.map((e) => e.path)).to.deep.equal(["talos-platform:flux.source.httpsToken.tokenSecret"]);
    });
});
