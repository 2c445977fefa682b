import { isPlainObject } from "../merge";
import type { FieldChange } from "./model";

// Field-level differences between two resources' inputs, as a reviewer reads
// them: Helm values and CustomResource specs as dotted paths, named list
// elements matched by name, everything else element by element.

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `base.key`, or `base["key.with/odd chars"]` when the key would not read as one segment. */
export function joinPath(base: string, key: string): string {
    if (IDENTIFIER.test(key)) return base ? `${base}.${key}` : key;
    return `${base}[${JSON.stringify(key)}]`;
}

export function deepEqual(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
    if (isPlainObject(a) && isPlainObject(b)) {
        const keys = Object.keys(a);
        return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
    }
    return false;
}

/** The `name` of every element, when every element on both sides is an object with a name unique on its side. */
function namesOf(before: unknown[], after: unknown[]): [string[], string[]] | undefined {
    const names = (xs: unknown[]) => xs.map((x) => (isPlainObject(x) && typeof x.name === "string" ? x.name : undefined));
    const b = names(before);
    const a = names(after);
    for (const side of [b, a]) if (side.some((n) => n === undefined) || new Set(side).size !== side.length) return undefined;
    return b.length + a.length ? [b as string[], a as string[]] : undefined;
}

const isScalar = (v: unknown) => !isPlainObject(v) && !Array.isArray(v);

/**
 * What changed from `before` to `after`, leaf by leaf. A list of scalars is
 * one value (a reordered list of CRD names reads best whole); a list of
 * named objects is compared by name, and a new order of the same names is
 * reported once, as "reordered".
 */
export function diffValues(before: unknown, after: unknown, path = "", out: FieldChange[] = []): FieldChange[] {
    if (deepEqual(before, after)) return out;
    if (isPlainObject(before) && isPlainObject(after)) {
        for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
            const p = joinPath(path, key);
            // A new or removed map is told leaf by leaf: `values.a.b: (none) → 1` reads better than a blob.
            if (!(key in before)) {
                if (isPlainObject(after[key]) && Object.keys(after[key]).length) diffValues({}, after[key], p, out);
                else out.push({ path: p, before: null, after: after[key], change: "added" });
            } else if (!(key in after)) {
                if (isPlainObject(before[key]) && Object.keys(before[key]).length) diffValues(before[key], {}, p, out);
                else out.push({ path: p, before: before[key], after: null, change: "removed" });
            } else diffValues(before[key], after[key], p, out);
        }
        return out;
    }
    if (Array.isArray(before) && Array.isArray(after) && !(before.every(isScalar) && after.every(isScalar))) {
        const names = namesOf(before, after);
        if (names) {
            const [b, a] = names;
            const common = (xs: string[], other: string[]) => xs.filter((n) => other.includes(n));
            if (!deepEqual(common(b, a), common(a, b))) out.push({ path, before: b, after: a, change: "reordered" });
            for (const name of [...b, ...a.filter((n) => !b.includes(n))]) {
                const p = `${path}[name=${name}]`;
                const x = before[b.indexOf(name)];
                const y = after[a.indexOf(name)];
                if (!a.includes(name)) out.push({ path: p, before: x, after: null, change: "removed" });
                else if (!b.includes(name)) out.push({ path: p, before: null, after: y, change: "added" });
                else diffValues(x, y, p, out);
            }
            return out;
        }
        for (let i = 0; i < Math.max(before.length, after.length); i++) {
            const p = `${path}[${i}]`;
            if (i >= before.length) out.push({ path: p, before: null, after: after[i], change: "added" });
            else if (i >= after.length) out.push({ path: p, before: before[i], after: null, change: "removed" });
            else diffValues(before[i], after[i], p, out);
        }
        return out;
    }
    out.push({ path, before, after, change: "changed" });
    return out;
}
