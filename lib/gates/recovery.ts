import type * as k8s from "@kubernetes/client-node";
import { HELM_SECRET_TYPE, latestRevisions, releaseFromSecret } from "../adopt/helm";
import type { PlatformConfig } from "../config";
import { releaseNamespaces, ReleaseSection } from "../lifecycle/binding";
import { apiMessage, Kube, statusCode, transportFailure } from "./kube";
import { MANAGED_BY, PROBE_LABEL } from "./probe";
import { seconds } from "./run";
import { RELEASES } from "./targets";

// What an interrupted or half-finished operation leaves behind, and what the
// next `pulumi up` would trip over: a Helm release stuck mid-operation, a
// Kustomization that cannot finish deleting, probe pods a killed gate left.
// Read-only: the doctor reports each with its fix and changes nothing.

/** One thing left behind, with its fix. */
export interface RecoveryFinding {
    /** What it is, e.g. "Helm release kube-system/cilium". */
    subject: string;
    /** What was seen, verbatim. */
    evidence: string[];
    cause: string;
    fix: string;
    /** The next `pulumi up` fails, or a delete hangs, until it is fixed. */
    blocking: boolean;
}

export interface RecoveryResult {
    findings: RecoveryFinding[];
    /** What could not be read (RBAC, an API server that did not answer), so was not checked. */
    notes: string[];
}

/** Where to look, from the stack's config. */
export interface RecoveryTargets {
    /** The Helm releases this program installs. */
    releases: { name: string; namespace: string }[];
    /** Where Flux runs: kustomize-controller's namespace. */
    fluxNamespace: string;
    probeNamespace: string;
}

/** kustomize-controller's Deployment, as the Flux distribution names it. */
export const KUSTOMIZE_CONTROLLER = "kustomize-controller";

/** A probe pod older than its activeDeadlineSeconds by this much has no checker reading it. */
const PROBE_GRACE_MS = 60_000;

export function recoveryTargets(config: PlatformConfig): RecoveryTargets {
    const releases = Object.entries(releaseNamespaces(config)).map(([section, namespace]) => ({
        name: RELEASES[section as ReleaseSection],
        namespace: namespace as string,
    }));
    return { releases, fluxNamespace: config.flux.namespace, probeNamespace: config.gates.probeNamespace };
}

class NotRead extends Error {}

/** A read that may be refused: the refusal becomes a note; a transport failure stops the recovery check. */
async function read<T>(what: string, notes: string[], request: () => Promise<T>): Promise<T | undefined> {
    try {
        return await request();
    } catch (e) {
        if (transportFailure(e)) throw new NotRead(`${what}: ${apiMessage(e)}`);
        const code = statusCode(e);
        if (code === undefined) throw e;
        if (code === 404) return undefined;
        notes.push(`not checked: ${what}: HTTP ${code}: ${apiMessage(e)}`);
        return undefined;
    }
}

function pendingFinding(r: ReturnType<typeof latestRevisions>[number]): RecoveryFinding {
    const subject = `Helm release ${r.namespace}/${r.name}`;
    const evidence = [
        `revision ${r.revision} is ${r.status} (chart ${r.chart.name} ${r.chart.version}, Secret ${r.secret})`,
        r.lastDeployed === undefined ? "no earlier revision is deployed" : `revision ${r.lastDeployed} is deployed`,
    ];
    const refresh =
        "then `pulumi up --refresh` (the refresh reads the release's real state, and the update applies the stack's settings again)";
    if (r.status.startsWith("pending-")) {
        const fix =
            r.lastDeployed === undefined
                ? `\`kubectl -n ${r.namespace} delete secret ${r.secret}\`: Helm forgets the interrupted install, and the next install takes over the objects it left (they carry this release's name); ${refresh}`
                : `\`helm -n ${r.namespace} rollback ${r.name} ${r.lastDeployed}\` (or \`kubectl -n ${r.namespace} delete secret ${r.secret}\`, which drops the interrupted revision and leaves the cluster as it is), ${refresh}`;
        return {
            subject,
            evidence,
            cause: 'an install, upgrade or rollback was interrupted (a second Ctrl-C, a killed CI job) and never marked finished; the next `pulumi up` fails with "another operation (install/upgrade/rollback) is in progress"',
            fix,
            blocking: true,
        };
    }
    if (r.lastDeployed === undefined) {
        return {
            subject,
            evidence,
            cause: 'its first install failed: Helm cannot upgrade a release that was never deployed, and installing it again fails with "cannot re-use a name that is still in use"',
            fix: `read why in \`helm -n ${r.namespace} status ${r.name}\` and the gate's diagnosis, fix it, then \`helm -n ${r.namespace} uninstall ${r.name}\` and \`pulumi up --refresh\``,
            blocking: true,
        };
    }
    return {
        subject,
        evidence,
        cause: `its last upgrade failed (Helm's wait timed out, or the update was cancelled), so the cluster runs revision ${r.lastDeployed}, not the stack's settings`,
        fix: `read why in \`helm -n ${r.namespace} history ${r.name}\` and the gate's diagnosis, fix it, then \`pulumi up\` upgrades it again`,
        blocking: false,
    };
}

