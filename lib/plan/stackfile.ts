import * as fs from "node:fs";
import { parse } from "yaml";
import { isPlainObject } from "../merge";
import { SECRET_PLACEHOLDER } from "./model";
import type { PlanInput } from "./run";

/** A stack file that cannot be read or parsed: a usage error, not a config error. */
export class StackFileError extends Error {}

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
 * Reads a Pulumi.<stack>.yaml file into plan input. Values stored with
 * `secure:` become secrets whose value is unknown; a structured key that
 * holds one is secret as a whole, as it is for Pulumi.
 */
export function readStackFile(file: string, stack: string, project = "talos-platform"): PlanInput {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new StackFileError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    let doc: unknown;
    try {
        doc = parse(text);
    } catch (e) {
        throw new StackFileError(`${file} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
    }
    if (doc !== null && doc !== undefined && !isPlainObject(doc)) throw new StackFileError(`${file}: expected a map with a 'config:' key`);
    const config = (doc as Record<string, unknown> | null)?.config ?? {};
    if (!isPlainObject(config)) throw new StackFileError(`${file}: 'config:' must be a map of keys`);
    const input: PlanInput = { project, stack, config: {}, secretKeys: [] };
    for (const [key, raw] of Object.entries(config)) {
        const { value, secret } = replaceSecure(raw);
        const full = key.includes(":") ? key : `${project}:${key}`;
        input.config[full] = value;
        if (secret) input.secretKeys!.push(full);
    }
    return input;
}
