import * as fs from "node:fs";
import { DEBUG_ENV, debugRequested, INTERNAL_ERROR } from "../exit";
import * as path from "node:path";
import { invocationDir } from "../cwd";
import { formatDiagnosis } from "./diagnosis";
import { gateSteps } from "./index";
import { connect, Kube, KubeconfigError } from "./kube";
import { ConfigError, GateName, GateOptions, UsageError } from "./options";
import { ProbeRunner } from "./probe";
import { apiServerLine, GateResult, runGate, seconds } from "./run";
import { defaultConfig, stackFileConfig } from "./stack";
import { gateOptions } from "./targets";
import type { PlatformConfig } from "../config";

/** Where the checker writes, and what stops it. Tests pass their own. */
export interface CheckerIo {
    out(text: string): void;
    err(text: string): void;
    /** Where relative --config and --kubeconfig paths start: the directory the user ran `npm run` in. */
    cwd: string;
    /** Where Pulumi.<stack>.yaml files live. @default cwd */
    projectDir?: string;
    /** Aborted on SIGINT/SIGTERM: probes are deleted, then the command exits. */
    signal: AbortSignal;
    now?(): number;
    /** How long an unreachable API server is waited out (RunIo.unreachableForMs). */
    unreachableForMs?: number;
}

/** The stacks with a settings file in `dir`: every Pulumi.<stack>.yaml (Pulumi.yaml is the project's, not a stack's). */
export function stacksIn(dir: string): string[] {
    let names: string[];
    try {
        names = fs.readdirSync(dir);
    } catch {
        return [];
    }
    return names
        .map((n) => /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/.exec(n)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/**
 * The flags that say which cluster a command reads and how long it may take:
 * the doctor's and adopt's, declared once so that they stay alike.
 */
export const CLUSTER_FLAGS = {
    stack: { type: "string" },
    config: { type: "string" },
    context: { type: "string" },
    kubeconfig: { type: "string" },
    timeout: { type: "string" },
    help: { type: "boolean", short: "h" },
} as const;

/** The stack file --stack/--config chose: its path, the stack's name, and how to say where the settings came from. */
export interface StackFileChoice {
    file: string;
    stack: string;
    source: string;
}

/**
 * The stack file from --stack/--config. Without either, the one
 * Pulumi.<stack>.yaml in the project directory; with several or none the
 * user must say which settings describe their cluster, because another
 * stack's (its CRDs, its dnsDomain) would check the wrong things.
 * `--no-stack` reads no file at all (undefined): `pulumi up` passes every
 * setting as a flag. `noStackFlag` says whether the command has that flag.
 */
export function stackFileFrom(
    values: { stack?: unknown; config?: unknown; "no-stack"?: unknown },
    io: Pick<CheckerIo, "cwd" | "projectDir">,
    noStackFlag: boolean,
): StackFileChoice | undefined {
    const stack = typeof values.stack === "string" ? values.stack : undefined;
    const file = typeof values.config === "string" ? values.config : undefined;
    if (stack && file) throw new UsageError("give --stack or --config, not both");
    if (values["no-stack"] === true) {
        if (stack || file) throw new UsageError("--no-stack reads no stack file: drop --stack and --config");
        return undefined;
    }
    if (stack !== undefined && !/^[A-Za-z0-9_.-]+$/.test(stack)) throw new UsageError(`--stack '${stack}' is not a stack name`);
    if (file) {
        const full = path.resolve(io.cwd, file);
        return { file: full, stack: path.basename(file).replace(/^Pulumi\.|\.ya?ml$/g, ""), source: file };
    }
    const dir = io.projectDir ?? io.cwd;
    const stacks = stacksIn(dir);
    if (stack) {
        if (!stacks.includes(stack)) {
            const fix = stacks.length ? `pass --stack with one of ${stacks.join(", ")}, or --config FILE` : "pass --config FILE";
            throw new ConfigError(`--stack ${stack}: there is no Pulumi.${stack}.yaml in ${dir}; ${fix}`);
        }
        return { file: path.join(dir, `Pulumi.${stack}.yaml`), stack, source: `stack ${stack}` };
    }
    if (stacks.length === 1)
        return {
            file: path.join(dir, `Pulumi.${stacks[0]}.yaml`),
            stack: stacks[0],
            source: `stack ${stacks[0]} (the only Pulumi.<stack>.yaml here)`,
        };
    const or = noStackFlag ? ", or --no-stack to take every setting from flags and defaults" : "";
    if (stacks.length > 1)
        throw new ConfigError(
            `which stack describes the cluster? ${dir} has ${stacks.map((s) => `Pulumi.${s}.yaml`).join(", ")}: pass --stack NAME (one of ${stacks.join(", ")}) or --config FILE${or}`,
        );
    throw new ConfigError(`no Pulumi.<stack>.yaml in ${dir} to describe the cluster: pass --config FILE (a file in that format)${or}`);
}

/** The validated config of the stack file stackFileFrom chooses, or every default for --no-stack. */
export function configFrom(
    values: { stack?: unknown; config?: unknown; "no-stack"?: unknown },
    io: Pick<CheckerIo, "cwd" | "projectDir">,
    noStackFlag: boolean,
): { config: PlatformConfig; source: string } {
    const choice = stackFileFrom(values, io, noStackFlag);
    if (!choice) return { config: defaultConfig(), source: "flags" };
    return { config: stackFileConfig(choice.file, choice.stack), source: choice.source };
}

/** A relative --kubeconfig is the user's, from where they ran the command. */
export function userPath(io: Pick<CheckerIo, "cwd">, file: string | undefined): string | undefined {
    return file === undefined ? undefined : path.resolve(io.cwd, file);
}

export function optionsFor<G extends GateName>(gate: G, config: PlatformConfig): GateOptions[G] {
    return gateOptions(config)[gate];
}

/**
 * Runs one gate against the cluster: connects with the provider's kubeconfig
 * and context, polls its steps, and deletes every probe pod before
 * returning, whatever happened.
 */
export async function checkGate<G extends GateName>(gate: G, options: GateOptions[G], io: CheckerIo, kube?: Kube): Promise<GateResult> {
    const client = kube ?? connect({ kubeconfig: options.kubeconfig, context: options.context, contextFrom: options.contextFrom });
    const probes = new ProbeRunner(client, options);
    try {
        return await runGate(
            gate,
            gateSteps(gate, options),
            { kube: client, options, probes, signal: io.signal },
            { progress: (l) => io.out(l + "\n"), now: io.now, unreachableForMs: io.unreachableForMs },
        );
    } finally {
        await probes.drain();
    }
}

export function renderResult(r: GateResult): string {
    if (r.ok) return `✓ ${r.gate} gate passed in ${seconds(r.elapsedMs)} (${r.passed.length} checks)\n`;
    const how = r.interrupted ? "interrupted" : r.timedOut ? "timed out" : "failed";
    // The checker's own link to the API server broke: say so before the step, which it could not check.
    const where = r.unreachable && !r.interrupted ? `: ${apiServerLine(r.unreachable)} (at: ${r.failedStep})` : ` at: ${r.failedStep}`;
    const lines = [`✗ ${r.gate} gate ${how} after ${seconds(r.elapsedMs)}${where}`];
    if (r.diagnosis) lines.push(formatDiagnosis(r.diagnosis));
    return lines.join("\n") + "\n";
}

/**
 * Usage errors print the usage text; config and kubeconfig errors print
 * their message (which says what to do), config errors with a pointer to
 * `help`. All exit 2; a failed gate exits 1.
 */
export function errorExit(e: unknown, io: CheckerIo, command: string, usage: string, help: string): number {
    if (e instanceof UsageError) {
        io.err(`${command}: ${e.message}\n\n${usage}\n`);
        return 2;
    }
    if (e instanceof ConfigError) {
        io.err(`${command}: ${e.message}\n(see ${help})\n`);
        return 2;
    }
    if (e instanceof KubeconfigError) {
        io.err(`${command}: ${e.message}\n`);
        return 2;
    }
    throw e;
}

/** Wires SIGINT/SIGTERM to an AbortSignal for the real command line. */
export function processIo(): CheckerIo {
    const controller = new AbortController();
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
        process.once(sig, () => {
            process.stderr.write(`\n${sig}: deleting probe pods before exiting\n`);
            controller.abort();
        });
    }
    return {
        out: (t) => process.stdout.write(t),
        err: (t) => process.stderr.write(t),
        cwd: invocationDir(),
        projectDir: process.cwd(),
        signal: controller.signal,
    };
}

/**
 * Runs a command-line main and exits with its status once stdout and
 * stderr are flushed. Exiting explicitly matters: main returns only after
 * the probe pods are deleted, and nothing left over (a request the API
 * server never answered, an exec socket) may keep the process alive.
 */
export function runCli(name: string, main: (argv: string[], io: CheckerIo) => Promise<number>): void {
    const exit = (code: number) => process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
    main(process.argv.slice(2), processIo()).then(exit, (e: unknown) => {
        // A bug, not a broken link: its own exit status, so 1 always means the cluster.
        const debug = debugRequested();
        const what = e instanceof Error ? (debug ? (e.stack ?? e.message) : e.message) : String(e);
        const hint = debug ? "" : ` (set ${DEBUG_ENV}=1 for the stack trace, and report it)`;
        process.stderr.write(`${name}: internal error: ${what}${hint}\n`);
        exit(INTERNAL_ERROR);
    });
}
