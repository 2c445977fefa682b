import { expect } from "chai";
import type { Plan } from "../lib/plan/model";
import { renderMarkdown, renderMermaid, renderText, topLevelEdges } from "../lib/plan/render";
import { byName, planDev } from "./helpers";

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
        expect(m.split("\n")[0]).to.equal("flowchart LR");
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
            /not in Flux, deployed by this program: Cilium, its LoadBalancer IP pools and BGP \(network\); CoreDNS \(dns\)/,
        );
    });
});
