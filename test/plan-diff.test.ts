import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { Io, main } from "../cli/plan";
import { parseBasePlan } from "../lib/plan/base";
import { diffPlans, PHASE_CONFIG } from "../lib/plan/diff";
import { diffValues } from "../lib/plan/field-diff";
import { MARKDOWN_BUDGET } from "../lib/plan/format";
import type { Plan } from "../lib/plan/model";
import { renderMarkdown, renderText } from "../lib/plan/render";
import { phaseDigest } from "../lib/gates/targets";
import { validateConfig } from "../lib/config";
import { PHASES } from "../lib/phases";
import { byName, devSections, Json, planDev, raw, ROOT } from "./helpers";

const GITOPS_AND_LATER = ["dns", "certificates", "ingress", "gitops"];

/** The base plan as the PR workflow hands it over: written as JSON, read back. */
const asBase = (plan: Plan) => parseBasePlan(JSON.stringify(plan), "base.json");

async function compare(base: Plan, edit: (s: Record<string, Json>) => void): Promise<Plan> {
    const head = await planDev(edit);
    head.changes = diffPlans(asBase(base), head);
    return head;
}

/** The lines of the markdown's ```diff blocks. */
const diffLines = (md: string) => [...md.matchAll(/```diff\n([\s\S]*?)\n```/g)].flatMap((m) => m[1].split("\n"));

