import { expect } from "chai";
import { parseBasePlan } from "../lib/plan/base";
import { diffPlans } from "../lib/plan/diff";
import type { Plan } from "../lib/plan/model";
import { MERMAID_CLASSES, renderMarkdown, renderMermaid } from "../lib/plan/render";
import { Json, planDev } from "./helpers";

/**
 * Mermaid's own parser (the `mermaid` package GitHub's renderer is built on),
 * in Node. It sanitises labels with DOMPurify, which binds to a window when
 * it is first loaded: jsdom lends one for the import, and it is taken away
 * again so that no other test sees a browser.
 */
let mermaid: { parse(text: string): Promise<{ diagramType: string }> } | undefined;
async function parseMermaid(text: string): Promise<{ diagramType: string }> {
    if (!mermaid) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { JSDOM } = require("jsdom") as { JSDOM: new (html: string) => { window: unknown } };
        const g = globalThis as { window?: unknown };
        g.window = new JSDOM("").window;
        try {
            mermaid = (await import("mermaid")).default;
        } finally {
            delete g.window;
        }
    }
    return mermaid.parse(text);
}

const mermaidBlocks = (md: string) => [...md.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1]);

/** Node ids a flowchart declares (`id["label"]`, `id{{"label"}}`) and the ids its class lines name. */
function classUse(graph: string): { declared: Set<string>; classed: Map<string, string[]>; defined: Set<string> } {
    const declared = new Set([...graph.matchAll(/^\s*([A-Za-z_][\w]*)(?:\["|\{\{")/gm)].map((m) => m[1]));
    const defined = new Set([...graph.matchAll(/^\s*classDef (\w+) /gm)].map((m) => m[1]));
    const classed = new Map([...graph.matchAll(/^\s*class ([\w,]+) (\w+)$/gm)].map((m) => [m[2], m[1].split(",")]));
    return { declared, classed, defined };
}

describe("the markdown's Mermaid graph, read by Mermaid's parser", function () {
    this.timeout(120_000);
    let base: Plan;
    let changed: Plan;
    before(async () => {
        base = await planDev();
        changed = await planDev((s: Record<string, Json>) => {
            s.cilium.version = "1.19.5";
            s.flux.phases[3].kustomizations.push({ name: "apps-grafana", path: "./apps/grafana" });
            s.flux.phases[2].kustomizations.pop();
        });
        changed.changes = diffPlans(parseBasePlan(JSON.stringify(base), "base.json"), changed);
    });

    it("parses the plan's graph: a top-to-bottom flowchart", async () => {
        const [graph] = mermaidBlocks(renderMarkdown(base));
        expect(graph.split("\n")[0]).to.equal("flowchart TB");
        expect((await parseMermaid(graph)).diagramType).to.equal("flowchart-v2");
    });

    it("parses a compared plan's graph, whose classes mark added, changed and removed nodes it declares", async () => {
        const [graph] = mermaidBlocks(renderMarkdown(changed));
        expect((await parseMermaid(graph)).diagramType).to.equal("flowchart-v2");
        const { declared, classed, defined } = classUse(graph);
        expect([...defined].sort()).to.deep.equal(Object.keys(MERMAID_CLASSES).sort());
        for (const [cls, ids] of classed) {
            expect(defined.has(cls), cls).to.equal(true);
            for (const id of ids) expect(declared.has(id), `${id} (${cls}) is drawn`).to.equal(true);
        }
        expect(classed.get("added")).to.include("n_flux_ks_apps_grafana");
        expect(classed.get("removed")).to.deep.equal(["x_flux_ks_infrastructure_cloudflare_tunnel"]);
        // The release is drawn as its component; the gates that re-run are changed.
        expect(classed.get("changed")).to.include.members(["n_cilium", "n_network_gate", "n_gitops_gate"]);
    });

    it("parses the graph with each Flux phase drawn as one node", async () => {
        const graph = renderMermaid(changed, { collapseSubphases: true });
        expect((await parseMermaid(graph)).diagramType).to.equal("flowchart-v2");
        expect(graph).to.not.contain("subgraph sub_");
    });

    it("the parser refuses a broken graph, so a syntax error fails this suite", async () => {
        const [graph] = mermaidBlocks(renderMarkdown(base));
        for (const broken of [graph.replace(/\n {2}end\n/, "\n"), graph + "\n  n_cilium -->", graph.replace('["cilium', '["cilium"')]) {
            let error: unknown;
            try {
                await parseMermaid(broken);
            } catch (e) {
                error = e;
            }
            expect(String(error)).to.match(/Parse error|Lexical error|Expecting/);
        }
    });
});
