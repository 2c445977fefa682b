import type * as k8s from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { shellQuote } from "./command";
import { apiMessage, Kube, readOptional, statusCode } from "./kube";
import type { CommonOptions } from "./options";

// Short-lived probe pods: they test the cluster from where workloads sit,
// inside the pod network, and are always deleted afterwards.

/** One command the probe runs; its exit code and output come back verbatim. */
export interface ProbeCheck {
    id: string;
    argv: string[];
}

export interface ProbeOutcome {
    id: string;
    /** The command's exit code (curl's 28 is a timeout, 7 a refused connection). */
    rc: number;
    output: string;
}

export type ProbeRun =
    | { kind: "done"; pod: string; results: ProbeOutcome[] }
    /** The pod never finished: the reason it is stuck, e.g. ImagePullBackOff; `cutShort` when only time ran out. */
    | { kind: "stuck"; pod: string; reason: string; cutShort?: boolean }
    /** The API server refused the pod (Pod Security, quota, missing namespace). */
    | { kind: "refused"; pod: string; reason: string };

export const PROBE_LABEL = "talos-platform/probe";
export const MANAGED_BY = { "app.kubernetes.io/managed-by": "talos-platform" };
/** Where the network probe finds the cluster CA, from the kube-root-ca.crt ConfigMap every namespace has. */
export const PROBE_CA = "/etc/talos-platform/ca/ca.crt";
const RESULT_TAG = "talos-probe";
const LEFTOVER_AGE_MS = 10 * 60_000;

/**
 * The probe's shell script: runs each check, flattens its output to one
 * line, and writes `talos-probe<TAB>id<TAB>rc<TAB>output` to the
 * termination message (and the log, its fallback). It never fails itself:
 * the checker, not the pod, decides what a result means.
 */
export function probeScript(checks: ProbeCheck[]): string {
    const lines = [
        "set -u",
        `: > "$RESULT_FILE" 2>/dev/null || RESULT_FILE=/dev/null`,
        "run() {",
        "  id=$1; shift",
        `  out=$("$@" 2>&1); rc=$?`,
        `  out=$(printf '%s' "$out" | tr '\\t\\r\\n' '   ' | cut -c1-400)`,
        `  printf '${RESULT_TAG}\\t%s\\t%s\\t%s\\n' "$id" "$rc" "$out" | tee -a "$RESULT_FILE"`,
        "}",
        ...checks.map((c) => ["run", c.id, ...c.argv].map(shellQuote).join(" ")),
    ];
    return lines.join("\n") + "\n";
}

export function parseProbeOutput(text: string): ProbeOutcome[] {
    const out: ProbeOutcome[] = [];
    for (const line of text.split("\n")) {
        const [tag, id, rc, ...rest] = line.split("\t");
        if (tag !== RESULT_TAG || id === undefined || !/^\d+$/.test(rc ?? "")) continue;
        out.push({ id, rc: Number(rc), output: rest.join("\t").trim() });
    }
    return out;
}

export interface ProbePodSpec {
    name: string;
    namespace: string;
    image: string;
    gate: string;
    checks: ProbeCheck[];
    /** Mount the cluster CA (no service-account token: the probe never calls the API). */
    mountCa: boolean;
    /** The kubelet kills the pod after this long even if the checker died. */
    activeDeadlineSeconds: number;
}

/** A restricted-profile pod: non-root, read-only root, no capabilities, no token, bounded resources. */
export function probePod(s: ProbePodSpec): k8s.V1Pod {
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
            name: s.name,
            namespace: s.namespace,
            labels: { ...MANAGED_BY, [PROBE_LABEL]: s.gate },
        },
        spec: {
            restartPolicy: "Never",
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: 0,
            activeDeadlineSeconds: s.activeDeadlineSeconds,
            securityContext: {
                runAsNonRoot: true,
                runAsUser: 65534,
                runAsGroup: 65534,
                seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [
                {
                    name: "probe",
                    image: s.image,
                    imagePullPolicy: "IfNotPresent",
                    command: ["sh", "-c", probeScript(s.checks)],
                    env: [{ name: "RESULT_FILE", value: "/dev/termination-log" }],
                    terminationMessagePath: "/dev/termination-log",
                    terminationMessagePolicy: "File",
                    securityContext: {
                        allowPrivilegeEscalation: false,
                        readOnlyRootFilesystem: true,
                        runAsNonRoot: true,
                        capabilities: { drop: ["ALL"] },
                    },
                    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "32Mi" } },
                    volumeMounts: s.mountCa ? [{ name: "kube-root-ca", mountPath: "/etc/talos-platform/ca", readOnly: true }] : [],
                },
            ],
            volumes: s.mountCa ? [{ name: "kube-root-ca", configMap: { name: "kube-root-ca.crt" } }] : [],
        },
    };
}

const STUCK_REASONS = new Set([
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
]);

/** Why a pod that has not finished is not running, when the kubelet or scheduler says so. */
export function pendingReason(pod: k8s.V1Pod): string | undefined {
    const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
    if (waiting?.reason && waiting.reason !== "ContainerCreating")
        return `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}`;
    const unscheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
    if (unscheduled) return `${unscheduled.reason ?? "Unschedulable"}: ${unscheduled.message ?? "no node accepts the pod"}`;
    return undefined;
}

function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

