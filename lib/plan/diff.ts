import { PHASES, Phase } from "../phases";
import { deepEqual, diffValues } from "./field-diff";
import type { ChangedResource, FieldChange, Finding, GateChange, Plan, PlanChanges, PlanError, PlanResource, ResourceRef } from "./model";
import { SECRET_PLACEHOLDER } from "./model";
import { topLevelEdges } from "./render";

// The semantic diff of two offline plans: what a pull request changes in
// what `pulumi up` would deploy, matched by URN, as the engine matches.

const RELEASE = "kubernetes:helm.sh/v3:Release";
const COMMAND = "command:local:Command";

/**
 * The config each phase's gate digest covers (phaseDigest in
 * lib/gates/targets.ts; a test ties the two): a changed path under one of
 * these feeds that phase, which tells the phases a change touches even when
 * the new config has errors and registers nothing.
 */
export const PHASE_CONFIG: Record<Phase, string[]> = {
    network: ["cluster", "cilium"],
    dns: ["cluster.dnsDomain", "cluster.coreDnsDisabled", "cluster.forwardKubeDNSToHost", "coredns"],
    certificates: ["certManager"],
    ingress: ["ingressNginx", "cilium.loadBalancerPools"],
    gitops: ["flux"],
};

function feeds(phase: Phase, path: string): boolean {
    const bare = path.replace(/^talos-platform:/, "");
    return PHASE_CONFIG[phase].some((p) => bare === p || bare.startsWith(p + ".") || bare.startsWith(p + "["));
}

/**
 * What the plan knows about a removal: the object's name, and that Flux's
 * finalizer deletes what a pruning Kustomization applied once the
 * Kustomization goes (see the NOTES on destroy).
 */
function removalNote(r: PlanResource): { note?: string; object?: string } {
    const spec = r.inputs.spec as { prune?: unknown } | undefined;
    const name = (r.inputs.metadata as { name?: unknown } | undefined)?.name;
    return {
        ...(r.inputs.kind === "Kustomization" && spec?.prune === true
            ? { note: "prune: true, so Flux also deletes everything this Kustomization applied" }
            : {}),
        ...(typeof name === "string" ? { object: name } : {}),
    };
}

/**
 * Changed inputs that make Pulumi replace a resource instead of updating it
 * (see the NOTES on what a real `pulumi up` does): a Helm release's name or
 * namespace, a Kubernetes object's name or namespace, a Command's triggers.
 */
function replacingPaths(r: PlanResource, fields: FieldChange[]): string[] {
    const keys =
        r.type === RELEASE
            ? ["name", "namespace"]
            : r.type === COMMAND
              ? ["triggers"]
              : r.inputs.kind !== undefined && r.inputs.metadata !== undefined
                ? ["metadata.name", "metadata.namespace"]
                : [];
    return keys.filter((k) => fields.some((f) => f.path === k || f.path.startsWith(k + "[")));
}

function ref(r: PlanResource): ResourceRef {
    return { urn: r.urn, type: r.type, name: r.name, phase: r.phase, parent: r.parent };
}

/** A URN of the base plan as the head's stack and project would spell it, so two stacks' plans compare too. */
function rehome(base: Plan, head: Plan): (urn: string) => string {
    const from = `urn:pulumi:${base.stack}::${base.project}::`;
    const to = `urn:pulumi:${head.stack}::${head.project}::`;
    return from === to ? (u) => u : (u) => (u.startsWith(from) ? to + u.slice(from.length) : u);
}

function findingKey(f: Finding, urn: (u: string) => string = (u) => u): string {
    return `${f.severity}\u0000${f.rule}\u0000${urn(f.resource)}`;
}

/** Phases that wait for `phase`, through any chain of dependsOn between top-level resources. */
function phasesBlockedBy(plan: Plan, phase: Phase): Phase[] {
    const phaseOf = new Map(plan.resources.map((r) => [r.urn, r.phase]));
    const next = new Map<string, string[]>();
    for (const [from, to] of topLevelEdges(plan)) next.set(from, [...(next.get(from) ?? []), to]);
    const seen = new Set<string>();
    const queue = plan.resources.filter((r) => r.parent === null && r.phase === phase).map((r) => r.urn);
    while (queue.length) {
        const urn = queue.shift()!;
        for (const n of next.get(urn) ?? [])
            if (!seen.has(n)) {
                seen.add(n);
                queue.push(n);
            }
    }
    const blocked = new Set([...seen].map((u) => phaseOf.get(u)).filter((p): p is Phase => !!p && p !== phase));
    return PHASES.filter((p) => blocked.has(p));
}

