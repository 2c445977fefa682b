import type { Values } from "../merge";
import type { Plan, PlanResource } from "../plan/model";
import { chartName } from "./helm";

// What the offline plan says `pulumi up` would create in the cluster: the
// Helm releases and the Kubernetes objects, with the URNs and resource names
// an import must use so they land where the program declares them.

export const RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";
export const PROVIDER_TYPE = "pulumi:providers:kubernetes";

export interface PlannedRelease {
    resource: PlanResource;
    release: string;
    namespace: string;
    chart: string;
    version: string;
    /** The values the program passes, after the escape hatch; secrets read "[secret]". */
    values: Values;
}

export interface PlannedObject {
    resource: PlanResource;
    group: string;
    version: string;
    kind: string;
    name: string;
    namespace?: string;
}

export interface Planned {
    /** The explicit Kubernetes provider every Kubernetes resource of the program uses. */
    provider: PlanResource;
    /** Its URN as `pulumi up` registers it, for the import file's nameTable and `pulumi up --target`. */
    providerUrn: string;
    releases: PlannedRelease[];
    objects: PlannedObject[];
    /** Every resource, by URN: components are the parents an import file must recreate. */
    byUrn: Map<string, PlanResource>;
}

/** kubernetes:cilium.io/v2:CiliumLoadBalancerIPPool → cilium.io, v2, CiliumLoadBalancerIPPool; core/v1 is the core group. */
export function parseKubernetesType(type: string): { group: string; version: string; kind: string } | undefined {
    const m = /^kubernetes:([^:]+)\/([^/:]+):(\w+)$/.exec(type);
    if (!m) return undefined;
    return { group: m[1] === "core" ? "" : m[1], version: m[2], kind: m[3] };
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");

const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/**
 * The URN `pulumi up` gives a resource of the plan. The plan's URNs come from
 * Pulumi's mock engine, which builds them differently from the real one
 * (sdk/go/common/resource/urn.go, NewURN): it prefixes resources of the root
 * stack with pulumi:pulumi:Stack$, and takes only the parent's own type where
 * the engine takes the parent's whole qualified type chain
 * (talos-platform:gitops:Flux$talos-platform:gitops:FluxPhase$kubernetes:…).
 */
export function engineUrn(r: PlanResource, byUrn: Map<string, PlanResource>, project: string, stack: string): string {
    const types: string[] = [];
    for (let cur: PlanResource | undefined = r; cur; cur = cur.parent ? byUrn.get(cur.parent) : undefined) {
        if (cur.type !== ROOT_STACK_TYPE) types.unshift(cur.type);
    }
    return `urn:pulumi:${stack}::${project}::${types.join("$")}::${r.name}`;
}

/**
 * The plan's cluster objects. index.ts creates exactly one Kubernetes
 * provider and hands it to every component, so every Kubernetes resource
 * of the plan uses it; a plan with another count is a program this
 * command does not understand.
 */
export function plannedFrom(plan: Plan): Planned {
    const providers = plan.resources.filter((r) => r.type === PROVIDER_TYPE);
    if (providers.length !== 1)
        throw new Error(
            `expected the program to register one Kubernetes provider, found ${providers.length}: the import file could not name it`,
        );
    const releases: PlannedRelease[] = [];
    const objects: PlannedObject[] = [];
    for (const r of plan.resources) {
        if (r.type === RELEASE_TYPE) {
            releases.push({
                resource: r,
                release: str(r.inputs.name),
                namespace: str(r.inputs.namespace) || "default",
                chart: chartName(str(r.inputs.chart)),
                version: str(r.inputs.version),
                values: (r.inputs.values ?? {}) as Values,
            });
            continue;
        }
        const t = parseKubernetesType(r.type);
        if (!t) continue;
        const meta = (r.inputs.metadata ?? {}) as { name?: unknown; namespace?: unknown };
        objects.push({ resource: r, ...t, name: str(meta.name), namespace: str(meta.namespace) || undefined });
    }
    const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
    return { provider: providers[0], providerUrn: engineUrn(providers[0], byUrn, plan.project, plan.stack), releases, objects, byUrn };
}
