import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { parse, stringify } from "yaml";
import { main } from "../../cli/adopt";
import type { AdoptReport } from "../../lib/adopt";
import { decodeReleaseData, latestRevisions, releaseFromSecret } from "../../lib/adopt/helm";
import type { ImportFile } from "../../lib/adopt/importfile";
import { support } from "../../lib/adopt/support";
import type { CheckerIo } from "../../lib/gates/checker";
import { mergeValues } from "../../lib/merge";
import { runPlan } from "../../lib/plan/run";
import { readStackFile } from "../../lib/plan/stackfile";
import {
    ciliumConfig,
    crd,
    freshCluster,
    helmSecret,
    managedCluster,
    object,
    WEEK4_CILIUM_VALUES,
    week4Cluster,
    week4Prepared,
} from "../adopt-scenarios";
import { devConfig } from "../cluster-scenarios";
import { parseMarkdown, readDoc } from "../docs";
import { FakeKube } from "../fake-kube";
import { CUSTOM_DOMAIN, Json, ROOT } from "../helpers";

// `npm run adopt` end to end: the real client against the fake API server,
// the plan run offline from a stack file, the report as a tool reads it.

interface Run {
    code: number;
    out: string;
    err: string;
    report?: AdoptReport;
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "tp-adopt-"));

async function adopt(fake: FakeKube, args: string[], over: Partial<CheckerIo> = {}): Promise<Run> {
    let out = "";
    let err = "";
    const io: CheckerIo = {
        out: (t) => (out += t),
        err: (t) => (err += t),
        cwd: over.cwd ?? tmp(),
        projectDir: ROOT,
        signal: new AbortController().signal,
        ...over,
    };
    const code = await main([...args, "--kubeconfig", fake.kubeconfig()], io);
    const json = args.includes("json");
    return { code, out, err, report: json && out ? (JSON.parse(out) as AdoptReport) : undefined };
}

/** The dev stack as it stood before it followed talconfig.yaml: the report's Talos patch's domain, CoreDNS by this program. */
function week4StackFile(): string {
    const doc = parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
    doc.config["talos-platform:cluster"].dnsDomain = CUSTOM_DOMAIN;
    doc.config["talos-platform:cluster"].coreDnsDisabled = true;
    const file = path.join(tmp(), "Pulumi.week4.yaml");
    fs.writeFileSync(file, stringify(doc));
    return file;
}

const rules = (r: AdoptReport) => [...new Set(r.findings.map((f) => f.rule))].sort();
const blocking = (r: AdoptReport) => r.findings.filter((f) => f.severity === "blocking");
const match = (r: AdoptReport, resource: string) => r.matches.find((m) => m.resource === resource)!;

