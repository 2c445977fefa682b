import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { main } from "../cli/plan";
import { mergeValues } from "../lib/merge";
import type { Plan } from "../lib/plan/model";
import { ROOT } from "./helpers";

// Reading the project's Markdown the way GitHub renders it, for the tests
// that keep README.md and docs/ true to the code: fenced blocks, headings
// and their anchors, and relative links.

export function readDoc(rel: string): string {
    return fs.readFileSync(path.join(ROOT, rel), "utf8");
}

/** README.md and every page under docs/ that Git would carry (tracked, or new and not ignored). */
export function docFiles(): string[] {
    return workingTreeFiles().filter((f) => f === "README.md" || (f.startsWith("docs/") && f.endsWith(".md")));
}

/** The files of the Git working tree: tracked and still on disk, or untracked and not ignored. */
export function workingTreeFiles(): string[] {
    return execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
        .split("\0")
        .filter((f) => f && fs.existsSync(path.join(ROOT, f)));
}

export interface Line {
    text: string;
    /** 1-based line number. */
    n: number;
}

export interface Block {
    lang: string;
    body: string;
    /** Line of the opening fence. */
    line: number;
}

export interface Heading {
    level: number;
    text: string;
    line: number;
}

export interface Parsed {
    /** Lines outside fenced blocks. */
    prose: Line[];
    blocks: Block[];
    headings: Heading[];
}