/**
 * Creates probe pods and deletes every one of them, on success, failure,
 * timeout or interrupt. `drain()` waits for outstanding deletions; the CLI
 * calls it before exiting.
 */
export class ProbeRunner {
    private readonly runs = new Set<Promise<unknown>>();
    private readonly cleanups = new Set<Promise<void>>();
    private readonly live = new Set<string>();

    constructor(
        private readonly kube: Kube,
        private readonly options: CommonOptions,
    ) {}

    async run(gate: string, checks: ProbeCheck[], mountCa: boolean, deadline: number, signal: AbortSignal): Promise<ProbeRun> {
        const p = this.attempt(gate, checks, mountCa, deadline, signal);
        this.runs.add(p);
        try {
            return await p;
        } finally {
            this.runs.delete(p);
        }
    }

    private swept = false;

    /**
     * Deletes finished probe pods left by a checker that was killed outright
     * (SIGKILL leaves no time to clean up; activeDeadlineSeconds has already
     * stopped them). Only old ones: a younger pod may belong to a checker
     * that is still reading it.
     */
    private async sweep(): Promise<void> {
        if (this.swept) return;
        this.swept = true;
        const namespace = this.options.probeNamespace;
        const labelSelector = Object.entries(MANAGED_BY)
            .map(([k, v]) => `${k}=${v}`)
            .join(",");
        const pods = await this.kube.core.listNamespacedPod({ namespace, labelSelector });
        for (const pod of pods.items) {
            const name = pod.metadata?.name;
            const created = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : Date.now();
            const finished = pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
            if (name && pod.metadata?.labels?.[PROBE_LABEL] && finished && Date.now() - created > LEFTOVER_AGE_MS) this.remove(name);
        }
    }

    private async attempt(gate: string, checks: ProbeCheck[], mountCa: boolean, deadline: number, signal: AbortSignal): Promise<ProbeRun> {
        await this.sweep();
        const name = `talos-platform-probe-${gate}-${randomBytes(3).toString("hex")}`;
        const namespace = this.options.probeNamespace;
        const body = probePod({
            name,
            namespace,
            image: this.options.probeImage,
            gate,
            checks,
            mountCa,
            activeDeadlineSeconds: Math.max(30, Math.ceil(this.options.timeoutMs / 1000) + 30),
        });
        try {
            await this.kube.core.createNamespacedPod({ namespace, body });
        } catch (e) {
            // Only the API server's own refusal is the probe's failure; a lost connection is the gate runner's to judge.
            if (statusCode(e) === undefined) {
                // The pod may exist even though the answer was lost: delete it anyway.
                this.remove(name);
                throw e;
            }
            return { kind: "refused", pod: name, reason: apiMessage(e) };
        }
        this.live.add(name);
        try {
            return await this.wait(name, deadline, signal);
        } finally {
            this.remove(name);
        }
    }

    private async wait(name: string, deadline: number, signal: AbortSignal): Promise<ProbeRun> {
        const namespace = this.options.probeNamespace;
        const interval = Math.min(this.options.pollMs, 250);
        let reason = "pending";
        let explained = false;
        while (!signal.aborted && Date.now() < deadline) {
            const pod = await readOptional(this.kube.core.readNamespacedPod({ name, namespace }));
            if (!pod) return { kind: "stuck", pod: name, reason: "the pod disappeared before it finished" };
            const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
            if (terminated || pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") {
                let text = terminated?.message ?? "";
                if (!parseProbeOutput(text).length) {
                    text = (await readOptional(this.kube.core.readNamespacedPodLog({ name, namespace, container: "probe" }))) ?? "";
                }
                const results = parseProbeOutput(text);
                if (results.length) return { kind: "done", pod: name, results };
                return {
                    kind: "stuck",
                    pod: name,
                    reason: `the probe ended without results (${pod.status?.reason ?? terminated?.reason ?? pod.status?.phase})`,
                };
            }
            const why = pendingReason(pod);
            explained = why !== undefined;
            reason = why ?? `${pod.status?.phase ?? "Pending"}`;
            const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting?.reason;
            if (waiting && STUCK_REASONS.has(waiting) && waiting !== "ErrImagePull" && waiting !== "ImagePullBackOff") {
                return { kind: "stuck", pod: name, reason };
            }
            await sleep(Math.max(0, Math.min(interval, deadline - Date.now())));
        }
        return { kind: "stuck", pod: name, reason, cutShort: !explained };
    }

    private remove(name: string): void {
        const namespace = this.options.probeNamespace;
        // The cleanup client: its own time limit, so deletion works after the deadline and on interrupt.
        const p = this.kube.cleanup
            .deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 })
            .then(
                () => undefined,
                () => undefined,
            )
            .finally(() => {
                this.live.delete(name);
                this.cleanups.delete(p);
            });
        this.cleanups.add(p);
    }

    /** Names of probe pods created and not yet deleted. */
    outstanding(): string[] {
        return [...this.live];
    }

    /**
     * Waits for running probes to stop (they watch the abort signal and the
     * deadline) and for every deletion, at most `limitMs`.
     */
    async drain(limitMs = 10_000): Promise<void> {
        const settled = (async () => {
            await Promise.allSettled([...this.runs]);
            await Promise.all([...this.cleanups]);
        })();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([settled, new Promise((r) => (timer = setTimeout(r, limitMs)))]);
        clearTimeout(timer);
    }
}
