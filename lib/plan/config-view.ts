import { credentialKind } from "../checks/values-secrets";
import { redactUrl } from "../config/flux";
import { isPlainObject } from "../merge";
import { SECRET_PLACEHOLDER } from "./model";

/**
 * A leaf as the plan may show it: a value the program's own detectors call a
 * credential (a pasted private key or token, a credential-shaped string under
 * a key named like one) is "[secret]", and a URL loses its user information.
 * The plan's errors and inputs hide the same values.
 */
function shownLeaf(key: string, value: unknown): unknown {
    if (typeof value !== "string") return value;
    if (credentialKind(key, value)) return SECRET_PLACEHOLDER;
    return redactUrl(value);
}

function shown(value: unknown, key: string): unknown {
    if (Array.isArray(value)) return value.map((v) => shown(v, key));
    if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shown(v, k)]));
    return shownLeaf(key, value);
}

/** The stack config for the plan's JSON: secret keys whole as "[secret]", credentials pasted elsewhere hidden. */
export function configView(config: Record<string, unknown>, secretKeys: string[]): Record<string, unknown> {
    return Object.fromEntries(
        Object.entries(config).map(([k, v]) => [k, secretKeys.includes(k) ? SECRET_PLACEHOLDER : shown(v, k.split(":").pop() ?? k)]),
    );
}
