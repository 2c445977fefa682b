import { closest, distance } from "fastest-levenshtein";
import { z } from "zod";
import { configPath, error, Problem } from "../problems";

// Turns zod's structural issues into Problems that name the key, the value
// and the fix, in `pulumi config set --path` spelling.

type Segment = string | number;

function valueAt(root: unknown, path: readonly Segment[]): unknown {
    let cur = root;
    for (const seg of path) {
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Record<string | number, unknown>)[seg];
    }
    return cur;
}

/** Unwraps optional/default/pipe wrappers down to the object or array underneath. */
function unwrap(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
    let s = schema;
    for (let i = 0; s && i < 10; i++) {
        const def = s._zod.def as unknown as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
        if (def.innerType) s = def.innerType;
        else if (def.type === "pipe" && def.in) s = def.in;
        else break;
    }
    return s;
}

type SchemaDef = { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType };

/** The schema at `path` below `schema`, through objects and arrays. */
function schemaAt(schema: z.core.$ZodType, path: readonly Segment[]): z.core.$ZodType | undefined {
    let s = unwrap(schema);
    for (const seg of path) {
        if (!s) return undefined;
        const def = s._zod.def as unknown as SchemaDef;
        s = unwrap(typeof seg === "number" ? def.element : def.shape?.[seg]);
    }
    return s;
}

function knownKeys(schema: z.core.$ZodType, path: readonly Segment[]): string[] {
    const def = schemaAt(schema, path)?._zod.def as unknown as SchemaDef | undefined;
    return def?.shape ? Object.keys(def.shape) : [];
}

/**
 * The annotation `map` holds for `schema`. `.describe()` and `.meta()`
 * return a clone whose parent is the schema they were called on, so a
 * documented field keeps the annotations of the schema it documents.
 */
function annotation<V>(map: WeakMap<z.core.$ZodType, V>, schema: z.core.$ZodType): V | undefined {
    for (let s: z.core.$ZodType | undefined = schema; s; s = s._zod.parent) {
        const found = map.get(s);
        if (found) return found;
    }
    return undefined;
}

/** How a field's value appears in a problem; `undefined` hides it. */
export type ShowValue = (value: unknown) => unknown;

const SHOWN = new WeakMap<z.core.$ZodType, ShowValue>();

/**
 * Problems about `schema`'s field show its value through `show`, so a field
 * that may hold a credential (a URL with a token, a secret pasted where its
 * name belongs) never echoes it into the plan, its JSON or a PR comment.
 */
export function showValueAs<T extends z.core.$ZodType>(schema: T, show: ShowValue): T {
    SHOWN.set(schema, show);
    return schema;
}

/** Never shows the field's value. */
export function concealValue<T extends z.core.$ZodType>(schema: T): T {
    return showValueAs(schema, () => undefined);
}

/** An example value for a field, as it is typed on the command line, and what it stands for. */
export interface Example {
    value: string;
    note?: string;
}

const EXAMPLES = new WeakMap<z.core.$ZodType, Example>();

/** A field's "is required" and wrong-kind problems show an example value. */
export function example<T extends z.core.$ZodType>(schema: T, ex: Example): T {
    EXAMPLES.set(schema, ex);
    return schema;
}

/** Refinements clone a schema: `derived` keeps the example of the schema it refines. */
export function keepExample<T extends z.core.$ZodType>(base: z.core.$ZodType, derived: T): T {
    const ex = annotation(EXAMPLES, base);
    if (ex) EXAMPLES.set(derived, ex);
    return derived;
}

/** What a union accepts, and how to fix a value that matches none of its forms. */
export interface Forms {
    /** e.g. "an object with cidr, or with start and stop" */
    what: string;
    fix: (value: unknown) => string;
}

const FORMS = new WeakMap<z.core.$ZodType, Forms>();

/** A union's problems say which forms it accepts (and, where it can, the value rewritten into one). */
export function acceptedForms<T extends z.core.$ZodType>(schema: T, forms: Forms): T {
    FORMS.set(schema, forms);
    return schema;
}

const CONCEALED_NOTE = " (the value is not shown: it may be a secret)";

/**
 * The known name `word` most likely misspells, if any: only within an edit
 * distance of a third of its length (at least 1), so an unrelated name gets
 * no suggestion.
 */
