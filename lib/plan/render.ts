import { PHASE_PURPOSE } from "../phases";
import type { Plan, PlanBinding, PlanCluster, PlanError, PlanResource } from "./model";

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

/**
 * An error as "<path><what follows>" plus any quoted lines (a YAML error's
 * source line and caret). Config errors' messages already start with their
 * path; saying it twice would be noise.
 */
function errorParts(e: PlanError): { head: string; quoted: string[] } {
    const [first, ...quoted] = e.message.trimEnd().split("\n");
    const rest = first.startsWith(e.path) ? first.slice(e.path.length) : `: ${first}`;
    while (quoted.length && quoted[0].trim() === "") quoted.shift();
    return { head: rest, quoted };
}

/** The cluster facts as short phrases, for a header; `code` marks up values (markdown). */
function clusterLines(c: PlanCluster, code: (v: string) => string = (v) => v): string[] {
    const list = (vs: string[]) => vs.map(code).join(", ");
    return [
        `cluster ${code(c.name)} · dnsDomain ${code(c.dnsDomain)} · API ${code(c.apiEndpoint)}`,
        `pods ${list(c.podSubnets)} · services ${list(c.serviceSubnets)} · nodes ${list(c.nodeSubnets)}`,
        [
            `kube-proxy ${c.kubeProxyDisabled ? "disabled (Cilium replaces it)" : "enabled"}`,
            c.kubePrism.enabled ? `KubePrism on port ${code(String(c.kubePrism.port))}` : "KubePrism off",
            c.coreDnsDisabled ? "CoreDNS deployed by this program" : "CoreDNS run by Talos",
        ].join(" · "),
        ...(c.talosConfig && c.sources ? [factSources(c.talosConfig, c.sources, code)] : []),
    ];
}

/** Which facts the Talos configuration stated, which it left to Talos' defaults, and which came from the stack. */
function factSources(file: string, sources: Record<string, string>, code: (v: string) => string): string {
    const keys = (kind: string) => Object.keys(sources).filter((k) => sources[k].split(":")[0] === kind);
    const group = (label: string, kind: string) => (keys(kind).length ? [`${label} ${keys(kind).join(", ")}`] : []);
    return [
        ...group(`from ${code(file)}:`, "talos"),
        ...group("left out there, Talos' default:", "talos-default"),
        ...group("from the stack:", "config"),
        ...group("this program's default:", "default"),
    ].join(" · ");
}

/** The binding as one phrase, for a header: which context and which cluster `pulumi up` may act on. */
function bindingLine(b: PlanBinding, code: (v: string) => string = (v) => v): string {
    const context = b.context === null ? "the kubeconfig's current context" : `context ${code(b.context)}`;
    const identity = b.identity === null ? "the kube-system UID its last `pulumi up` recorded" : `kube-system UID ${code(b.identity)}`;
    return `bound to ${context} · ${identity} · ${b.protect ? "protected: `pulumi destroy` stops before its first delete" : "not protected"}`;
}

const KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization";

/**
 * What a delete or destroy does to a resource, as short marks: protected,
 * kept in the cluster, and for a Flux Kustomization whether what it applied
 * stays (spec.deletionPolicy, kustomize-controller v1).
 */
