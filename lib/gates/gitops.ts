import { Diagnosis, notFound } from "./diagnosis";
import { readOptional } from "./kube";
import type { GitopsOptions } from "./options";
import type { Step, StepResult } from "./run";
import { FLUX_PHASE_LABEL, gitHost } from "./targets";
import { workloadStep } from "./workloads";

interface Condition {
    type?: string;
    status?: string;
    reason?: string;
    message?: string;
    observedGeneration?: number;
}

export interface FluxObject {
    metadata?: { name?: string; namespace?: string; generation?: number };
    spec?: { url?: string };
    status?: { conditions?: Condition[]; artifact?: { revision?: string }; observedGeneration?: number };
}

export function readyCondition(obj: FluxObject): Condition | undefined {
    return obj.status?.conditions?.find((c) => c.type === "Ready");
}

/**
 * Ready for the object's current spec: Ready=True, reported by a controller
 * that has seen the latest generation. A Ready left over from before a spec
 * change (a new branch, a new path) says nothing about the change.
 */
export function fluxReadiness(obj: FluxObject): { ready: boolean; summary: string } {
    const c = readyCondition(obj);
    const generation = obj.metadata?.generation;
    const observed = obj.status?.observedGeneration ?? c?.observedGeneration;
    const base = `Ready=${c?.status ?? "Unknown"}${c?.reason ? ` (${c.reason})` : ""}${c?.message ? `: ${c.message}` : ""}`;
    if (generation !== undefined && (observed ?? 0) < generation) {
        return {
            ready: false,
            summary: `${base}; but observed generation ${observed ?? "none"} < generation ${generation}: the controller has not reconciled the latest spec yet`,
        };
    }
    return { ready: c?.status === "True", summary: base };
}

export type SourceFailure = "dns" | "credentials" | "egress" | "ref" | "other";

