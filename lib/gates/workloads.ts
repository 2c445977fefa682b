import type * as k8s from "@kubernetes/client-node";
import { urlHost } from "../net";
import { blockedAfter, notFound } from "./diagnosis";
import { Kube, readOptional } from "./kube";
import type { Phase } from "../phases";
import type { Step, StepResult } from "./run";

// Readiness of the Deployments and DaemonSets a phase runs, with the
// evidence from their pods when they are not ready.

export interface Readiness {
    ready: boolean;
    summary: string;
}

/**
 * A Deployment is ready when every replica is updated and ready. With
 * `minReady`, fewer ready replicas do, once no pod of an older template is
 * left: a ready pod is then one of the current template.
 */
export function deploymentReadiness(d: k8s.V1Deployment, minReady?: number): Readiness & { partial?: boolean } {
    const want = d.spec?.replicas ?? 1;
    const s = d.status ?? {};
    const ready = s.readyReplicas ?? 0;
    const updated = s.updatedReplicas ?? 0;
    const current = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
    const summary = `${ready}/${want} ready, ${updated} updated`;
    if (want === 0) return { ready: false, summary: "scaled to 0 replicas" };
    const full = current && ready >= want && updated >= want;
    if (full || minReady === undefined || minReady >= want) return { ready: full, summary };
    const noOldPods = (s.replicas ?? 0) <= updated;
    const partial = current && noOldPods && ready >= minReady;
    return { ready: partial, partial, summary };
}

/** The scheduler's reason for each pod it could place on no node (PodScheduled=False, Unschedulable). */
export function unschedulable(pods: k8s.V1Pod[]): string[] {
    return pods.flatMap((pod) => {
        if (pod.status?.phase !== "Pending") return [];
        const c = pod.status.conditions?.find((x) => x.type === "PodScheduled" && x.status === "False" && x.reason === "Unschedulable");
        return c ? [`pod ${pod.metadata?.name}: ${c.message ?? c.reason}`] : [];
    });
}

