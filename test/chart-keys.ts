import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { isPlainObject } from "../lib/merge";
import { SCHEMAS } from "./schemas";

/**
 * Keys of `values` that the chart's own values.yaml neither sets nor
 * documents in a comment: for charts without a values.schema.json, the
 * closest thing to catching a misspelled key. Maps whose default is empty
 * ({} such as labels, annotations, affinity) and lists are free-form.
 * `templateOnly` names keys the templates read that values.yaml omits.
 */
export function unknownChartKeys(chart: string, version: string, values: unknown, templateOnly: string[] = []): string[] {
    const text = fs.readFileSync(path.join(SCHEMAS, "helm", chart, version, "values.yaml"), "utf8");
    const defaults: unknown = parse(text);
    const documented = new Set([...text.matchAll(/^\s*#\s*([A-Za-z_][\w-]*):/gm)].map((m) => m[1]).concat(templateOnly));
    const unknown: string[] = [];
    const walk = (v: unknown, d: unknown, at: string[]) => {
        if (!isPlainObject(v)) return;
        for (const [k, x] of Object.entries(v)) {
            const here = [...at, k];
            if (isPlainObject(d) && k in d) {
                const dv = d[k];
                if (Array.isArray(dv) || (isPlainObject(dv) && Object.keys(dv).length === 0)) continue;
                walk(x, dv, here);
            } else if (!documented.has(k)) unknown.push(here.join("."));
        }
    };
    walk(values, defaults, []);
    return unknown;
}
