import { PHASE_PURPOSE } from "../phases";
import type { Plan, PlanResource } from "./model";

/** A one-line description of what a resource deploys. */
export function summary(r: PlanResource): string {
    const i = r.inputs;
    if (r.type === "kubernetes:helm.sh/v3:Release") {
        const repo = (i.repositoryOpts as { repo?: string } | undefined)?.repo;
        return `chart ${String(i.chart)} ${String(i.version)}${repo ? ` from ${repo}` : ""} → ${String(i.namespace)}`;
    }
    if (i.kind && i.metadata) {
        const m = i.metadata as { name?: string; namespace?: string };
        return `${String(i.apiVersion)} ${String(i.kind)} ${m.namespace ? m.namespace + "/" : ""}${m.name ?? ""}`;
    }
    return "";
}

function shortType(type: string): string {
    return type.split(":").pop() ?? type;
}

function childrenOf(plan: Plan): Map<string | null, PlanResource[]> {
    const map = new Map<string | null, PlanResource[]>();
    for (const r of plan.resources) map.set(r.parent, [...(map.get(r.parent) ?? []), r]);
    return map;
}

function topOf(plan: Plan): (urn: string) => string {
    const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
    return (urn) => {
        let cur = byUrn.get(urn);
        while (cur?.parent && byUrn.has(cur.parent)) cur = byUrn.get(cur.parent);
        return cur?.urn ?? urn;
    };
}

/** Edges between top-level resources, lifted from every direct dependsOn below them. */
export function topLevelEdges(plan: Plan): Array<[string, string]> {
    const top = topOf(plan);
    const seen = new Set<string>();
    const edges: Array<[string, string]> = [];
    for (const r of plan.resources) {
        for (const d of r.dependsOn) {
            const from = top(d);
            const to = top(r.urn);
            const key = `${from}>${to}`;
            if (from !== to && !seen.has(key)) {
                seen.add(key);
                edges.push([from, to]);
            }
        }
    }
    return edges;
}

export function renderText(plan: Plan): string {
    const out: string[] = [];
    const children = childrenOf(plan);
    const status = plan.ok ? "OK" : plan.errors.length ? "CONFIG ERRORS: nothing would be deployed" : "BLOCKED by mandatory findings";
    out.push(`talos-platform plan · stack ${plan.stack} · ${plan.resources.length} resources · ${status}`);
    const name = (urn: string | null) => plan.resources.find((r) => r.urn === urn)?.name ?? "";

    const tree = (r: PlanResource, depth: number) => {
        const detail = summary(r);
        const gate = r.type.endsWith(":Gate") && r.parent === null ? "◆ gate " : "";
        out.push(`${"  ".repeat(depth)}${gate}${r.name}  (${shortType(r.type)})${detail ? "  " + detail : ""}`);
        for (const c of children.get(r.urn) ?? []) tree(c, depth + 1);
    };
    const outside = (children.get(null) ?? []).filter((r) => r.phase === null);
    if (outside.length) {
        out.push("", "outside the phases");
        for (const r of outside) tree(r, 1);
    }
    plan.phases.forEach((p, i) => {
        const prev = i > 0 ? plan.phases[i - 1].gate : null;
        const waits = prev ? `  [waits for ${name(prev)}]` : "";
        out.push("", `${i + 1}. ${p.name}: ${PHASE_PURPOSE[p.name]}${waits}`);
        const tops = (children.get(null) ?? []).filter((r) => r.phase === p.name);
        const ordered = [...tops.filter((r) => r.urn !== p.gate), ...tops.filter((r) => r.urn === p.gate)];
        for (const r of ordered) tree(r, 1);
        if (!tops.length) out.push("  (nothing)");
    });
    if (plan.findings.length) {
        out.push("", "findings");
        for (const f of plan.findings) out.push(`  [${f.severity}] ${f.rule}: ${f.message}`, `      at ${f.resource}`);
    }
    if (plan.errors.length) {
        out.push("", `config errors (${plan.errors.length}); no resource was registered`);
        plan.errors.forEach((e, i) => out.push(`  ${i + 1}. ${e.message}`));
    }
    return out.join("\n") + "\n";
}

function mermaidId(urn: string): string {
    return "n_" + (urn.split("::").pop() ?? urn).replace(/[^A-Za-z0-9_]/g, "_");
}

function mermaidLabel(text: string): string {
    return text.replace(/"/g, "#quot;");
}

export function renderMermaid(plan: Plan): string {
    const lines = ["flowchart LR"];
    const tops = plan.resources.filter((r) => r.parent === null && r.phase !== null);
    plan.phases.forEach((p, i) => {
        lines.push(`  subgraph phase_${p.name}["${i + 1}. ${p.name}"]`);
        for (const r of tops.filter((t) => t.phase === p.name)) {
            const label = mermaidLabel(`${r.name}<br/>${shortType(r.type)}`);
            lines.push(r.urn === p.gate ? `    ${mermaidId(r.urn)}{{"${label}"}}` : `    ${mermaidId(r.urn)}["${label}"]`);
        }
        lines.push("  end");
    });
    const shown = new Set(tops.map((r) => r.urn));
    for (const [from, to] of topLevelEdges(plan)) {
        if (shown.has(from) && shown.has(to)) lines.push(`  ${mermaidId(from)} --> ${mermaidId(to)}`);
    }
    return lines.join("\n");
}

export function renderMarkdown(plan: Plan): string {
    const out: string[] = [];
    const icon = plan.ok ? "✅" : "❌";
    out.push(`### ${icon} talos-platform plan for \`${plan.stack}\`: ${plan.resources.length} resources`, "");
    out.push("| # | Phase | Resources | Gate |", "|---|---|---|---|");
    plan.phases.forEach((p, i) => {
        const gate = plan.resources.find((r) => r.urn === p.gate)?.name ?? "none";
        out.push(`| ${i + 1} | **${p.name}**: ${PHASE_PURPOSE[p.name]} | ${p.resources.length} | \`${gate}\` |`);
    });
    out.push("", "```mermaid", renderMermaid(plan), "```");
    if (plan.errors.length) {
        out.push("", `#### Config errors (nothing would be deployed)`, "");
        for (const e of plan.errors) out.push(`- \`${e.path}\`: ${e.message.replace(/\n/g, " ")}`);
    }
    if (plan.findings.length) {
        out.push("", "#### Findings", "", "| Severity | Rule | Resource | Message |", "|---|---|---|---|");
        for (const f of plan.findings)
            out.push(`| ${f.severity} | \`${f.rule}\` | \`${f.resource.split("::").pop()}\` | ${f.message.replace(/\|/g, "\\|")} |`);
    }
    out.push("", "<details><summary>Resources</summary>", "", "| Phase | Resource | Type | Deploys |", "|---|---|---|---|");
    for (const r of plan.resources) out.push(`| ${r.phase ?? ""} | \`${r.name}\` | \`${r.type}\` | ${summary(r)} |`);
    out.push("", "</details>");
    return out.join("\n") + "\n";
}
