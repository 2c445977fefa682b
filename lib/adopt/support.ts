// The Kubernetes versions each planned component release supports, as its
// upstream states them. One table, data only: a row per minor release this
// program pins or may be set to, each with where it comes from.
//
// `min` is the oldest Kubernetes the release supports (below it: not
// supported, the adoption is refused); `max` the newest minor it was tested
// on (above it: untested upstream, a warning).

export type Component = "cilium" | "cert-manager" | "ingress-nginx" | "flux";

export interface SupportRow {
    component: Component;
    /** The component's minor release, e.g. 1.19 (ingress-nginx: the controller's, which chart 4.N ships as 1.N). */
    release: string;
    /** Oldest supported Kubernetes, MAJOR.MINOR or MAJOR.MINOR.PATCH. */
    min: string;
    /** Newest Kubernetes minor tested. */
    max: string;
    source: string;
}

export const SUPPORT: readonly SupportRow[] = [
    // Cilium: cilium/cilium v1.18.14 Documentation/network/kubernetes/compatibility.rst
    // ("1.30, 1.31, 1.32, 1.33", e2e tested).
    { component: "cilium", release: "1.18", min: "1.30", max: "1.33", source: "Cilium 1.18 docs, network/kubernetes/compatibility" },
    // Cilium 1.19.4 (branch v1.19): compatibility.rst lists 1.32-1.35, while
    // requirements.rst ("Older Kubernetes versions not listed here do not have
    // Cilium support") lists 1.31-1.34. A version either page lists counts.
    {
        component: "cilium",
        release: "1.19",
        min: "1.31",
        max: "1.35",
        source: "Cilium 1.19 docs, network/kubernetes/compatibility and requirements",
    },
    // cert-manager: cert-manager/website content/docs/releases/README.md,
    // "Supported Kubernetes / OpenShift Versions": 1.19 → 1.31-1.35,
    // 1.20 → 1.32-1.35, 1.21 → 1.33-1.36.
    { component: "cert-manager", release: "1.19", min: "1.31", max: "1.35", source: "cert-manager.io/docs/releases" },
    { component: "cert-manager", release: "1.20", min: "1.32", max: "1.35", source: "cert-manager.io/docs/releases" },
    { component: "cert-manager", release: "1.21", min: "1.33", max: "1.36", source: "cert-manager.io/docs/releases" },
    // ingress-nginx: kubernetes/ingress-nginx README.md "Supported Versions table":
    // v1.14.x (chart 4.14.x) → 1.30-1.34, v1.15.x (chart 4.15.x) → 1.31-1.35.
    {
        component: "ingress-nginx",
        release: "1.14",
        min: "1.30",
        max: "1.34",
        source: "kubernetes/ingress-nginx README, Supported Versions table",
    },
    {
        component: "ingress-nginx",
        release: "1.15",
        min: "1.31",
        max: "1.35",
        source: "kubernetes/ingress-nginx README, Supported Versions table",
    },
    // Flux: fluxcd/flux2 release notes of v2.9.0, "Kubernetes compatibility":
    // v1.34 >= 1.34.1, v1.35 >= 1.35.0, v1.36 >= 1.36.0.
    {
        component: "flux",
        release: "2.9",
        min: "1.34.1",
        max: "1.36",
        source: "fluxcd/flux2 v2.9.0 release notes, Kubernetes compatibility",
    },
];

type Version = [number, number, number];

/** 1.31.1, v1.31.1, v1.31.1+k3s1, 1.31 → [1, 31, 1]; undefined when not a version. */
export function parseVersion(v: string): Version | undefined {
    const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(v.trim());
    return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

function compare(a: Version, b: Version): number {
    for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return 0;
}

/** The component's minor release a planned version belongs to: ingress-nginx chart 4.15.1 ships controller 1.15. */
export function releaseOf(component: Component, version: string): string | undefined {
    const v = parseVersion(version);
    if (!v) return undefined;
    return component === "ingress-nginx" && v[0] === 4 ? `1.${v[1]}` : `${v[0]}.${v[1]}`;
}

export type Support =
    | { kind: "supported"; row: SupportRow }
    | { kind: "too-old"; row: SupportRow }
    | { kind: "untested"; row: SupportRow }
    | { kind: "unknown"; release?: string };

/** Whether Kubernetes `kubernetes` is within what `component` at `version` supports. */
export function support(component: Component, version: string, kubernetes: string): Support {
    const release = releaseOf(component, version);
    const row = SUPPORT.find((r) => r.component === component && r.release === release);
    const k = parseVersion(kubernetes);
    if (!row || !k) return { kind: "unknown", release };
    if (compare(k, parseVersion(row.min)!) < 0) return { kind: "too-old", row };
    const max = parseVersion(row.max)!;
    if (k[0] > max[0] || (k[0] === max[0] && k[1] > max[1])) return { kind: "untested", row };
    return { kind: "supported", row };
}