export function daemonSetReadiness(ds: k8s.V1DaemonSet): Readiness {
    const s = ds.status ?? { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
    const want = s.desiredNumberScheduled;
    const updated = s.updatedNumberScheduled ?? 0;
    const current = (s.observedGeneration ?? 0) >= (ds.metadata?.generation ?? 0);
    const summary = want === 0 ? "scheduled on no node" : `${s.numberReady}/${want} ready, ${updated} updated`;
    return { ready: want > 0 && current && s.numberReady >= want && updated >= want, summary };
}

/** One line per unhealthy container: its waiting reason and its last crash message, verbatim. */
export function podTroubles(pods: k8s.V1Pod[]): string[] {
    const out: string[] = [];
    for (const pod of pods) {
        for (const c of pod.status?.containerStatuses ?? []) {
            if (c.ready) continue;
            const waiting = c.state?.waiting;
            const last = c.lastState?.terminated;
            const parts = [
                `pod ${pod.metadata?.name}/${c.name}: ${waiting?.reason ?? (c.state?.running ? "running, not ready" : "not ready")}`,
            ];
            if (c.restartCount) parts.push(`(${c.restartCount} restarts)`);
            const message = last?.message?.trim() || waiting?.message?.trim();
            if (message) parts.push(`: ${message.split("\n").slice(-3).join(" ")}`);
            out.push(parts.join(" ").replace(/ :/, ":"));
        }
        if (!pod.status?.containerStatuses?.length && pod.status?.phase === "Pending") {
            const unscheduled = pod.status.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
            out.push(`pod ${pod.metadata?.name}: Pending${unscheduled ? `: ${unscheduled.message ?? unscheduled.reason}` : ""}`);
        }
    }
    return out.slice(0, 6);
}

function escapeRegExp(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * What crash messages say about the link below: pods that cannot reach the
 * kubernetes Service, at its configured ClusterIP or by its name, or pods
 * that cannot resolve names. A timeout to any other address is not evidence.
 */
export function crashCause(troubles: string[], serviceIp: string): string | undefined {
    const t = troubles.join("\n");
    const ip = escapeRegExp(urlHost(serviceIp));
    const service = new RegExp(
        `dial tcp (?:${ip}|kubernetes\\.default\\.svc(?:\\.[\\w.-]+)?):443: (?:i/o timeout|connect: connection refused|connect: no route to host)`,
    );
    if (service.test(t)) {
        return "the pods cannot reach the API server through the kubernetes Service: the network link is broken (run `npm run doctor` for the chain)";
    }
    if (/lookup [^\s]+.*(i\/o timeout|no such host|server misbehaving)/.test(t)) {
        return "the pods cannot resolve names: the DNS link is broken (run `npm run doctor` for the chain)";
    }
    return undefined;
}

function selectorString(sel: k8s.V1LabelSelector | undefined): string | undefined {
    const labels = sel?.matchLabels;
    if (!labels || !Object.keys(labels).length) return undefined;
    return Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
}

async function podsOf(kube: Kube, namespace: string, selector: k8s.V1LabelSelector | undefined): Promise<k8s.V1Pod[]> {
    const labelSelector = selectorString(selector);
    if (!labelSelector) return [];
    return (await kube.core.listNamespacedPod({ namespace, labelSelector })).items;
}

export interface WorkloadRef {
    kind: "Deployment" | "DaemonSet";
    namespace: string;
    name: string;
    phase: Phase;
    /** What this workload is, in the blocked list and the link. */
    role: string;
    /** The kubernetes Service's ClusterIP, which crash messages name when the network is broken. */
    serviceIp: string;
    /**
     * Ready replicas that are enough for the chain to go on, for a workload
     * whose replicas each need a node of their own; the result says why the
     * others are not ready. @default every replica
     */
    minReady?: { count: number; replicasKey: string };
}

/** A step that waits for a Deployment or DaemonSet to be fully rolled out and ready. */
export function workloadStep(ref: WorkloadRef): Step {
    const id = `${ref.kind} ${ref.namespace}/${ref.name}`;
    return {
        name: `${ref.role} ready (${id})`,
        async check({ kube }): Promise<StepResult> {
            const obj =
                ref.kind === "Deployment"
                    ? await readOptional(kube.apps.readNamespacedDeployment({ name: ref.name, namespace: ref.namespace }))
                    : await readOptional(kube.apps.readNamespacedDaemonSet({ name: ref.name, namespace: ref.namespace }));
            const blocks = blockedAfter(ref.phase);
            if (!obj) {
                return notFound(
                    id,
                    ref.phase,
                    `the ${ref.phase} phase has not created ${id}, or it is installed under another name or namespace`,
                    {
                        link: `${ref.role} (${id})`,
                        fix: `check the ${ref.phase} release (helm -n ${ref.namespace} list) and the section's namespace and values`,
                    },
                );
            }
            const r =
                ref.kind === "Deployment"
                    ? deploymentReadiness(obj as k8s.V1Deployment, ref.minReady?.count)
                    : daemonSetReadiness(obj as k8s.V1DaemonSet);
            if (r.ready && !("partial" in r && r.partial)) return { ok: true, detail: r.summary };
            const pods = await podsOf(kube, ref.namespace, obj.spec?.selector);
            const pending = unschedulable(pods);
            if (r.ready) {
                const why = pending.length
                    ? `the rest pending for lack of a node (${pending.join("; ")})`
                    : `the rest not ready (${podTroubles(pods).join("; ") || "no pod says why"})`;
                return { ok: true, detail: `${r.summary}: enough to go on; ${why}` };
            }
            const troubles = podTroubles(pods);
            // Replicas that each need a node of their own, more than there are nodes: the case of a cluster recovering on one node.
            const noNode =
                ref.minReady && pending.length
                    ? `${id}: ${pending.length} pod${pending.length === 1 ? "" : "s"} pending for lack of a node, and no ready pod of the current version yet: each replica needs a node of its own (required pod anti-affinity), and during a rollout the old pod holds the node the new one needs`
                    : undefined;
            return {
                ok: false,
                waiting: `${id} ${r.summary}`,
                diagnosis: {
                    link: `${ref.role} (${id})`,
                    evidence: [`${id}: ${r.summary}`, ...troubles],
                    cause: crashCause(troubles, ref.serviceIp) ?? noNode ?? `${id} is not ready; the pod lines above say why`,
                    ...(noNode
                        ? {
                              fix: `on a cluster with fewer nodes than replicas, set ${ref.minReady!.replicasKey} to the number of nodes (1 on one node)`,
                          }
                        : {}),
                    blocks,
                },
            };
        },
    };
}
