import { Diagnosis, notFound } from "./diagnosis";
import { Condition, Kube, readOptional } from "./kube";
import type { GitopsOptions } from "./options";
import type { Step, StepResult } from "./run";
import { FLUX_PHASE_LABEL, gitHost } from "./targets";
import { workloadStep } from "./workloads";

export interface FluxObject {
    metadata?: { name?: string; namespace?: string; generation?: number };
    spec?: { url?: string; dependsOn?: { name?: string; namespace?: string }[] };
    status?: {
        conditions?: Condition[];
        artifact?: { revision?: string };
        observedGeneration?: number;
        lastAppliedRevision?: string;
    };
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
                return notFound(
                    id,
                    "gitops",
                    o.rootKustomization
                        ? "the FluxInstance has not created it from its .spec.sync (flux.sync) yet"
                        : "the gitops phase has not created the GitRepository",
                );
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

/** The Kustomizations in `namespace`, with the label selector when given; none when the CRD is missing (404). */
async function listKustomizations(kube: Kube, namespace: string, labelSelector?: string): Promise<FluxObject[]> {
    const list = ((await readOptional(
        kube.custom.listNamespacedCustomObject({
            group: "kustomize.toolkit.fluxcd.io",
            version: "v1",
            namespace,
            plural: "kustomizations",
            ...(labelSelector ? { labelSelector } : {}),
        }),
    )) ?? {}) as { items?: FluxObject[] };
    return list.items ?? [];
}

function fluxPhaseStep(o: GitopsOptions, index: number): Step {
    const phase = o.fluxPhases[index];
    const labelSelector = `${FLUX_PHASE_LABEL}=${phase}`;
    return {
        name: `Flux phase ${phase}: Kustomizations Ready`,
        async check({ kube }): Promise<StepResult> {
            // No Kustomization CRD (404) means none exist: the diagnosis says so.
            const all = await listKustomizations(kube, o.namespace, labelSelector);
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

/** flux.sync: the FluxInstance's root Kustomization, which applies the repository's path. */
function rootStep(o: GitopsOptions, root: string): Step {
    const id = `Kustomization ${o.namespace}/${root}`;
    return {
        name: `${id} (the FluxInstance's sync) Ready`,
        async check({ kube }): Promise<StepResult> {
            const ks = (await readOptional(
                kube.custom.getNamespacedCustomObject({
                    group: "kustomize.toolkit.fluxcd.io",
                    version: "v1",
                    namespace: o.namespace,
                    plural: "kustomizations",
                    name: root,
                }),
            )) as FluxObject | undefined;
            if (!ks) return notFound(id, "gitops", "the FluxInstance has not created its sync Kustomization (flux.sync) yet");
            const { ready, summary } = fluxReadiness(ks);
            if (ready) return { ok: true, detail: `applied ${ks.status?.lastAppliedRevision ?? "its revision"}` };
            return {
                ok: false,
                waiting: summary,
                diagnosis: {
                    link: `${id} (the FluxInstance's sync)`,
                    evidence: [`${id}: ${summary}`],
                    cause: "the root Kustomization has not applied the repository's path cleanly: a wrong talos-platform:flux.sync.path, or a build or apply error its message names",
                    fix: "check talos-platform:flux.sync.path against the repository, and the message above",
                    blocks: [...o.fluxPhases.map((p) => `Flux phase ${p}`), "every Kustomization in the repository"],
                },
            };
        },
    };
}

const nodeKey = (namespace: string | undefined, name: string | undefined) => `${namespace ?? ""}/${name ?? ""}`;

/** Whether Kustomization `from` waits in Git for `to`: directly or through those it names, as Flux holds one back until those are Ready. */
function waitsFor(items: FluxObject[], namespace: string): (from: string, to: string) => boolean {
    const edges = new Map<string, string[]>();
    for (const k of items) {
        const ns = k.metadata?.namespace ?? namespace;
        edges.set(
            nodeKey(ns, k.metadata?.name),
            (k.spec?.dependsOn ?? []).map((d) => nodeKey(d.namespace ?? ns, d.name)),
        );
    }
    return (from, to) => {
        const target = nodeKey(namespace, to);
        const seen = new Set<string>();
        const stack = [...(edges.get(nodeKey(namespace, from)) ?? [])];
        while (stack.length) {
            const cur = stack.pop()!;
            if (cur === target) return true;
            if (seen.has(cur)) continue;
            seen.add(cur);
            stack.push(...(edges.get(cur) ?? []));
        }
        return false;
    };
}

/**
 * Whether Git makes each Kustomization wait for each dependency declared
 * for it (`name=dep` entries): directly or through the Kustomizations it
 * waits for, since Flux holds one back until those it names are Ready. One
 * line per declared dependency that does not hold.
 */
export function missingDependencies(items: FluxObject[], namespace: string, declared: string[], names: string[]): string[] {
    const reaches = waitsFor(items, namespace);
    const out: string[] = [];
    for (const entry of declared) {
        const [name, dep] = entry.split("=");
        if (!names.includes(name)) continue;
        if (reaches(name, dep)) continue;
        const own = (items.find((k) => k.metadata?.name === name)?.spec?.dependsOn ?? []).map((d) => d.name);
        out.push(
            `Kustomization ${namespace}/${name}: spec.dependsOn [${own.join(", ")}] does not make it wait for ${dep}, which talos-platform:flux.phases puts before it`,
        );
    }
    return out;
}

/**
 * Kustomizations marked critical: false (`nonCritical` names) that Git makes
 * a critical one (`critical` names) wait for, directly or through others:
 * Flux holds that one back until they are Ready, so they are barriers after
 * all. The program cannot change Git; the gate says so. Each line names the
 * nearest critical ones, not everything that waits for those in turn.
 */
export function barriersInGit(items: FluxObject[], namespace: string, nonCritical: string[], critical: string[]): string[] {
    const reaches = waitsFor(items, namespace);
    return nonCritical.flatMap((n) => {
        const held = critical.filter((c) => reaches(c, n));
        const nearest = held.filter((c) => !held.some((h) => h !== c && reaches(c, h)));
        return nearest.length
            ? [
                  `Kustomization ${namespace}/${n}: marked critical: false, but Git makes ${nearest.join(", ")} wait for it (spec.dependsOn${held.length > nearest.length ? `; and ${held.length - nearest.length} more through ${nearest.length === 1 ? "it" : "them"}` : ""}), so it is a barrier after all`,
              ]
            : [];
    });
}

/** Names of the configured Kustomizations, of every phase, marked critical: false (`critical` false) or not. */
function namesBy(o: GitopsOptions, critical: boolean): string[] {
    const optional = new Set(o.nonCritical ?? []);
    return o.kustomizations.filter((e) => optional.has(e) !== critical).map((e) => e.slice(e.indexOf("/") + 1));
}

/**
 * flux.sync: one Flux phase's Kustomizations, from Git, found by name: they
 * exist, depend as declared, and are Ready. Those marked critical: false are
 * reported (missing, out of the declared order, not Ready, or made a barrier
 * by Git) and never fail the step.
 */
function gitPhaseStep(o: GitopsOptions, index: number): Step {
    const phase = o.fluxPhases[index];
    return {
        name: `Flux phase ${phase}: Kustomizations from Git exist, depend as declared and are Ready`,
        async check({ kube }): Promise<StepResult> {
            const all = await listKustomizations(kube, o.namespace);
            const optional = nonCriticalIn(o, phase);
            const names = o.kustomizations
                .filter((e) => e.startsWith(`${phase}/`))
                .map((e) => e.slice(phase.length + 1))
                .filter((n) => !optional.includes(n));
            const mine = all.filter((k) => names.includes(k.metadata?.name ?? ""));
            const missing = missingKustomizations(o.kustomizations, phase, all).filter((n) => !optional.includes(n));
            const later = o.fluxPhases.slice(index + 1).map((p) => `Flux phase ${p}`);
            if (missing.length) {
                return {
                    ok: false,
                    waiting: `missing: ${missing.join(", ")}`,
                    diagnosis: {
                        link: `Flux phase ${phase} (in Git)`,
                        evidence: missing.map((n) => `Kustomization ${o.namespace}/${n}: not found`),
                        cause: "the repository has not produced these Kustomizations: they are not under talos-platform:flux.sync.path (or the Kustomizations it applies), live in another namespace, or the Kustomization that applies them has not run yet",
                        fix: "add them to the repository, or remove them from talos-platform:flux.phases",
                        blocks: later,
                    },
                };
            }
            const disorder = missingDependencies(all, o.namespace, o.dependsOn ?? [], names);
            if (disorder.length) {
                return {
                    ok: false,
                    final: true,
                    waiting: `${disorder.length} declared dependenc${disorder.length === 1 ? "y" : "ies"} missing in Git`,
                    diagnosis: {
                        link: `Flux phase ${phase}: dependency order in Git`,
                        evidence: disorder,
                        cause: "Git does not make these Kustomizations wait for those talos-platform:flux.phases puts before them, so Flux may apply them first: the recovery order this stack declares does not hold",
                        fix: "add the missing names to spec.dependsOn of those Kustomizations in the repository (or of a Kustomization they already wait for), or change talos-platform:flux.phases to the order the repository has",
                        blocks: later,
                    },
                };
            }
            const unready = unreadyKustomizations(mine);
            if (!unready.length) {
                // A non-critical Kustomization that Git makes a critical one wait for holds that one back: said where it is listed.
                const report = [
                    ...nonCriticalReport(o, phase, all),
                    // One that is not there has no order to report: "not found" says it.
                    ...missingDependencies(
                        all,
                        o.namespace,
                        o.dependsOn ?? [],
                        optional.filter((n) => all.some((k) => k.metadata?.name === n)),
                    ),
                    ...barriersInGit(all, o.namespace, optional, namesBy(o, true)),
                ];
                return {
                    ok: true,
                    detail: `${mine.length} Ready, in the declared order${report.length ? `; not critical, not waited for: ${report.join("; ")}` : ""}`,
                };
            }
            // ...and where one of this phase's critical Kustomizations waits for it.
            const barriers = barriersInGit(all, o.namespace, namesBy(o, false), names);
            return {
                ok: false,
                waiting: `${unready.length} of ${mine.length} not Ready`,
                diagnosis: {
                    link: `Flux phase ${phase} (in Git)`,
                    evidence: [...unready, ...barriers],
                    cause: barriers.length
                        ? "these Kustomizations have not applied cleanly and become healthy; their messages say why. Git makes some of them wait for a Kustomization marked critical: false, which then holds them back like any other"
                        : "these Kustomizations have not applied cleanly and become healthy; their messages say why",
                    ...(barriers.length
                        ? {
                              fix: "remove the non-critical Kustomization from spec.dependsOn of the critical ones in the repository, or drop its critical: false in talos-platform:flux.phases",
                          }
                        : {}),
                    blocks: later,
                },
            };
        },
    };
}

export function gitopsSteps(o: GitopsOptions): Step[] {
    const root = o.rootKustomization;
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
        ...(root
            ? [rootStep(o, root), ...o.fluxPhases.map((_, i) => gitPhaseStep(o, i))]
            : o.fluxPhases.map((_, i) => fluxPhaseStep(o, i))),
    ];
}
