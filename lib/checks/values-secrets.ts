import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config";
import { looksLikeCredential, TOKEN_PREFIX } from "../config/secrets";
import { configPath, error, Problem, warning } from "../problems";
import type { Check } from "./types";

// The `values` escape hatch is plain stack config: whatever is written there
// lands in the Helm release's inputs, the Pulumi state and the plan, in
// clear text. Secrets belong in keys of their own (pulumi config set
// --secret), which no escape-hatch value can hold.

const SECTIONS_WITH_VALUES = ["cilium", "coredns", "certManager", "ingressNginx", "flux"] as const;

/** A private key in PEM form: never anything but a secret. */
const PRIVATE_KEY = /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/;
/** A token of a known issuer: its prefix, and a body too long for an ordinary word ("sk-learn"). */
const isToken = (v: string) => TOKEN_PREFIX.test(v) && /^[A-Za-z0-9_-]{16,}$/.test(v);
/** Keys whose value is a credential itself... */
export const SECRET_KEY = /(password|passwd|secret|token|apikey|api_key|privatekey|private_key|^key)$/i;
/** ...unless they only name where the credential is kept. */
export const REFERENCE_KEY = /(name|ref|file|path|existingsecret|mountpath|enabled)$/i;

const FIX =
    "remove it from values: keep the credential in a Kubernetes Secret and point the chart at it (its existingSecret-style key), " +
    "or, where this program takes that credential, in a config key of its own: pulumi config set --secret talos-platform:<name>";

/** A PEM private key, as is or base64-encoded (as Secret data and many charts' values carry it). */
function isPrivateKey(v: string): boolean {
    if (PRIVATE_KEY.test(v)) return true;
    return v.startsWith("LS0tLS1CRUdJT") && PRIVATE_KEY.test(Buffer.from(v, "base64").toString("utf8"));
}

/** Whether a values leaf is a credential: certainly (refused), likely (a warning, and kept secret), or not. */
export function credentialKind(key: string, value: string): "certain" | "likely" | undefined {
    if (isPrivateKey(value) || isToken(value)) return "certain";
    if (SECRET_KEY.test(key) && !REFERENCE_KEY.test(key) && looksLikeCredential(value.replace(/[^A-Za-z0-9_-]/g, ""))) return "likely";
    return undefined;
}

/**
 * The values with every likely credential made a Pulumi secret, so that one
 * the check could only warn about is at least encrypted in the state and
 * hidden in previews and the plan.
 */
export function secretLeaves(value: unknown, key = ""): unknown {
    if (typeof value === "string") return credentialKind(key, value) ? pulumi.secret(value) : value;
    if (Array.isArray(value)) return value.map((v) => secretLeaves(v, key));
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, secretLeaves(v, k)]));
    return value;
}

function* leaves(value: unknown, path: (string | number)[]): Generator<{ path: (string | number)[]; value: string }> {
    if (typeof value === "string") yield { path, value };
    else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* leaves(v, [...path, i]);
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) yield* leaves(v, [...path, k]);
}

/**
 * Secrets pasted into `values`. Certain ones (a PEM private key, a token of a
 * known issuer) are errors; a credential-shaped string under a key named
 * like one is a warning, since a heuristic may be wrong. Neither shows the value.
 */
export function valuesSecrets(config: PlatformConfig): Problem[] {
    const problems: Problem[] = [];
    for (const section of SECTIONS_WITH_VALUES) {
        for (const leaf of leaves(config[section].values, [section, "values"])) {
            const key = configPath(leaf.path);
            const kind = credentialKind(String(leaf.path.findLast((p) => typeof p === "string")), leaf.value);
            if (kind === "certain") {
                problems.push(error(key, "holds a credential in plain text (the value is not shown)", FIX));
            } else if (kind === "likely") {
                problems.push(
                    warning(
                        "secret-in-values",
                        key,
                        "looks like a credential in plain text (the value is not shown); it is deployed as a Pulumi secret, but stays readable in the stack file and in the Helm release in the cluster",
                        FIX,
                    ),
                );
            }
        }
    }
    return problems;
}

export const valuesSecretChecks: Check[] = [{ name: "values-secrets", run: valuesSecrets }];
