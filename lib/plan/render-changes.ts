import { PHASES, Phase } from "../phases";
import { deepEqual } from "./field-diff";
import { cell, escapeMarkdown, size, summary } from "./format";
import type { ChangedResource, FieldChange, Finding, GateChange, Plan, PlanChanges, ResourceRef } from "./model";

// The changes against a base plan, in text and markdown: what a reviewer
// reads first. Each phase gets its resources, its gates and the field
// diffs of what changed.

/** How long one shown value may be; the JSON has every value whole. */
const MAX_VALUE = 160;
/** Below this length a changed string is shown whole; above, from its first differing word. */
const SHORT_STRING = 60;

/** A type as a reviewer knows it: `helm.sh/v3:Release`, `cilium.io/v2:CiliumLoadBalancerIPPool`, `Gate`. */
export function typeLabel(type: string): string {
    if (type.startsWith("kubernetes:")) return type.slice("kubernetes:".length);
    if (type.startsWith("talos-platform:")) return type.split(":").pop() ?? type;
    return type.replace(/^command:/, "");
}

function clip(text: string, max = MAX_VALUE): string {
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

/** A value on one line: plain scalars bare, strings quoted only where they would read as something else. */
export function formatValue(v: unknown): string {
    if (typeof v === "string") return v === "" || /^\s|\s$|\n|^(true|false|null|-?\d[\d.eE+-]*)$/.test(v) ? JSON.stringify(v) : v;
    if (v === null || typeof v !== "object") return String(v);
    return JSON.stringify(v);
}

/**
 * Two long strings (a gate's command line) from one word before the first
 * that differs to the last that differs, so the change is not lost at the
 * end of a 400-character line.
 */
export function elide(before: string, after: string): [string, string] {
    if (before.length <= SHORT_STRING && after.length <= SHORT_STRING) return [before, after];
    const b = before.split(" ");
    const a = after.split(" ");
    let i = 0;
    while (i < b.length && i < a.length && b[i] === a[i]) i++;
    let j = 0;
    while (j < b.length - i && j < a.length - i && b[b.length - 1 - j] === a[a.length - 1 - j]) j++;
    const start = Math.max(0, i - 1);
    const show = (w: string[]) => `${start > 0 ? "… " : ""}${w.slice(start, w.length - j).join(" ")}${j > 0 ? " …" : ""}`;
    return [show(b), show(a)];
}

/**
 * Two command lines as the flags that differ: `--kube-proxy-replacement true`
 * → `--kube-proxy-replacement false`. Undefined when either is no command line.
 */
export function flagDiff(before: string, after: string): [string, string] | undefined {
    if (!before.includes(" --") || !after.includes(" --")) return undefined;
    const units = (s: string) => s.split(/ (?=--)/);
    const minus = (xs: string[], ys: string[]) => {
        const left = [...ys];
        return xs.filter((x) => {
            const i = left.indexOf(x);
            if (i < 0) return true;
            left.splice(i, 1);
            return false;
        });
    };
    const [b, a] = [units(before), units(after)];
    const show = (xs: string[]) => (xs.length ? `… ${xs.join(" ")}` : "(no flag)");
    const gone = minus(b, a);
    const came = minus(a, b);
    return gone.length || came.length ? [show(gone), show(came)] : undefined;
}

/** A field's old and new value as shown; undefined for a side the field is absent from. */
function shownValues(f: FieldChange): { before?: string; after?: string } {
    if (f.change === "reordered") return { before: (f.before as string[]).join(", "), after: (f.after as string[]).join(", ") };
    if (f.secret) return { before: "[secret]", after: `[secret], changed: ${f.secret} has a new ciphertext` };
    if (f.change === "added") return { after: clip(formatValue(f.after)) };
    if (f.change === "removed") return { before: clip(formatValue(f.before)) };
    const [b, a] =
        typeof f.before === "string" && typeof f.after === "string"
            ? (flagDiff(f.before, f.after) ?? elide(f.before, f.after))
            : [formatValue(f.before), formatValue(f.after)];
    return { before: clip(b), after: clip(a) };
}

const label = (f: FieldChange) => (f.change === "reordered" ? `${f.path} (order)` : f.path);

/** One line per field: `path: old → new`. */
export function fieldText(f: FieldChange): string {
    const { before, after } = shownValues(f);
    if (f.secret) return `${f.path}: [secret] changed (${f.secret} has a new ciphertext; the value is never shown)`;
    return `${label(f)}: ${before ?? "(none)"} → ${after ?? "(none)"}`;
}

/** Lines of a ```diff block: `- path: old`, `+ path: new`. */
export function fieldDiff(f: FieldChange): string[] {
    const { before, after } = shownValues(f);
    const fence = (s: string) => s.replace(/```/g, "`\u200b``");
    return [
        ...(before !== undefined ? [fence(`- ${label(f)}: ${before}`)] : []),
        ...(after !== undefined ? [fence(`+ ${label(f)}: ${after}`)] : []),
    ];
}

const lastSegment = (urn: string) => urn.split("::").pop() ?? urn;

function dependsOnLines(r: ChangedResource): { text: string[]; diff: string[] } {
    const d = r.dependsOn;
    if (!d) return { text: [], diff: [] };
    return {
        text: [...d.added.map((u) => `now waits for ${lastSegment(u)}`), ...d.removed.map((u) => `no longer waits for ${lastSegment(u)}`)],
        diff: [...d.removed.map((u) => `- dependsOn: ${lastSegment(u)}`), ...d.added.map((u) => `+ dependsOn: ${lastSegment(u)}`)],
    };
}

/** What runs a check again, e.g. `trigger sha256:… → sha256:…`; `code` marks up values (markdown). */
function gateWhy(g: GateChange, code: (t: string) => string = (t) => t): string {
    if (g.reason === "new") return "for the first time";
    if (g.reason === "command") return "its check changed";
    const [b, a] = [g.triggers.before ?? [], g.triggers.after ?? []];
    const gone = b.filter((x) => !a.some((y) => deepEqual(x, y)));
    const came = a.filter((x) => !b.some((y) => deepEqual(x, y)));
    const list = (xs: unknown[]) => (xs.length ? xs.map((x) => code(clip(formatValue(x), 80))).join(", ") : "(none)");
    if (!gone.length && !came.length) return "its triggers were reordered";
    return `${b.length === 1 && a.length === 1 ? "trigger" : "triggers"} ${list(gone)} → ${list(came)}`;
}

const gateVerb = (g: GateChange) => (g.reason === "new" ? "runs" : "re-runs");

/** Changed resources as a reviewer counts them: a gate's check is told with its gate. */
function ownChanges(c: PlanChanges): ChangedResource[] {
    const checks = new Set(c.gates.map((g) => g.check));
    return c.changed.filter((r) => !checks.has(r.urn));
}

/** One phase's share of the changes, or those outside the phases (phase null). */
interface Section {
    phase: Phase | null;
    changed: ChangedResource[];
    added: ResourceRef[];
    removed: ResourceRef[];
    gates: GateChange[];
    /** Changes of the gates' own check Commands, shown under their gate. */
    checks: Map<string, ChangedResource>;
}

function sections(c: PlanChanges): Section[] {
    const checks = new Map(c.gates.map((g) => [g.check, g]));
    return [null, ...PHASES].flatMap((phase) => {
        const s: Section = {
            phase,
            changed: c.changed.filter((r) => r.phase === phase && !checks.has(r.urn)),
            added: c.added.filter((r) => r.phase === phase && !checks.has(r.urn)),
            removed: c.removed.filter((r) => r.phase === phase),
            gates: c.gates.filter((g) => g.phase === phase),
            checks: new Map(c.changed.filter((r) => r.phase === phase && checks.has(r.urn)).map((r) => [checks.get(r.urn)!.gate, r])),
        };
        const configOnly = !!phase && !!c.phases.find((p) => p.name === phase)?.config.length;
        return s.changed.length || s.added.length || s.removed.length || s.gates.length || configOnly ? [s] : [];
    });
}

function sectionTitle(s: Section, c: PlanChanges, code: (t: string) => string): string {
    const phaseChange = c.phases.find((p) => p.name === s.phase);
    const title = s.phase ? `${PHASES.indexOf(s.phase) + 1}. ${s.phase}` : "outside the phases";
    const counts = [
        s.changed.length ? `${s.changed.length} changed` : "",
        s.added.length ? `${s.added.length} added` : "",
        s.removed.length ? `${s.removed.length} removed` : "",
        s.gates.length ? `re-runs ${s.gates.map((g) => code(g.name)).join(", ")}` : "",
        // Without resources to compare, the config says which phases a change touches.
        !s.changed.length && !s.added.length && !s.removed.length && !s.gates.length && phaseChange?.config.length
            ? `its config changes: ${phaseChange.config.map(code).join(", ")}`
            : "",
        phaseChange?.subphases.length ? `Flux phases ${phaseChange.subphases.map(code).join(", ")}` : "",
        phaseChange?.blocks.length ? `blocks ${phaseChange.blocks.join(", ")}` : "",
    ].filter(Boolean);
    return `${title}: ${counts.join(" · ")}`;
}

/** The counts worth saying: resources always, the rest when there is any. */
function totals(c: PlanChanges, compared: boolean): string[] {
    const changed = ownChanges(c);
    const replaced = changed.filter((r) => r.replaces.length).length;
    const some = (n: number, text: string) => (n ? [text] : []);
    return [
        ...(compared ? [`${changed.length} changed`, `${c.added.length} added`, `${c.removed.length} removed`] : []),
        ...some(replaced, `${replaced} replaced`),
        ...some(c.gates.length, `${c.gates.length} ${c.gates.length === 1 ? "check runs" : "checks run"} again`),
        ...some(c.config.length, `${c.config.length} config ${c.config.length === 1 ? "value" : "values"} changed`),
        ...some(c.findings.new.length, `${c.findings.new.length} new ${c.findings.new.length === 1 ? "finding" : "findings"}`),
        ...some(c.findings.resolved.length, `${c.findings.resolved.length} resolved`),
        ...c.secrets.map((s) => `secret ${s.key} ${s.change}`),
        ...some(c.errors.new.length, `${c.errors.new.length} new config ${c.errors.new.length === 1 ? "error" : "errors"}`),
        ...some(
            c.errors.resolved.length,
            `${c.errors.resolved.length} config ${c.errors.resolved.length === 1 ? "error" : "errors"} resolved`,
        ),
    ];
}

export { ownChanges };

/** Were resources compared? Not when this plan has config errors and registered nothing. */
const compared = (plan: Plan) => !(plan.errors.length && !plan.resources.length);

export function isUnchanged(c: PlanChanges): boolean {
    return (
        !c.added.length &&
        !c.removed.length &&
        !c.changed.length &&
        !c.gates.length &&
        !c.secrets.length &&
        !c.config.length &&
        !c.errors.new.length &&
        !c.errors.resolved.length
    );
}

const findingText = (f: Finding) => `[${f.severity}] ${f.rule}: ${f.message}`;

export function changesText(plan: Plan): string[] {
    const c = plan.changes!;
    const base = `the base plan (${c.base.project}/${c.base.stack}, ${c.base.resources} resources)`;
    const out: string[] = [];
    if (isUnchanged(c)) out.push(`no changes against ${base}`);
    else out.push(`changes against ${base}: ${totals(c, compared(plan)).join(", ")}`);
    for (const n of c.notes) out.push(`  note: ${n}`);
    if (c.config.length) out.push("  stack config", ...c.config.map((f) => `    ${fieldText(f)}`));
    for (const e of c.errors.new) out.push(`  new config error: ${e.path}`);
    for (const e of c.errors.resolved) out.push(`  resolved config error: ${e.path}`);
    for (const s of sections(c)) {
        out.push(`  ${sectionTitle(s, c, (t) => t)}`);
        for (const r of s.changed) {
            const replaced = r.replaces.length
                ? `  REPLACED (${r.replaces.join(", ")} changed: created anew, then the old one deleted)`
                : "";
            out.push(`    ~ ${r.name}  (${typeLabel(r.type)})${replaced}`);
            for (const f of r.fields) out.push(`        ${fieldText(f)}`);
            for (const l of dependsOnLines(r).text) out.push(`        ${l}`);
        }
        for (const r of s.added) out.push(`    + ${r.name}  (${typeLabel(r.type)})`);
        for (const r of s.removed) out.push(`    - ${r.name}  (${typeLabel(r.type)})${r.note ? `: ${r.note}` : ""}`);
        for (const g of s.gates) {
            out.push(`    ↻ ${g.name} ${gateVerb(g)}: ${gateWhy(g)}`);
            for (const f of (s.checks.get(g.gate)?.fields ?? []).filter((f) => f.path !== "triggers" && !f.path.startsWith("triggers[")))
                out.push(`        ${fieldText(f)}`);
        }
    }
    if (c.findings.new.length || c.findings.resolved.length) {
        out.push(`  findings: ${c.findings.new.length} new, ${c.findings.resolved.length} resolved`);
        for (const f of c.findings.new) out.push(`    + ${findingText(f)}`);
        for (const f of c.findings.resolved) out.push(`    - ${findingText(f)}  (resolved)`);
    }
    return out;
}

/** As many of `lines` as fit in `room`, and a line saying how many did not. */
function fit(lines: string[], room: number, note: (left: number) => string[]): string[] {
    const out: string[] = [];
    let used = 0;
    for (const l of lines) {
        if (used + l.length + 1 > room) {
            return [...out, ...note(lines.length - out.length)];
        }
        out.push(l);
        used += l.length + 1;
    }
    return out;
}

/** Where every change is, for a note under something trimmed. */
export const EVERY_CHANGE = "`npm run -s plan -- --base BASE.json --format json` has every change";

/** The last line of a trimmed diff block. */
const moreLines = (n: number) => [`# … ${n} more ${n === 1 ? "line" : "lines"}; ${EVERY_CHANGE.replace(/`/g, "")}`];

/** Room kept for the notes that say what a trimmed table or diff left out. */
const NOTE_ROOM = 300;

function sectionMarkdown(plan: Plan, s: Section, room: number): string[] {
    const c = plan.changes!;
    const code = (t: string) => `\`${t}\``;
    const head = [`##### ${escapeMarkdown(sectionTitle(s, c, code))}`, ""];
    const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
    const paths = (r: ChangedResource) => {
        const all = [...r.fields.map(label), ...(r.dependsOn ? ["dependsOn"] : [])];
        return all.slice(0, 3).map(code).join(", ") + (all.length > 3 ? ` and ${all.length - 3} more` : "");
    };
    const row = (what: string, name: string, type: string, detail: string) =>
        `| ${what} | ${code(name)} | ${code(typeLabel(type))} | ${detail} |`;
    const rows = [
        ...s.changed.map((r) =>
            r.replaces.length
                ? row("**replaced**", r.name, r.type, `${paths(r)}: created anew, then the old one deleted`)
                : row("changed", r.name, r.type, paths(r)),
        ),
        ...s.added.map((r) => row("added", r.name, r.type, cell(byUrn.get(r.urn) ? summary(byUrn.get(r.urn)!) : ""))),
        ...s.removed.map((r) => row(r.note ? "**removed**" : "removed", r.name, r.type, cell(r.note ?? ""))),
        ...s.gates.map((g) => row(gateVerb(g), g.name, g.kind === "gate" ? "Gate" : "CrdWait", cell(gateWhy(g, code)))),
    ];
    const diff: string[] = [];
    for (const r of s.changed) {
        diff.push(`@@ ${r.name} @@`, ...r.fields.flatMap(fieldDiff), ...dependsOnLines(r).diff);
    }
    for (const g of s.gates) {
        const fields = (s.checks.get(g.gate)?.fields ?? []).filter((f) => !f.path.startsWith("triggers"));
        if (fields.length) diff.push(`@@ ${g.name} (its check) @@`, ...fields.flatMap(fieldDiff));
    }
    if (rows.length) head.push("| | Resource | Type | What changes |", "|---|---|---|---|");
    let left = room - size(head) - NOTE_ROOM;
    // The table says what changed; the diff says how. Each gets at least half of what is left.
    const table = fit(rows, Math.max(left / 2, left - size(diff) - 10), (n) => [
        "",
        `*${n} more of this phase's ${rows.length} changes left out to fit a GitHub comment; ${EVERY_CHANGE}.*`,
    ]);
    left -= size(table);
    const block = diff.length ? ["", "```diff", ...fit(diff, left - 20, moreLines), "```"] : [];
    return table.length || block.length ? [...head, ...table, ...block, ""] : head;
}

