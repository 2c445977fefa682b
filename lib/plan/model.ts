import type { Phase } from "../phases";

// The offline plan's JSON: a public interface read by tests, the PR comment
// and other tools. Extend it; never change or remove a field.

export interface PlanError {
    path: string;
    message: string;
    /** Extension: the offending value, when there is one. */
    value?: unknown;
    /** Extension: how to fix it. */
    fix?: string;
    /** Extension: the rule of a warning that is an error here because the platform relies on it (docs/policies.md, severity from context). */
    rule?: string;
}

export type FindingSeverity = "advisory" | "mandatory";

export interface Finding {
    rule: string;
    severity: FindingSeverity;
    /** The resource's URN, or for a config warning the config key. */
    resource: string;
    message: string;
}

/** An ordered step inside a phase, e.g. one Flux phase of gitops. */
export interface PlanSubphase {
    name: string;
    /** The step's component and everything below it. */
    resources: string[];
}

export interface PlanPhase {
    name: Phase;
    /** URN of the phase's gate, or null when the phase has none. */
    gate: string | null;
    resources: string[];
    /** Extension: the phase's ordered steps, in order; empty for most phases. */
    subphases: PlanSubphase[];
}

export interface PlanResource {
    urn: string;
    type: string;
    name: string;
    parent: string | null;
    /** Direct dependsOn of this resource only; a component's dependsOn also holds back its children. */
    dependsOn: string[];
    phase: Phase | null;
    /** Inputs as the engine would receive them; secrets read "[secret]". */
    inputs: Record<string, unknown>;
    /** Extension: the resource's lifecycle options, only those set (`{}` when none). Absent in plans made before it existed. */
    options?: PlanOptions;
}

/** What `pulumi destroy`, a replacement or a delete does to a resource: the resource options that decide it. */
export interface PlanOptions {
    /** Pulumi refuses to delete or replace it (inherited from its parent). */
    protect?: true;
    /** Deleting it from Pulumi leaves it in the cluster. */
    retainOnDelete?: true;
    /** A replacement deletes the old one before creating the new one. */
    deleteBeforeReplace?: true;
    /** How long a create, update or delete may take, e.g. { delete: "5m" }. */
    customTimeouts?: { create?: string; update?: string; delete?: string };
    /** Inputs whose changes Pulumi ignores. */
    ignoreChanges?: string[];
}

/** Which cluster `pulumi up` may act on, from the stack's config: it checks the live cluster against this before the first change. */
export interface PlanBinding {
    /** cluster.kubeContext, or null: the kubeconfig's current context, which `pulumi up` checks and then gives the provider. */
    context: string | null;
    /** The API server URLs the kubeconfig's server must be one of. */
    apiServers: string[];
    /** kube-system's UID pinned in cluster.identity, or null: `pulumi up` compares it with the UID its last run recorded in the stack's outputs. */
    identity: string | null;
    /** The Kubernetes provider's clusterIdentifier: fixed, so no kubeconfig change replaces the provider. */
    providerClusterIdentifier: string;
    /** lifecycle.protect: network and CoreDNS protected, FluxInstance kept, `pulumi destroy` stopped by its guard. */
    protect: boolean;
}

/** The Talos facts a plan was made for: the stack's `cluster` section, defaults applied. */
export interface PlanCluster {
    name: string;
    dnsDomain: string;
    apiEndpoint: string;
    podSubnets: string[];
    serviceSubnets: string[];
    nodeSubnets: string[];
    kubeProxyDisabled: boolean;
    kubePrism: { enabled: boolean; port: number };
    coreDnsDisabled: boolean;
    /** Extension: Talos `machine.features.hostDNS.forwardKubeDNSToHost`. */
    forwardKubeDNSToHost?: boolean;
    /** Extension: the Talos configuration the facts were read from (cluster.talosConfig), as given. */
    talosConfig?: string;
    /**
     * Extension: where each Talos fact came from, by key: `talos:<file>:<field>`
     * (the Talos configuration states it), `talos-default:<file>:<field>` (it
     * leaves it out; Talos' default), `config` (talos-platform:cluster alone)
     * or `default` (this program's default).
     */
    sources?: Record<string, string>;
}

