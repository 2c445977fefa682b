/** A Helm values tree. */
export type Values = { [key: string]: unknown };

export function isPlainObject(v: unknown): v is Values {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Merges `override` into `base` the way Helm merges a values file over the
 * chart's: maps merge key by key, lists and scalars are replaced, and a
 * `null` removes the key. Neither input is modified.
 */
export function mergeValues(base: Values, override: Values | undefined): Values {
    const out: Values = { ...base };
    if (!override) return out;
    for (const [key, value] of Object.entries(override)) {
        if (value === null) {
            delete out[key];
        } else if (isPlainObject(value) && isPlainObject(out[key])) {
            out[key] = mergeValues(out[key] as Values, value);
        } else {
            out[key] = value;
        }
    }
    return out;
}

/** Reads a dotted path ("bpf.masquerade") from a values tree. */
export function valueAt(values: Values, dotted: string): unknown {
    let cur: unknown = values;
    for (const part of dotted.split(".")) {
        if (!isPlainObject(cur)) return undefined;
        cur = cur[part];
    }
    return cur;
}