export function lifecycleMarks(r: PlanResource): string[] {
    const marks: string[] = [];
    if (r.options?.protect) marks.push("protected");
    if (r.options?.retainOnDelete) marks.push("kept on delete");
    if (r.type === KUSTOMIZATION) {
        const spec = (r.inputs.spec ?? {}) as { deletionPolicy?: string; prune?: boolean };
        const policy = spec.deletionPolicy ?? "MirrorPrune";
        const deletes = policy === "Delete" || policy === "WaitForTermination" || (policy === "MirrorPrune" && spec.prune !== false);
        marks.push(deletes ? "on delete, deletes what it applied" : "on delete, keeps what it applied");
    }
    return marks;
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

/** What a component leaves out of Flux, when it says so in its inputs (the Flux component does). */
interface Excluded {
    component: string;
    phase: string;
    covers: string;
    /** Who deploys it instead: this program (when absent) or Talos. */
    owner?: string;
}

export function excludedFromFlux(plan: Plan): Excluded[] {
    return plan.resources.flatMap((r) => (Array.isArray(r.inputs.excludedFromFlux) ? (r.inputs.excludedFromFlux as Excluded[]) : []));
}

function excludedLine(plan: Plan): string | undefined {
    const excluded = excludedFromFlux(plan);
    if (!excluded.length) return undefined;
    const byTalos = excluded.filter((e) => e.owner === "Talos");
    const ours = excluded.filter((e) => e.owner !== "Talos");
    const list = (es: Excluded[]) => es.map((e) => `${e.covers} (${e.phase})`).join("; ");
    const parts = [
        ...(ours.length ? [`deployed by this program: ${list(ours)}`] : []),
        ...(byTalos.length ? [`run by Talos: ${list(byTalos)}`] : []),
    ];
    return `not in Flux, ${parts.join(" — ")}`;
}

/** "5.2 storage" for each sub-phase component, by URN. */
function subphaseLabels(plan: Plan): Map<string, string> {
    const labels = new Map<string, string>();
    plan.phases.forEach((p, i) => (p.subphases ?? []).forEach((s, j) => labels.set(s.resources[0], `${i + 1}.${j + 1} ${s.name}`)));
    return labels;
}

export function renderText(plan: Plan): string {
    const out: string[] = [];
    const children = childrenOf(plan);
    const status = plan.ok ? "OK" : plan.errors.length ? "CONFIG ERRORS: nothing would be deployed" : "BLOCKED by mandatory findings";
    out.push(`talos-platform plan · stack ${plan.stack} · ${plan.resources.length} resources · ${status}`);
    if (plan.cluster) out.push(...clusterLines(plan.cluster).map((l) => `  ${l}`));
    if (plan.binding) out.push(`  ${bindingLine(plan.binding)}`);
    const name = (urn: string | null) => plan.resources.find((r) => r.urn === urn)?.name ?? "";
    const subphases = subphaseLabels(plan);

    const tree = (r: PlanResource, depth: number) => {
        const sub = subphases.get(r.urn);
        const detail = sub ? `sub-phase ${sub}` : summary(r);
        const gate = r.type.endsWith(":Gate") && r.parent === null ? "◆ gate " : "";
        const marks = lifecycleMarks(r)
            .map((m) => `  [${m}]`)
            .join("");
        out.push(`${"  ".repeat(depth)}${gate}${r.name}  (${shortType(r.type)})${detail ? "  " + detail : ""}${marks}`);
        for (const c of children.get(r.urn) ?? []) tree(c, depth + 1);
    };
    // A plan that registered nothing leads with why; five empty phases would only push it down.
    const errors = () => {
        out.push("", `config errors (${plan.errors.length}); no resource was registered`);
        plan.errors.forEach((e, i) => {
            const { head, quoted } = errorParts(e);
            out.push(`  ${i + 1}. ${e.path}${head}`, ...quoted.map((l) => `       ${l}`));
        });
    };
    if (plan.errors.length && !plan.resources.length) {
        errors();
        if (plan.findings.length) out.push("", "findings");
        for (const f of plan.findings) out.push(`  [${f.severity}] ${f.rule}: ${f.message}`, `      at ${f.resource}`);
        return out.join("\n") + "\n";
    }
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
        const excluded = p.name === "gitops" ? excludedLine(plan) : undefined;
        if (excluded) out.push(`  ${excluded}`);
    });
    if (plan.findings.length) {
        out.push("", "findings");
        for (const f of plan.findings) out.push(`  [${f.severity}] ${f.rule}: ${f.message}`, `      at ${f.resource}`);
    }
    if (plan.errors.length) errors();
    return out.join("\n") + "\n";
}

function mermaidId(urn: string): string {
    return "n_" + (urn.split("::").pop() ?? urn).replace(/[^A-Za-z0-9_]/g, "_");
}