function gateKind(parent: PlanResource | undefined): GateChange["kind"] | undefined {
    if (parent?.type.endsWith(":Gate")) return "gate";
    if (parent?.type.endsWith(":CrdWait")) return "crd-wait";
    return undefined;
}

/**
 * Compares `head` with `base`. Resources match by URN; the base's URNs are
 * read as the head's stack and project would spell them.
 */
export function diffPlans(base: Plan, head: Plan): PlanChanges {
    const urn = rehome(base, head);
    const notes: string[] = [];
    if (base.stack !== head.stack || base.project !== head.project)
        notes.push(
            `the base plan is of ${base.project}/${base.stack}, this one of ${head.project}/${head.stack}: resources are matched by type and name`,
        );

    const baseResources = base.resources.map((r) => ({
        ...r,
        urn: urn(r.urn),
        parent: r.parent && urn(r.parent),
        dependsOn: r.dependsOn.map(urn),
    }));
    const before = new Map(baseResources.map((r) => [r.urn, r]));
    const after = new Map(head.resources.map((r) => [r.urn, r]));
    // A plan that registered nothing because of config errors deploys nothing: not "everything removed".
    const compare = !(head.errors.length && !head.resources.length);
    if (!compare) notes.push("this plan has config errors and registered nothing, so its resources were not compared");
    if (base.errors.length && !base.resources.length) notes.push("the base plan had config errors and registered nothing");

    const secretChanges = compareSecrets(base, head, notes);
    const changedKeys = new Set(secretChanges.filter((s) => s.change === "changed").map((s) => s.key));
    const secretFields = new Map<string, FieldChange[]>();
    for (const s of head.secrets ?? [])
        if (changedKeys.has(s.key))
            for (const use of s.usedBy)
                secretFields.set(use.urn, [
                    ...(secretFields.get(use.urn) ?? []),
                    { path: use.path, before: SECRET_PLACEHOLDER, after: SECRET_PLACEHOLDER, change: "changed", secret: s.key },
                ]);

    const added = compare ? head.resources.filter((r) => !before.has(r.urn)) : [];
    const removed = compare ? baseResources.filter((r) => !after.has(r.urn)) : [];
    const changed: ChangedResource[] = [];
    for (const h of compare ? head.resources : []) {
        const b = before.get(h.urn);
        if (!b) continue;
        const fields = diffValues(b.inputs, h.inputs);
        for (const f of secretFields.get(h.urn) ?? []) if (!fields.some((x) => x.path === f.path)) fields.push(f);
        const depsAdded = h.dependsOn.filter((d) => !b.dependsOn.includes(d));
        const depsRemoved = b.dependsOn.filter((d) => !h.dependsOn.includes(d));
        if (!fields.length && !depsAdded.length && !depsRemoved.length) continue;
        changed.push({
            ...ref(h),
            fields,
            replaces: replacingPaths(h, fields),
            ...(depsAdded.length || depsRemoved.length ? { dependsOn: { added: depsAdded, removed: depsRemoved } } : {}),
        });
    }

    const gates: GateChange[] = [];
    for (const h of compare ? head.resources : []) {
        const kind = h.type === COMMAND && h.parent ? gateKind(after.get(h.parent)) : undefined;
        if (!kind) continue;
        const b = before.get(h.urn);
        const triggersBefore = b ? ((b.inputs.triggers as unknown[] | undefined) ?? []) : null;
        const triggersAfter = (h.inputs.triggers as unknown[] | undefined) ?? [];
        const reason: GateChange["reason"] | undefined = !b
            ? "new"
            : !deepEqual(triggersBefore, triggersAfter)
              ? "triggers"
              : !deepEqual(b.inputs, h.inputs)
                ? "command"
                : undefined;
        if (!reason) continue;
        const gate = after.get(h.parent!)!;
        gates.push({
            gate: gate.urn,
            name: gate.name,
            kind,
            phase: gate.phase,
            check: h.urn,
            reason,
            triggers: { before: triggersBefore, after: triggersAfter },
        });
    }

    const configChanges = compareConfig(base, head, notes);
    const subphaseOf = (phases: Plan["phases"], u: string) =>
        phases.flatMap((p) => p.subphases ?? []).find((s) => s.resources.includes(u))?.name;
    const basePhases = rehomedPhases(base, urn);
    const phases = PHASES.flatMap((name) => {
        const n = {
            added: added.filter((r) => r.phase === name).length,
            removed: removed.filter((r) => r.phase === name).length,
            changed: changed.filter((r) => r.phase === name).length,
        };
        const config = configChanges.map((f) => f.path).filter((p) => feeds(name, p));
        if (!n.added && !n.removed && !n.changed && !config.length) return [];
        const subphases = new Set(
            [
                ...[...added, ...changed].filter((r) => r.phase === name).map((r) => subphaseOf(head.phases, r.urn)),
                ...removed.filter((r) => r.phase === name).map((r) => subphaseOf(basePhases, r.urn)),
            ].filter((s): s is string => !!s),
        );
        const blocks = phasesBlockedBy(head.resources.some((r) => r.phase === name) ? head : base, name);
        const order = [...head.phases, ...basePhases].flatMap((p) => (p.subphases ?? []).map((sp) => sp.name));
        return [{ name, ...n, subphases: [...subphases].sort((a, b) => order.indexOf(a) - order.indexOf(b)), blocks, config }];
    });

    const baseFindings = new Set(base.findings.map((f) => findingKey(f, urn)));
    const headFindings = new Set(head.findings.map((f) => findingKey(f)));
    const errorKey = (e: PlanError) => `${e.path}\u0000${e.message}`;
    const baseErrors = new Set(base.errors.map(errorKey));
    const headErrors = new Set(head.errors.map(errorKey));
    return {
        base: { project: base.project, stack: base.stack, ok: base.ok, resources: base.resources.length },
        added: added.map(ref),
        removed: removed.map((r) => ({ ...ref(r), ...removalNote(r) })),
        changed,
        phases,
        gates,
        findings: {
            new: head.findings.filter((f) => !baseFindings.has(findingKey(f))),
            // Without resources, no policy ran: their findings are not resolved, only unknown.
            resolved: compare ? base.findings.filter((f) => !headFindings.has(findingKey(f, urn))) : [],
        },
        config: configChanges,
        errors: {
            new: head.errors.filter((e) => !baseErrors.has(errorKey(e))),
            resolved: base.errors.filter((e) => !headErrors.has(errorKey(e))),
        },
        secrets: secretChanges,
        notes,
    };
}