export interface Plan {
    project: string;
    stack: string;
    ok: boolean;
    errors: PlanError[];
    findings: Finding[];
    phases: PlanPhase[];
    resources: PlanResource[];
    /** Extension: present only when the config parsed. */
    cluster?: PlanCluster;
    /** Extension: present only when the config parsed. */
    binding?: PlanBinding;
    /** Extension: the stack config the plan was made from, by full key; a secret key reads "[secret]" whole. */
    config?: Record<string, unknown>;
    /** Extension: the stack's secret config keys, known by their ciphertext, never by their value. */
    secrets?: PlanSecret[];
    /** Extension: present when the plan was compared with a base plan (`--base`). */
    changes?: PlanChanges;
}

/**
 * A secret config key. The plan never knows its value; it tells a changed
 * secret apart by a digest of the ciphertext Pulumi wrote into the stack
 * file (`secure: v1:...`), which is already public wherever the stack file
 * is. Pulumi encrypts with a random nonce, so the digest says nothing about
 * the value, nor whether two stacks hold the same one.
 */
export interface PlanSecret {
    /** The full config key, e.g. talos-platform:cloudflareApiToken. */
    key: string;
    /** "sha256:" and 16 hex digits of the stack file's ciphertext(s) for the key; null when the plan did not read a stack file. */
    ciphertextDigest: string | null;
    /** Each resource input the secret reaches; the plan shows it there as "[secret]". */
    usedBy: Array<{ urn: string; path: string }>;
}

/** A resource added or removed by a change. */
export interface ResourceRef {
    urn: string;
    type: string;
    name: string;
    phase: Phase | null;
    parent: string | null;
    /** Extension: what else happens, when the plan knows (a pruning Kustomization's removal). */
    note?: string;
    /** Extension: for a removed Kubernetes object, its metadata.name (what the graph labels it by). */
    object?: string;
}

export interface FieldChange {
    /** Dotted path into the resource's inputs; list elements with a name as `[name=x]`, others as `[i]`. */
    path: string;
    /** The old value, or null when the field is new. "[secret]" for a secret. */
    before: unknown;
    /** The new value, or null when the field is gone. "[secret]" for a secret. */
    after: unknown;
    /** Extension: what happened to the field ("reordered": the same named elements, in another order). */
    change: "added" | "removed" | "changed" | "reordered";
    /** Extension: for a secret that changed, the config key whose ciphertext changed; its value is never shown. */
    secret?: string;
}

export interface ChangedResource extends ResourceRef {
    fields: FieldChange[];
    /** Extension: the changed fields that make Pulumi replace the resource rather than update it. */
    replaces: string[];
    /** Extension: the resource's own dependsOn, when that changed (an ordering change, not an update). */
    dependsOn?: { added: string[]; removed: string[] };
}

export interface PhaseChange {
    name: Phase;
    added: number;
    removed: number;
    changed: number;
    /** The phase's sub-phases (Flux phases) that hold a change. */
    subphases: string[];
    /** Phases that wait for this one: a failure here holds them back. */
    blocks: Phase[];
    /** Extension: changed stack config paths that feed this phase (what its gate's trigger digest covers). */
    config: string[];
}

/** A readiness check (a phase gate or a CRD wait) that runs again on `pulumi up`. */
export interface GateChange {
    /** The gate or CRD wait component. */
    gate: string;
    name: string;
    kind: "gate" | "crd-wait";
    phase: Phase | null;
    /** The Command that runs the check. */
    check: string;
    /** new: it runs for the first time; triggers: its trigger digest changed; command: its command line changed. */
    reason: "new" | "triggers" | "command";
    /** The check's triggers in each plan: a phase gate's is its phase digest. null when the check is not in that plan. */
    triggers: { before: unknown[] | null; after: unknown[] | null };
}

export interface PlanChanges {
    /** What the plan was compared with. */
    base: { project: string; stack: string; ok: boolean; resources: number };
    added: ResourceRef[];
    removed: ResourceRef[];
    changed: ChangedResource[];
    phases: PhaseChange[];
    gates: GateChange[];
    findings: { new: Finding[]; resolved: Finding[] };
    /** Extension: the stack config's own differences, key by key (`talos-platform:cilium.values.kubeProxyReplacement`). */
    config: FieldChange[];
    /** Extension: config errors this plan has and the base had not, and the reverse. */
    errors: { new: PlanError[]; resolved: PlanError[] };
    /** Extension: secret config keys whose ciphertext is new, gone or different. */
    secrets: Array<{ key: string; change: "added" | "removed" | "changed" }>;
    /** Extension: what the comparison could not tell, in words. */
    notes: string[];
}

export const SECRET_PLACEHOLDER = "[secret]";