describe("plan --base: comparing two plans", function () {
    this.timeout(120_000);
    let base: Plan;
    before(async () => {
        base = await planDev();
    });

    it("says 'no changes' for an unchanged stack, in text and markdown, and keeps the head's status", async () => {
        const head = await compare(base, () => undefined);
        const c = head.changes!;
        expect([c.added, c.removed, c.changed, c.gates, c.phases, c.config, c.findings.new, c.findings.resolved]).to.deep.equal([
            [],
            [],
            [],
            [],
            [],
            [],
            [],
            [],
        ]);
        expect(head.ok).to.equal(true);
        expect(renderText(head)).to.contain(`no changes against the base plan (talos-platform/dev, ${base.resources.length} resources)`);
        const md = renderMarkdown(head);
        expect(md).to.contain("**No changes** against the base plan").and.not.contain("```diff");
        expect(md.split("\n")[0]).to.match(/· no changes$/);
    });

    it("shows a Cilium version bump on the release, re-runs the network gate with both digests, and what the phase blocks", async () => {
        const head = await compare(base, (s) => (s.cilium.version = "1.19.5"));
        const c = head.changes!;
        const release = c.changed.find((r) => r.name === "cilium-release")!;
        expect(release.fields).to.deep.equal([{ path: "version", before: "1.19.4", after: "1.19.5", change: "changed" }]);
        expect(release.replaces).to.deep.equal([]);
        const gate = c.gates.find((g) => g.name === "network-gate")!;
        expect(gate.reason).to.equal("triggers");
        // The digests are the gate check's triggers in each plan: what makes `pulumi up` re-run it.
        expect(gate.triggers.before).to.deep.equal(byName(base, "network-gate-check").inputs.triggers);
        expect(gate.triggers.after).to.deep.equal(byName(head, "network-gate-check").inputs.triggers);
        expect(gate.triggers.before![0])
            .to.match(/^sha256:[0-9a-f]{16}$/)
            .and.not.equal(gate.triggers.after![0]);
        // The CRD wait is keyed on the chart version too.
        expect(c.gates.find((g) => g.name === "cilium-crds")).to.include({ kind: "crd-wait", reason: "triggers" });
        expect(c.gates.map((g) => g.phase)).to.deep.equal(["network", "network"]);
        expect(c.phases.map((p) => [p.name, p.blocks])).to.deep.equal([["network", GITOPS_AND_LATER]]);
        expect(c.config).to.deep.equal([{ path: "talos-platform:cilium.version", before: "1.19.4", after: "1.19.5", change: "changed" }]);
        const md = renderMarkdown(head);
        expect(diffLines(md)).to.include.members(["@@ cilium-release @@", "- version: 1.19.4", "+ version: 1.19.5"]);
        // The phase digest is the first trigger; the others did not change, so only it is shown.
        expect(md).to.contain(
            `| re-runs | \`network-gate\` | \`Gate\` | triggers \`${gate.triggers.before![0]}\` → \`${gate.triggers.after![0]}\` |`,
        );
        expect(md).to.contain("blocks dns, certificates, ingress, gitops");
    });

    it("shows a pool block change as a spec path of the pool, and re-runs the gates whose digest covers pools", async () => {
        const head = await compare(
            base,
            (s) => (s.cilium.loadBalancerPools[1].blocks = [{ start: "172.29.52.200", stop: "172.29.52.230" }]),
        );
        const c = head.changes!;
        expect(c.changed.filter((r) => !r.type.startsWith("command:")).map((r) => [r.name, r.fields])).to.deep.equal([
            [
                "cilium-pool-bgp-ingress",
                [{ path: "spec.blocks[0].stop", before: "172.29.52.220", after: "172.29.52.230", change: "changed" }],
            ],
        ]);
        // phaseDigest covers pools in network (cilium) and ingress (its Service's pool).
        expect(c.gates.map((g) => g.name)).to.deep.equal(["network-gate", "ingress-gate"]);
        expect(renderText(head)).to.contain("spec.blocks[0].stop: 172.29.52.220 → 172.29.52.230");
    });

    it("lists an added and a removed Kustomization in gitops, with their Flux phases, and warns that pruning deletes", async () => {
        const head = await compare(base, (s) => {
            s.flux.phases[3].kustomizations.push({ name: "apps-grafana", path: "./apps/grafana" });
            s.flux.phases[0].kustomizations.pop();
        });
        const c = head.changes!;
        expect(c.added.map((r) => [r.name, r.phase])).to.deep.equal([["flux-ks-apps-grafana", "gitops"]]);
        expect(c.removed.map((r) => [r.name, r.phase])).to.deep.equal([["flux-ks-infrastructure-onepassword", "gitops"]]);
        expect(c.removed[0].note).to.contain("prune: true");
        const gitops = c.phases.find((p) => p.name === "gitops")!;
        expect(gitops).to.include({ added: 1, removed: 1 });
        // The next Flux phase waited for the removed one: its Kustomizations' dependsOn changes too.
        expect(gitops.subphases).to.deep.equal(["core", "storage-and-monitoring", "applications"]);
        expect(c.changed.find((r) => r.name === "flux-ks-infrastructure-longhorn")!.fields).to.deep.equal([
            {
                path: "spec.dependsOn[name=infrastructure-onepassword]",
                before: { name: "infrastructure-onepassword" },
                after: null,
                change: "removed",
            },
        ]);
        expect(gitops.blocks).to.deep.equal([]);
        expect(c.gates.map((g) => g.name)).to.deep.equal(["gitops-gate"]);
        const md = renderMarkdown(head);
        expect(md).to.contain("| added | `flux-ks-apps-grafana` | `kustomize.toolkit.fluxcd.io/v1:Kustomization` |");
        expect(md).to.contain("| **removed** | `flux-ks-infrastructure-onepassword` |");
        expect(diffLines(md)).to.include.members([
            "- create: … --kustomization core/infrastructure-onepassword",
            "+ create: … --kustomization applications/apps-grafana",
        ]);
        // The graph marks them: the new node green, the removed one drawn dashed where it was.
        expect(md).to.match(/class [\w,]*n_flux_ks_apps_grafana[\w,]* added/);
        expect(md).to.contain('x_flux_ks_infrastructure_onepassword["infrastructure-onepassword<br/>removed"]');
        expect(md).to.match(/class [\w,]*x_flux_ks_infrastructure_onepassword[\w,]* removed/);
    });

    it("says a changed Helm release namespace replaces the release", async () => {
        const head = await compare(base, (s) => (s.ingressNginx.namespace = "ingress-system"));
        const release = head.changes!.changed.find((r) => r.name === "ingress-nginx-release")!;
        expect(release.replaces).to.deep.equal(["namespace"]);
        expect(renderMarkdown(head)).to.contain("| **replaced** | `ingress-nginx-release` |");
        expect(renderText(head)).to.match(/~ ingress-nginx-release .*REPLACED \(namespace changed/);
    });

    it("compares a base plan from an older version that lacks the newer fields", async () => {
        const old = JSON.parse(JSON.stringify(base)) as Json;
        delete old.cluster;
        delete old.config;
        delete old.secrets;
        for (const p of old.phases) delete p.subphases;
        for (const r of old.resources) delete r.phase;
        // And one from a newer version, with fields this one does not know.
        for (const r of old.resources) r.options = { protect: false };
        const head = await planDev((s) => (s.cilium.version = "1.19.5"));
        const c = diffPlans(parseBasePlan(JSON.stringify(old), "old.json"), head);
        expect(c.changed.filter((r) => !r.type.startsWith("command:")).map((r) => r.name)).to.deep.equal(["cilium-release"]);
        expect(c.added).to.deep.equal([]);
        expect(c.removed).to.deep.equal([]);
        // Without phases in the base, each resource takes its component's.
        expect(c.phases.map((p) => p.name)).to.deep.equal(["network"]);
        expect(c.config).to.deep.equal([]);
        expect(c.notes.join("\n")).to.contain("predates the stack config").and.contain("predates secret digests");
    });

    it("compares a base plan that registered nothing, and a head that registers nothing, without calling it a teardown", async () => {
        const broken = await planDev((s) => (s.cilium.version = "latest"));
        expect(broken.resources).to.deep.equal([]);
        const fixed = diffPlans(asBase(broken), base);
        expect(fixed.added).to.have.length(base.resources.length);
        expect(fixed.errors.resolved.map((e) => e.path)).to.deep.equal(["talos-platform:cilium.version"]);
        const breaking = diffPlans(asBase(base), broken);
        expect(breaking.removed).to.deep.equal([]);
        expect(breaking.findings.resolved).to.deep.equal([]);
        expect(breaking.errors.new.map((e) => e.path)).to.deep.equal(["talos-platform:cilium.version"]);
        expect(breaking.notes.join("\n")).to.contain("registered nothing");
    });

    it("keeps a large diff under GitHub's comment limit, with counts and the first lines", async () => {
        const head = await compare(base, (s) => {
            const phases: Json[] = [];
            for (let i = 0; i < 500; i++) {
                if (i % 25 === 0) phases.push({ name: `phase-${phases.length + 1}`, kustomizations: [] });
                phases[phases.length - 1].kustomizations.push({ name: `app-${i + 1}`, path: `./apps/app-${i + 1}` });
            }
            s.flux.phases = phases;
            s.cilium.version = "1.19.5";
        });
        const c = head.changes!;
        expect(c.added.length).to.be.greaterThan(500);
        const md = renderMarkdown(head);
        expect(md.length).to.be.at.most(MARKDOWN_BUDGET).and.below(65_536);
        expect(md).to.contain(`${c.added.length} added`);
        expect(md).to.contain("left out to fit a GitHub comment");
        // The small change is not drowned by the large one.
        expect(diffLines(md)).to.include.members(["- version: 1.19.4", "+ version: 1.19.5"]);
        expect(md).to.contain("<details><summary>The whole plan");
        expect(md).to.contain("</details>");
    });
});

describe("plan --base: the config each phase's gate digest covers", () => {
    // Each PHASE_CONFIG path changed alone changes that phase's digest and only the phases listing it.
    const edits: Record<string, (s: Record<string, Json>) => void> = {
        // Another node network next to the first: the BGP peer stays reachable, so the ingress pool's severity stays as it is.
        cluster: (s) => (s.cluster.nodeSubnets = [...s.cluster.nodeSubnets, "172.29.60.0/24"]),
        cilium: (s) => (s.cilium.values = { ...(s.cilium.values ?? {}), debug: { enabled: true } }),
        "cluster.dnsDomain": (s) => (s.cluster.dnsDomain = "cluster.example"),
        coredns: (s) => (s.coredns.replicas = 3),
        certManager: (s) => (s.certManager.values = { replicaCount: 2 }),
        ingressNginx: (s) => (s.ingressNginx.replicas = 3),
        "cilium.loadBalancerPools": (s) => (s.cilium.loadBalancerPools[0].blocks = [{ start: "172.29.52.100", stop: "172.29.52.150" }]),
        flux: (s) => (s.flux.phases[0].kustomizations[0].path = "./infrastructure/sources-v2"),
    };
    const digests = (s: Record<string, Json>) => {
        const config = validateConfig(raw(s)).config!;
        return Object.fromEntries(PHASES.map((p) => [p, phaseDigest(config, p)]));
    };

    for (const [path, edit] of Object.entries(edits)) {
        it(`a change under ${path} re-triggers exactly the phases whose PHASE_CONFIG covers it`, () => {
            const before = digests(devSections());
            const s = devSections();
            edit(s);
            const after = digests(s);
            const triggered = PHASES.filter((p) => before[p] !== after[p]);
            const covered = PHASES.filter((p) => PHASE_CONFIG[p].some((c) => path === c || path.startsWith(c + ".")));
            expect(triggered).to.deep.equal(covered);
        });
    }
});

describe("field-level differences", () => {
    it("compares named list elements by name, and reports a new order once", () => {
        const before = {
            pools: [
                { name: "a", x: 1 },
                { name: "b", x: 2 },
            ],
        };
        const after = {
            pools: [
                { name: "b", x: 3 },
                { name: "a", x: 1 },
                { name: "c", x: 4 },
            ],
        };
        expect(diffValues(before, after)).to.deep.equal([
            { path: "pools", before: ["a", "b"], after: ["b", "a", "c"], change: "reordered" },
            { path: "pools[name=b].x", before: 2, after: 3, change: "changed" },
            { path: "pools[name=c]", before: null, after: { name: "c", x: 4 }, change: "added" },
        ]);
    });

    it("compares other lists element by element, lists of scalars whole, and quotes keys that are not identifiers", () => {
        expect(diffValues({ l: [{ a: 1 }, { a: 2 }] }, { l: [{ a: 1 }] })).to.deep.equal([
            { path: "l[1]", before: { a: 2 }, after: null, change: "removed" },
        ]);
        expect(diffValues({ caps: ["A", "B"] }, { caps: ["B", "A"] })).to.deep.equal([
            { path: "caps", before: ["A", "B"], after: ["B", "A"], change: "changed" },
        ]);
        expect(diffValues({ labels: { "io.cilium/pool": "x" } }, { labels: { "io.cilium/pool": "y" } })).to.deep.equal([
            { path: 'labels["io.cilium/pool"]', before: "x", after: "y", change: "changed" },
        ]);
    });

    it("tells a new map leaf by leaf, and finds nothing between equal values", () => {
        expect(diffValues({}, { values: { a: { b: true } } })).to.deep.equal([
            { path: "values.a.b", before: null, after: true, change: "added" },
        ]);
        expect(diffValues({ a: [1, { b: null }] }, { a: [1, { b: null }] })).to.deep.equal([]);
    });
});

describe("plan --base on the command line", function () {
    this.timeout(120_000);
    const dev = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");

    /** A stack file named Pulumi.dev.yaml in a directory of its own, so both plans are of stack dev. */
    function stackFile(text: string): string {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-platform-diff-"));
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), text);
        return path.join(dir, "Pulumi.dev.yaml");
    }

    async function plan(args: string[]) {
        let out = "";
        let err = "";
        const io: Io = { out: (t) => (out += t), err: (t) => (err += t), cwd: ROOT };
        return { code: await main(args, io), out, err };
    }

    /** The base plan's JSON, written as the workflow writes it. */
    async function baseJson(text: string): Promise<string> {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "talos-platform-base-")), "base.json");
        expect((await plan(["--config", stackFile(text), "--format", "json", "--out", file])).code).to.be.oneOf([0, 1]);
        return file;
    }

    it("the Week 4 incident: kubeProxyReplacement true → false fails the plan, and the diff shows the flip, the error and what it blocks", async () => {
        const withKpr = (v: boolean) => {
            const doc = parseDocument(dev);
            doc.setIn(["config", "talos-platform:cilium", "values", "kubeProxyReplacement"], v);
            return doc.toString();
        };
        const base = await baseJson(withKpr(true));
        const head = stackFile(withKpr(false));

        const json = await plan(["--config", head, "--base", base, "--format", "json"]);
        expect(json.code, json.err).to.equal(1);
        const doc = JSON.parse(json.out);
        expect(doc.ok).to.equal(false);
        const kpr = "talos-platform:cilium.values.kubeProxyReplacement";
        expect(doc.changes.config).to.deep.equal([{ path: kpr, before: true, after: false, change: "changed" }]);
        expect(doc.changes.errors.new.map((e: Json) => e.path)).to.deep.equal([kpr]);
        expect(doc.changes.errors.new[0].message).to.contain("the Week 4 incident");
        expect(doc.changes.phases).to.deep.equal([
            { name: "network", added: 0, removed: 0, changed: 0, subphases: [], blocks: GITOPS_AND_LATER, config: [kpr] },
        ]);

        const md = await plan(["--config", head, "--base", base, "--format", "markdown"]);
        expect(md.code).to.equal(1);
        expect(diffLines(md.out)).to.include.members([`- ${kpr}: true`, `+ ${kpr}: false`]);
        expect(md.out).to.contain(
            "##### 1. network: its config changes: `talos-platform:cilium.values.kubeProxyReplacement` · blocks dns, certificates, ingress, gitops",
        );
        expect(md.out.indexOf("#### Config errors")).to.be.below(md.out.indexOf("#### Changes"));
        expect(md.out).to.contain("**New config errors**");
        const text = await plan(["--config", head, "--base", base]);
        expect(text.out).to.contain(`${kpr}: true → false`);
    });

    it("says a secret changed when its ciphertext did, and never shows it", async () => {
        const ciphertext = "v1:placeholder-not-a-real-ciphertext";
        const rotated = "v1:rotated-placeholder-ciphertext-2";
        expect(dev).to.contain(ciphertext);
        const base = await baseJson(dev);
        const head = stackFile(dev.replace(ciphertext, rotated));

        const json = await plan(["--config", head, "--base", base, "--format", "json"]);
        expect(json.code).to.equal(0);
        const c = JSON.parse(json.out).changes;
        const key = "talos-platform:cloudflareApiToken";
        expect(c.secrets).to.deep.equal([{ key, change: "changed" }]);
        expect(c.changed.map((r: Json) => [r.name, r.fields])).to.deep.equal(
            ["cluster-issuers-letsencrypt-staging-token", "cluster-issuers-letsencrypt-prod-token"].map((name) => [
                name,
                [{ path: "stringData", before: "[secret]", after: "[secret]", change: "changed", secret: key }],
            ]),
        );
        expect(c.config).to.deep.equal([]);
        const md = (await plan(["--config", head, "--base", base, "--format", "markdown"])).out;
        const text = (await plan(["--config", head, "--base", base])).out;
        expect(diffLines(md)).to.include(`+ stringData: [secret], changed: ${key} has a new ciphertext`);
        expect(text).to.contain(`stringData: [secret] changed (${key} has a new ciphertext; the value is never shown)`);
        for (const out of [json.out, md, text]) expect(out).to.not.contain(ciphertext).and.not.contain(rotated).and.not.contain("rotated");

        // The same ciphertext: no change, although both plans say "[secret]".
        const same = JSON.parse((await plan(["--config", stackFile(dev), "--base", base, "--format", "json"])).out).changes;
        expect(same.secrets).to.deep.equal([]);
        expect(same.changed).to.deep.equal([]);
    });

    it("refuses a --base that is missing or not a plan before planning, as a usage error", async () => {
        const missing = await plan(["--base", "no-such-plan.json"]);
        expect(missing.code).to.equal(2);
        expect(missing.err).to.contain("--base no-such-plan.json: cannot read").and.contain("ENOENT");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-platform-base-"));
        fs.writeFileSync(path.join(dir, "plan.md"), "### talos-platform plan\n");
        fs.writeFileSync(path.join(dir, "other.json"), JSON.stringify({ name: "x" }));
        const md = await plan(["--base", path.join(dir, "plan.md")]);
        expect(md.code).to.equal(2);
        expect(md.err).to.contain("is not JSON").and.contain("--format json");
        const other = await plan(["--base", path.join(dir, "other.json")]);
        expect(other.code).to.equal(2);
        expect(other.err).to.contain('is not a talos-platform plan: it has no "resources" list');
    });
});