function rehomedPhases(plan: Plan, urn: (u: string) => string): Plan["phases"] {
    return plan.phases.map((p) => ({
        ...p,
        resources: p.resources.map(urn),
        subphases: (p.subphases ?? []).map((s) => ({ ...s, resources: s.resources.map(urn) })),
    }));
}

/** The stack config's differences, each path starting with its full key, as the program's errors name keys. */
function compareConfig(base: Plan, head: Plan, notes: string[]): FieldChange[] {
    if (!head.config) return [];
    if (!base.config) {
        notes.push("the base plan predates the stack config in plans: only what the config does is compared, not the config itself");
        return [];
    }
    const out: FieldChange[] = [];
    for (const key of [...new Set([...Object.keys(base.config), ...Object.keys(head.config)])].sort()) {
        if (!(key in base.config)) out.push({ path: key, before: null, after: head.config[key], change: "added" });
        else if (!(key in head.config)) out.push({ path: key, before: base.config[key], after: null, change: "removed" });
        else diffValues(base.config[key], head.config[key], key, out);
    }
    return out;
}

/** Secret keys whose ciphertext is new, gone or different; what cannot be told goes into `notes`. */
function compareSecrets(base: Plan, head: Plan, notes: string[]): PlanChanges["secrets"] {
    if (!head.secrets) return [];
    if (!base.secrets) {
        if (head.secrets.length) notes.push("the base plan predates secret digests: whether a secret changed cannot be told");
        return [];
    }
    const was = new Map(base.secrets.map((s) => [s.key, s.ciphertextDigest]));
    const is = new Map(head.secrets.map((s) => [s.key, s.ciphertextDigest]));
    const out: PlanChanges["secrets"] = [];
    let unknown = false;
    for (const [key, digest] of is) {
        if (!was.has(key)) out.push({ key, change: "added" });
        else if (digest === null || was.get(key) === null) unknown = true;
        else if (digest !== was.get(key)) out.push({ key, change: "changed" });
    }
    for (const key of was.keys()) if (!is.has(key)) out.push({ key, change: "removed" });
    if (unknown) notes.push("a plan was made without a stack file, so whether its secrets changed cannot be told");
    return out;
}
