import * as fs from "node:fs";
import * as path from "node:path";
import { CONFIG_NAMESPACE } from "../problems";
import { SECTIONS } from "./index";
import { annotatedStackSchema, defaultSentence, JsonSchema, STACK_SCHEMA_FILE, stackSchemaText } from "./json-schema";

// docs/configuration.md, rendered from the same schema object as
// schema/stack.schema.json: a key cannot be validated one way and documented
// another. The hand-written parts come from REFERENCE_TEMPLATE.

/** The generated page, relative to the repository root. */
export const REFERENCE_FILE = "docs/configuration.md";

/** Its hand-written parts, with a `<!-- generated: NAME -->` line where each generated part goes. */
export const REFERENCE_TEMPLATE = "schema/configuration.template.md";

/** One key of a section, flattened: `bgp.peers[].asn`. */
export interface KeyRow {
    path: string;
    type: string;
    /** "required", what happens when it is not set, or "" when there is nothing to say. */
    default: string;
    description: string;
}

function countText(min: number | undefined, max: number | undefined, unit: [string, string]): string {
    const of = (n: number) => `${n} ${n === 1 ? unit[0] : unit[1]}`.trim();
    if (min !== undefined && max !== undefined) return min === max ? of(min) : `${min}–${of(max)}`;
    if (min !== undefined) return `at least ${of(min)}`;
    return max !== undefined ? `at most ${of(max)}` : "";
}

/** "strings" for "string"; a choice of values stays as it is. */
function plural(type: string): string {
    return /^[a-z ]+$/.test(type) ? `${type}s` : type;
}

/** The kind of value a key takes, in words. */
export function typeText(node: JsonSchema): string {
    if (node.title) return node.title;
    if (Array.isArray(node.enum)) {
        const values = node.enum.map((v: unknown) => `\`${String(v)}\``);
        return values.length > 1 ? `${values.slice(0, -1).join(", ")} or ${values[values.length - 1]}` : values.join("");
    }
    if (Array.isArray(node.anyOf)) return [...new Set(node.anyOf.map((b: JsonSchema) => typeText(b)))].join(" or ");
    switch (node.type) {
        case "integer":
        case "number": {
            // zod's int() bounds a whole number by the safe integers: no limit a reader needs.
            const bound = (b: number | undefined) => (b === undefined || Math.abs(b) >= Number.MAX_SAFE_INTEGER ? undefined : b);
            const range = countText(bound(node.minimum), bound(node.maximum), ["", ""]);
            return range ? `${node.type}, ${range}` : node.type;
        }
        case "array": {
            const count = countText(node.minItems, node.maxItems, ["entry", "entries"]);
            return `list of ${plural(node.items ? typeText(node.items) : "value")}${count ? ` (${count})` : ""}`;
        }
        case "object": {
            const extra = node.additionalProperties;
            if (!node.properties && extra && typeof extra === "object" && extra.type) return `map of ${plural(typeText(extra))}`;
            return "map";
        }
        default:
            return typeof node.type === "string" ? node.type : "any";
    }
}

/** A key's default cell: "required", or the default and what it does. */
function defaultCell(node: JsonSchema, required: boolean, unlessTalos = false): string {
    if (required) return "required";
    if (unlessTalos) return "required, unless `talosConfig` is set";
    // A map whose keys all have defaults: its rows below say them.
    const d = node.default;
    if (d && typeof d === "object" && !Array.isArray(d) && !Object.keys(d).length && node.properties && !node.defaultText) {
        return "its keys' defaults";
    }
    return defaultSentence(node) ?? "";
}

/** The maps a key's value is made of, with the path their keys are written under. */
function nested(node: JsonSchema, path: string): [JsonSchema, string][] {
    // A named type (a label selector) has its keys listed once, under its name.
    if (node.title) return [];
    if (node.properties && Object.keys(node.properties).length) return [[node, path]];
    if (node.type === "array" && node.items) return nested(node.items, `${path}[]`);
    if (Array.isArray(node.anyOf)) return node.anyOf.flatMap((b: JsonSchema) => nested(b, path));
    return [];
}

/** Every key of a map, depth first, in the order the schema lists them. */
export function keyRows(node: JsonSchema, path = ""): KeyRow[] {
    const rows: KeyRow[] = [];
    const required = new Set<string>(node.required ?? []);
    const unlessTalos = new Set<string>(node.then?.required ?? []);
    for (const [key, child] of Object.entries<JsonSchema>(node.properties ?? {})) {
        const at = path ? `${path}.${key}` : key;
        rows.push({
            path: at,
            type: typeText(child),
            default: defaultCell(child, required.has(key), unlessTalos.has(key)),
            description: child.description ?? "",
        });
        for (const [map, under] of nested(child, at)) rows.push(...keyRows(map, under));
    }
    return rows;
}

/** Text safe inside one cell of a Markdown table. */
function cell(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
}

function table(header: string[], rows: string[][]): string {
    return [
        `| ${header.join(" | ")} |`,
        `|${header.map(() => "---").join("|")}|`,
        ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
    ].join("\n");
}

function keyTable(rows: KeyRow[]): string {
    return table(
        ["key", "type", "default", "description"],
        rows.map((r) => [`\`${r.path}\``, r.type, r.default, r.description]),
    );
}

function configOf(schema: JsonSchema): JsonSchema {
    return schema.properties.config;
}

