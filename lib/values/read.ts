import { z } from "zod";
import { ARTICLE, typeName } from "../config/issues";
import { isPlainObject, Values } from "../merge";
import { configPath, error, Problem } from "../problems";

// The `values` escape hatch is untyped. Every value a builder or a check
// reads from merged chart values goes through here, so a string where a
// list belongs becomes a config error naming the key, never a stack trace.

/** What a values key must hold. */
export interface ValueKind<T = unknown> {
    schema: z.ZodType<T>;
    /** For messages: "a whole number". */
    what: string;
}

const kind = <T>(schema: z.ZodType<T>, what: string): ValueKind<T> => ({ schema, what });

export const KIND = {
    string: kind(z.string(), "a string"),
    switch: kind(z.boolean(), "true or false"),
    count: kind(z.number().int().min(0), "a whole number"),
    strings: kind(z.array(z.string()), "a list of strings"),
    /** Labels and annotations: Kubernetes takes string values only. */
    stringMap: kind(z.record(z.string(), z.string()), "a map of strings (quote numbers and booleans)"),
    map: kind(z.record(z.string(), z.unknown()), "a map"),
    maps: kind(z.array(z.record(z.string(), z.unknown())), "a list of maps"),
    countOrPercent: kind(z.union([z.number().int().min(0), z.string().regex(/^\d+%$/)]), "a whole number or a percentage such as 50%"),
};

/** The values keys a domain reads, with what each must hold: the type check covers exactly these. */
export type ValueKeys = Readonly<Record<string, ValueKind>>;

type Segment = string | number;

type Inspection<T> =
    { state: "unset" } | { state: "ok"; value: T } | { state: "bad"; at: Segment[]; message: string; got: unknown; what: string };

function inspect<T>(values: Values, dotted: string, k: ValueKind<T>): Inspection<T> {
    const parts = dotted.split(".");
    let cur: unknown = values;
    for (let i = 0; i < parts.length; i++) {
        if (cur === undefined || cur === null) return { state: "unset" };
        if (!isPlainObject(cur)) {
            const at = parts.slice(0, i);
            return { state: "bad", at, message: `must be a map, not ${typeName(cur)}`, got: cur, what: "a map" };
        }
        cur = cur[parts[i]];
    }
    if (cur === undefined || cur === null) return { state: "unset" };
    const parsed = k.schema.safeParse(cur);
    if (parsed.success) return { state: "ok", value: parsed.data };
    // Name the offending element (service.clusterIPs[1]) rather than the whole list.
    const issue = parsed.error.issues[0];
    const sub = issue.path as Segment[];
    if (sub.length && issue.code === "invalid_type") {
        const got = sub.reduce<unknown>((v, s) => (v as Record<Segment, unknown>)[s], cur);
        const want = ARTICLE[issue.expected] ?? issue.expected;
        return { state: "bad", at: [...parts, ...sub], message: `must be ${want}, not ${typeName(got)}`, got, what: want };
    }
    const message = issue.code === "invalid_type" ? `must be ${k.what}, not ${typeName(cur)}` : `must be ${k.what}`;
    return { state: "bad", at: parts, message, got: cur, what: k.what };
}

/** The value at `dotted` when it has its kind; undefined when it is unset or of the wrong kind (the type check reports that). */
export function readValue<T>(values: Values, dotted: string, k: ValueKind<T>): T | undefined {
    const r = inspect(values, dotted, k);
    return r.state === "ok" ? r.value : undefined;
}

/** True when the key is set but holds the wrong kind, so a check should leave it to the type check. */
export function isIllTyped(values: Values, dotted: string, k: ValueKind): boolean {
    return inspect(values, dotted, k).state === "bad";
}

/**
 * One problem per ill-typed key of `keys` in `section`'s merged values,
 * under `<section>.values.<key>`: computed values are always well-typed,
 * so a wrong kind always comes from the escape hatch.
 */
export function valueTypeProblems(section: string, values: Values, keys: ValueKeys): Problem[] {
    const seen = new Map<string, Problem>();
    for (const [dotted, k] of Object.entries(keys)) {
        const r = inspect(values, dotted, k);
        if (r.state !== "bad") continue;
        const path = configPath([section, "values", ...r.at]);
        if (!seen.has(path)) seen.set(path, error(path, r.message, `set it to ${r.what}, or remove it to keep the computed value`, r.got));
    }
    return [...seen.values()];
}

/**
 * A chart switch as Helm's `if` reads it: unset means the chart's default,
 * and any non-empty value counts as on (the string "false" too).
 */
export function switchOn(values: Values, dotted: string, chartDefault: boolean): boolean {
    let cur: unknown = values;
    for (const part of dotted.split(".")) {
        if (!isPlainObject(cur)) return chartDefault;
        cur = cur[part];
    }
    if (cur === undefined || cur === null) return chartDefault;
    if (Array.isArray(cur)) return cur.length > 0;
    if (isPlainObject(cur)) return Object.keys(cur).length > 0;
    return cur !== false && cur !== 0 && cur !== "";
}

/** A label or annotation map from merged values; anything else reads as empty. */
export function stringMap(values: Values, dotted: string): Record<string, string> {
    return readValue(values, dotted, KIND.stringMap) ?? {};
}
