import * as path from "node:path";
import { formatDiagnosis } from "./diagnosis";
import { gateSteps } from "./index";
import { connect, Kube, KubeconfigError } from "./kube";
import { GateName, GateOptions, UsageError } from "./options";
import { ProbeRunner } from "./probe";
import { GateResult, runGate } from "./run";
import { defaultConfig, stackFileConfig } from "./stack";
import { gateOptions } from "./targets";
import type { PlatformConfig } from "../config";

/** Where the checker writes, and what stops it. Tests pass their own. */
export interface CheckerIo {
    out(text: string): void;
    err(text: string): void;
    cwd: string;
    /** Aborted on SIGINT/SIGTERM: probes are deleted, then the command exits. */
    signal: AbortSignal;
    now?(): number;
}

export function seconds(ms: number): string {
    return `${(ms / 1000).toFixed(1)}s`;
}

/** The stack's config from --stack/--config, or the defaults when neither is given and `fallbackStack` is undefined. */
export function configFrom(
    values: { stack?: unknown; config?: unknown },
    cwd: string,
    fallbackStack?: string,
): { config: PlatformConfig; source: string } {
    const stack = typeof values.stack === "string" ? values.stack : undefined;
    const file = typeof values.config === "string" ? values.config : undefined;
    if (stack && file) throw new UsageError("give --stack or --config, not both");
    const name = stack ?? (file ? undefined : fallbackStack);
    if (name !== undefined && !/^[A-Za-z0-9_.-]+$/.test(name)) throw new UsageError(`'${name}' is not a stack name`);
    if (file)
        return { config: stackFileConfig(path.resolve(cwd, file), path.basename(file).replace(/^Pulumi\.|\.ya?ml$/g, "")), source: file };
    if (name) return { config: stackFileConfig(path.join(cwd, `Pulumi.${name}.yaml`), name), source: `stack ${name}` };
    return { config: defaultConfig(), source: "defaults" };
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
            { progress: (l) => io.out(l + "\n"), now: io.now },
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
    return { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), cwd: process.cwd(), signal: controller.signal };
}
