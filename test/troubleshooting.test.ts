import { expect } from "chai";
import { Example, examples, parseMarkdown, planDevWith, planSays, readDoc, wrap } from "./docs";

// docs/troubleshooting.md quotes what the plan says for each mistake of the
// Week 4 incident and its cascade. Every example is planned here, so the
// page cannot drift from the program: a changed message, a new error, or a
// refusal that went away fails its example.

const PAGE = "docs/troubleshooting.md";
const text = readDoc(PAGE);
const EXAMPLES = examples(text);

/** What the example should quote: every error, and every finding the change added to the dev stack's own. */
function expectedBlock(says: { errors: string[]; findings: string[] }, baseline: string[]): string {
    return [...says.errors, ...says.findings.filter((f) => !baseline.includes(f))].map((s) => wrap(s)).join("\n\n");
}

/** How the page and the plan disagree about one example; empty when they agree. */
export function disagreements(
    example: Pick<Example, "said">,
    code: number,
    says: { errors: string[]; findings: string[] },
    baseline: string[],
): string[] {
    const out: string[] = [];
    const quotedErrors = example.said.filter((s) => !s.startsWith("["));
    const quotedFindings = example.said.filter((s) => s.startsWith("["));
    for (const q of example.said) if (!says.errors.includes(q) && !says.findings.includes(q)) out.push(`the plan does not say: ${q}`);
    for (const e of says.errors) if (!quotedErrors.includes(e)) out.push(`the page does not quote the error: ${e}`);
    for (const f of says.findings)
        if (!baseline.includes(f) && !quotedFindings.includes(f)) out.push(`the page does not quote the finding: ${f}`);
    const refused = quotedErrors.length > 0 || quotedFindings.some((f) => f.startsWith("[mandatory]"));
    if (code !== (refused ? 1 : 0)) out.push(`the plan exits ${code}, but the page quotes ${refused ? "a refusal" : "no refusal"}`);
    return out;
}

describe(PAGE, () => {
    let baseline: string[];
    before(async () => {
        const dev = await planDevWith("config: {}");
        expect(dev.code, dev.err).to.equal(0);
        baseline = planSays(dev.plan).findings;
    });

    it("has examples for the incident and for every link of its cascade", () => {
        const links = ["The network link", "The DNS link", "The certificates link", "The ingress link", "The GitOps link"];
        const parsed = parseMarkdown(text);
        for (const link of links) {
            const i = parsed.headings.findIndex((h) => h.level === 2 && h.text.startsWith(link));
            expect(i, link).to.be.at.least(0);
            const end = parsed.headings.findIndex((h, j) => j > i && h.level === 2);
            const inside = EXAMPLES.filter((e) => e.line > parsed.headings[i].line && (end < 0 || e.line < parsed.headings[end].line));
            expect(inside, `examples under '${link}'`).to.not.be.empty;
        }
        // The first is the incident itself: kube-proxy disabled, no replacement.
        expect(EXAMPLES[0].fragment).to.match(/kubeProxyReplacement: false/);
        expect(EXAMPLES[0].said[0]).to.match(/^talos-platform:cilium\.values\.kubeProxyReplacement \(got false\)/);
    });

    it("quotes the plan for every YAML example, and has no YAML outside them", () => {
        const yamlBlocks = parseMarkdown(text).blocks.filter((b) => b.lang === "yaml");
        expect(EXAMPLES.map((e) => e.line)).to.deep.equal(yamlBlocks.map((b) => b.line));
        for (const e of EXAMPLES) expect(e.said, e.heading).to.not.be.empty;
    });

    for (const example of EXAMPLES) {
        it(`${example.heading}: the plan says what the page quotes`, async () => {
            const { code, plan } = await planDevWith(example.fragment);
            const says = planSays(plan);
            const problems = disagreements(example, code, says, baseline);
            expect(
                problems,
                `${PAGE}:${example.line}; the plan's words, wrapped for the page:\n\n${expectedBlock(says, baseline)}\n`,
            ).to.deep.equal([]);
        });
    }

    it("notices a quote the plan does not say, an error the page leaves out, and a wrong exit status", () => {
        const says = { errors: ["talos-platform:a: is wrong. Fix: b"], findings: ["[advisory] x: y"] };
        expect(disagreements({ said: ["talos-platform:a: is wrong. Fix: b"] }, 1, says, [])).to.deep.equal([
            "the page does not quote the finding: [advisory] x: y",
        ]);
        expect(disagreements({ said: ["talos-platform:a: is wrong. Fix: b"] }, 1, says, ["[advisory] x: y"])).to.deep.equal([]);
        expect(disagreements({ said: ["talos-platform:a: is wrong. Fix: c"] }, 1, says, ["[advisory] x: y"])).to.have.length(2);
        expect(disagreements({ said: ["[advisory] x: y"] }, 0, { errors: [], findings: ["[advisory] x: y"] }, [])).to.deep.equal([]);
        expect(disagreements({ said: ["[advisory] x: y"] }, 1, { errors: [], findings: ["[advisory] x: y"] }, [])).to.have.length(1);
    });
});