export function suggestion(word: string, known: readonly string[]): string | undefined {
    if (!known.length) return undefined;
    const best = closest(word, [...known]);
    return distance(word, best) <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

export function typeName(v: unknown): string {
    if (Array.isArray(v)) return "a list";
    if (v === null) return "null";
    return typeof v === "object" ? "a map" : `a ${typeof v}`;
}

export const ARTICLE: Record<string, string> = {
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    array: "a list",
    object: "a map of keys",
    record: "a map of keys",
};

export function unknownKeyProblem(path: Segment[], key: string, known: string[], value: unknown): Problem {
    const suggested = suggestion(key, known);
    const fix = suggested
        ? `did you mean '${suggested}'? Known keys here: ${known.join(", ")}`
        : known.length
          ? `remove it, or use one of the keys known here: ${known.join(", ")}`
          : `remove it; this map takes no other keys`;
    return error(configPath([...path, key]), "is not a known key", fix, value);
}

export function issueToProblems(section: string, schema: z.core.$ZodType, raw: unknown, issue: z.core.$ZodIssue): Problem[] {
    const rel = issue.path as Segment[];
    const at = schemaAt(schema, rel);
    const show = at && annotation(SHOWN, at);
    const problems = problemsOf(section, schema, raw, issue, rel);
    if (!show) return problems;
    return problems.map((p) => {
        const value = p.value === undefined ? undefined : show(p.value);
        return value === undefined && p.value !== undefined ? { ...p, value, message: p.message + CONCEALED_NOTE } : { ...p, value };
    });
}

function problemsOf(section: string, schema: z.core.$ZodType, raw: unknown, issue: z.core.$ZodIssue, rel: Segment[]): Problem[] {
    const path = [section, ...rel];
    const value = valueAt(raw, rel);
    const key = configPath(path);
    switch (issue.code) {
        case "unrecognized_keys": {
            const known = knownKeys(schema, rel);
            return issue.keys.map((k) => unknownKeyProblem(path, k, known, valueAt(raw, [...rel, k])));
        }
        case "invalid_type": {
            const want = ARTICLE[issue.expected] ?? issue.expected;
            const at = schemaAt(schema, rel);
            const ex = at && annotation(EXAMPLES, at);
            const wanted = ex ? `${want}, e.g. ${ex.value}${ex.note ? ` (${ex.note})` : ""}` : want;
            if (value === undefined) {
                // A whole map cannot be set in one `pulumi config set`; its keys can.
                const how =
                    issue.expected === "object" || issue.expected === "record"
                        ? `add it to the stack file under config: (see docs/configuration.md), or set its keys one by one: pulumi config set --path '${key}.<key>' <value>`
                        : `set it to ${wanted}: pulumi config set --path '${key}' ${ex ? `'${ex.value}'` : "<value>"}`;
                return [error(key, "is required", how)];
            }
            // A single CIDR or name where a list belongs is the commonest slip.
            const fix =
                issue.expected === "array" && (typeof value === "string" || typeof value === "number")
                    ? `write it as a list: [${String(value)}]`
                    : `set it to ${wanted}`;
            return [error(key, `must be ${want}, not ${typeName(value)}`, fix, value)];
        }
        case "invalid_value":
            return [
                error(
                    key,
                    "is not one of the allowed values",
                    `use one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`,
                    value,
                ),
            ];
        case "too_small":
        case "too_big": {
            const bound = issue.code === "too_small" ? "at least" : "at most";
            const limit = String(issue.code === "too_small" ? issue.minimum : issue.maximum);
            const what = issue.origin === "array" ? `${limit} entries` : issue.origin === "string" ? `${limit} characters` : limit;
            return [error(key, `must be ${bound} ${what}`, `change it to ${bound} ${what}`, value)];
        }
        case "invalid_union": {
            const at = schemaAt(schema, rel);
            const forms = at && annotation(FORMS, at);
            if (forms) return [error(key, `must be ${forms.what}`, forms.fix(value), value)];
            return [error(key, "does not match any accepted form", "see docs/configuration.md for the accepted shapes", value)];
        }
        case "custom": {
            const fix = (issue.params as { fix?: string } | undefined)?.fix ?? "see docs/configuration.md";
            return [error(key, issue.message, fix, value)];
        }
        default:
            return [error(key, issue.message, "see docs/configuration.md", value)];
    }
}
