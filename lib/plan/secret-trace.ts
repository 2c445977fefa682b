import { randomUUID } from "node:crypto";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { isPlainObject } from "../merge";
import { joinPath } from "./field-diff";
import { SECRET_PLACEHOLDER } from "./model";

/**
 * Follows each secret config key into the resources it reaches. The plan
 * knows no secret's value: every one is the placeholder "[secret]". While the
 * program runs, each key's placeholder carries a tag of its own instead; the
 * inputs then say which key landed where, and every tag is turned back into
 * the plain placeholder before anything (the plan, a policy) sees it.
 */
export class SecretTracer {
    private readonly keyOf = new Map<string, string>();
    private readonly run = randomUUID().slice(0, 8);

    /** `value` with each placeholder leaf replaced by `key`'s tag. */
    tag(key: string, value: unknown): unknown {
        if (value === SECRET_PLACEHOLDER) {
            const tag = `[secret ${this.run}#${this.keyOf.size}]`;
            this.keyOf.set(tag, key);
            return tag;
        }
        if (Array.isArray(value)) return value.map((v) => this.tag(key, v));
        if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.tag(key, v)]));
        return value;
    }

    private keysIn(text: string): string[] {
        return [...this.keyOf].filter(([tag]) => text.includes(tag)).map(([, key]) => key);
    }

    /** `value` with every tag back to the plain placeholder. */
    untag<T>(value: T): T {
        if (typeof value === "string") {
            let out: string = value;
            for (const tag of this.keyOf.keys()) out = out.split(tag).join(SECRET_PLACEHOLDER);
            return out as T;
        }
        if (Array.isArray(value)) return value.map((v: unknown) => this.untag(v)) as T;
        if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.untag(v)])) as T;
        return value;
    }

    /**
     * Where secrets sit in a resource's inputs as the engine received them:
     * each secret-wrapped value (shown "[secret]" in the plan) with the keys
     * whose tags it holds.
     */
    uses(inputs: unknown, path = ""): Array<{ path: string; keys: string[] }> {
        if (isPlainObject(inputs) && inputs[specialSigKey] === specialSecretSig) {
            const keys = this.keysIn(JSON.stringify(inputs.value ?? null));
            return keys.length ? [{ path, keys }] : [];
        }
        if (typeof inputs === "string") {
            const keys = this.keysIn(inputs);
            return keys.length ? [{ path, keys }] : [];
        }
        if (Array.isArray(inputs)) return inputs.flatMap((v, i) => this.uses(v, `${path}[${i}]`));
        if (isPlainObject(inputs)) return Object.entries(inputs).flatMap(([k, v]) => this.uses(v, joinPath(path, k)));
        return [];
    }
}
