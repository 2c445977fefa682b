/** Config keys live under this namespace in Pulumi.<stack>.yaml. */
export const CONFIG_NAMESPACE = "talos-platform";

export type Severity = "error" | "warning";

/**
 * One thing wrong with the stack configuration. `path` is the key as
 * `pulumi config set --path` spells it, so a user can paste it.
 */
export interface Problem {
    path: string;
    message: string;
    /** The offending value, when there is one. */
    value?: unknown;
    /** What to change. Every error carries one. */
    fix?: string;
    severity: Severity;
    /** Stable id for warnings that surface as plan findings. */
    rule?: string;
}

export function configPath(segments: ReadonlyArray<string | number>): string {
    let out = CONFIG_NAMESPACE + ":";
    segments.forEach((s, i) => {
        if (typeof s === "number") out += `[${s}]`;
        else out += i === 0 ? s : `.${s}`;
    });
    return out;
}

export function error(path: string, message: string, fix: string, value?: unknown): Problem {
    return { path, message, fix, value, severity: "error" };
}

export function warning(rule: string, path: string, message: string, fix: string, value?: unknown): Problem {
    return { path, message, fix, value, severity: "warning", rule };
}

function showValue(v: unknown): string {
    const s = JSON.stringify(v);
    if (s === undefined) return String(v);
    return s.length > 120 ? s.slice(0, 117) + "..." : s;
}

/** One line per problem: key, value, what is wrong, how to fix it. */
export function describeProblem(p: Problem): string {
    const value = p.value === undefined ? "" : ` (got ${showValue(p.value)})`;
    const fix = p.fix ? ` Fix: ${p.fix}` : "";
    return `${p.path}${value}: ${p.message}.${fix}`;
}

/**
 * Thrown before any resource is registered when the configuration cannot
 * work. A Pulumi RunError, so `pulumi up` prints the list without a stack trace.
 */
export class ConfigError extends Error {
    /**
     * What makes it a RunError: Pulumi's RunError.isInstance looks for this
     * field, so that errors of one copy of the SDK are known to another.
     * Subclassing RunError instead would load the SDK's gRPC stack into every
     * gate, which shares this module and never talks to Pulumi
     * (test/commands/run.test.ts checks both).
     */
    readonly __pulumiRunError = true;
    readonly problems: Problem[];
    /** `headline` replaces the first line, for problems that are not the configuration's alone (the wrong cluster). */
    constructor(problems: Problem[], headline?: string) {
        const errors = problems.filter((p) => p.severity === "error");
        const lines = errors.map((p, i) => `  ${i + 1}. ${describeProblem(p)}`);
        const noun = errors.length === 1 ? "problem" : "problems";
        const skipped = problems.filter((p) => p.rule === "checks-skipped").map((p) => `  Note: ${describeProblem(p)}`);
        super(
            `${headline ?? `talos-platform: the stack configuration has ${errors.length} ${noun}; nothing was deployed.`}\n` +
                [...lines, ...skipped].join("\n"),
        );
        this.problems = errors;
        this.name = "ConfigError";
    }

    static isConfigError(e: unknown): e is ConfigError {
        return e instanceof Error && e.name === "ConfigError" && Array.isArray((e as ConfigError).problems);
    }
}