/** What source-controller's Ready message says broke, in the order the chain would break. */
export function sourceFailure(message: string): SourceFailure {
    if (
        /lookup [^\s:]+(?: on [^\s]+)?: (?:i\/o timeout|no such host|server misbehaving)|Temporary failure in name resolution/.test(message)
    )
        return "dns";
    if (
        /authentication required|authorization failed|invalid credentials|could not read Username|permission denied \(publickey|\b401\b|\b403\b/i.test(
            message,
        )
    )
        return "credentials";
    if (/dial tcp [^\s]+: (?:i\/o timeout|connect: connection refused|connect: no route to host)|TLS handshake timeout/.test(message))
        return "egress";
    if (/couldn't find remote ref|reference not found|unable to resolve ref/i.test(message)) return "ref";
    return "other";
}

/** Why the GitRepository has no artifact, from its Ready condition. */
export function diagnoseGitSource(repo: FluxObject, o: GitopsOptions): Diagnosis {
    const host = repo.spec?.url ? gitHost(repo.spec.url) : undefined;
    const id = `GitRepository ${o.namespace}/${o.gitRepository}`;
    const ready = readyCondition(repo);
    const message = ready?.message ?? "(no Ready condition yet)";
    const evidence = [`${id}: ${fluxReadiness(repo).summary}`];
    const blocks = [...o.fluxPhases.map((p) => `Flux phase ${p}`), "every Kustomization"];
    const url = repo.spec?.url ?? "the source URL";
    switch (sourceFailure(message)) {
        case "dns":
            return {
                link: `source-controller → DNS (${host ?? url})`,
                evidence,
                cause: `source-controller cannot resolve ${host ?? "the Git host"}: cluster DNS does not forward external names (the dns gate's external lookup), or the pod cannot reach CoreDNS`,
                fix: "run `npm run doctor`: the dns link shows which part of resolution fails",
                blocks,
            };
        case "credentials":
            return {
                link: `source-controller → ${url} (credentials)`,
                evidence,
                cause: "the Git host refused the credentials, or the repository is private and none are configured",
                fix: "check the Git credentials secret the GitRepository references, and its key in the stack config",
                blocks,
            };
        case "egress":
            return {
                link: `source-controller → ${host ?? url} (egress)`,
                evidence,
                cause: "the name resolves, but the cluster cannot connect out to the Git host: egress is blocked (firewall, NetworkPolicy, masquerading)",
                fix: "allow egress from the flux-system namespace to the Git host on 443/22",
                blocks,
            };
        case "ref":
            return {
                link: `${id} ref`,
                evidence,
                cause: "the repository has no such branch or tag",
                fix: "fix talos-platform:flux.source.branch",
                blocks,
            };
        default:
            return { link: id, evidence, cause: "the source has not produced an artifact; its Ready message says why", blocks };
    }
}

function sourceStep(o: GitopsOptions): Step {
    const id = `GitRepository ${o.namespace}/${o.gitRepository}`;
    return {
        name: `${id} Ready with an artifact`,
        async check({ kube }): Promise<StepResult> {
            const repo = (await readOptional(
                kube.custom.getNamespacedCustomObject({
                    group: "source.toolkit.fluxcd.io",
                    version: "v1",
                    namespace: o.namespace,
                    plural: "gitrepositories",
                    name: o.gitRepository,
                }),
            )) as FluxObject | undefined;
            if (!repo) {
                return notFound(id, "gitops", "the gitops phase has not created the GitRepository");
            }
            const { ready, summary } = fluxReadiness(repo);
            const revision = repo.status?.artifact?.revision;
            if (ready && revision) return { ok: true, detail: `artifact ${revision}` };
            return {
                ok: false,
                waiting: ready ? `${summary}; no artifact yet` : summary,
                diagnosis: diagnoseGitSource(repo, o),
            };
        },
    };
}

/** One line per Kustomization that is not Ready for its current spec. */
export function unreadyKustomizations(items: FluxObject[]): string[] {
    return items
        .map((k) => ({ k, r: fluxReadiness(k) }))
        .filter(({ r }) => !r.ready)
        .map(({ k, r }) => `Kustomization ${k.metadata?.namespace}/${k.metadata?.name}: ${r.summary}`);
}

/** The configured Kustomizations of one Flux phase (`<phase>/<name>` entries) that the cluster does not have. */
export function missingKustomizations(configured: string[], phase: string, items: FluxObject[]): string[] {
    const present = new Set(items.map((k) => k.metadata?.name));
    return configured
        .filter((entry) => entry.startsWith(`${phase}/`))
        .map((entry) => entry.slice(phase.length + 1))
        .filter((name) => !present.has(name));
}

/** Names of the phase's Kustomizations marked critical: false. */
function nonCriticalIn(o: GitopsOptions, phase: string): string[] {
    return (o.nonCritical ?? []).filter((e) => e.startsWith(`${phase}/`)).map((e) => e.slice(phase.length + 1));
}

/** What the gate says about the phase's non-critical Kustomizations that are missing or not Ready. */
export function nonCriticalReport(o: GitopsOptions, phase: string, items: FluxObject[]): string[] {
    const names = nonCriticalIn(o, phase);
    const mine = items.filter((k) => names.includes(k.metadata?.name ?? ""));
    const present = new Set(mine.map((k) => k.metadata?.name));
    return [
        ...names.filter((n) => !present.has(n)).map((n) => `Kustomization ${o.namespace}/${n}: not found`),
        ...unreadyKustomizations(mine),
    ];
}

function fluxPhaseStep(o: GitopsOptions, index: number): Step {
    const phase = o.fluxPhases[index];
    const labelSelector = `${FLUX_PHASE_LABEL}=${phase}`;
    return {
        name: `Flux phase ${phase}: Kustomizations Ready`,
        async check({ kube }): Promise<StepResult> {
            // No Kustomization CRD (404) means none exist: the diagnosis says so.
            const list = ((await readOptional(
                kube.custom.listNamespacedCustomObject({
                    group: "kustomize.toolkit.fluxcd.io",
                    version: "v1",
                    namespace: o.namespace,
                    plural: "kustomizations",
                    labelSelector,
                }),
            )) ?? {}) as { items?: FluxObject[] };
            const all = list.items ?? [];
            // Non-critical Kustomizations are reported, never waited for: nothing after them depends on them.
            const optional = new Set(nonCriticalIn(o, phase));
            const items = all.filter((k) => !optional.has(k.metadata?.name ?? ""));
            const unready = unreadyKustomizations(items);
            const missing = missingKustomizations(o.kustomizations, phase, items).filter((n) => !optional.has(n));
            const barrier = items.length > 0 || optional.size > 0;
            if (barrier && !unready.length && !missing.length) {
                const report = nonCriticalReport(o, phase, all);
                return {
                    ok: true,
                    detail: `${items.length} Ready${report.length ? `; not critical, not waited for: ${report.join("; ")}` : ""}`,
                };
            }
            const later = o.fluxPhases.slice(index + 1).map((p) => `Flux phase ${p}`);
            const missingLines = missing.map((n) => `Kustomization ${o.namespace}/${n}: not found with the label ${labelSelector}`);
            const waiting = [
                missing.length ? `missing: ${missing.join(", ")}` : "",
                unready.length ? `${unready.length} of ${items.length} not Ready` : "",
                items.length || missing.length ? "" : `no Kustomization labelled ${labelSelector}`,
            ].filter(Boolean);
            return {
                ok: false,
                waiting: waiting.join("; "),
                diagnosis: {
                    link: `Flux phase ${phase}`,
                    evidence:
                        items.length || missing.length
                            ? [...missingLines, ...unready]
                            : [`no Kustomization in ${o.namespace} has the label ${labelSelector}`],
                    cause: missing.length
                        ? "configured Kustomizations do not exist: the gitops phase has not created them (yet), or they lost the phase label"
                        : items.length
                          ? "these Kustomizations have not applied cleanly and become healthy; their messages say why"
                          : "the phase's Kustomizations were not created",
                    blocks: later,
                },
            };
        },
    };
}

export function gitopsSteps(o: GitopsOptions): Step[] {
    return [
        ...o.deployments.map((d) =>
            workloadStep({
                kind: "Deployment",
                namespace: o.namespace,
                name: d,
                phase: "gitops",
                role: `Flux ${d}`,
                serviceIp: o.serviceIp,
            }),
        ),
        sourceStep(o),
        ...o.fluxPhases.map((_, i) => fluxPhaseStep(o, i)),
    ];
}
