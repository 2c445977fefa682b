import { expect } from "chai";
import type { Plan } from "../lib/plan/model";
import { renderMarkdown, renderMermaid, renderText, topLevelEdges } from "../lib/plan/render";
import { byName, Json, planDev, withoutGateway } from "./helpers";

describe("plan rendering", () => {
    let plan: Plan;
    before(async () => {
        plan = await planDev();
    });

    it("draws the recovery order as edges between components and gates", () => {
        const edges = topLevelEdges(plan).map(
            ([a, b]) => `${plan.resources.find((r) => r.urn === a)!.name} -> ${plan.resources.find((r) => r.urn === b)!.name}`,
        );
        expect(edges).to.include.members([
            "cilium -> network-gate",
            "network-gate -> coredns",
            "coredns -> dns-gate",
            "dns-gate -> cert-manager",
            "cert-manager -> certificates-gate",
            "certificates-gate -> ingress-nginx",
            "ingress-nginx -> ingress-gate",
            "ingress-gate -> flux",
            "flux -> gitops-gate",
        ]);
        expect(edges).to.not.include("cilium -> coredns");
    });

    it("renders a Mermaid flowchart with one subgraph per phase and gates as hexagons", () => {
        const m = renderMermaid(plan);
        expect(m.split("\n")[0]).to.equal("flowchart TB");
        for (const phase of ["network", "dns", "certificates", "ingress", "gitops"]) expect(m).to.contain(`subgraph phase_${phase}`);
        expect(m).to.match(/n_network_gate\{\{"network-gate<br\/>Gate"\}\}/);
        expect(m).to.contain("n_network_gate --> n_coredns");
    });

    it("puts a phase table, the graph and the findings in the markdown", () => {
        const md = renderMarkdown(plan);
        expect(md).to.contain("| 1 | **network**");
        expect(md).to.contain("```mermaid");
        expect(md).to.contain("#### Findings");
        expect(md).to.contain(`\`${byName(plan, "cilium-release").name}\``);
    });
});