/** Each section, in recovery order (the order of SECTIONS): heading, prose, every key. */
function sectionsPart(schema: JsonSchema): string {
    const config = configOf(schema);
    const required = new Set<string>(schema.then?.properties?.config?.required ?? []);
    return Object.keys(SECTIONS)
        .map((name) => {
            const key = `${CONFIG_NAMESPACE}:${name}`;
            const section: JsonSchema = config.properties[key];
            const presence = required.has(key) ? "Required." : "Optional: without it, every key below takes its default.";
            return [
                `### \`${key}\` — ${section.title}`,
                `${presence} ${section.description}`,
                ...((section.details as string[] | undefined) ?? []),
                keyTable(keyRows(section)),
            ].join("\n\n");
        })
        .join("\n\n");
}

/** Nodes with a `title` below the sections (label selectors), by title. */
function namedTypes(schema: JsonSchema): Map<string, JsonSchema> {
    const found = new Map<string, JsonSchema>();
    const visit = (node: unknown, root: boolean): void => {
        if (node === null || typeof node !== "object") return;
        const n = node as JsonSchema;
        if (!root && typeof n.title === "string" && !found.has(n.title)) found.set(n.title, n);
        for (const [key, value] of Object.entries(n)) {
            if (key === "default" || key === "enum") continue;
            if (key === "properties" || key === "patternProperties") Object.values(value as object).forEach((v) => visit(v, false));
            else if (typeof value === "object") visit(value, false);
        }
    };
    for (const name of Object.keys(SECTIONS)) visit(configOf(schema).properties[`${CONFIG_NAMESPACE}:${name}`], true);
    return found;
}

/** Each named type's keys, once. */
function typesPart(schema: JsonSchema): string {
    return [...namedTypes(schema)]
        .map(([title, node]) => [`### ${title[0].toUpperCase()}${title.slice(1)}`, keyTable(keyRows(node))].join("\n\n"))
        .join("\n\n");
}

/** The chart behind each chart-backed section, with its defaults. */
function chartsPart(schema: JsonSchema): string {
    const config = configOf(schema);
    const rows = Object.keys(SECTIONS)
        .map((name) => [name, config.properties[`${CONFIG_NAMESPACE}:${name}`].properties] as const)
        .filter(([, props]) => props.chart)
        .map(([name, props]) => [
            `\`${name}\``,
            `\`${props.chart.default}\``,
            props.repository.default,
            `\`${props.version.default}\``,
            `\`${props.namespace.default}\``,
        ]);
    return table(["section", "chart", "repository", "default version", "namespace"], rows);
}

/** The secret keys, listed and by pattern. */
function secretsPart(schema: JsonSchema): string {
    const config = configOf(schema);
    const names = Object.keys(config.properties).filter((k) => !(k.slice(CONFIG_NAMESPACE.length + 1) in SECTIONS));
    const rows = names.map((k) => [`\`${k}\``, config.properties[k].description]);
    for (const [pattern, node] of Object.entries<JsonSchema>(config.patternProperties)) {
        if (pattern.startsWith(`^${CONFIG_NAMESPACE}:`)) rows.push([`any other \`${CONFIG_NAMESPACE}:<name>\``, node.description]);
    }
    return table(["key", "description"], rows);
}

/** The keys outside talos-platform:, and the stack file's own top-level keys. */
function otherKeysPart(schema: JsonSchema): string {
    const config = configOf(schema);
    const rows: string[][] = [];
    for (const [pattern, node] of Object.entries<JsonSchema>(config.patternProperties)) {
        if (!pattern.startsWith(`^${CONFIG_NAMESPACE}:`))
            rows.push([`\`${pattern.replace(/^\^/, "")}*\` (in \`config:\`)`, node.description]);
    }
    for (const [key, node] of Object.entries<JsonSchema>(schema.properties)) {
        if (key !== "config") rows.push([`\`${key}\` (top level)`, node.description]);
    }
    return table(["key", "description"], rows);
}

const PARTS: Record<string, (schema: JsonSchema) => string> = {
    sections: sectionsPart,
    types: typesPart,
    charts: chartsPart,
    secrets: secretsPart,
    "other-keys": otherKeysPart,
};

/**
 * The page: the template with each `<!-- generated: NAME -->` line replaced
 * by its part. Every part must be placed exactly once, so a template edit
 * cannot drop a section's keys from the page without failing here.
 */
export function renderReference(template: string, annotated: JsonSchema): string {
    const placed = new Set<string>();
    const body = template.replace(/^<!-- generated: ([\w-]+) -->$/gm, (_, name: string) => {
        const part = PARTS[name];
        if (!part) throw new Error(`${REFERENCE_TEMPLATE}: no generated part named ${name} (known: ${Object.keys(PARTS).join(", ")})`);
        if (placed.has(name)) throw new Error(`${REFERENCE_TEMPLATE}: ${name} is placed twice`);
        placed.add(name);
        return part(annotated);
    });
    const missing = Object.keys(PARTS).filter((p) => !placed.has(p));
    if (missing.length) throw new Error(`${REFERENCE_TEMPLATE}: place ${missing.map((m) => `<!-- generated: ${m} -->`).join(", ")}`);
    const banner = `<!-- Generated by \`npm run gen:schema\` from lib/config/ and ${REFERENCE_TEMPLATE}, like ${STACK_SCHEMA_FILE}. Edit those, not this page. -->`;
    return `${banner}\n\n${body.trimEnd()}\n`;
}

/**
 * The generated files' text, by path relative to `root` (the repository):
 * the JSON Schema and the reference page, from one schema object.
 */
export function generatedFiles(root: string): Record<string, string> {
    const annotated = annotatedStackSchema();
    const template = fs.readFileSync(path.join(root, REFERENCE_TEMPLATE), "utf8");
    return { [STACK_SCHEMA_FILE]: stackSchemaText(annotated), [REFERENCE_FILE]: renderReference(template, annotated) };
}
