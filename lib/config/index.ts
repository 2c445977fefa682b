import { z } from "zod";
import { CHECKS } from "../checks";
import type { Check } from "../checks/types";
import { ConfigError, CONFIG_NAMESPACE, configPath, error, Problem, warning } from "../problems";
import { certManagerSchema } from "./cert-manager";
import { ciliumSchema } from "./cilium";
import { clusterSchema } from "./cluster";
import { corednsSchema } from "./coredns";
import { fluxSchema } from "./flux";
import { gatewaySchema } from "./gateway";
import { gatesSchema } from "./gates";
import { ingressNginxSchema } from "./ingress-nginx";
import { lifecycleSchema } from "./lifecycle";
import { issueToProblems } from "./issues";
import { ClusterSources, withTalosFacts } from "../talos/cluster";

/** Every structured key under `talos-platform:`, with its schema. */
export const SECTIONS = {
    cluster: clusterSchema,
    cilium: ciliumSchema.prefault({}),
    coredns: corednsSchema.prefault({}),
    certManager: certManagerSchema.prefault({}),
    ingressNginx: ingressNginxSchema.prefault({}),
    gateway: gatewaySchema.prefault({}),
    flux: fluxSchema.prefault({}),
    gates: gatesSchema,
    lifecycle: lifecycleSchema.prefault({}),
};

export type SectionName = keyof typeof SECTIONS;
export type PlatformConfig = { [K in SectionName]: z.output<(typeof SECTIONS)[K]> };
export type PlatformConfigInput = { [K in SectionName]?: z.input<(typeof SECTIONS)[K]> };

/**
 * Raw stack configuration: the structured sections as parsed objects, plus
 * every other top-level key and whether it is stored as a secret. Secrets
 * are separate keys (`pulumi config set --secret`) referenced by name, so
 * that no structured section, and no Helm values map, ever holds one.
 */
export interface RawConfig {
    sections: Partial<Record<string, unknown>>;
    /** Other keys under talos-platform:, without the namespace. */
    otherKeys: Record<string, { secret: boolean }>;
    /** Where a relative cluster.talosConfig starts. @default the working directory */
    baseDir?: string;
}

export interface CheckContext {
    /** Top-level keys stored as secrets. */
    secretKeys: ReadonlySet<string>;
    /** Top-level keys stored in plain text (outside the sections). */
    plainKeys: ReadonlySet<string>;
    /** Where each cluster fact came from (a Talos configuration, the section, a default), when the section could be read. */
    clusterSources?: ClusterSources;
}

export interface Validation {
    /** Present only when there are no errors. */
    config?: PlatformConfig;
    problems: Problem[];
    /** Where each Talos fact came from; present when the cluster section could be read. */
    clusterSources?: ClusterSources;
}

/**
 * Structural parse of every section, then every cross-check whose sections
 * parsed. All problems are collected: the user fixes them in one round.
 */
