import { distance } from "fastest-levenshtein";
import type { PlatformConfig } from "../config";
import { ARTICLE, suggestion } from "../config/issues";
import { carriedVersions, ChartData, chartData, SchemaError } from "../charts/catalog";
import type { KeyNode } from "../charts/derive";
import { renderedObjects } from "../charts/rendered";
import * as semver from "semver";
import { CHART_RULES, ChartRule, Condition, inRange, rulesFor } from "../charts/rules";
import { isPlainObject, mergeValues, Values, valueAt } from "../merge";
import { configPath, error, Problem, warning } from "../problems";
import { CERT_MANAGER_VALUE_KEYS } from "../values/cert-manager";
import { CILIUM_VALUE_KEYS } from "../values/cilium-services";
import { COREDNS_VALUE_KEYS } from "../values/coredns";
import { INGRESS_NGINX_VALUE_KEYS } from "../values/ingress-nginx";
import { switchOn, ValueKeys, valueTypeProblems } from "../values/read";
import { featureKeys, Release, releases } from "./crd-order";
import { inContext } from "./severity";
import type { Check } from "./types";

/** The keys of each chart's merged values that this program's builders and checks read. */
const VALUE_KEYS: Record<Release["section"], ValueKeys> = {
    cilium: CILIUM_VALUE_KEYS,
    coredns: COREDNS_VALUE_KEYS,
    certManager: CERT_MANAGER_VALUE_KEYS,
    ingressNginx: INGRESS_NGINX_VALUE_KEYS,
    flux: {},
};

function typeProblems(r: Release): Problem[] {
    return valueTypeProblems(r.section, r.values, { ...VALUE_KEYS[r.section], ...featureKeys(r.chart) });
}

/**
 * Every values key the other checks read must hold its kind, so that they
 * never reason about a string where a list belongs. They skip such keys;
 * this check reports each once, naming the key, the value and the fix.
 */
function valueTypes(config: PlatformConfig): Problem[] {
    return releases(config).flatMap(typeProblems);
}

type Segment = string | number;

const valuesKey = (r: Release, at: readonly Segment[]) => configPath([r.section, "values", ...at]);
const chartName = (r: Release) => `${r.config.chart} ${r.config.version}`;

/** Did the user's own `values` set this key (or a map above it), rather than the program? */
function userSet(r: Release, at: readonly Segment[]): boolean {
    let cur: unknown = r.config.values;
    for (const seg of at) {
        if (Array.isArray(cur) || !isPlainObject(cur)) return true;
        cur = cur[String(seg)];
        if (cur === undefined) return false;
    }
    return true;
}

function valueAtPath(values: unknown, at: readonly Segment[]): unknown {
    let cur = values;
    for (const seg of at) {
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Record<Segment, unknown>)[seg];
    }
    return cur;
}

/** A JSON pointer into `values` as path segments, list indexes as numbers. */
function pointerPath(values: unknown, pointer: string): Segment[] {
    const out: Segment[] = [];
    let cur = values;
    for (const raw of pointer.split("/").slice(1)) {
        const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
        const s: Segment = Array.isArray(cur) && /^\d+$/.test(seg) ? Number(seg) : seg;
        out.push(s);
        cur = cur !== null && typeof cur === "object" ? (cur as Record<Segment, unknown>)[s] : undefined;
    }
    return out;
}

// --- The chart's values.schema.json

/**
 * ajv with allErrors reports every branch of a failed anyOf/oneOf as well:
 * keep the one error that says none matched.
 */
function withoutBranches(errors: SchemaError[]): SchemaError[] {
    const unions = errors.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf").map((e) => e.schemaPath + "/");
    return errors.filter((e) => !unions.some((u) => e.schemaPath.startsWith(u)));
}

function typeWords(type: unknown): string {
    const types = (Array.isArray(type) ? type : [type]).map(String);
    return types.map((t) => (t === "integer" ? "a whole number" : t === "null" ? "null" : (ARTICLE[t] ?? t))).join(" or ");
}

/** The known keys of the tree at `at`, for a suggestion. */
function keysAt(tree: KeyNode, at: readonly Segment[]): string[] {
    let node: KeyNode | undefined = tree;
    for (const seg of at) node = typeof node === "object" ? node[String(seg)] : undefined;
    return typeof node === "object" ? Object.keys(node) : [];
}