describe("npm run adopt against a fake API server", function () {
    this.timeout(60_000);
    let fake: FakeKube;
    beforeEach(async () => {
        fake = await new FakeKube().start();
    });
    afterEach(async () => {
        // Read-only, whatever happened: the fake records every request's method.
        expect([...new Set(fake.requests.map((r) => r.method))].filter((m) => m !== "GET")).to.deep.equal([]);
        await fake.stop();
    });

    describe("a fresh Talos cluster", () => {
        it("finds nothing to adopt and nothing blocking: exit 0, no import file, the sequence without an import", async () => {
            freshCluster(fake, devConfig());
            const dir = tmp();
            const { code, report, err } = await adopt(fake, ["--stack", "dev", "--format", "json", "--import-file", "import.json"], {
                cwd: dir,
            });
            expect(code, err).to.equal(0);
            const r = report!;
            expect(r.counts).to.deep.equal({ create: r.matches.length, import: 0, managed: 0, conflict: 0 });
            expect(r.findings).to.deep.equal([]);
            expect(r.importFile).to.equal(undefined);
            expect(fs.existsSync(path.join(dir, "import.json"))).to.equal(false);
            expect(err).to.contain("nothing to import: import.json not written");
            expect(r.commands.map((c) => c.command)).to.deep.equal([
                "pulumi stack select --create dev",
                "pulumi preview --diff",
                "pulumi up",
                "npm run doctor -- --stack dev",
            ]);
            expect(r.cluster).to.include({
                kubernetesVersion: "v1.34.2",
                identity: "5f0c0a52-7d36-4c1e-9a3b-2b8d61c0e4a1",
                kubeProxy: false,
            });
            expect(r.cluster.nodes.map((n) => n.clusterDomain)).to.deep.equal(["cluster.local", "cluster.local", "cluster.local"]);
            expect(r.cluster.coredns).to.deep.equal({ namespace: "kube-system", name: "coredns" });
        });

        it("prints progress on standard error and the report on standard output", async () => {
            freshCluster(fake, devConfig());
            const { code, out, err } = await adopt(fake, ["--stack", "dev"]);
            expect(code).to.equal(0);
            expect(err)
                .to.match(/^adopt: planning stack dev offline$/m)
                .and.match(/^adopt: reading Helm releases/m);
            expect(out).to.not.contain("adopt: reading");
            expect(out).to.contain("0 to import, 0 already managed, 0 in conflict").and.contain("nothing to import.");
            expect(out).to.contain("1. pulumi stack select --create dev");
        });
    });

    describe("the Week 4 cluster", () => {
        let run: Run;
        let text: string;
        before(async () => {
            const file = week4StackFile();
            const f = await new FakeKube().start();
            week4Cluster(f);
            const dir = tmp();
            run = await adopt(f, ["--config", file, "--format", "json", "--import-file", "import.json"], { cwd: dir });
            run.report!.importFilePath = path.join(dir, "import.json");
            text = (await adopt(f, ["--config", file])).out;
            expect(f.requests.every((r) => r.method === "GET")).to.equal(true);
            await f.stop();
        });

        it("blocks (exit 1) with a finding of every transition rule", () => {
            expect(run.code, run.err).to.equal(1);
            expect(rules(run.report!)).to.include.members([
                "cilium-minor-jump",
                "cilium-ipam-mode",
                "cilium-ipv6",
                "cilium-bgp-v1",
                "kube-proxy",
                "kubernetes-version",
                "two-owners",
                "helm-release-state",
                "cluster-domain",
                "cluster-facts",
                "crd-version",
            ]);
            expect(text).to.contain("block the adoption: fix them first");
        });

        it("refuses Cilium 1.17.6 → 1.19.4 in one step, and says to go through 1.18", () => {
            const [f] = run.report!.findings.filter((x) => x.rule === "cilium-minor-jump");
            expect(f.severity).to.equal("blocking");
            expect(f.evidence[0]).to.contain("chart cilium 1.17.6").and.contain("1.19.4");
            expect(f.fix[0]).to.contain("latest 1.18 patch");
        });

        it("refuses cluster-pool → kubernetes IPAM and IPv6 switched on, with the live settings as evidence", () => {
            const ipam = run.report!.findings.find((x) => x.rule === "cilium-ipam-mode")!;
            expect(ipam.evidence).to.include("ConfigMap kube-system/cilium-config: ipam: cluster-pool");
            expect(ipam.fix[0]).to.contain("talos-platform:cilium.values.ipam.mode to cluster-pool");
            const v6 = run.report!.findings.find((x) => x.rule === "cilium-ipv6")!;
            expect(v6.severity).to.equal("blocking");
            expect(v6.evidence[0]).to.equal("ConfigMap kube-system/cilium-config: enable-ipv6: false");
        });

        it("says the BGP v1 policy is removed in 1.19 and that the plan's v2 objects peer with the same router", () => {
            const f = run.report!.findings.find((x) => x.rule === "cilium-bgp-v1")!;
            expect(f.severity).to.equal("blocking");
            expect(f.evidence).to.include(
                "CiliumBGPPeeringPolicy bgp-peering-policy (cilium.io/v2alpha1): local AS 64512, neighbor 172.29.51.1 AS 64513",
            );
            expect(f.evidence.join("\n"))
                .to.contain("replaced by the plan's CiliumBGPClusterConfig peer gateway")
                .and.contain("exportPodCIDR");
            expect(f.consequence).to.contain("the plan's v2 objects peer with the same routers");
        });

        it("says the cluster is in the Week 4 state now, and that kube-proxy replacement is the fix", () => {
            const f = run.report!.findings.find((x) => x.rule === "kube-proxy")!;
            expect(f.severity).to.equal("info");
            expect(f.evidence).to.include("no kube-proxy DaemonSet in kube-system");
            const cilium = run.report!.values.find((v) => v.target === "Helm release kube-system/cilium")!;
            const kpr = cilium.diffs.find((d) => d.path === "kubeProxyReplacement")!;
            expect([kpr.live, kpr.planned]).to.deep.equal([false, true]);
            expect(kpr.note).to.contain("the Week 4 fix");
            const ipam = cilium.diffs.find((d) => d.path === "ipam.mode")!;
            expect(ipam).to.include({ live: "cluster-pool", planned: "kubernetes", unsafe: true });
            expect(ipam.note).to.contain("not safe on a running cluster");
            expect(text).to.contain("kubeProxyReplacement: false → true").and.contain("ipam.mode: cluster-pool → kubernetes   UNSAFE");
        });

        it("refuses cert-manager 1.21 and Flux 2.9 on Kubernetes 1.31, by their upstream support ranges", () => {
            const found = run.report!.findings.filter((x) => x.rule === "kubernetes-version");
            // cert-manager 1.21: 1.33-1.36; Flux 2.9: 1.34.1 and later; Cilium 1.19 and ingress-nginx 1.15 include 1.31.
            expect(found.map((f) => [f.subject, f.severity])).to.deep.equal([
                ["cert-manager v1.21.1", "blocking"],
                ["flux 2.9.4", "blocking"],
            ]);
            expect(found[1].evidence.join("\n")).to.contain("API server: v1.31.1; kubelets: v1.31.1").and.contain("1.34.1");
        });

        it("names every Flux object that also owns what the plan will own, with a handover that deletes no workload", () => {
            const owners = run.report!.findings.filter((x) => x.rule === "two-owners");
            expect(owners.map((f) => f.subject)).to.have.members([
                "HelmRelease cert-manager/cert-manager",
                "HelmRelease ingress-nginx/ingress-nginx",
                "Kustomization flux-system/infrastructure-cilium-pools",
                "Kustomization flux-system/flux-system",
                "Kustomization flux-system/infrastructure-cilium-bgp",
            ]);
            const root = owners.find((f) => f.subject === "Kustomization flux-system/flux-system")!;
            expect(root.evidence[0])
                .to.contain("GitRepository flux-system/flux-system")
                .and.contain("Kustomization flux-system/infrastructure-sources")
                .and.contain("Deployment flux-system/source-controller");
            for (const f of owners) {
                const steps = f.fix.join("\n");
                const order = ["flux suspend", `"prune":false`, " delete "].map((s) => steps.indexOf(s));
                expect(order, f.subject).to.deep.equal([...order].sort((a, b) => a - b));
                expect(
                    order.every((i) => i >= 0),
                    f.subject,
                ).to.equal(true);
                // No command removes a workload: no helm uninstall, no deletion of what runs.
                expect(steps, f.subject).to.not.match(
                    /(^|\n)helm [^\n]*uninstall|kubectl [^\n#]*delete (deployment|daemonset|namespace|helmrelease [^\n]*--cascade)/,
                );
            }
            const cm = owners.find((f) => f.subject === "HelmRelease cert-manager/cert-manager")!;
            expect(cm.fix[0]).to.match(/^flux suspend kustomization infrastructure-cert-manager -n flux-system/);
            expect(cm.fix[1]).to.match(/^flux suspend helmrelease cert-manager -n cert-manager/);
            expect(cm.fix[3]).to.match(/^kubectl -n cert-manager delete helmrelease cert-manager/);
        });

        it("says the failed ingress-nginx release must be cleared first", () => {
            const f = run.report!.findings.find((x) => x.rule === "helm-release-state")!;
            expect(f.subject).to.equal("Helm release ingress-nginx/ingress-nginx");
            expect(f.evidence[0]).to.contain("revision 1, status failed");
            expect(f.fix[1]).to.match(/^helm -n ingress-nginx uninstall ingress-nginx/);
        });

        it("compares the kubelets' cluster domain and the control plane's subnets with the stack", () => {
            const domain = run.report!.findings.find((x) => x.rule === "cluster-domain")!;
            expect(domain.evidence).to.include("node mini01: kubelet clusterDomain cluster.local (GET /api/v1/nodes/mini01/proxy/configz)");
            expect(domain.fix[0]).to.contain("set talos-platform:cluster.dnsDomain to cluster.local");
            const facts = run.report!.findings.filter((x) => x.rule === "cluster-facts");
            expect(facts.map((f) => f.subject)).to.have.members(["pod subnets", "who runs CoreDNS"]);
            expect(facts.find((f) => f.subject === "pod subnets")!.evidence[0]).to.equal(
                "Pod kube-system/kube-controller-manager-mini01: 10.244.0.0/16,fd47:25e1:2f96:51:2000::/64",
            );
        });

        it("imports the helm-installed Cilium release alone, under its component and through the program's provider", () => {
            expect(match(run.report!, "cilium-release")).to.include({ status: "import", id: "kube-system/cilium" });
            for (const name of [
                "cert-manager-release",
                "ingress-nginx-release",
                "cilium-pool-bgp-default",
                "flux-source",
                "flux-ks-infrastructure-sources",
            ])
                expect(match(run.report!, name).status, name).to.equal("conflict");
            expect(match(run.report!, "cilium-pool-bgp-default").reasons.join("\n"))
                .to.contain("serves CiliumLoadBalancerIPPool only as cilium.io/v2alpha1")
                .and.contain("Kustomization flux-system/infrastructure-cilium-pools applies it");
            const written = JSON.parse(fs.readFileSync(run.report!.importFilePath!, "utf8")) as ImportFile;
            // Pulumi's bulk import format: parents by name in the file, the provider through the nameTable.
            expect(written).to.deep.equal({
                nameTable: { kubernetes: "urn:pulumi:week4::talos-platform::pulumi:providers:kubernetes::kubernetes" },
                resources: [
                    { type: "talos-platform:network:Cilium", name: "cilium", component: true },
                    {
                        type: "kubernetes:helm.sh/v3:Release",
                        name: "cilium-release",
                        id: "kube-system/cilium",
                        parent: "cilium",
                        provider: "kubernetes",
                    },
                ],
            });
            expect(run.report!.importFile).to.deep.equal(written);
        });
    });

    describe("the Week 4 cluster, prepared as docs/adopting.md says", () => {
        it("passes round one: the running releases, pools, source and Kustomizations to import, nothing blocking", async () => {
            week4Prepared(fake);
            // The stack the page gives for round one: its YAML block, over the dev stack.
            const page = readDoc("docs/adopting.md");
            const block = parseMarkdown(page).blocks.find(
                (b) => b.lang === "yaml" && b.line > page.split("\n").findIndex((l) => l.startsWith("### 6.")),
            )!;
            const doc = mergeValues(parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")), parse(block.body));
            const file = path.join(tmp(), "Pulumi.dev.yaml");
            fs.writeFileSync(file, stringify(doc));
            const { code, report, err } = await adopt(fake, ["--config", file, "--format", "json"]);
            expect(code, err + JSON.stringify(blocking(report!), null, 1)).to.equal(0);
            const imported = report!.matches.filter((m) => m.status === "import").map((m) => m.resource);
            expect(imported).to.have.members([
                "cilium-release",
                "cert-manager-release",
                "cilium-pool-bgp-default",
                "cilium-pool-bgp-ingress",
                "cilium-pool-bgp-reserved",
                "cilium-pool-bgp-default-ipv6",
                "flux-source",
                "flux-ks-infrastructure-sources",
                "flux-ks-infrastructure-external-secrets",
                "flux-ks-infrastructure-onepassword",
                "flux-ks-infrastructure-longhorn",
                "flux-ks-infrastructure-monitoring",
                "flux-ks-infrastructure-external-dns",
                "flux-ks-infrastructure-cloudflare-tunnel",
                "flux-ks-apps-dashboard",
                "flux-ks-apps-monitoring",
            ]);
            expect(report!.counts.conflict).to.equal(0);
            // What stays to do after round one: BGP v1 (still served by 1.18), the Week 4 fix itself, Flux 2.8's unknown support.
            expect(report!.findings.map((f) => [f.rule, f.severity])).to.have.deep.members([
                ["cilium-bgp-v1", "warning"],
                ["kube-proxy", "info"],
                ["kubernetes-version", "info"],
            ]);
            const components = report!.importFile!.resources.filter((e) => e.component).map((e) => e.name);
            expect(components).to.have.members([
                "cilium",
                "cert-manager",
                "flux",
                "flux-phase-core",
                "flux-phase-storage-and-monitoring",
                "flux-phase-networking",
                "flux-phase-applications",
            ]);
        });
    });

    describe("a cluster this program already manages", () => {
        it("matches everything and imports nothing: exit 0", async () => {
            const config = devConfig();
            const plan = await runPlan(readStackFile(path.join(ROOT, "Pulumi.dev.yaml"), "dev"));
            managedCluster(fake, config, plan);
            const { code, report, err } = await adopt(fake, ["--stack", "dev", "--format", "json"]);
            expect(code, err + JSON.stringify(report?.findings, null, 1)).to.equal(0);
            expect(report!.matches.filter((m) => m.status !== "managed").map((m) => `${m.resource}: ${m.status}`)).to.deep.equal([]);
            expect(report!.matches).to.have.length(plan.resources.filter((r) => r.type.startsWith("kubernetes:")).length);
            expect(report!.importFile).to.equal(undefined);
            expect(
                report!.values.every((v) => v.diffs.length === 0),
                JSON.stringify(report!.values),
            ).to.equal(true);
            expect(report!.findings.filter((f) => f.severity !== "info")).to.deep.equal([]);
        });
    });

    describe("a release stuck in pending-upgrade", () => {
        it("blocks on it alone, and rolls back to the last deployed revision", async () => {
            freshCluster(fake, devConfig());
            const values = { ipam: { mode: "kubernetes" }, kubeProxyReplacement: true };
            fake.put(
                helmSecret({
                    name: "cilium",
                    namespace: "kube-system",
                    revision: 1,
                    status: "deployed",
                    chart: "cilium",
                    version: "1.19.4",
                    values,
                    manager: "helm",
                }),
                helmSecret({
                    name: "cilium",
                    namespace: "kube-system",
                    revision: 2,
                    status: "pending-upgrade",
                    chart: "cilium",
                    version: "1.19.4",
                    values,
                    manager: "helm",
                }),
                ciliumConfig({ ipam: "kubernetes", "kube-proxy-replacement": "true", "enable-ipv6": "true" }),
            );
            const { code, report } = await adopt(fake, ["--stack", "dev", "--format", "json"]);
            expect(code).to.equal(1);
            expect(blocking(report!).map((f) => f.rule)).to.deep.equal(["helm-release-state"]);
            const f = blocking(report!)[0];
            expect(f.evidence[0]).to.contain("revision 2, status pending-upgrade");
            expect(f.consequence).to.contain("another operation (install/upgrade/rollback) is in progress");
            expect(f.fix).to.deep.equal([
                "helm -n kube-system history cilium",
                "helm -n kube-system rollback cilium 1   # revision 1 is the last one deployed",
                "run `npm run adopt` again; if this stack's state already holds the release, run `pulumi refresh` after the fix",
            ]);
            expect(match(report!, "cilium-release")).to.include({ status: "conflict" });
        });
    });

    describe("Helm values with credentials", () => {
        it("shows a credential's path and [secret], never its value, in text and JSON", async () => {
            week4Cluster(fake);
            const password = "s3cr3t-bgp-md5-Pa55";
            const token = "ghp_ZxY9wV8uT7sR6qP5oN4mL3kJ2iH1gF0eD9cB";
            fake.put(
                helmSecret({
                    name: "cilium",
                    namespace: "kube-system",
                    revision: 2,
                    status: "deployed",
                    chart: "cilium",
                    version: "1.17.6",
                    values: { ...WEEK4_CILIUM_VALUES, extraConfig: { "bgp-md5-password": password }, annotations: { note: token } },
                    manager: "helm",
                }),
            );
            const file = week4StackFile();
            const json = await adopt(fake, ["--config", file, "--format", "json"]);
            const text = await adopt(fake, ["--config", file]);
            for (const r of [json, text]) {
                expect(r.out + r.err)
                    .to.not.contain(password)
                    .and.not.contain(token)
                    .and.not.contain(Buffer.from(password).toString("base64"));
            }
            const diffs = json.report!.values.find((v) => v.target === "Helm release kube-system/cilium")!.diffs;
            expect(diffs.filter((d) => d.secret).map((d) => [d.path, d.live])).to.deep.equal([
                ["annotations.note", "[secret]"],
                ["extraConfig.bgp-md5-password", "[secret]"],
            ]);
            expect(text.out).to.contain("extraConfig.bgp-md5-password: [secret] differs");
        });
    });

    describe("the import file", () => {
        it("recreates the program's component parents, so every imported URN is the one pulumi up registers", async () => {
            freshCluster(fake, devConfig());
            for (const [name, namespace, chart, version] of [
                ["cilium", "kube-system", "cilium", "1.19.4"],
                ["cert-manager", "cert-manager", "cert-manager", "v1.21.1"],
            ])
                fake.put(helmSecret({ name, namespace, revision: 1, status: "deployed", chart, version, manager: "helm" }));
            fake.put(
                crd("kustomize.toolkit.fluxcd.io", "Kustomization", ["v1"], true),
                object("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "infrastructure-sources", "flux-system", {
                    spec: { path: "./infrastructure/sources" },
                }),
            );
            const { report } = await adopt(fake, ["--stack", "dev", "--format", "json"]);
            const file = report!.importFile!;
            // Pulumi's URN: urn:pulumi:<stack>::<project>::<parent types$…$type>::<name>, root stack left out.
            const byName = new Map(file.resources.map((e) => [e.name, e]));
            const qualified = (name: string): string => {
                const e = byName.get(name)!;
                return e.parent ? `${qualified(e.parent)}$${e.type}` : e.type;
            };
            const urns = file.resources.map((e) => `urn:pulumi:dev::talos-platform::${qualified(e.name)}::${e.name}`);
            expect(urns).to.have.members([
                "urn:pulumi:dev::talos-platform::talos-platform:network:Cilium::cilium",
                "urn:pulumi:dev::talos-platform::talos-platform:network:Cilium$kubernetes:helm.sh/v3:Release::cilium-release",
                "urn:pulumi:dev::talos-platform::talos-platform:certificates:CertManager::cert-manager",
                "urn:pulumi:dev::talos-platform::talos-platform:certificates:CertManager$kubernetes:helm.sh/v3:Release::cert-manager-release",
                "urn:pulumi:dev::talos-platform::talos-platform:gitops:Flux::flux",
                "urn:pulumi:dev::talos-platform::talos-platform:gitops:Flux$talos-platform:gitops:FluxPhase::flux-phase-core",
                "urn:pulumi:dev::talos-platform::talos-platform:gitops:Flux$talos-platform:gitops:FluxPhase$kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization::flux-ks-infrastructure-sources",
            ]);
            // Every parent is in the file before its children, components carry no id, custom resources the provider.
            file.resources.forEach((e, i) => {
                if (e.parent)
                    expect(
                        file.resources.findIndex((p) => p.name === e.parent),
                        e.name,
                    ).to.be.lessThan(i);
                if (e.component) expect(e).to.not.have.property("id");
                else expect(e.provider).to.equal("kubernetes");
            });
            expect(byName.get("flux-ks-infrastructure-sources")!.id).to.equal("flux-system/infrastructure-sources");
            expect(report!.commands.map((c) => c.command)).to.deep.equal([
                "pulumi stack select --create dev",
                "npm run -s adopt -- --stack dev --kubeconfig " + fake.kubeconfig() + " --import-file import.json",
                "pulumi up --target 'urn:pulumi:dev::talos-platform::pulumi:providers:kubernetes::kubernetes' --yes",
                "pulumi import --file import.json --generate-code=false --yes",
                "pulumi preview --diff",
                "pulumi up",
                "npm run doctor -- --stack dev",
            ]);
        });
    });

    describe("errors and bounds", () => {
        it("exits 2 when the API server does not answer within --timeout", async () => {
            freshCluster(fake, devConfig());
            fake.silent = /^\/api\/v1\/secrets$/;
            const { code, err } = await adopt(fake, ["--stack", "dev", "--timeout", "1s"]);
            expect(code).to.equal(2);
            expect(err).to.contain("did not answer in time (--timeout)").and.contain("reading Helm release Secrets");
        });

        it("exits 2 when the API server cannot be reached", async () => {
            const gone = await new FakeKube().start();
            const kubeconfig = path.join(tmp(), "kubeconfig");
            fs.copyFileSync(gone.kubeconfig(), kubeconfig);
            await gone.stop();
            let err = "";
            const io: CheckerIo = {
                out: () => {},
                err: (t) => (err += t),
                cwd: tmp(),
                projectDir: ROOT,
                signal: new AbortController().signal,
            };
            expect(await main(["--stack", "dev", "--kubeconfig", kubeconfig], io)).to.equal(2);
            expect(err).to.contain("is unreachable from this machine");
        });

        it("exits 2 on usage errors before reading anything, and 0 for --help with the exit statuses", async () => {
            for (const args of [
                ["--format", "xml"],
                ["--timeout", "soon"],
                ["--frobnicate"],
                ["--import-file", "no/such/dir/import.json"],
            ]) {
                const { code, err } = await adopt(fake, ["--stack", "dev", ...args]);
                expect(code, args.join(" ")).to.equal(2);
                expect(err, args.join(" ")).to.contain("usage: npm run adopt");
            }
            expect(fake.requests).to.deep.equal([]);
            let out = "";
            const io: CheckerIo = { out: (t) => (out += t), err: () => {}, cwd: ROOT, signal: new AbortController().signal };
            expect(await main(["--help"], io)).to.equal(0);
            const codes = [...out.slice(out.indexOf("Exit status:")).matchAll(/(?:^|[:;,])\s+(\d+)\s/g)].map((m) => Number(m[1]));
            expect(codes).to.deep.equal([0, 1, 2, 3, 130]);
        });

        it("exits 130 when interrupted, without waiting for the API server", async () => {
            freshCluster(fake, devConfig());
            fake.silent = /^\/api\/v1\/secrets$/;
            const controller = new AbortController();
            setTimeout(() => controller.abort(), 3000);
            const { code, err } = await adopt(fake, ["--stack", "dev", "--timeout", "1m"], { signal: controller.signal });
            expect(code).to.equal(130);
            expect(err).to.contain("adopt: interrupted");
        });
    });
});

describe("Helm release Secrets", () => {
    it("decodes Helm 3's double base64 of gzip, and the uncompressed form of releases stored before compression", async () => {
        const secret = helmSecret({
            name: "cilium",
            namespace: "kube-system",
            revision: 3,
            status: "deployed",
            chart: "cilium",
            version: "1.17.6",
            values: { a: 1 },
            manager: "helm",
        });
        const inner = Buffer.from(Buffer.from(secret.data.release, "base64").toString("latin1"), "base64");
        expect([...inner.subarray(0, 3)]).to.deep.equal([0x1f, 0x8b, 0x08]);
        expect(decodeReleaseData(secret.data.release)).to.include({ name: "cilium", version: 3 });
        const plain = Buffer.from(
            Buffer.from(JSON.stringify({ name: "old", version: 1, info: { status: "deployed" } })).toString("base64"),
        ).toString("base64");
        expect(decodeReleaseData(plain)).to.include({ name: "old" });
        expect(
            releaseFromSecret({
                name: "x",
                namespace: "y",
                data: { release: Buffer.from("not-base64-gzip").toString("base64") },
                managers: [],
            }),
        ).to.have.property("error");
        const gz = (r: Json) => ({
            name: "s",
            namespace: "ns",
            data: { release: Buffer.from(gzipSync(Buffer.from(JSON.stringify(r))).toString("base64")).toString("base64") },
            managers: [],
        });
        const revs = [1, 2, 3].map((v) =>
            releaseFromSecret(
                gz({ name: "r", namespace: "ns", version: v, info: { status: v === 3 ? "failed" : v === 2 ? "deployed" : "superseded" } }),
            ),
        );
        const [latest] = latestRevisions(revs as never);
        expect(latest).to.include({ revision: 3, status: "failed", lastDeployed: 2 });
    });
});

describe("Kubernetes version support", () => {
    it("reads each row's bounds: below the minimum refused, above the newest tested minor a warning", async () => {
        // Flux 2.9 release notes: 1.34 from 1.34.1 on, up to 1.36.
        expect(support("flux", "2.9.4", "v1.34.0").kind).to.equal("too-old");
        expect(support("flux", "2.9.4", "v1.34.1").kind).to.equal("supported");
        expect(support("flux", "2.9.4", "v1.36.9").kind).to.equal("supported");
        expect(support("flux", "2.9.4", "v1.37.0").kind).to.equal("untested");
        // cert-manager 1.21: 1.33 to 1.36.
        expect(support("cert-manager", "v1.21.1", "v1.32.9").kind).to.equal("too-old");
        expect(support("cert-manager", "v1.21.1", "v1.33.0").kind).to.equal("supported");
        // ingress-nginx chart 4.15.x is controller 1.15: 1.31 to 1.35.
        expect(support("ingress-nginx", "4.15.1", "v1.30.5").kind).to.equal("too-old");
        expect(support("ingress-nginx", "4.15.1", "v1.35.0").kind).to.equal("supported");
        expect(support("cilium", "1.19.4", "v1.36.0").kind).to.equal("untested");
        expect(support("cilium", "1.20.0", "v1.34.0").kind).to.equal("unknown");
    });
});