export function validateConfig(raw: RawConfig): Validation {
    const problems: Problem[] = [];
    const parsed: Partial<PlatformConfig> = {};
    let clusterSources: ClusterSources | undefined;
    for (const name of Object.keys(SECTIONS) as SectionName[]) {
        // Its value is unknown; the one problem to report is said below.
        if (raw.otherKeys[name]?.secret) continue;
        const schema = SECTIONS[name];
        let value = raw.sections[name];
        if (name === "cluster") {
            // The facts of cluster.talosConfig, before the schema sees the section; a file that cannot be used stops the section here.
            const talos = withTalosFacts(value, raw.baseDir ?? process.cwd());
            problems.push(...talos.problems);
            if (talos.problems.length) continue;
            value = talos.value;
            clusterSources = talos.sources;
        }
        if (typeof value === "string") {
            problems.push(
                error(
                    configPath([name]),
                    "must be a map of keys, not a string",
                    `write it as a YAML map under ${CONFIG_NAMESPACE}:${name}`,
                    value,
                ),
            );
            continue;
        }
        const result = schema.safeParse(value);
        if (result.success) (parsed as Record<string, unknown>)[name] = result.data;
        else for (const issue of firstIssues(result.error.issues)) problems.push(...issueToProblems(name, schema, value, issue));
    }
    const ctx: CheckContext = {
        secretKeys: new Set(Object.keys(raw.otherKeys).filter((k) => raw.otherKeys[k].secret)),
        plainKeys: new Set(Object.keys(raw.otherKeys).filter((k) => !raw.otherKeys[k].secret)),
        clusterSources,
    };
    for (const key of Object.keys(raw.otherKeys).filter((k) => k in SECTIONS)) {
        problems.push(
            error(
                configPath([key]),
                "is stored as a secret, so it cannot be checked before deployment",
                `store it in plain text and move the secret value into a key of its own (pulumi config set --secret ${CONFIG_NAMESPACE}:<name>), referenced by name`,
            ),
        );
    }
    const skipped = new Map<string, string[]>();
    for (const check of CHECKS) {
        const ran = runCheck(check, parsed, ctx);
        if ("missing" in ran) skipped.set(ran.missing, [...(skipped.get(ran.missing) ?? []), check.name]);
        else problems.push(...ran);
    }
    problems.push(...skippedWarnings(skipped));
    const hasErrors = problems.some((p) => p.severity === "error");
    return { config: hasErrors ? undefined : (parsed as PlatformConfig), problems, clusterSources };
}

/** A value of the wrong kind also fails the checks meant for the right kind (a string's length against a list's maximum): report only the kind. */
function firstIssues(issues: z.core.$ZodIssue[]): z.core.$ZodIssue[] {
    const wrongKind = new Set(issues.filter((i) => i.code === "invalid_type").map((i) => JSON.stringify(i.path)));
    return issues.filter((i) => i.code === "invalid_type" || !wrongKind.has(JSON.stringify(i.path)));
}

class MissingSection extends Error {}

/**
 * Runs a check on the parsed sections. Reading a section that failed to
 * parse skips the check: its structural errors are already reported.
 */
function runCheck(check: Check, parsed: Partial<PlatformConfig>, ctx: CheckContext): Problem[] | { missing: string } {
    if (check.partial) return check.run(parsed as PlatformConfig, ctx);
    const guarded = new Proxy(parsed, {
        get(target, key) {
            const value = Reflect.get(target, key);
            if (typeof key === "string" && key in SECTIONS && value === undefined) throw new MissingSection(key);
            return value;
        },
    });
    try {
        return check.run(guarded as PlatformConfig, ctx);
    } catch (e) {
        if (e instanceof MissingSection) return { missing: e.message };
        throw e;
    }
}

/**
 * "Every problem at once" stops where a section could not be read: say so,
 * so that a second round of errors after the fix is expected, not a surprise.
 */
function skippedWarnings(skipped: Map<string, string[]>): Problem[] {
    return [...skipped].map(([section, checks]) =>
        warning(
            "checks-skipped",
            configPath([section]),
            `has errors, so ${checks.length} cross-check${checks.length === 1 ? "" : "s"} reading it did not run (${checks.length > 4 ? `${checks.slice(0, 3).join(", ")} and ${checks.length - 3} more` : checks.join(", ")}); they may find more once it is fixed`,
            "fix this section's errors and plan again",
        ),
    );
}

/**
 * Applies a section's defaults for a component constructed directly (not
 * through the stack config), with the same errors the loader gives.
 */
export function resolveSection<K extends SectionName>(name: K, input: unknown): PlatformConfig[K] {
    const schema = SECTIONS[name];
    const result = schema.safeParse(input ?? {});
    if (result.success) return result.data as PlatformConfig[K];
    throw new ConfigError(result.error.issues.flatMap((issue) => issueToProblems(name, schema, input, issue)));
}