/** The changes section of the markdown plan, within `room` characters. */
export function changesMarkdown(plan: Plan, room: number): string[] {
    const c = plan.changes!;
    const base = `the base plan (\`${c.base.project}/${c.base.stack}\`, ${c.base.resources} resources${c.base.ok ? "" : ", which failed"})`;
    const out = ["#### Changes", ""];
    if (isUnchanged(c)) out.push(`**No changes** against ${base}.`, "");
    else out.push(`Against ${base}: **${totals(c, compared(plan)).join(" · ")}**`, "");
    for (const n of c.notes) out.push(`> ${escapeMarkdown(n)}`, "");
    if (c.errors.new.length) {
        const paths = c.errors.new.map((e) => `\`${e.path}\``).join(", ");
        out.push(`**New config errors** (listed above; nothing would be deployed): ${paths}`, "");
    }
    if (c.errors.resolved.length)
        out.push(`Config errors this change resolves: ${c.errors.resolved.map((e) => `\`${e.path}\``).join(", ")}`, "");
    // The stack file's own change first: it is the cause of what follows.
    if (c.config.length) {
        const lines = c.config.flatMap(fieldDiff);
        const head = ["##### Stack config", "", "```diff"];
        out.push(...head, ...fit(lines, room / 4 - size(head), moreLines), "```", "");
    }
    const all = sections(c);
    let left = room - size(out);
    // Each section gets an even share of what is left; what one leaves over goes to the next.
    all.forEach((s, i) => {
        const lines = sectionMarkdown(plan, s, left / (all.length - i));
        out.push(...lines);
        left -= size(lines);
    });
    return out;
}