/** Splits Markdown into prose lines, fenced blocks and ATX headings (the only heading style these pages use). */
export function parseMarkdown(text: string): Parsed {
    const out: Parsed = { prose: [], blocks: [], headings: [] };
    let fence: { marker: string; block: Block; body: string[] } | undefined;
    text.split("\n").forEach((raw, i) => {
        const n = i + 1;
        if (fence) {
            if (raw.trim().startsWith(fence.marker) && raw.trim().replace(/[`~]/g, "") === "") {
                out.blocks.push({ ...fence.block, body: fence.body.join("\n") });
                fence = undefined;
            } else fence.body.push(raw);
            return;
        }
        const open = /^ {0,3}(`{3,}|~{3,})\s*([\w-]*)/.exec(raw);
        if (open) {
            fence = { marker: open[1], block: { lang: open[2], body: "", line: n }, body: [] };
            return;
        }
        out.prose.push({ text: raw, n });
        const h = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(raw);
        if (h) out.headings.push({ level: h[1].length, text: h[2], line: n });
    });
    if (fence) throw new Error(`unclosed code fence at line ${fence.block.line}`);
    return out;
}

/**
 * GitHub's heading anchor (github-slugger): the heading's rendered text in
 * lower case, every character that is not a letter, mark, digit, connector
 * punctuation, space or hyphen removed, each space made a hyphen.
 */
export function slug(heading: string): string {
    const rendered = heading
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
        .replace(/`/g, "")
        .replace(/\*/g, "")
        .trim();
    return rendered
        .toLowerCase()
        .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
        .replace(/ /g, "-");
}

/** Every anchor a page offers: its headings' slugs, repeats numbered as GitHub does, and explicit ids. */
export function anchors(text: string): Set<string> {
    const parsed = parseMarkdown(text);
    const seen = new Map<string, number>();
    const out = new Set<string>();
    for (const h of parsed.headings) {
        const base = slug(h.text);
        const count = seen.get(base) ?? 0;
        seen.set(base, count + 1);
        out.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const l of parsed.prose) for (const m of l.text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(m[1]);
    return out;
}

export interface Link {
    target: string;
    line: number;
}

/** Link targets in prose (inline links, images, reference definitions, href), ignoring code spans and fenced blocks. */
export function links(text: string): Link[] {
    const out: Link[] = [];
    for (const l of parseMarkdown(text).prose) {
        const line = l.text.replace(/(`+)[^`]*?\1/g, "");
        for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1], line: l.n });
        const def = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
        if (def) out.push({ target: def[1], line: l.n });
        for (const m of line.matchAll(/href="([^"]+)"/g)) out.push({ target: m[1], line: l.n });
    }
    return out;
}

/** The prose of one `##`-or-deeper section: from its heading to the next heading of the same or a higher level. */
export function section(text: string, heading: string): string {
    const lines = text.split("\n");
    const parsed = parseMarkdown(text);
    const i = parsed.headings.findIndex((h) => h.text === heading);
    if (i < 0) throw new Error(`no heading '${heading}'; have ${parsed.headings.map((h) => h.text).join(" | ")}`);
    const start = parsed.headings[i];
    const end = parsed.headings.slice(i + 1).find((h) => h.level <= start.level);
    return lines.slice(start.line - 1, end ? end.line - 1 : undefined).join("\n");
}

/** Collapses runs of whitespace, so a message wrapped to fit a page compares equal to the one-line original. */
export function normalizeSpace(text: string): string {
    return text.replace(/\s+/g, " ").trim();
}

/** Wraps text at spaces to lines of at most `width` characters (a longer word gets a line of its own). */
export function wrap(text: string, width = 100): string {
    const lines: string[] = [];
    let cur = "";
    for (const word of normalizeSpace(text).split(" ")) {
        if (cur && cur.length + 1 + word.length > width) {
            lines.push(cur);
            cur = word;
        } else cur = cur ? `${cur} ${word}` : word;
    }
    if (cur) lines.push(cur);
    return lines.join("\n");
}

/** One example of docs/troubleshooting.md: a change to Pulumi.dev.yaml and what the plan says about it. */
export interface Example {
    heading: string;
    line: number;
    /** Stack-file YAML merged into Pulumi.dev.yaml. */
    fragment: string;
    /** The text block's paragraphs, whitespace collapsed: errors, then `[severity] rule: message` findings. */
    said: string[];
}

/** Every heading whose own text (up to the next heading) holds a yaml block: its first yaml block and the text block after it. */
export function examples(text: string): Example[] {
    const parsed = parseMarkdown(text);
    const out: Example[] = [];
    parsed.headings.forEach((h, i) => {
        const next = parsed.headings[i + 1]?.line ?? Infinity;
        const blocks = parsed.blocks.filter((b) => b.line > h.line && b.line < next);
        const yaml = blocks.find((b) => b.lang === "yaml");
        if (!yaml) return;
        const said = blocks.find((b) => b.lang === "text" && b.line > yaml.line);
        out.push({
            heading: h.text,
            line: yaml.line,
            fragment: yaml.body,
            said: (said?.body ?? "")
                .split(/\n\s*\n/)
                .map(normalizeSpace)
                .filter(Boolean),
        });
    });
    return out;
}

/** What a plan says, one entry per error or finding, in the form the examples quote it. */
export function planSays(plan: Plan): { errors: string[]; findings: string[] } {
    return {
        errors: plan.errors.map((e) => normalizeSpace(e.message)),
        findings: plan.findings.map((f) => normalizeSpace(`[${f.severity}] ${f.rule}: ${f.message}`)),
    };
}

/** Plans Pulumi.dev.yaml with `fragment` merged in (maps merge, lists replace, null removes), through the plan command. */
export async function planDevWith(fragment: string): Promise<{ code: number; plan: Plan; err: string }> {
    const dev = parse(readDoc("Pulumi.dev.yaml"));
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "talos-platform-docs-")), "Pulumi.example.yaml");
    fs.writeFileSync(file, stringify(mergeValues(dev, parse(fragment))));
    let out = "";
    let err = "";
    const code = await main(["--config", file, "--format", "json"], { out: (t) => (out += t), err: (t) => (err += t), cwd: ROOT });
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    if (!out) throw new Error(`the plan exited ${code} without a plan: ${err}`);
    return { code, plan: JSON.parse(out), err };
}
