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
}

export const SECRET_PLACEHOLDER = "[secret]";
