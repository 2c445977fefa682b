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

describe("plan rendering of the cluster facts", () => {
    let plan: Plan;
    before(async () => {
        plan = await planDev();
    });

    it("records the dev stack's cluster facts, defaults applied, in the plan", () => {
        expect(plan.cluster).to.deep.equal({
            name: "home-ops",
            dnsDomain: "k8s.home.geoffdavis.com",
            apiEndpoint: "https://172.29.51.10:6443",
            podSubnets: ["10.244.0.0/16", "fd47:25e1:2f96:100::/56"],
            serviceSubnets: ["10.96.0.0/12", "fd47:25e1:2f96:51:1000::/108"],
            nodeSubnets: ["172.29.51.0/24"],
            kubeProxyDisabled: true,
            kubePrism: { enabled: true, port: 7445 },
            coreDnsDisabled: true,
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
                "k8s.home.geoffdavis.com",
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
            /not in Flux, deployed by this program: Cilium, its LoadBalancer IP pools and BGP \(network\); CoreDNS \(dns\)/,
        );
    });
});
