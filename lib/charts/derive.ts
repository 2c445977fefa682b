import Ajv from "ajv";
import Ajv2019 from "ajv/dist/2019";
import Ajv2020 from "ajv/dist/2020";
import standaloneCode from "ajv/dist/standalone";
import { parse } from "yaml";
import { isPlainObject, Values } from "../merge";
import type { ChartFiles, Template } from "./archive";
import { FILES } from "./catalog";

// What the program carries of a chart, derived from the chart's own files:
// the same functions make lib/charts/data (cli/chart-data.ts) and the
// cache of a chart fetched with `npm run plan -- --fetch-charts`.

/**
 * A chart's keys as its values.yaml has them. A map node lists its keys;
 * 0 is a scalar default; 1 is open: anything below it is the chart's to
 * take (an empty map or a list by default, a map that Kubernetes reads as
 * it is, a key only documented in a comment).
 */
export type KeyNode = 0 | 1 | { [key: string]: KeyNode };

export interface ChartKeys {
    chart: string;
    version: string;
    /** The tree of values.yaml: its keys, and the keys its comments document where they belong. */
    keys: { [key: string]: KeyNode };
    /** Dotted keys the templates read (`.Values.x.y`) that values.yaml neither sets nor documents. */
    templateKeys: string[];
}

/**
 * Maps the charts hand to Kubernetes unchanged (toYaml): their keys are the
 * Kubernetes API's, so a chart default such as `affinity.podAntiAffinity`
 * does not make `affinity.nodeAffinity` unknown.
 */
export const KUBERNETES_OBJECTS = new Set([
    "affinity",
    "nodeSelector",
    "tolerations",
    "resources",
    "securityContext",
    "podSecurityContext",
    "containerSecurityContext",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "topologySpreadConstraints",
    "updateStrategy",
    "strategy",
    "dnsConfig",
    "podDnsConfig",
    "lifecycle",
]);

function nodeOf(key: string, value: unknown): KeyNode {
    if (Array.isArray(value) || value === null || value === undefined) return 1;
    if (!isPlainObject(value)) return 0;
    const keys = Object.keys(value);
    // A label or annotation map ("kubernetes.io/os: linux") takes any key.
    if (!keys.length || KUBERNETES_OBJECTS.has(key) || keys.some((k) => k.includes("/"))) return 1;
    return Object.fromEntries(keys.map((k) => [k, nodeOf(k, value[k])]));
}

interface KeyLine {
    /** The indentation the key has, or would have uncommented. */
    indent: number;
    key: string;
    commented: boolean;
    /** A list item ("- name: x"): what follows belongs to a list, which is open. */
    item: boolean;
}

