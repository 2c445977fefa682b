import { PHASE_PURPOSE } from "../phases";
import { cell, escapeMarkdown, MARKDOWN_BUDGET, NOTE_ROOM, shortType, size, summary, tableRows } from "./format";
import type { Finding, Plan, PlanBinding, PlanCluster, PlanError, PlanResource } from "./model";
import { changesMarkdown, changesText, isUnchanged, ownChanges } from "./render-changes";

export { escapeMarkdown, MARKDOWN_BUDGET, summary };

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

/** What the Flux component says about its distribution and who owns the Kustomizations (its inputs). */
interface FluxFacts {
    fluxDistribution?: { version?: string; resolvesTo?: string; resolvedBy?: string };
    fluxOwnership?: { kustomizations?: string; root?: string; path?: string };
}

/** The Flux release the operator installs and, under flux.sync, who owns the Kustomizations. */
function fluxLines(plan: Plan): string[] {
    const flux = plan.resources.find((r) => r.type === "talos-platform:gitops:Flux")?.inputs as FluxFacts | undefined;
    const lines: string[] = [];
    const d = flux?.fluxDistribution;
    if (d?.version) {
        const to = d.resolvesTo && d.resolvesTo !== d.version ? ` → ${d.resolvesTo}` : "";
        lines.push(`Flux ${d.version}${to}${d.resolvedBy ? ` (${d.resolvedBy})` : ""}`);
    }
    const o = flux?.fluxOwnership;
    if (o?.kustomizations === "git") {
        lines.push(
            `Kustomizations in Git, applied by the FluxInstance's sync (root ${o.root ?? "?"}, path ${o.path ?? "?"}); the sub-phases are the graph the gitops gate checks there, read-only`,
        );
    }
    return lines;
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
    // What changed comes before what is: it is what a reviewer came for.
    if (plan.changes) out.push("", ...changesText(plan));
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
        if (p.name === "gitops") out.push(...fluxLines(plan).map((l) => `  ${l}`));
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

/** A removed resource, drawn where it was. */
function ghostId(urn: string): string {
    return "x_" + mermaidId(urn).slice(2);
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

/** How the graph marks what a change does; GitHub draws Mermaid on light and dark themes alike. */
export const MERMAID_CLASSES = {
    added: "fill:#dafbe1,stroke:#1a7f37,stroke-width:3px,color:#0b3d1a",
    changed: "fill:#fff8c5,stroke:#9a6700,stroke-width:3px,color:#3b2300",
    removed: "fill:#ffebe9,stroke:#cf222e,stroke-width:2px,stroke-dasharray:5 4,color:#5c0000",
} as const;

export type ChangeClass = keyof typeof MERMAID_CLASSES;

/**
 * The recovery order as a Mermaid flowchart, top to bottom so that it reads
 * at the width of a GitHub comment: one subgraph per phase, Flux's phases
 * nested in gitops. With `plan.changes`, what changed is highlighted and
 * what was removed is drawn where it was, dashed.
 */
export function renderMermaid(plan: Plan, options: MermaidOptions = {}): string {
    const lines = ["flowchart TB"];
    const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
    const children = childrenOf(plan);
    const tops = plan.resources.filter((r) => r.parent === null && r.phase !== null);
    const removed = plan.changes?.removed ?? [];
    // Each drawn node or sub-phase subgraph, by URN; resources below one are drawn as it.
    const shown = new Map<string, string>();
    const ghosts: string[] = [];
    // A removed member of a sub-phase is labelled like its siblings, by its object's name.
    const ghost = (indent: string, r: { urn: string; name: string; object?: string }, member = false) => {
        const id = ghostId(r.urn);
        ghosts.push(id);
        lines.push(`${indent}${id}["${mermaidLabel((member && r.object) || r.name)}<br/>removed"]`);
    };
    const subgraphs = new Set<string>();
    plan.phases.forEach((p, i) => {
        const own = tops.filter((t) => t.phase === p.name);
        const subphases = p.subphases ?? [];
        const gone = removed.filter((r) => r.phase === p.name && r.parent === null);
        if (!own.length && !subphases.length && !gone.length) return;
        lines.push(`  subgraph phase_${p.name}["${i + 1}. ${p.name}"]`);
        for (const r of own) {
            const label = mermaidLabel(`${r.name}<br/>${shortType(r.type)}`);
            lines.push(r.urn === p.gate ? `    ${mermaidId(r.urn)}{{"${label}"}}` : `    ${mermaidId(r.urn)}["${label}"]`);
            shown.set(r.urn, mermaidId(r.urn));
        }
        for (const r of gone) ghost("    ", r);
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
            subgraphs.add(id);
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
            for (const r of removed.filter((x) => x.parent === component).slice(0, MERMAID_SUBPHASE_MEMBERS)) ghost("      ", r, true);
            lines.push("    end");
        });
        lines.push("  end");
    });
    const drawnAs = (urn: string | null): string | undefined => {
        for (let cur = urn ? byUrn.get(urn) : undefined; cur; cur = cur.parent ? byUrn.get(cur.parent) : undefined) {
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
    if (plan.changes) lines.push(...changeClasses(plan.changes, shown, drawnAs, ghosts, subgraphs));
    return lines.join("\n");
}

/**
 * classDef and class lines for a compared plan. A node is "added" when the
 * resource it draws is new, and "changed" when anything it stands for
 * changed: itself, a resource below it, or one removed from below it.
 * Subgraphs are not nodes: their members carry the colour.
 */
function changeClasses(
    changes: NonNullable<Plan["changes"]>,
    shown: Map<string, string>,
    drawnAs: (urn: string | null) => string | undefined,
    ghosts: string[],
    subgraphs: Set<string>,
): string[] {
    const marks = new Map<string, ChangeClass>();
    const mark = (id: string | undefined, c: ChangeClass) => {
        if (id && !subgraphs.has(id) && !marks.has(id)) marks.set(id, c);
    };
    for (const r of changes.added) mark(drawnAs(r.urn), shown.get(r.urn) === mermaidId(r.urn) ? "added" : "changed");
    for (const r of changes.changed) mark(drawnAs(r.urn), "changed");
    for (const r of changes.removed) if (!ghosts.includes(ghostId(r.urn))) mark(drawnAs(r.parent), "changed");
    for (const id of ghosts) marks.set(id, "removed");
    const out: string[] = [];
    for (const c of Object.keys(MERMAID_CLASSES) as ChangeClass[]) {
        const ids = [...marks].filter(([, v]) => v === c).map(([id]) => id);
        if (ids.length) out.push(`  classDef ${c} ${MERMAID_CLASSES[c]}`, `  class ${ids.join(",")} ${c}`);
    }
    return out;
}

/** The markdown title, the cluster facts and the config errors: what comes first in either layout. */
function titleLines(plan: Plan): string[] {
    const head: string[] = [];
    const icon = plan.ok ? "✅" : "❌";
    const c = plan.changes;
    const against = !c
        ? ""
        : plan.errors.length && !plan.resources.length
          ? " · config errors, nothing would be deployed"
          : isUnchanged(c)
            ? " · no changes"
            : ` · ${ownChanges(c).length} changed, ${c.added.length} added, ${c.removed.length} removed`;
    head.push(`### ${icon} talos-platform plan for \`${plan.stack}\`: ${plan.resources.length} resources${against}`, "");
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
    return head;
}

function phaseTable(plan: Plan): string[] {
    const out = ["| # | Phase | Resources | Gate |", "|---|---|---|---|"];
    plan.phases.forEach((p, i) => {
        const gate = plan.resources.find((r) => r.urn === p.gate)?.name;
        out.push(`| ${i + 1} | **${p.name}**: ${cell(PHASE_PURPOSE[p.name])} | ${p.resources.length} | ${gate ? `\`${gate}\`` : ""} |`);
        (p.subphases ?? []).forEach((sp, j) => out.push(`| ${i + 1}.${j + 1} | ↳ ${cell(sp.name)} | ${sp.resources.length} | |`));
    });
    const excluded = excludedLine(plan);
    if (excluded) out.push("", escapeMarkdown(excluded).replace(/^not in Flux/, "**Not in Flux**"));
    for (const line of fluxLines(plan)) out.push("", escapeMarkdown(line));
    return out;
}

/**
 * The graph in at most `room` characters: whole, else with each Flux phase
 * as one node, else left out with a note. `room` stays below Mermaid's own
 * limit of 50,000 characters, past which GitHub shows an error instead.
 */
function graphLines(plan: Plan, room: number): string[] {
    if (!plan.resources.length) return [];
    const legend = plan.changes
        ? ["", "*Green: added · yellow: changed, or holds a change · red, dashed: removed. Gates are hexagons.*"]
        : [];
    const whole = ["", "```mermaid", renderMermaid(plan), "```", ...legend];
    if (size(whole) <= room) return whole;
    const collapsed = [
        "",
        "```mermaid",
        renderMermaid(plan, { collapseSubphases: true }),
        "```",
        "",
        "*Each Flux phase is drawn as one node.*",
        ...legend,
    ];
    if (size(collapsed) <= room) return collapsed;
    return ["", "*The graph is left out to fit a GitHub comment; `npm run -s plan -- --format markdown` draws it.*"];
}

const findingKey = (f: Finding) => `${f.severity}\u0000${f.rule}\u0000${f.resource}`;

function findingRow(f: Finding): string {
    return `| ${f.severity} | \`${f.rule}\` | \`${f.resource.split("::").pop()}\` | ${cell(f.message)} |`;
}

/** A resource's row; what a delete does to it (protected, kept) in italics after its name. */
const resourceRow = (r: PlanResource) =>
    `| ${r.phase ?? ""} | \`${r.name}\`${lifecycleMarks(r)
        .map((m) => ` *${m}*`)
        .join("")} | \`${r.type}\` | ${cell(summary(r))} |`;

export function renderMarkdown(plan: Plan, budget = MARKDOWN_BUDGET): string {
    if (plan.changes) return renderComparedMarkdown(plan, budget);
    const head = [...titleLines(plan), ...phaseTable(plan)];
    // Half the budget leaves room for the tables.
    const graph = graphLines(plan, budget / 2);
    const findingsHead = plan.findings.length
        ? ["", "#### Findings", "", "| Severity | Rule | Resource | Message |", "|---|---|---|---|"]
        : [];
    const resourcesHead = plan.resources.length
        ? ["", "<details><summary>Resources</summary>", "", "| Phase | Resource | Type | Deploys |", "|---|---|---|---|"]
        : [];
    const resourcesTail = plan.resources.length ? ["", "</details>"] : [];
    let room = budget - size([...head, ...graph, ...findingsHead, ...resourcesHead, ...resourcesTail]) - 2 * NOTE_ROOM;
    // Findings before resources: they are what a reviewer must act on.
    const findings = tableRows(plan.findings, findingRow, room, "findings");
    room -= size(findings);
    const resources = tableRows(plan.resources, resourceRow, room, "resources");
    return [...head, ...graph, ...findingsHead, ...findings, ...resourcesHead, ...resources, ...resourcesTail].join("\n") + "\n";
}

/**
 * A plan compared with its base, for a pull request: the changes first,
 * then the head's findings (new ones marked) and those it resolves, then
 * the whole plan folded away.
 */
function renderComparedMarkdown(plan: Plan, budget: number): string {
    const c = plan.changes!;
    const title = titleLines(plan);
    const changes = changesMarkdown(plan, (budget - size(title)) / 2);
    let room = budget - size([...title, ...changes]);

    const fresh = new Set(c.findings.new.map(findingKey));
    const findingsHead = plan.findings.length
        ? ["#### Findings", "", "| | Severity | Rule | Resource | Message |", "|---|---|---|---|---|"]
        : [];
    const findings = tableRows(
        plan.findings,
        (f) => `| ${fresh.has(findingKey(f)) ? "**new**" : ""} ${findingRow(f)}`,
        room / 2 - size(findingsHead),
        "findings",
    );
    const resolvedHead = c.findings.resolved.length ? ["", "Resolved by this change:", ""] : [];
    const resolved = tableRows(
        c.findings.resolved,
        (f) => `- ~~${f.severity}~~ \`${f.rule}\` at \`${f.resource.split("::").pop()}\`: ${escapeMarkdown(f.message)}`,
        room / 4,
        "resolved findings",
    );
    const findingsPart = [
        ...findingsHead,
        ...findings,
        ...resolvedHead,
        ...resolved,
        ...(findingsHead.length || resolved.length ? [""] : []),
    ];
    room -= size(findingsPart);

    // A plan that registered nothing has no whole plan to fold away: its errors above are all of it.
    if (!plan.resources.length) return [...title, ...changes, ...findingsPart].join("\n").trimEnd() + "\n";
    const summaryLine = `<details><summary>The whole plan: ${plan.resources.length} resources in ${plan.phases.length} phases, and the graph</summary>`;
    const open = [summaryLine, "", ...phaseTable(plan)];
    const resourcesHead = plan.resources.length ? ["", "| Phase | Resource | Type | Deploys |", "|---|---|---|---|"] : [];
    const close = ["", "</details>"];
    room -= size([...open, ...resourcesHead, ...close]) + 2 * NOTE_ROOM;
    const graph = graphLines(plan, Math.min(budget / 2, room));
    room -= size(graph);
    const resources = tableRows(plan.resources, resourceRow, room, "resources");
    return [...title, ...changes, ...findingsPart, ...open, ...graph, ...resourcesHead, ...resources, ...close].join("\n") + "\n";
}
