import type { LiveCluster, LiveObject } from "./live";

// Who in Flux applies what: a Kustomization applies the objects in its
// inventory (and labels them kustomize.toolkit.fluxcd.io/name, /namespace),
// a HelmRelease owns the Helm release it installs. An object this program is
// about to own that Flux also applies has two owners, and the handover must
// come first.

export const KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io";
export const HELM_GROUP = "helm.toolkit.fluxcd.io";
const KS_NAME = "kustomize.toolkit.fluxcd.io/name";
const KS_NAMESPACE = "kustomize.toolkit.fluxcd.io/namespace";

export interface FluxRef {
    kind: "Kustomization" | "HelmRelease";
    name: string;
    namespace: string;
}

export interface FluxOwner extends FluxRef {
    /** How it is known: its inventory, the labels Flux puts on what it applies, the release it installs, or its path. */
    via: string;
    /** For a HelmRelease: the Kustomization that applies it, which would re-apply it. */
    appliedBy?: FluxRef;
    /** The Kustomization's spec.path, for the repository change. */
    path?: string;
}

export interface FluxIndex {
    kustomizations: LiveObject[];
    helmReleases: LiveObject[];
    /** `namespace_name_group_kind` (Flux's inventory id) → the Kustomization whose inventory holds it. */
    inventory: Map<string, LiveObject>;
}

/** Flux's inventory id of an object: namespace_name_group_kind, the namespace empty for cluster-scoped kinds. */
export function inventoryId(o: { group: string; kind: string; name: string; namespace?: string }): string {
    return `${o.namespace ?? ""}_${o.name}_${o.group}_${o.kind}`;
}

export function fluxIndex(live: LiveCluster): FluxIndex {
    const kustomizations = live.objects.filter((o) => o.group === KUSTOMIZE_GROUP && o.kind === "Kustomization");
    const helmReleases = live.objects.filter((o) => o.group === HELM_GROUP && o.kind === "HelmRelease");
    const inventory = new Map<string, LiveObject>();
    for (const ks of kustomizations) {
        const entries = ((ks.status?.inventory as { entries?: { id?: unknown }[] } | undefined)?.entries ?? []).map((e) => e.id);
        for (const id of entries) if (typeof id === "string") inventory.set(id, ks);
    }
    return { kustomizations, helmReleases, inventory };
}

const ref = (o: LiveObject): FluxRef => ({ kind: o.kind as FluxRef["kind"], name: o.name, namespace: o.namespace ?? "flux-system" });

function pathOf(ks: LiveObject | undefined): string | undefined {
    const p = ks?.spec?.path;
    return typeof p === "string" ? p : undefined;
}

/** The Kustomization that applies `o`, by its inventory or by the labels Flux stamps on what it applies. */
export function kustomizationOf(
    index: FluxIndex,
    o: { group: string; kind: string; name: string; namespace?: string; labels?: Record<string, string> },
): FluxOwner | undefined {
    const byInventory = index.inventory.get(inventoryId(o));
    if (byInventory) return { ...ref(byInventory), via: "its inventory", path: pathOf(byInventory) };
    const name = o.labels?.[KS_NAME];
    if (!name) return undefined;
    const namespace = o.labels?.[KS_NAMESPACE] ?? "flux-system";
    // The labels outlive the Kustomization: once it is deleted (the handover), nothing applies the object any more.
    const ks = index.kustomizations.find((k) => k.name === name && k.namespace === namespace);
    if (!ks) return undefined;
    return { kind: "Kustomization", name, namespace, via: `the labels ${KS_NAME}/namespace on it`, path: pathOf(ks) };
}

/** The release a HelmRelease installs: spec.releaseName, else [targetNamespace-]name, into targetNamespace or its own. */
export function helmReleaseTarget(hr: LiveObject): { release: string; namespace: string } {
    const spec = hr.spec ?? {};
    const target = typeof spec.targetNamespace === "string" && spec.targetNamespace ? spec.targetNamespace : undefined;
    const release = typeof spec.releaseName === "string" && spec.releaseName ? spec.releaseName : target ? `${target}-${hr.name}` : hr.name;
    return { release, namespace: target ?? hr.namespace ?? "default" };
}

/** The Flux HelmRelease that installs release `namespace/release`, with the Kustomization applying it. */
export function helmReleaseOwner(index: FluxIndex, release: string, namespace: string): FluxOwner | undefined {
    const hr = index.helmReleases.find((h) => {
        const t = helmReleaseTarget(h);
        return t.release === release && t.namespace === namespace;
    });
    if (!hr) return undefined;
    const appliedBy = kustomizationOf(index, hr);
    return {
        ...ref(hr),
        via: `it installs release ${namespace}/${release}`,
        appliedBy: appliedBy ? { kind: "Kustomization", name: appliedBy.name, namespace: appliedBy.namespace } : undefined,
        path: appliedBy?.path,
    };
}

export function fluxName(r: FluxRef): string {
    return `${r.kind} ${r.namespace}/${r.name}`;
}

function suspend(r: FluxRef): string {
    return `flux suspend ${r.kind.toLowerCase()} ${r.name} -n ${r.namespace}`;
}

function noPrune(r: FluxRef): string {
    return `kubectl -n ${r.namespace} patch kustomization ${r.name} --type merge -p '{"spec":{"prune":false}}'`;
}

/**
 * The handover from Flux to this program, in order, deleting no workload:
 * stop Flux re-applying, stop it pruning, remove its object, keep it out of
 * Git, then import. `what` names what changes owner.
 */
export function handoverSteps(owner: FluxOwner, what: string[]): string[] {
    const one = what.length === 1 ? what[0] : "what it applied";
    if (owner.kind === "HelmRelease") {
        const ks = owner.appliedBy;
        return [
            ...(ks ? [`${suspend(ks)}   # stops Flux re-applying the HelmRelease (a re-apply would also undo its suspend)`] : []),
            `${suspend(owner)}   # helm-controller stops upgrading, and deleting a suspended HelmRelease skips helm uninstall`,
            ...(ks ? [`${noPrune(ks)}   # deleting or removing what it applied now leaves it in place`] : []),
            `kubectl -n ${owner.namespace} delete helmrelease ${owner.name}   # ${one} and its workloads stay`,
            `remove the HelmRelease ${owner.name} from the repository${owner.path ? ` (${owner.path})` : ""} and commit, so Flux does not bring it back`,
            "run `npm run adopt` again: the release is then listed for import",
        ];
    }
    return [
        `${suspend(owner)}   # stops Flux applying, and pruning, while the owner changes`,
        `${noPrune(owner)}   # (or spec.deletionPolicy: Orphan) its deletion then deletes nothing it applied`,
        `kubectl -n ${owner.namespace} delete kustomization ${owner.name}   # ${one} stays`,
        `in the repository, remove what this program now owns from ${owner.path ?? "the Kustomization's path"} (or the whole path, if it holds nothing else) and commit, so no Kustomization applies it again`,
        "run `npm run adopt` again: what it applied is then listed for import",
    ];
}