const REAL_KEY = /^( *)(- +)?("[^"]*"|'[^']*'|[^\s#'"{[\]}&*!|>%@`,-][^:#]*?) *:(?: +(.*))?$/;
const COMMENTED_KEY = /^( *)(#+)( +)(- +)?([A-Za-z_][\w-]*):(?: +(.*))?$/;
const BLOCK_SCALAR = /^[|>][-+0-9]*\s*(#.*)?$/;
const SCHEMA_MARK = /^\s*#\s*@schema\s*$/;

/** "# Note: ...", "# Ref: https://…": a sentence, not a key. Chart keys start lower-case in comments. */
function isProse(key: string, value: string | undefined): boolean {
    return /^[A-Z]/.test(key) || /^https?:\/\//.test(value ?? "");
}

/** The key lines of a values file, real and commented, with block scalars skipped. */
function keyLines(text: string): KeyLine[] {
    const out: KeyLine[] = [];
    let blockIndent = -1;
    let schemaBlock = false;
    // A real "key:" that opens a map, until the next real key line: "service:\n# clusterIP: ''" documents service.clusterIP.
    let opener = -1;
    for (const line of text.split(/\r?\n/)) {
        const indent = line.length - line.trimStart().length;
        if (blockIndent >= 0) {
            if (line.trim() === "" || indent > blockIndent) continue;
            blockIndent = -1;
        }
        // Cilium's "# @schema" blocks annotate the key below ("# type: [null, string]"); they document no key.
        if (SCHEMA_MARK.test(line)) schemaBlock = !schemaBlock;
        if (schemaBlock) continue;
        const commented = COMMENTED_KEY.exec(line);
        if (commented) {
            const [, lead, hashes, gap, item, key, value] = commented;
            if (isProse(key, value)) continue;
            // "  # key:" documents a sibling of the keys at column 2, "  #   key:" a child of the line above.
            const at = lead.length + hashes.length + gap.length - (hashes.length + 1);
            const indent = opener >= 0 && at <= opener ? opener + 2 : at + (item ? item.length : 0);
            out.push({ indent, key, commented: true, item: !!item });
            continue;
        }
        if (line.trimStart().startsWith("#")) continue;
        const real = REAL_KEY.exec(line);
        if (!real) continue;
        const [, lead, item, rawKey, rest] = real;
        const key = /^["']/.test(rawKey) ? rawKey.slice(1, -1) : rawKey;
        const at = lead.length + (item ? item.length : 0);
        out.push({ indent: at, key, commented: false, item: !!item });
        if (rest !== undefined && BLOCK_SCALAR.test(rest.trim())) blockIndent = at;
        opener = rest === undefined || rest.trim() === "" || rest.trim().startsWith("#") ? at : -1;
    }
    return out;
}

function childOf(node: KeyNode | undefined, key: string): KeyNode | undefined {
    return node !== undefined && typeof node === "object" ? node[key] : undefined;
}

/**
 * Keys that values.yaml shows only in a comment ("# loadBalancerIP: ''"),
 * placed under the key their indentation puts them in. A commented key under
 * an open or unknown parent is left out: there is nothing to add it to.
 */
function documentedKeys(text: string, tree: { [key: string]: KeyNode }): string[][] {
    const found: string[][] = [];
    const stack: Array<{ indent: number; path: string[] | undefined }> = [];
    for (const l of keyLines(text)) {
        while (stack.length && stack[stack.length - 1].indent >= l.indent) stack.pop();
        const parent = stack.length ? stack[stack.length - 1].path : [];
        // Inside a list, keys are the list items' own.
        const path = parent === undefined || l.item ? undefined : [...parent, l.key];
        stack.push({ indent: l.indent, path });
        if (!l.commented || !path) continue;
        let node: KeyNode | undefined = tree;
        for (const seg of path.slice(0, -1)) node = childOf(node, seg);
        if (node !== undefined && typeof node === "object" && !(l.key in node)) found.push(path);
    }
    return found;
}

/**
 * Dotted `.Values` paths a chart's templates read. A chart's validate
 * templates read removed keys only to refuse them (lib/charts/rules.ts says
 * so with the chart's words), and `.Values.AsMap` is a method, not a key.
 */
export function templateValuePaths(templates: Template[]): string[] {
    const paths = new Set<string>();
    for (const t of templates) {
        if (/^validate[^/]*$/.test(t.name)) continue;
        for (const m of t.text.matchAll(/\.Values((?:\.[A-Za-z_][\w]*)+)/g)) {
            if (!m[1].startsWith(".AsMap")) paths.add(m[1].slice(1));
        }
    }
    return [...paths].sort();
}

/** The part of `path` the tree does not cover, up to and including its first missing key; undefined when covered. */
function uncovered(tree: KeyNode, path: string[]): string[] | undefined {
    let node: KeyNode = tree;
    for (let i = 0; i < path.length; i++) {
        if (typeof node !== "object") return undefined;
        if (!(path[i] in node)) return path.slice(0, i + 1);
        node = node[path[i]];
    }
    return undefined;
}

/** Adds `path` as open; its parent must be a map of the tree. */
function addOpen(tree: { [key: string]: KeyNode }, path: string[]): void {
    let node: KeyNode = tree;
    for (const seg of path.slice(0, -1)) {
        if (typeof node !== "object") return;
        node = node[seg];
    }
    if (typeof node === "object" && !(path[path.length - 1] in node)) node[path[path.length - 1]] = 1;
}

/** The key tree of a chart: values.yaml's keys and documented keys, plus what its templates read. */
export function chartKeys(chart: string, version: string, valuesYaml: string, templates: Template[] = []): ChartKeys {
    const defaults = parseDefaults(valuesYaml);
    const root = nodeOf("", defaults);
    const tree: { [key: string]: KeyNode } = typeof root === "object" ? root : {};
    for (const path of documentedKeys(valuesYaml, tree)) addOpen(tree, path);
    // Kept apart from the tree, so that the tree can be checked against values.yaml alone.
    const templateKeys = [...new Set(templateValuePaths(templates).flatMap((p) => uncovered(tree, p.split("."))?.join(".") ?? []))].sort();
    return { chart, version, keys: sortTree(tree), templateKeys };
}

function sortTree(tree: { [key: string]: KeyNode }): { [key: string]: KeyNode } {
    return Object.fromEntries(
        Object.keys(tree)
            .sort()
            .map((k) => {
                const v = tree[k];
                return [k, typeof v === "object" ? sortTree(v) : v];
            }),
    );
}

/** The chart's defaults: values.yaml parsed, as Helm coalesces user values over them. */
export function parseDefaults(valuesYaml: string): Values {
    const d: unknown = parse(valuesYaml);
    return isPlainObject(d) ? d : {};
}

/** JSON Schema keywords that annotate and never change a verdict (ajv runs without useDefaults). */
const ANNOTATIONS = new Set(["description", "default", "examples", "title", "$comment", "deprecated", "readOnly", "writeOnly"]);
/** Keywords whose value maps names to schemas: the names are data, not keywords. */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);
/** Keywords whose value is data, never a schema. */
const DATA = new Set(["enum", "const", "required", "type", "dependentRequired"]);

/** The schema without its annotations: the same verdict on every value, a fraction of the size. */
export function pruneSchema(schema: unknown): unknown {
    if (Array.isArray(schema)) return schema.map(pruneSchema);
    if (!isPlainObject(schema)) return schema;
    const out: Values = {};
    for (const [k, v] of Object.entries(schema)) {
        if (ANNOTATIONS.has(k)) continue;
        if (SCHEMA_MAPS.has(k) && isPlainObject(v)) out[k] = Object.fromEntries(Object.entries(v).map(([n, s]) => [n, pruneSchema(s)]));
        else if (DATA.has(k)) out[k] = v;
        else out[k] = pruneSchema(v);
    }
    return out;
}

/** The ajv class for the schema's draft: charts ship draft-07 (cilium, cert-manager) and 2019-09 (flux-operator). */
export function ajvFor(schema: unknown, code?: { source: boolean; lines: boolean }): Ajv {
    const draft = isPlainObject(schema) && typeof schema.$schema === "string" ? schema.$schema : "";
    // Helm checks formats leniently; so does this: an unknown format never fails a value.
    const options = { strict: false, allErrors: true, validateFormats: false, ...(code ? { code } : {}) };
    if (draft.includes("2020-12")) return new Ajv2020(options);
    if (draft.includes("2019-09")) return new Ajv2019(options);
    return new Ajv(options);
}

/**
 * A precompiled validator (ajv standalone code) for a chart's values schema.
 * Compiling Cilium's schema takes ajv about two seconds, which every plan
 * and every `pulumi up` would pay; loading the compiled module takes a
 * few dozen milliseconds.
 */
export function validatorModule(schema: unknown): string {
    const pruned = pruneSchema(schema);
    const ajv = ajvFor(pruned, { source: true, lines: false });
    const code = standaloneCode(ajv, ajv.compile(pruned as object));
    return `// Generated by cli/chart-data.ts from the chart's values.schema.json (see SOURCES.md). Do not edit.\n${code}\n`;
}

/** The files lib/charts/data (or the fetch cache) holds for one chart version, by name. */
export function chartDataFiles(chart: string, version: string, files: ChartFiles): Record<string, string> {
    const out: Record<string, string> = {
        [FILES.keys]: JSON.stringify(chartKeys(chart, version, files.valuesYaml, files.templates)) + "\n",
    };
    if (files.schemaJson !== undefined) {
        out[FILES.defaults] = JSON.stringify(parseDefaults(files.valuesYaml)) + "\n";
        out[FILES.validator] = validatorModule(JSON.parse(files.schemaJson));
    }
    return out;
}