function mermaidLabel(text: string): string {
    return text.replace(/"/g, "#quot;");
}

/** At most this many members of a sub-phase are drawn; the rest become one "+N more" node. */
export const MERMAID_SUBPHASE_MEMBERS = 12;

export interface MermaidOptions {
    /** Draw each sub-phase as one node that counts its members, for graphs too big for a comment. */
    collapseSubphases?: boolean;
}

export function renderMermaid(plan: Plan, options: MermaidOptions = {}): string {
    const lines = ["flowchart LR"];
    const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
    const children = childrenOf(plan);
    const tops = plan.resources.filter((r) => r.parent === null && r.phase !== null);
    // Each drawn node or sub-phase subgraph, by URN; resources below one are drawn as it.
    const shown = new Map<string, string>();
    plan.phases.forEach((p, i) => {
        const own = tops.filter((t) => t.phase === p.name);
        const subphases = p.subphases ?? [];
        if (!own.length && !subphases.length) return;
        lines.push(`  subgraph phase_${p.name}["${i + 1}. ${p.name}"]`);
        for (const r of own) {
            const label = mermaidLabel(`${r.name}<br/>${shortType(r.type)}`);
            lines.push(r.urn === p.gate ? `    ${mermaidId(r.urn)}{{"${label}"}}` : `    ${mermaidId(r.urn)}["${label}"]`);
            shown.set(r.urn, mermaidId(r.urn));
        }
        subphases.forEach((sp, j) => {
            const component = sp.resources[0];
            const id = "sub_" + mermaidId(component).slice(2);
            const title = `${i + 1}.${j + 1} ${mermaidLabel(sp.name)}`;
            shown.set(component, id);
            const members = children.get(component) ?? [];
            if (options.collapseSubphases) {
                lines.push(`    ${id}["${title}<br/>${members.length} resources"]`);
                return;
            }
            lines.push(`    subgraph ${id}["${title}"]`);
            members.forEach((m, k) => {
                if (k < MERMAID_SUBPHASE_MEMBERS) {
                    const short = m.inputs.metadata ? (m.inputs.metadata as { name?: string }).name : undefined;
                    lines.push(`      ${mermaidId(m.urn)}["${mermaidLabel(short ?? m.name)}"]`);
                    shown.set(m.urn, mermaidId(m.urn));
                } else shown.set(m.urn, `${id}_more`);
            });
            if (members.length > MERMAID_SUBPHASE_MEMBERS) {
                lines.push(`      ${id}_more["+${members.length - MERMAID_SUBPHASE_MEMBERS} more"]`);
            }
            lines.push("    end");
        });
        lines.push("  end");
    });
    const drawnAs = (urn: string): string | undefined => {
        for (let cur = byUrn.get(urn); cur; cur = cur.parent ? byUrn.get(cur.parent) : undefined) {
            const id = shown.get(cur.urn);
            if (id) return id;
        }
        return undefined;
    };
    const seen = new Set<string>();
    for (const r of plan.resources) {
        const to = drawnAs(r.urn);
        for (const d of r.dependsOn) {
            const from = drawnAs(d);
            const edge = `  ${from} --> ${to}`;
            if (from && to && from !== to && !seen.has(edge)) {
                seen.add(edge);
                lines.push(edge);
            }
        }
    }
    return lines.join("\n");
}

/** Escapes what GitHub would read as HTML (a `<pending>` vanishes), outside code spans, where everything is literal. */
export function escapeMarkdown(text: string): string {
    return text
        .split(/(`[^`\n]*`)/)
        .map((part, i) => (i % 2 ? part : part.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")))
        .join("");
}

/** A table cell: a bare `|` would end it, even inside a code span. */
function cell(text: string): string {
    return escapeMarkdown(text).replace(/\|/g, "\\|");
}

/**
 * What a markdown plan may take: GitHub refuses comments over 65,536
 * characters; the rest is headroom for what a workflow adds around it.
 */
export const MARKDOWN_BUDGET = 60_000;

/** Room kept for the note under a trimmed table. */
const NOTE_ROOM = 200;

const size = (lines: string[]) => lines.reduce((n, l) => n + l.length + 1, 0);

/** As many rows as fit in `room` characters, and a note saying what was left out. */
function tableRows<T>(items: T[], row: (item: T) => string, room: number, noun: string): string[] {
    const rows: string[] = [];
    let used = 0;
    for (const item of items) {
        const line = row(item);
        if (used + line.length + 1 > room) break;
        rows.push(line);
        used += line.length + 1;
    }
    const left = items.length - rows.length;
    if (left) {
        const json = "`npm run -s plan -- --format json` has everything";
        rows.push("", `*${left} of ${items.length} ${noun} left out of this table to fit a GitHub comment; ${json}.*`);
    }
    return rows;
}

export function renderMarkdown(plan: Plan, budget = MARKDOWN_BUDGET): string {
    const head: string[] = [];
    const icon = plan.ok ? "✅" : "❌";
    head.push(`### ${icon} talos-platform plan for \`${plan.stack}\`: ${plan.resources.length} resources`, "");
    if (plan.cluster) head.push(clusterLines(plan.cluster, (v) => `\`${v}\``).join("<br>\n"), "");
    if (plan.binding) head.push(escapeMarkdown(bindingLine(plan.binding, (v) => `\`${v}\``)), "");
    // Errors first: with them, nothing below would be deployed.
    if (plan.errors.length) {
        head.push(`#### Config errors (nothing would be deployed)`, "");
        for (const e of plan.errors) {
            const { head: rest, quoted } = errorParts(e);
            head.push(`- \`${e.path}\`${escapeMarkdown(rest)}`);
            if (quoted.length) head.push("", "  ```", ...quoted.map((l) => `  ${l}`), "  ```");
        }
        head.push("");
    }
    head.push("| # | Phase | Resources | Gate |", "|---|---|---|---|");
    plan.phases.forEach((p, i) => {
        const gate = plan.resources.find((r) => r.urn === p.gate)?.name;
        head.push(`| ${i + 1} | **${p.name}**: ${cell(PHASE_PURPOSE[p.name])} | ${p.resources.length} | ${gate ? `\`${gate}\`` : ""} |`);
        (p.subphases ?? []).forEach((sp, j) => head.push(`| ${i + 1}.${j + 1} | ↳ ${cell(sp.name)} | ${sp.resources.length} | |`));
    });
    const excluded = excludedLine(plan);
    if (excluded) head.push("", escapeMarkdown(excluded).replace(/^not in Flux/, "**Not in Flux**"));

    let graph: string[] = [];
    if (plan.resources.length) {
        graph = ["", "```mermaid", renderMermaid(plan), "```"];
        // Half the budget leaves room for the tables, and stays below Mermaid's own limit
        // of 50,000 characters, past which GitHub shows an error instead of the graph.
        if (size(graph) > budget / 2)
            graph = [
                "",
                "```mermaid",
                renderMermaid(plan, { collapseSubphases: true }),
                "```",
                "",
                "*Each Flux phase is drawn as one node.*",
            ];
    }
    const findingsHead = plan.findings.length
        ? ["", "#### Findings", "", "| Severity | Rule | Resource | Message |", "|---|---|---|---|"]
        : [];
    const resourcesHead = plan.resources.length
        ? ["", "<details><summary>Resources</summary>", "", "| Phase | Resource | Type | Deploys |", "|---|---|---|---|"]
        : [];
    const resourcesTail = plan.resources.length ? ["", "</details>"] : [];
    let room = budget - size([...head, ...graph, ...findingsHead, ...resourcesHead, ...resourcesTail]) - 2 * NOTE_ROOM;
    // Findings before resources: they are what a reviewer must act on.
    const findings = tableRows(
        plan.findings,
        (f) => `| ${f.severity} | \`${f.rule}\` | \`${f.resource.split("::").pop()}\` | ${cell(f.message)} |`,
        room,
        "findings",
    );
    room -= size(findings);
    const resources = tableRows(
        plan.resources,
        (r) =>
            `| ${r.phase ?? ""} | \`${r.name}\`${lifecycleMarks(r)
                .map((m) => ` *${m}*`)
                .join("")} | \`${r.type}\` | ${cell(summary(r))} |`,
        room,
        "resources",
    );
    return [...head, ...graph, ...findingsHead, ...findings, ...resourcesHead, ...resources, ...resourcesTail].join("\n") + "\n";
}
