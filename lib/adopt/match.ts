import { FluxIndex, FluxOwner, fluxName, helmReleaseOwner, kustomizationOf } from "./flux";
import type { HelmRelease } from "./helm";
import { LiveCluster, LiveObject, objectRef, pulumiManaged } from "./live";
import type { Planned, PlannedObject, PlannedRelease } from "./planned";

// Each resource the plan would create, matched to what already runs: the
// same Helm release name and namespace, the same kind and name.

/**
 * create: nothing there, `pulumi up` creates it. import: it exists and
 * nothing stands in the way of importing it. managed: Pulumi already writes
 * it. conflict: it exists, and importing it now would be wrong (the reasons
 * say why and the findings what to do).
 */
export type MatchStatus = "create" | "import" | "managed" | "conflict";

export interface Match {
    urn: string;
    /** The resource's name in the program, e.g. cilium-release. */
    resource: string;
    type: string;
    /** What it is in the cluster, e.g. "Helm release kube-system/cilium". */
    target: string;
    /** The id `pulumi import` takes: <namespace>/<name>, or <name> for cluster-scoped objects. */
    id: string;
    status: MatchStatus;
    reasons: string[];
    /** Flux objects that apply it too. */
    owners: FluxOwner[];
    /** The live release, for a Helm release that exists. */
    release?: HelmRelease;
}

const OK_STATUS = "deployed";

function releaseMatch(p: PlannedRelease, live: LiveCluster, flux: FluxIndex): Match {
    const base = {
        urn: p.resource.urn,
        resource: p.resource.name,
        type: p.resource.type,
        target: `Helm release ${p.namespace}/${p.release}`,
        id: `${p.namespace}/${p.release}`,
        owners: [] as FluxOwner[],
    };
    const r = live.releases.find((x) => x.name === p.release && x.namespace === p.namespace);
    if (!r) {
        const elsewhere = live.releases.filter((x) => x.chart.name === p.chart);
        if (!elsewhere.length) return { ...base, status: "create", reasons: [] };
        return {
            ...base,
            status: "conflict",
            reasons: elsewhere.map(
                (x) =>
                    `chart ${p.chart} already runs as release ${x.namespace}/${x.name} (${x.chart.version}): installing ${p.namespace}/${p.release} too would run two copies`,
            ),
        };
    }
    const reasons: string[] = [];
    const owner = helmReleaseOwner(flux, r.name, r.namespace);
    if (r.chart.name !== p.chart) reasons.push(`it is chart ${r.chart.name} ${r.chart.version}, not ${p.chart}`);
    if (r.status !== OK_STATUS) reasons.push(`its latest revision (${r.revision}) is ${r.status}, not deployed`);
    if (owner) reasons.push(`${fluxName(owner)} installs it (${owner.via})`);
    const managed = pulumiManaged(r);
    const status = reasons.length ? "conflict" : managed ? "managed" : "import";
    if (status !== "conflict")
        reasons.push(managed ? `written by Pulumi (${managed})` : `installed by ${r.managers.join(", ") || "an unknown client"}`);
    return { ...base, status, reasons, owners: owner ? [owner] : [], release: r };
}

function objectMatch(p: PlannedObject, live: LiveCluster, flux: FluxIndex): Match {
    const crd = p.group ? live.crds.find((c) => c.group === p.group && c.kind === p.kind) : undefined;
    const namespaced = p.group ? (crd?.namespaced ?? p.namespace !== undefined) : p.kind !== "Namespace";
    const namespace = namespaced ? p.namespace : undefined;
    const base = {
        urn: p.resource.urn,
        resource: p.resource.name,
        type: p.resource.type,
        target: objectRef({ kind: p.kind, name: p.name, namespace }),
        id: namespace ? `${namespace}/${p.name}` : p.name,
        owners: [] as FluxOwner[],
    };
    const o: LiveObject | undefined = live.objects.find(
        (x) => x.group === p.group && x.kind === p.kind && x.name === p.name && (x.namespace ?? undefined) === namespace,
    );
    if (!o) return { ...base, status: "create", reasons: [] };
    const reasons: string[] = [];
    if (crd && !crd.served.includes(p.version))
        reasons.push(
            `the cluster serves ${p.kind} only as ${crd.served.map((v) => `${p.group}/${v}`).join(", ")}; the plan's ${p.group}/${p.version} can be imported once the CRD serves it`,
        );
    const owner = kustomizationOf(flux, o);
    if (owner) reasons.push(`${fluxName(owner)} applies it (${owner.via})`);
    const managed = pulumiManaged(o);
    const status = reasons.length ? "conflict" : managed ? "managed" : "import";
    if (status !== "conflict")
        reasons.push(managed ? `written by Pulumi (${managed})` : `written by ${o.managers.join(", ") || "an unknown client"}`);
    return { ...base, status, reasons, owners: owner ? [owner] : [] };
}

export function matchAll(planned: Planned, live: LiveCluster, flux: FluxIndex): Match[] {
    return [...planned.releases.map((r) => releaseMatch(r, live, flux)), ...planned.objects.map((o) => objectMatch(o, live, flux))];
}
