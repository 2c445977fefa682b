import type { PlanResource } from "./model";

// Pieces the text and markdown renderers share.

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

/** The last segment of a type token: "Release", "Gate". */
export function shortType(type: string): string {
    return type.split(":").pop() ?? type;
}

/** Escapes what GitHub would read as HTML (a `<pending>` vanishes), outside code spans, where everything is literal. */
export function escapeMarkdown(text: string): string {
    return text
        .split(/(`[^`\n]*`)/)
        .map((part, i) => (i % 2 ? part : part.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")))
        .join("");
}

/** A table cell: a bare `|` would end it, even inside a code span. */
export function cell(text: string): string {
    return escapeMarkdown(text).replace(/\|/g, "\\|");
}

/**
 * What a markdown plan may take: GitHub refuses comments over 65,536
 * characters; the rest is headroom for what a workflow adds around it.
 */
export const MARKDOWN_BUDGET = 60_000;

/** Room kept for the note under a trimmed table. */
export const NOTE_ROOM = 200;

export const size = (lines: string[]) => lines.reduce((n, l) => n + l.length + 1, 0);

/** As many rows as fit in `room` characters, and a note saying what was left out. */
export function tableRows<T>(items: T[], row: (item: T) => string, room: number, noun: string): string[] {
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