async function helmFindings(kube: Kube, targets: RecoveryTargets, notes: string[]): Promise<RecoveryFinding[]> {
    const findings: RecoveryFinding[] = [];
    for (const { name, namespace } of targets.releases) {
        const secrets = await read(`Helm release Secrets of ${namespace}/${name}`, notes, () =>
            kube.core.listNamespacedSecret({ namespace, labelSelector: `owner=helm,name=${name}` }),
        );
        const decoded = [];
        for (const s of secrets?.items ?? []) {
            if (s.type !== HELM_SECRET_TYPE) continue;
            const r = releaseFromSecret({
                name: s.metadata?.name ?? "",
                namespace: s.metadata?.namespace ?? namespace,
                data: s.data,
                managers: [],
            });
            if ("error" in r) notes.push(`not checked: ${r.error}`);
            else decoded.push(r);
        }
        for (const r of latestRevisions(decoded)) {
            if (r.status.startsWith("pending-") || r.status === "failed") findings.push(pendingFinding(r));
        }
    }
    return findings;
}

interface Kustomization {
    metadata?: { name?: string; namespace?: string; deletionTimestamp?: string; finalizers?: string[] };
    spec?: { deletionPolicy?: string; prune?: boolean };
}

/** Why kustomize-controller cannot finish a deletion, or undefined when it is ready. */
function controllerDown(d: k8s.V1Deployment | undefined, namespace: string): string | undefined {
    if (!d) return `Deployment ${namespace}/${KUSTOMIZE_CONTROLLER}: not found`;
    const want = d.spec?.replicas ?? 1;
    const ready = d.status?.readyReplicas ?? 0;
    if (want === 0) return `Deployment ${namespace}/${KUSTOMIZE_CONTROLLER}: scaled to 0`;
    return ready === 0 ? `Deployment ${namespace}/${KUSTOMIZE_CONTROLLER}: 0 of ${want} replicas ready` : undefined;
}

async function deletionFindings(kube: Kube, targets: RecoveryTargets, notes: string[], now: number): Promise<RecoveryFinding[]> {
    const list = await read("Kustomizations in every namespace", notes, () =>
        kube.custom.listClusterCustomObject({ group: "kustomize.toolkit.fluxcd.io", version: "v1", plural: "kustomizations" }),
    );
    const deleting = ((list as { items?: Kustomization[] } | undefined)?.items ?? []).filter(
        (k) => k.metadata?.deletionTimestamp && (k.metadata.finalizers ?? []).length > 0,
    );
    if (!deleting.length) return [];
    const ns = targets.fluxNamespace;
    const controller = await read(`Deployment ${ns}/${KUSTOMIZE_CONTROLLER}`, notes, () =>
        kube.apps.readNamespacedDeployment({ namespace: ns, name: KUSTOMIZE_CONTROLLER }),
    );
    const down = controllerDown(controller, ns);
    if (!down) return [];
    return deleting.map((k) => {
        const { name, namespace, deletionTimestamp, finalizers } = k.metadata!;
        const since = now - new Date(deletionTimestamp!).getTime();
        const policy = k.spec?.deletionPolicy ?? "MirrorPrune";
        return {
            subject: `Kustomization ${namespace}/${name}`,
            evidence: [
                `deleting for ${seconds(since)} (deletionTimestamp ${deletionTimestamp}), finalizers ${(finalizers ?? []).join(", ")}`,
                down,
            ],
            cause: "kustomize-controller's finalizer holds the deletion until the controller has applied the deletionPolicy, and the controller is not running: the delete waits its whole timeout, and `pulumi destroy` or `pulumi up` fails there",
            fix: `start kustomize-controller again (\`kubectl -n ${ns} get deploy,pods\` says why it is down); it then finishes the deletion with deletionPolicy ${policy}. If Flux is gone for good: \`kubectl -n ${namespace} patch kustomization ${name} --type merge -p '{"metadata":{"finalizers":null}}'\`: what it applied stays, unmanaged; then \`pulumi up --refresh\``,
            blocking: true,
        };
    });
}