describe("plan rendering of the cluster facts", () => {
    let plan: Plan;
    before(async () => {
        plan = await planDev();
    });

    it("records the dev stack's cluster facts, defaults applied, in the plan", () => {
        expect(plan.cluster).to.deep.equal({
            name: "home-ops",
            dnsDomain: "cluster.local",
            apiEndpoint: "https://172.29.51.10:6443",
            podSubnets: ["10.244.0.0/16", "fd47:25e1:2f96:100::/56"],
            serviceSubnets: ["10.96.0.0/12", "fd47:25e1:2f96:51:1000::/108"],
            nodeSubnets: ["172.29.51.0/24"],
            kubeProxyDisabled: true,
            kubePrism: { enabled: true, port: 7445 },
            coreDnsDisabled: false,
            forwardKubeDNSToHost: true,
            // No cluster.talosConfig: every Talos fact is the stack's.
            sources: Object.fromEntries(
                [
                    "name",
                    "apiEndpoint",
                    "dnsDomain",
                    "podSubnets",
                    "serviceSubnets",
                    "kubeProxyDisabled",
                    "coreDnsDisabled",
                    "kubePrism",
                    "forwardKubeDNSToHost",
                ].map((k) => [k, "config"]),
            ),
        });
    });

    it("prints them in the text and markdown headers, before the phases", () => {
        for (const [format, text] of [
            ["text", renderText(plan)],
            ["markdown", renderMarkdown(plan)],
        ]) {
            const header = text.slice(0, text.search(/1\. network|\| # \|/));
            for (const fact of [
                "home-ops",
                "dnsDomain",
                "cluster.local",
                "fd47:25e1:2f96:100::/56",
                "fd47:25e1:2f96:51:1000::/108",
                "172.29.51.0/24",
            ])
                expect(header, `${format}: ${fact}`).to.contain(fact);
            expect(header, format)
                .to.contain("kube-proxy disabled")
                .and.match(/KubePrism on port `?7445/);
        }
    });

    it("says when kube-proxy runs and KubePrism is off", async () => {
        const other = await planDev((s) => {
            s.cluster.kubeProxyDisabled = false;
            s.cluster.kubePrism = { enabled: false };
            withoutGateway(s);
        });
        const header = renderText(other).split("\n\n")[0];
        expect(header, renderText(other).slice(0, 2000)).to.contain("kube-proxy enabled").and.contain("KubePrism off");
    });

    it("leaves them out when the config did not parse", async () => {
        const broken = await planDev((s) => (s.cluster.kubeProxyDisabled = "yes"));
        expect(broken).to.not.have.property("cluster");
        expect(renderText(broken)).to.not.contain("dnsDomain");
    });
});

describe("plan rendering of the Flux phases", () => {
    let plan: Plan;
    before(async () => {
        plan = await planDev();
    });

    it("nests one subgraph per Flux phase inside gitops, in order, with its Kustomizations", () => {
        const lines = renderMermaid(plan).split("\n");
        const at = (text: string) => lines.findIndex((l) => l.includes(text));
        const gitops = at("subgraph phase_gitops");
        const subs = ["5.1 core", "5.2 storage-and-monitoring", "5.3 networking", "5.4 applications"].map((s) => at(`"${s}"`));
        expect(subs.every((i) => i > gitops)).to.equal(true);
        expect([...subs].sort((a, b) => a - b)).to.deep.equal(subs);
        const core = lines.slice(subs[0], subs[1]).join("\n");
        expect(core).to.contain('["infrastructure-sources"]').and.contain('["infrastructure-onepassword"]').and.not.contain("longhorn");
    });

    it("draws the Flux phase order and the explicit dependencies inside a phase", () => {
        const m = renderMermaid(plan);
        expect(m).to.contain("n_flux --> sub_flux_phase_core");
        expect(m).to.contain("sub_flux_phase_core --> sub_flux_phase_storage_and_monitoring");
        expect(m).to.contain("sub_flux_phase_networking --> sub_flux_phase_applications");
        expect(m).to.contain("n_flux_ks_infrastructure_sources --> n_flux_ks_infrastructure_external_secrets");
        expect(m).to.not.contain("sub_flux_phase_core --> sub_flux_phase_networking");
    });

    it("draws at most a dozen members per Flux phase, and counts the rest", async () => {
        const wide = await planDev((s) => {
            s.flux.phases = [
                { name: "apps", kustomizations: Array.from({ length: 30 }, (_, i) => ({ name: `app-${i}`, path: `./apps/${i}` })) },
            ];
        });
        const m = renderMermaid(wide);
        expect(m.match(/\["app-\d+"\]/g)).to.have.length(12);
        expect(m).to.contain('sub_flux_phase_apps_more["+18 more"]');
    });

    it("lists the sub-phases and what stays out of Flux in the markdown and the text", () => {
        const md = renderMarkdown(plan);
        expect(md).to.contain("| 5.1 | ↳ core | 4 | |").and.contain("| 5.4 | ↳ applications | 3 | |");
        expect(md).to.contain("**Not in Flux**").and.contain("cert-manager and its ClusterIssuers (certificates)");
        const text = renderText(plan);
        expect(text).to.contain("flux-phase-core  (FluxPhase)  sub-phase 5.1 core");
        expect(text).to.match(
            /not in Flux, deployed by this program: the Gateway API CRDs \(network\); Cilium, its LoadBalancer IP pools and BGP \(network\); cert-manager .* — run by Talos: CoreDNS \(dns\)/,
        );
    });
});

describe("markdown plan with config errors", () => {
    let md: string;
    before(async () => {
        md = renderMarkdown(await planDev((s) => (s.cilium.version = "latest")));
    });

    it("lists the errors first, naming each key once", () => {
        expect(md.indexOf("#### Config errors")).to.be.within(0, md.indexOf("| # | Phase |"));
        expect(md).to.contain('- `talos-platform:cilium.version` (got "latest"): is not a pinned version');
        expect(md.split("talos-platform:cilium.version")).to.have.length(2);
    });

    it("draws no empty graph, no 'none' gates and no empty resources table", () => {
        expect(md).to.not.contain("```mermaid").and.not.contain("subgraph").and.not.contain("none");
        expect(md).to.not.contain("<details>").and.not.contain("| Phase | Resource |");
        expect(md).to.match(/\| 1 \| \*\*network\*\*: .* \| 0 \| {2}\|/);
    });
});

describe("markdown escaping", () => {
    it("escapes text GitHub would read as HTML, but not inside code spans, and | in table cells", async () => {
        const plan = await planDev((s) => (s.cilium.version = "latest"));
        plan.errors = [
            { path: "talos-platform:x", message: "talos-platform:x: the address stays <pending>; see `kubectl get svc <name>`" },
        ];
        plan.findings = [{ rule: "r", severity: "advisory", resource: "k", message: "EXTERNAL-IP <pending> | not <b>bold</b>" }];
        const md = renderMarkdown(plan);
        expect(md).to.contain("the address stays &lt;pending&gt;; see `kubectl get svc <name>`");
        expect(md).to.contain("| EXTERNAL-IP &lt;pending&gt; \\| not &lt;b&gt;bold&lt;/b&gt; |");
        expect(md).to.not.contain("<pending>").and.not.contain("<b>");
    });
});

describe("markdown plan of a large stack", function () {
    this.timeout(120_000);
    let plan: Plan;
    before(async () => {
        // 500 Kustomizations in phases of 25, as `npm run bench` generates them.
        plan = await planDev((s) => {
            const phases: Json[] = [];
            for (let i = 0; i < 500; i++) {
                if (i % 25 === 0) phases.push({ name: `phase-${phases.length + 1}`, kustomizations: [] });
                phases[phases.length - 1].kustomizations.push({ name: `app-${i + 1}`, path: `./apps/app-${i + 1}` });
            }
            s.flux.phases = phases;
        });
    });

    it("fits a GitHub comment: phase table and graph whole, resources trimmed, and says where the rest is", () => {
        const md = renderMarkdown(plan);
        // The README promises a comment under 60,000 characters (GitHub refuses one over 65,536).
        expect(md.length).to.be.at.most(60_000);
        expect(md).to.contain("| 5.20 | ↳ phase-20 | 26 | |");
        expect(md).to.contain("```mermaid\n" + renderMermaid(plan) + "\n```");
        expect(md).to.contain("#### Findings");
        const rows = md.split("\n").filter((l) => /^\| (network|dns|certificates|ingress|gitops|) \| `/.test(l));
        expect(rows.length).to.be.within(100, plan.resources.length - 1);
        expect(md).to.contain(`*${plan.resources.length - rows.length} of ${plan.resources.length} resources left out of this table`);
        expect(md).to.contain("`npm run -s plan -- --format json` has everything");
    });

    it("collapses each Flux phase to one node when the graph alone would take half the budget", () => {
        const md = renderMarkdown(plan, 20_000);
        expect(md.length).to.be.at.most(20_000);
        expect(md).to.not.contain('["app-1"]').and.not.contain("subgraph sub_");
        expect(md).to.contain('sub_flux_phase_phase_1["5.1 phase-1<br/>25 resources"]');
        expect(md).to.contain("sub_flux_phase_phase_1 --> sub_flux_phase_phase_2");
        expect(md).to.contain("Each Flux phase is drawn as one node");
    });

    it("leaves the dev stack's markdown whole", async () => {
        const md = renderMarkdown(await planDev());
        expect(md).to.not.contain("left out").and.not.contain("one node");
    });
});
