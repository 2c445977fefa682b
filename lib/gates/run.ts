import type { Diagnosis } from "./diagnosis";
import { apiMessage, Kube, KubeconfigError, kubeconfigFault, statusCode, Transport, transportFailure } from "./kube";
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
          /** Set by the runner alone: the checker's own request got no answer, so the diagnosis is about the API server, not the step. */
          transport?: Transport;
      };

type Failure = Extract<StepResult, { ok: false }>;

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
    /**
     * The checker's requests were still failing without an answer when it
     * stopped, and the diagnosis is about that: the API server, not the
     * gate's phase. "network" and "tls" mean this machine cannot reach it
     * (a VPN, the kubeconfig); "unanswered" is the control plane itself.
     */
    unreachable?: { kind: Transport; server: string };
}

/** The exit status of a gate or the doctor that stopped at `r`: 2 when this machine cannot reach the API server, as for a kubeconfig error. */
export function exitStatus(r: Pick<GateResult, "ok" | "interrupted" | "unreachable">): number {
    if (r.ok) return 0;
    if (r.interrupted) return 130;
    return r.unreachable && r.unreachable.kind !== "unanswered" ? 2 : 1;
}

/** One line for a result that is about the API server, not the gate's phase: what the doctor's chain and the gate print. */
export function apiServerLine(u: NonNullable<GateResult["unreachable"]>): string {
    const what = {
        network: "unreachable from this machine",
        tls: "does not verify against the kubeconfig's certificate-authority",
        unanswered: "accepts connections but does not answer",
    };
    return `API server ${u.server} ${what[u.kind]}`;
}

export interface RunIo {
    /** Progress lines while the gate waits. */
    progress(line: string): void;
    now?(): number;
    /** How long the API server must stay unreachable before the gate concludes so. @default UNREACHABLE_FOR_MS */
    unreachableForMs?: number;
}

/**
 * An API server that does not answer for this long is a broken link; a
 * shorter gap is the API server restarting or the Talos VIP moving to
 * another control-plane node, and the gate keeps polling through it.
 */
export const UNREACHABLE_FOR_MS = 15_000;

const TIMED_OUT = Symbol("timed out");
const DEADLINE_GRACE_MS = 500;
/** Requests end this long after the deadline: one in flight at the deadline may still answer, inside the steps' grace. */
const REQUEST_GRACE_MS = 250;

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

/** 0.6s, 12s: how long, for progress lines and results. */
export function seconds(ms: number): string {
    return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

/**
 * The checker cannot reach the API server. Conclusive (final) once it has
 * lasted `forMs`, or at once for a TLS failure: the provider deploys through
 * the same kubeconfig, so nothing after this gate can work either.
 */
function unreachable(kube: Kube, e: unknown, gate: string, kind: Transport, sinceMs: number, forMs: number): Failure {
    const tls = kind === "tls";
    const evidence = [apiMessage(e)];
    if (!tls && sinceMs > 0) evidence.push(`unreachable for ${seconds(sinceMs)}`);
    return {
        ok: false,
        final: tls || sinceMs >= forMs,
        transport: kind,
        waiting: `the API server ${kube.server}: ${apiMessage(e)}`,
        diagnosis: {
            link: `checker → API server ${kube.server} (context ${kube.context})`,
            evidence,
            cause: tls
                ? "the API server's certificate does not verify against the kubeconfig's certificate-authority: the kubeconfig belongs to another cluster, or the server address is not one the certificate names"
                : kind === "unanswered"
                  ? "the API server accepts connections but does not answer: it is overloaded, or etcd below it is down"
                  : "this machine cannot reach the API server at the address the kubeconfig names: it is off the cluster's network (a VPN down), or the address is one only the nodes can reach (KubePrism's https://localhost:7445 works inside the cluster only), or the API server is down",
            fix: tls
                ? "regenerate the kubeconfig for this cluster (talosctl kubeconfig) and use the endpoint it names"
                : kind === "unanswered"
                  ? "check the control plane: `talosctl health`, and the kube-apiserver and etcd services on the control-plane nodes"
                  : `connect this machine to the cluster's network (VPN), or point the kubeconfig's server at an endpoint reachable from here (\`talosctl kubeconfig\` writes the cluster endpoint); check KUBECONFIG and talos-platform:cluster.kubeContext: \`kubectl --context ${kube.context} get nodes\` must work from this machine`,
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
    let last: Failure | undefined;
    let lastStep = -1;
    let unreachableSince: number | undefined;
    /** The latest request got no answer: a diagnosis from `unreachable` still stands. */
    let unanswered = false;
    const unreachableFor = io.unreachableForMs ?? UNREACHABLE_FOR_MS;
    // No request may outlive the gate: an API server that accepts and stays silent is cut off here.
    ctx.kube.limit(deadline + REQUEST_GRACE_MS, ctx.signal);
    const apiServer = (kind?: Transport): Partial<GateResult> => (kind ? { unreachable: { kind, server: ctx.kube.server } } : {});

    while (i < steps.length) {
        if (ctx.signal.aborted) return result({ interrupted: true, failedStep: steps[i].name, diagnosis: last?.diagnosis });
        const step = steps[i];
        if (now() >= deadline) break;
        let r: StepResult | typeof TIMED_OUT;
        let reached = true;
        try {
            // Steps bound their own waits by the deadline; the grace lets them report what they saw.
            r = await raceDeadline(step.check({ ...ctx, deadline }), deadline + DEADLINE_GRACE_MS, now);
        } catch (e) {
            if (ctx.signal.aborted) continue;
            const fault = kubeconfigFault(e);
            if (fault) throw new KubeconfigError(fault);
            const transport = transportFailure(e);
            if (!transport) {
                if (statusCode(e) === undefined) throw e;
                r = rejected(ctx.kube, e, gate, step.name);
            } else if (transport === "unanswered" && now() >= deadline) {
                // Cut off by the deadline: an earlier poll's evidence, when there is one, explains more.
                last ??= unreachable(ctx.kube, e, gate, transport, 0, unreachableFor);
                unanswered = true;
                break;
            } else {
                reached = false;
                unreachableSince ??= now();
                r = unreachable(ctx.kube, e, gate, transport, now() - unreachableSince, unreachableFor);
            }
        }
        if (reached) unreachableSince = undefined;
        unanswered = !reached;
        if (r === TIMED_OUT) break;
        if (r.ok) {
            passed.push({ name: step.name, detail: r.detail });
            io.progress(`${gate}: ✓ ${step.name}: ${r.detail}`);
            i++;
            continue;
        }
        if (!(r.inconclusive && lastStep === i)) last = r;
        lastStep = i;
        if (r.final) return result({ failedStep: step.name, diagnosis: r.diagnosis, ...apiServer(r.transport) });
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
        ...apiServer(unanswered ? last?.transport : undefined),
        diagnosis: {
            ...diagnosis,
            evidence: [...diagnosis.evidence, `gave up after ${seconds(now() - start)} (timeout ${seconds(timeoutMs)})`],
        },
    });
}