/**
 * The chart's schema over the values Helm validates: the chart's defaults
 * with the merged values coalesced over them (maps merge, lists replace,
 * null deletes), which is what `helm install` checks before it renders.
 */
function schemaProblems(r: Release, data: ChartData, skip: Set<string>): { problems: Problem[]; refused: Set<string> } {
    const problems: Problem[] = [];
    const refused = new Set<string>();
    if (!data.validate || !data.defaults) return { problems, refused };
    const effective = mergeValues(data.defaults, r.values);
    if (data.validate(effective)) return { problems, refused };
    const seen = new Set<string>();
    for (const e of withoutBranches(data.validate.errors ?? [])) {
        let at = pointerPath(effective, e.instancePath);
        let message = e.message ?? e.keyword;
        let fix = "change it to a value the chart's values.schema.json accepts";
        if (e.keyword === "additionalProperties") {
            const extra = String(e.params.additionalProperty);
            at = [...at, extra];
            const near = suggestion(extra, keysAt(data.keys.keys, at.slice(0, -1)));
            message = "is not a key the chart's schema allows";
            fix = near ? `did you mean '${near}'?` : "remove it; the chart takes no other keys here";
            refused.add(valuesKey(r, at));
        } else if (e.keyword === "required") {
            at = [...at, String(e.params.missingProperty)];
            message = "is required by the chart's schema";
            fix = "set it";
        } else if (e.keyword === "type") {
            fix = `set it to ${typeWords(e.params.type)}`;
        } else if (e.keyword === "enum") {
            fix = `use one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
        } else if (e.keyword === "anyOf" || e.keyword === "oneOf") {
            message = `matches none of the forms the chart's schema allows (${message})`;
        }
        const key = valuesKey(r, at);
        if (skip.has(key) || seen.has(key)) continue;
        seen.add(key);
        const origin = userSet(r, at) ? "" : " (a value talos-platform computes: please report it)";
        problems.push(
            error(
                key,
                `is refused by the ${chartName(r)} chart's values.schema.json: ${message}; Helm would fail the release${origin}`,
                fix,
                valueAtPath(effective, at),
            ),
        );
    }
    return { problems, refused };
}

// --- The chart's values.yaml keys

/** Where else in the tree a key of this name lives, dotted: a key put at the wrong level. */
function elsewhere(tree: KeyNode, name: string, at: string[] = []): string[] {
    if (typeof tree !== "object") return [];
    return Object.entries(tree).flatMap(([k, v]) => [
        ...(k === name && at.length ? [[...at, k].join(".")] : []),
        ...elsewhere(v, name, [...at, k]),
    ]);
}

/** Keys of `values` the tree neither has nor leaves open, as paths; lists are not entered. */
export function unknownKeys(tree: KeyNode, values: Values, templateKeys: readonly string[] = []): string[][] {
    const covered = new Set(templateKeys);
    const out: string[][] = [];
    const walk = (node: KeyNode, v: unknown, at: string[]) => {
        if (typeof node !== "object" || !isPlainObject(v)) return;
        for (const [k, x] of Object.entries(v)) {
            const here = [...at, k];
            if (k in node) walk(node[k], x, here);
            else if (!covered.has(here.join("."))) out.push(here);
        }
    };
    walk(tree, values, []);
    return out;
}

function unknownKeyProblems(r: Release, data: ChartData, skip: Set<string>): Problem[] {
    const tree = data.keys.keys;
    return unknownKeys(tree, r.values, data.keys.templateKeys).flatMap((at) => {
        const key = valuesKey(r, at);
        // Already reported: the key, a key it sits under, or (for an unknown map) a key inside it that a rule refuses.
        if ([...skip].some((s) => key === s || key.startsWith(s + ".") || s.startsWith(key + "."))) return [];
        const name = at[at.length - 1];
        const near = suggestion(name, keysAt(tree, at.slice(0, -1)));
        const other = elsewhere(tree, name)
            .sort((a, b) => distance(a, at.join(".")) - distance(b, at.join(".")))
            .slice(0, 3);
        const fix = near
            ? `did you mean '${near}'? (${[...at.slice(0, -1), near].join(".")})`
            : other.length
              ? `the chart has this key at ${other.join(", ")}: move it there`
              : `remove it, or look the key up in the values.yaml of the ${chartName(r)} chart`;
        const mine = !userSet(r, at);
        const message = mine
            ? `is set by talos-platform, but the ${chartName(r)} chart has no such key and ignores it`
            : `is not a key of the ${chartName(r)} chart: its values.yaml neither sets nor documents it, so Helm passes it on and the chart ignores it`;
        // A key the program sets is one its own rules and gates take as in effect: ignored, they describe a cluster that will not run.
        const reliedOnBy = mine
            ? `talos-platform sets it for the ${r.phase} phase, and its checks and gates take it as in effect`
            : undefined;
        return [inContext(warning("unknown-chart-value", key, message, fix, valueAt(r.values, at.join("."))), reliedOnBy)];
    });
}

