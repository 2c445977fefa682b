import { expect } from "chai";
import type { Plan } from "../lib/plan/model";
import { renderMarkdown, renderMermaid, topLevelEdges } from "../lib/plan/render";
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
