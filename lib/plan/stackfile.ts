import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { SECTIONS } from "../config";
import { isPlainObject } from "../merge";
import { PlanError, SECRET_PLACEHOLDER } from "./model";
import type { PlanInput } from "./run";

/** A stack file that cannot be read at all: a usage error, there is nothing to plan. */
export class StackFileError extends Error {}

/**
 * A stack file that was read but is not YAML, or not shaped as a stack file:
 * config errors like any other, each at `<file>:<line>:<col>`.
 */
export class StackFileProblems extends StackFileError {
    constructor(
        readonly file: string,
        readonly errors: PlanError[],
    ) {
        super(`${file} cannot be used:\n${errors.map((e) => `  ${e.path}: ${e.message.trimEnd().replace(/\n/g, "\n    ")}`).join("\n")}`);
    }
}

function isSecure(v: unknown): boolean {
    return isPlainObject(v) && Object.keys(v).length === 1 && typeof v.secure === "string";
}

/** Replaces encrypted values, whose plaintext the plan never knows, with a placeholder. */
function replaceSecure(v: unknown): { value: unknown; secret: boolean } {
    if (isSecure(v)) return { value: SECRET_PLACEHOLDER, secret: true };
    if (Array.isArray(v)) {
        const items = v.map(replaceSecure);
        return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
    }
    if (isPlainObject(v)) {
        const entries = Object.entries(v).map(([k, x]) => [k, replaceSecure(x)] as const);
        return { value: Object.fromEntries(entries.map(([k, x]) => [k, x.value])), secret: entries.some(([, x]) => x.secret) };
    }
    return { value: v, secret: false };
}

/**
 * A digest of a secret key's ciphertext(s) as the stack file holds them,
 * never of a value: the plan never has one. It changes when the key is set
 * again (Pulumi encrypts with a fresh nonce each time), which is how a diff
 * of two plans says "this secret changed" without showing it.
 */
export function ciphertextDigest(raw: unknown): string {
    return "sha256:" + createHash("sha256").update(JSON.stringify(raw)).digest("hex").slice(0, 16);
}

/** A top-level key that belongs under `config:`: Pulumi reads config only from there and ignores it silently. */
function isConfigKey(key: string): boolean {
    return key.includes(":") || key in SECTIONS;
}

/**
 * Reads a Pulumi.<stack>.yaml file into plan input. Values stored with
 * `secure:` become secrets whose value is unknown; a structured key that
 * holds one is secret as a whole, as it is for Pulumi. `shown` is how errors
 * name the file (the path as the user gave it).
 */
export function readStackFile(file: string, stack: string, project = "talos-platform", shown = file): PlanInput {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new StackFileError(`cannot read ${shown}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines });
    const at = (offset: number | undefined) => {
        const { line, col } = lines.linePos(offset ?? 0);
        return `${shown}:${line}:${col}`;
    };
    // The parser's message carries the offending line and a caret under the spot.
    const syntax = doc.errors.map((e) => ({ path: at(e.pos[0]), message: `not valid YAML: ${e.message.trimEnd()}` }));
    if (syntax.length) throw new StackFileProblems(shown, syntax);

    const root = doc.contents;
    const errors: PlanError[] = [];
    const wrap = "indent it by two spaces under a `config:` line at the top of the file, as in Pulumi.dev.yaml";
    if (root !== null && !isMap(root)) {
        errors.push({
            path: at(root.range?.[0]),
            message: `${shown} must be a map with a \`config:\` key, not a ${isScalar(root) ? "single value" : "list"}. Fix: ${wrap}`,
            fix: wrap,
        });
    }
    for (const pair of isMap(root) ? root.items : []) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === undefined || !isConfigKey(key)) continue;
        const range = isScalar(pair.key) ? pair.key.range : undefined;
        errors.push({
            path: at(range?.[0]),
            message: `${key} is at the top level of ${shown}, where Pulumi ignores it: stack config is read only from under \`config:\`. Fix: ${wrap}`,
            value: key,
            fix: wrap,
        });
    }
    const configNode = isMap(root) ? root.get("config", true) : undefined;
    const configValue: unknown = isMap(root) ? (doc.toJS() as Record<string, unknown>).config : undefined;
    if (configValue != null && !isPlainObject(configValue)) {
        const fix = "write one `key: value` line per config key under `config:`, indented by two spaces";
        errors.push({ path: at(configNode?.range?.[0]), message: `\`config:\` in ${shown} must be a map of keys. Fix: ${fix}`, fix });
    }
    if (errors.length) throw new StackFileProblems(shown, errors);

    const input: PlanInput = {
        project,
        stack,
        config: {},
        secretKeys: [],
        secretDigests: {},
        baseDir: path.dirname(path.resolve(file)),
    };
    for (const [key, raw] of Object.entries((configValue ?? {}) as Record<string, unknown>)) {
        const { value, secret } = replaceSecure(raw);
        const full = key.includes(":") ? key : `${project}:${key}`;
        input.config[full] = value;
        if (secret) {
            input.secretKeys!.push(full);
            input.secretDigests![full] = ciphertextDigest(raw);
        }
    }
    return input;
}