// --- Rules by chart version

/** Does the merged values' `key` meet the condition? */
export function holds(values: Values, [key, state, chartDefault = false]: Condition): boolean {
    if (state === "set") return valueAt(values, key) !== undefined && valueAt(values, key) !== null;
    return switchOn(values, key, chartDefault) === (state === "on");
}

function ruleProblems(r: Release, table: ChartRule[] = CHART_RULES): Problem[] {
    const problems: Problem[] = [];
    for (const rule of rulesFor(r.chart, r.config.version, table)) {
        if ((rule.kind !== "refused" && rule.kind !== "version") || !rule.when.every((c) => holds(r.values, c))) continue;
        const since = `since ${rule.source.release}: ${rule.source.change}`;
        if (rule.kind === "refused") {
            const why = rule.why ? `; ${rule.why}` : "";
            problems.push(
                error(
                    valuesKey(r, rule.key.split(".")),
                    `is refused by the ${chartName(r)} chart, which fails the release with "${rule.chartSays}"${why} (${since})`,
                    rule.fix,
                    valueAt(r.values, rule.key),
                ),
            );
        } else {
            problems.push(error(configPath([r.section, "version"]), `${rule.message} (${since})`, rule.fix, r.config.version));
        }
    }
    return problems;
}

// --- Together

/** The merged values of each release against its chart's data, and the version rules. */
function chartValues(config: PlatformConfig): Problem[] {
    const problems: Problem[] = [];
    for (const r of releases(config)) {
        const ruled = ruleProblems(r);
        problems.push(...ruled);
        for (const u of renderedObjects(r).unrenderable) {
            problems.push(
                error(
                    valuesKey(r, u.at),
                    `is a map, but the ${chartName(r)} chart renders every ${u.key} item with tpl, which takes a string: Helm fails the release ("wrong type for value; expected string")`,
                    `write the object as a YAML block string: ${u.key}: [ "- |" followed by the object's lines ]`,
                ),
            );
        }
        const data = chartData(r.config.chart, r.config.version);
        if (!data) {
            // Nothing computed and nothing given: the chart's own defaults, nothing to check.
            if (Object.keys(r.values).length) problems.push(uncheckedProblem(r));
            continue;
        }
        const skip = new Set([...ruled, ...typeProblems(r)].map((p) => p.path));
        const schema = schemaProblems(r, data, skip);
        problems.push(...schema.problems);
        problems.push(...unknownKeyProblems(r, data, new Set([...skip, ...schema.refused])));
    }
    return problems;
}

function uncheckedProblem(r: Release): Problem {
    const carried = carriedVersions(r.config.chart);
    // Pinning an older chart than the one asked for is no advice: it undoes an upgrade.
    const newer = carried.filter((v) => inRange(v, `>${semver.clean(r.config.version) ?? "0.0.0"}`));
    const pin = newer.length ? `, or pin ${newer[newer.length - 1]}, which it carries` : "";
    return warning(
        "chart-values-unchecked",
        configPath([r.section, "version"]),
        `is a ${r.config.chart} chart version talos-platform carries no data for (${carried.length ? `it carries ${carried.join(", ")}` : "it carries none of this chart"}), so the merged values were not checked against the chart's values.schema.json and values.yaml: a misspelled, removed or refused key would reach Helm unnoticed`,
        `run npm run plan -- --fetch-charts (it downloads the chart from ${r.config.repository}) to check them against the chart itself${pin}`,
        r.config.version,
    );
}

export const chartValueChecks: Check[] = [
    { name: "chart-value-types", run: valueTypes },
    { name: "chart-values", run: chartValues },
];
