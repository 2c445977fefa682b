import type { CheckContext, PlatformConfig } from "../config";
import { SECTIONS } from "../config";
import { certManagerSecretRefs } from "../config/cert-manager";
import { ciliumSecretRefs } from "../config/cilium";
import { unknownKeyProblem } from "../config/issues";
import type { SecretRef } from "../config/secrets";
import { CONFIG_NAMESPACE, configPath, error, Problem } from "../problems";
import { fluxSecretRefs } from "./gitops";
import type { Check } from "./types";

/**
 * Every secret reference in the parsed sections. Each domain that takes a
 * secret lists its references here; a section that failed to parse
 * contributes none.
 */
export function secretRefs(config: Partial<PlatformConfig>): SecretRef[] {
    return [
        ...ciliumSecretRefs(config.cilium),
        ...certManagerSecretRefs(config.certManager),
        ...(config.flux ? fluxSecretRefs(config.flux) : []),
    ];
}

export function secretProblems(config: Partial<PlatformConfig>, ctx: CheckContext): Problem[] {
    const problems: Problem[] = [];
    const refs = secretRefs(config);
    // A plain-text key is one mistake however many fields name it: one problem, naming every field.
    const plain = new Map<string, string[]>();
    for (const ref of refs) {
        const key = `${CONFIG_NAMESPACE}:${ref.key}`;
        if (ctx.plainKeys.has(ref.key)) {
            plain.set(ref.key, [...(plain.get(ref.key) ?? []), ref.path]);
        } else if (!ctx.secretKeys.has(ref.key)) {
            problems.push(
                error(ref.path, `names the secret ${key}, which is not set`, `set it: pulumi config set --secret ${key} <value>`, ref.key),
            );
        }
    }
    for (const [name, paths] of plain) {
        problems.push(
            error(
                configPath([name]),
                `is stored in plain text, but ${paths.join(" and ")} use${paths.length === 1 ? "s" : ""} it as a secret`,
                `store it encrypted: pulumi config set --secret ${CONFIG_NAMESPACE}:${name} <value>`,
            ),
        );
    }
    const referenced = new Set(refs.map((r) => r.key));
    for (const key of ctx.plainKeys) {
        // A plain key outside the sections that no section references is most likely a misspelled section.
        if (!(key in SECTIONS) && !referenced.has(key)) problems.push(unknownKeyProblem([], key, Object.keys(SECTIONS), undefined));
    }
    return problems;
}

export const secretChecks: Check[] = [{ name: "secret-references", run: secretProblems, partial: true }];
