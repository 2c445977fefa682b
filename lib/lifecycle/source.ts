import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config";
import { apiMessage, connect, KubeconfigError } from "../gates/kube";
import { ConfigError, describeProblem } from "../problems";
import { BindingRecord, BindingResult, checkBinding, LiveRead, namespaceMoves, Recorded, ReleaseSection } from "./binding";

/**
 * Where the program learns which cluster it talks to and what the stack
 * recorded before. `pulumi up` and `pulumi preview` read the kubeconfig's
 * cluster and the stack's own outputs; the offline plan reads nothing.
 */
export interface ClusterSource {
    live(config: PlatformConfig): Promise<LiveRead>;
    recorded(): Promise<Recorded>;
}

/** Reads kube-system through the kubeconfig the Kubernetes provider uses: KUBECONFIG or ~/.kube/config, then cluster.kubeContext. */
export async function readLiveCluster(config: PlatformConfig, kubeconfig?: string): Promise<LiveRead> {
    let kube;
    try {
        kube = connect({ kubeconfig, context: config.cluster.kubeContext });
    } catch (e) {
        if (e instanceof KubeconfigError) return { kind: "unreachable", reason: e.message };
        throw e;
    }
    try {
        const ns = await kube.core.readNamespace({ name: "kube-system" });
        const uid = ns.metadata?.uid;
        if (!uid) return { kind: "unreachable", context: kube.context, server: kube.server, reason: "kube-system has no UID" };
        return { kind: "live", context: kube.context, server: kube.server, uid };
    } catch (e) {
        return { kind: "unreachable", context: kube.context, server: kube.server, reason: apiMessage(e) };
    }
}

/** The name that refers to this very stack in a StackReference. */
export function selfReferenceName(): string {
    let org: string | undefined;
    try {
        org = pulumi.getOrganization();
    } catch {
        // A CLI too old to pass the organization: a bare name is read in the current project.
        org = undefined;
    }
    if (org === undefined) return pulumi.getStack();
    // A DIY backend's organization is always "organization", and its legacy
    // layout takes only a bare stack name; the project-scoped layout reads a
    // bare name in the current project. Pulumi Cloud needs the full name.
    return org === "organization" ? pulumi.getStack() : `${org}/${pulumi.getProject()}/${pulumi.getStack()}`;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The outputs this program reads back, with anything of another shape (an older version's, a hand edit) left out. */
export function parseRecorded(outputs: { clusterBinding?: unknown; releaseNamespaces?: unknown; gatesChecked?: unknown }): Recorded {
    const out: Recorded = {};
    const b = asRecord(outputs.clusterBinding);
    if (b && typeof b.uid === "string" && typeof b.server === "string" && typeof b.context === "string") {
        out.binding = { uid: b.uid, server: b.server, context: b.context } satisfies BindingRecord;
    }
    const ns = asRecord(outputs.releaseNamespaces);
    if (ns) {
        out.releaseNamespaces = Object.fromEntries(Object.entries(ns).filter(([, v]) => typeof v === "string")) as Partial<
            Record<ReleaseSection, string>
        >;
    }
    if (typeof outputs.gatesChecked === "string") out.gatesChecked = outputs.gatesChecked;
    return out;
}

/**
 * The stack's outputs from its last `pulumi up`, read through a
 * StackReference to the stack itself: the engine reads them from the
 * backend's stored snapshot (the root stack's outputs carry over unchanged
 * until this update registers its own), before anything is changed.
 */
export async function readRecordedOutputs(): Promise<Recorded> {
    const self = new pulumi.StackReference("recorded-outputs", { name: selfReferenceName() });
    const [clusterBinding, releaseNamespaces, gatesChecked] = await Promise.all(
        ["clusterBinding", "releaseNamespaces", "gatesChecked"].map((n) => self.getOutputValue(n)),
    );
    return parseRecorded({ clusterBinding, releaseNamespaces, gatesChecked });
}

/** `pulumi up` and `pulumi preview`: the live cluster and the stack's own outputs. */
export const LIVE_SOURCE: ClusterSource = { live: (config) => readLiveCluster(config), recorded: readRecordedOutputs };

/** The offline plan: no cluster, no backend. */
export const OFFLINE_SOURCE: ClusterSource = { live: async () => ({ kind: "offline" }), recorded: async () => ({}) };

let current: ClusterSource = LIVE_SOURCE;

/** Sets where the program reads the cluster from (the plan: offline; tests: a fake API server); returns the previous source. */
export function useClusterSource(source: ClusterSource): ClusterSource {
    const previous = current;
    current = source;
    return previous;
}

/**
 * Binds the program to the stack's cluster before anything is registered:
 * refuses a kubeconfig that points elsewhere, a cluster whose identity is not
 * the stack's, and a release that would move namespace unannounced, all in
 * one error. Returns what the program wires in and records.
 */
export async function bindCluster(config: PlatformConfig): Promise<BindingResult & { recorded: Recorded }> {
    const [live, recorded] = await Promise.all([current.live(config), current.recorded()]);
    const result = checkBinding(config, live, recorded, pulumi.runtime.isDryRun());
    const problems = [...result.problems, ...namespaceMoves(config, recorded)];
    for (const w of problems.filter((p) => p.severity === "warning")) void pulumi.log.warn(describeProblem(w));
    if (problems.some((p) => p.severity === "error")) {
        throw new ConfigError(
            problems,
            "talos-platform: the kubeconfig's cluster is not this stack's, or the update would move a release; nothing was changed.",
        );
    }
    const record = result.binding.record;
    if (record && !config.cluster.identity && !recorded.binding) {
        void pulumi.log.info(
            `talos-platform: this stack is now bound to the cluster whose kube-system UID is ${record.uid} (${record.server}, context ${record.context}); the next \`pulumi up\` refuses any other. To keep the binding in the stack file (it then survives a lost state file): pulumi config set --path talos-platform:cluster.identity ${record.uid}`,
        );
    }
    return { ...result, problems, recorded };
}
