import type { Diagnosis } from "./diagnosis";
import { apiMessage, isTransportError, Kube, statusCode } from "./kube";
import type { CommonOptions } from "./options";
import { ProbeRunner } from "./probe";

/** One readiness condition of a gate, checked in order. */
export interface Step {
    name: string;
    check(ctx: StepContext): Promise<StepResult>;
}

export type StepResult =
    | { ok: true; detail: string }
    | {
          ok: false;
          /** One line for the progress output: what it is still waiting for. */
          waiting: string;
          diagnosis: Diagnosis;
          /** Conclusive: waiting longer cannot help, so fail now instead of at the timeout. */
          final?: boolean;
          /** Cut short by the deadline: an earlier failure of the same step explains more. */
          inconclusive?: boolean;
      };

export interface StepContext {
    kube: Kube;
    options: CommonOptions;
    probes: ProbeRunner;
    /** Epoch ms after which nothing may still be running. */
    deadline: number;
    signal: AbortSignal;
}

export interface GateResult {
    gate: string;
    ok: boolean;
    elapsedMs: number;
    passed: { name: string; detail: string }[];
    /** The step it stopped at, when it failed. */
    failedStep?: string;
    diagnosis?: Diagnosis;
    timedOut?: boolean;
    interrupted?: boolean;
}

export interface RunIo {
    /** Progress lines while the gate waits. */
    progress(line: string): void;
    now?(): number;
}

const TIMED_OUT = Symbol("timed out");
const DEADLINE_GRACE_MS = 500;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        if (signal.aborted || ms <= 0) return resolve();
        const t = setTimeout(done, ms);
        function done() {
            clearTimeout(t);
            signal.removeEventListener("abort", done);
            resolve();
        }
        signal.addEventListener("abort", done, { once: true });
    });
}

/** Resolves with TIMED_OUT once the deadline passes; the step's own work is left to its cleanup. */
function raceDeadline<T>(p: Promise<T>, deadline: number, now: () => number): Promise<T | typeof TIMED_OUT> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>(
        (resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, deadline - now()))),
    );
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function seconds(ms: number): string {
    return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

/** An API server the checker cannot reach is conclusive: the provider deploys through the same kubeconfig. */
function unreachable(kube: Kube, e: unknown, gate: string): StepResult {
    return {
        ok: false,
        final: true,
        waiting: "the API server",
        diagnosis: {
            link: `checker → API server ${kube.server} (context ${kube.context})`,
            evidence: [apiMessage(e)],
            cause: "the gate checker cannot reach the Kubernetes API server through this kubeconfig context",
            fix: "check KUBECONFIG and talos-platform:cluster.kubeContext; `kubectl --context <context> get nodes` must work from this machine",
            blocks: [`the ${gate} gate and everything after it`],
        },
    };
}

/** The API server answered with an error the step did not expect: RBAC is conclusive, the rest may pass. */
function rejected(kube: Kube, e: unknown, gate: string, step: string): StepResult {
    const code = statusCode(e)!;
    const denied = code === 401 || code === 403;
    return {
        ok: false,
        final: denied,
        waiting: `HTTP ${code}: ${apiMessage(e)}`,
        diagnosis: {
            link: `checker → API server ${kube.server} (context ${kube.context}): ${step}`,
            evidence: [`HTTP ${code}: ${apiMessage(e)}`],
            cause: denied ? "the kubeconfig's user may not read what this gate checks" : "the API server rejected the checker's request",
            fix: denied ? "use the same admin kubeconfig and context that deploy the platform" : undefined,
            blocks: [`the ${gate} gate and everything after it`],
        },
    };
}

/**
 * Polls a gate's steps in order until all pass, one fails conclusively, or
 * the timeout passes. A passed step stays passed: phases come up, they do
 * not flap, and re-checking would only slow the gate down.
 */
export async function runGate(gate: string, steps: Step[], ctx: Omit<StepContext, "deadline">, io: RunIo): Promise<GateResult> {
    const now = io.now ?? Date.now;
    const start = now();
    const { timeoutMs, pollMs } = ctx.options;
    const deadline = start + timeoutMs;
    const passed: GateResult["passed"] = [];
    const result = (extra: Partial<GateResult>): GateResult => ({ gate, ok: false, elapsedMs: now() - start, passed, ...extra });
    let lastLine = "";
    let lastPrinted = 0;
    let i = 0;
    let last: Extract<StepResult, { ok: false }> | undefined;
    let lastStep = -1;

    while (i < steps.length) {
        if (ctx.signal.aborted) return result({ interrupted: true, failedStep: steps[i].name, diagnosis: last?.diagnosis });
        const step = steps[i];
        let r: StepResult | typeof TIMED_OUT;
        if (now() >= deadline) break;
        try {
            // Steps bound their own waits by the deadline; the grace lets them report what they saw.
            r = await raceDeadline(step.check({ ...ctx, deadline }), deadline + DEADLINE_GRACE_MS, now);
        } catch (e) {
            if (ctx.signal.aborted) continue;
            if (isTransportError(e)) r = unreachable(ctx.kube, e, gate);
            else if (statusCode(e) !== undefined) r = rejected(ctx.kube, e, gate, step.name);
            else throw e;
        }
        if (r === TIMED_OUT) break;
        if (r.ok) {
            passed.push({ name: step.name, detail: r.detail });
            io.progress(`${gate}: ✓ ${step.name}: ${r.detail}`);
            i++;
            continue;
        }
        if (!(r.inconclusive && lastStep === i)) last = r;
        lastStep = i;
        if (r.final) return result({ failedStep: step.name, diagnosis: r.diagnosis });
        if (now() >= deadline) break;
        const elapsed = now() - start;
        const line = `${gate}: waiting for ${step.name}: ${r.waiting}`;
        // One line per poll would flood a 3-minute wait; a changed state always prints.
        if (line !== lastLine || elapsed - lastPrinted >= 10_000) {
            io.progress(`${line} (${seconds(elapsed)} of ${seconds(timeoutMs)})`);
            lastLine = line;
            lastPrinted = elapsed;
        }
        if (now() + pollMs > deadline) {
            await sleep(deadline - now(), ctx.signal);
            break;
        }
        await sleep(pollMs, ctx.signal);
    }
    if (i === steps.length) return { gate, ok: true, elapsedMs: now() - start, passed };
    if (ctx.signal.aborted) return result({ interrupted: true, failedStep: steps[i].name, diagnosis: last?.diagnosis });
    const step = steps[i];
    const diagnosis: Diagnosis = last?.diagnosis ?? {
        link: step.name,
        evidence: [`no answer within ${seconds(timeoutMs)}`],
        cause: "the check did not complete before the gate's timeout",
        blocks: [],
    };
    return result({
        timedOut: true,
        failedStep: step.name,
        diagnosis: {
            ...diagnosis,
            evidence: [...diagnosis.evidence, `gave up after ${seconds(now() - start)} (timeout ${seconds(timeoutMs)})`],
        },
    });
}
