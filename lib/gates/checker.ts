import * as fs from "node:fs";
import * as path from "node:path";
import { invocationDir } from "../cwd";
import { formatDiagnosis } from "./diagnosis";
import { gateSteps } from "./index";
import { connect, Kube, KubeconfigError } from "./kube";
import { GateName, GateOptions, UsageError } from "./options";
import { ProbeRunner } from "./probe";
import { GateResult, runGate, seconds } from "./run";
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

/**
 * The stack's config from --stack/--config; without either, the
 * `fallbackStack` when its file exists, else the defaults. `--no-stack`
 * reads no file at all: `pulumi up` passes every setting as a flag.
 */
export function configFrom(
    values: { stack?: unknown; config?: unknown; "no-stack"?: unknown },
    io: Pick<CheckerIo, "cwd" | "projectDir">,
    fallbackStack?: string,
): { config: PlatformConfig; source: string } {
    const stack = typeof values.stack === "string" ? values.stack : undefined;
    const file = typeof values.config === "string" ? values.config : undefined;
    if (stack && file) throw new UsageError("give --stack or --config, not both");
    if (values["no-stack"] === true) {
        if (stack || file) throw new UsageError("--no-stack reads no stack file: drop --stack and --config");
        return { config: defaultConfig(), source: "flags" };
    }
    if (stack !== undefined && !/^[A-Za-z0-9_.-]+$/.test(stack)) throw new UsageError(`'${stack}' is not a stack name`);
    if (file) {
        const full = path.resolve(io.cwd, file);
        return { config: stackFileConfig(full, path.basename(file).replace(/^Pulumi\.|\.ya?ml$/g, "")), source: file };
    }
    const dir = io.projectDir ?? io.cwd;
    if (stack) return { config: stackFileConfig(path.join(dir, `Pulumi.${stack}.yaml`), stack), source: `stack ${stack}` };
    if (fallbackStack && fs.existsSync(path.join(dir, `Pulumi.${fallbackStack}.yaml`)))
        return { config: stackFileConfig(path.join(dir, `Pulumi.${fallbackStack}.yaml`), fallbackStack), source: `stack ${fallbackStack}` };
    return { config: defaultConfig(), source: "defaults" };
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
    const client = kube ?? connect({ kubeconfig: options.kubeconfig, context: options.context });
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
    const lines = [`✗ ${r.gate} gate ${how} after ${seconds(r.elapsedMs)} at: ${r.failedStep}`];
    if (r.diagnosis) lines.push(formatDiagnosis(r.diagnosis));
    return lines.join("\n") + "\n";
}

/** Usage and kubeconfig problems print one line and exit 2; a failed gate exits 1. */
export function errorExit(e: unknown, io: CheckerIo, command: string, usage: string): number {
    if (e instanceof UsageError) {
        io.err(`${command}: ${e.message}\n\n${usage}\n`);
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
        process.stderr.write(`${name}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
        exit(1);
    });
}