async function probeFindings(kube: Kube, targets: RecoveryTargets, notes: string[], now: number): Promise<RecoveryFinding[]> {
    const namespace = targets.probeNamespace;
    const labelSelector = Object.entries(MANAGED_BY)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
    const pods = await read(`probe pods in ${namespace}`, notes, () => kube.core.listNamespacedPod({ namespace, labelSelector }));
    const left = (pods?.items ?? []).filter((p) => {
        if (!p.metadata?.labels?.[PROBE_LABEL]) return false;
        const finished = p.status?.phase === "Succeeded" || p.status?.phase === "Failed";
        const created = p.metadata?.creationTimestamp ? new Date(p.metadata.creationTimestamp).getTime() : now;
        const deadline = (p.spec?.activeDeadlineSeconds ?? 0) * 1000 + PROBE_GRACE_MS;
        // A running checker deletes its pod as soon as it has read it: a finished one, or one past its deadline, has none.
        return finished || now - created > deadline;
    });
    return left.map((p) => {
        const created = p.metadata?.creationTimestamp ? new Date(p.metadata.creationTimestamp).getTime() : now;
        return {
            subject: `probe pod ${namespace}/${p.metadata?.name}`,
            evidence: [
                `gate ${p.metadata?.labels?.[PROBE_LABEL] ?? "?"}, ${p.status?.phase ?? "Unknown"}${p.status?.reason ? ` (${p.status.reason})` : ""}, created ${seconds(now - created)} ago`,
            ],
            cause: "the gate that created it was killed before it could delete it (SIGKILL: a second Ctrl-C, a cancelled CI job); its activeDeadlineSeconds has stopped it, so it uses no CPU",
            fix: `\`kubectl -n ${namespace} delete pod ${p.metadata?.name}\` (when no \`pulumi up\` or gate is running); the next gate deletes finished ones once they are 10 minutes old`,
            blocking: false,
        };
    });
}

/** Everything left behind that the doctor can see, read-only. */
export async function recoveryCheck(kube: Kube, targets: RecoveryTargets, now = Date.now()): Promise<RecoveryResult> {
    const notes: string[] = [];
    try {
        const findings = [
            ...(await helmFindings(kube, targets, notes)),
            ...(await deletionFindings(kube, targets, notes, now)),
            ...(await probeFindings(kube, targets, notes, now)),
        ];
        return { findings, notes };
    } catch (e) {
        // The chain's first gate waits out an unreachable API server and says so; this check only notes it.
        if (e instanceof NotRead) return { findings: [], notes: [...notes, `not checked: ${e.message}`] };
        throw e;
    }
}

export function renderRecovery(r: RecoveryResult): string {
    const out: string[] = [];
    for (const f of r.findings) {
        out.push(`  ${f.blocking ? "✗" : "!"} ${f.subject}`);
        for (const e of f.evidence) out.push(`      ${e}`);
        out.push(`      cause: ${f.cause}`, `      fix: ${f.fix}`);
    }
    for (const n of r.notes) out.push(`  · ${n}`);
    if (!r.findings.length && !r.notes.length)
        out.push("  ✓ no Helm release pending or failed, no Kustomization stuck deleting, no probe pod left behind");
    return out.join("\n") + "\n";
}
