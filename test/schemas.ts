import Ajv, { ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./helpers";

// The upstream files the tests read are vendored here, with their
// provenance in SOURCES.md: a fresh clone tests on its own.
export const SCHEMAS = path.join(ROOT, "test", "upstream");

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
// Kubernetes formats ajv does not know; the API server checks them, not us.
for (const f of ["int32", "int64", "cidr", "byte"]) ajv.addFormat(f, true);

const cache = new Map<string, ValidateFunction>();

function compile(file: string): ValidateFunction {
    let v = cache.get(file);
    if (!v) {
        v = ajv.compile(JSON.parse(fs.readFileSync(file, "utf8")));
        cache.set(file, v);
    }
    return v;
}

function explain(v: ValidateFunction): string[] {
    return (v.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}${e.params ? " " + JSON.stringify(e.params) : ""}`);
}

/**
 * Errors of a Kubernetes object against the strict upstream CRD schema
 * (json-strict: unknown fields fail). Empty when it conforms.
 */
export function crdErrors(obj: { apiVersion: string; kind: string }): string[] {
    const [group, version] = obj.apiVersion.split("/");
    const file = path.join(SCHEMAS, "json-strict", `${group}_${version}`, `${obj.kind}.json`);
    if (!fs.existsSync(file)) return [`no strict schema for ${obj.apiVersion} ${obj.kind} at ${file}`];
    const v = compile(file);
    return v(obj) ? [] : explain(v);
}

/** Errors of merged Helm values against a chart's values.schema.json (cilium, cert-manager). */
export function valuesErrors(chart: string, version: string, values: unknown): string[] {
    const file = path.join(SCHEMAS, "helm", chart, version, "values.schema.json");
    if (!fs.existsSync(file)) return [`no values schema for ${chart} ${version} at ${file}`];
    const v = compile(file);
    return v(values) ? [] : explain(v);
}
