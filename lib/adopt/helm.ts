import { gunzipSync } from "node:zlib";
import type { Values } from "../merge";

// Helm 3 keeps each revision of a release in a Secret of type
// helm.sh/release.v1 named sh.helm.release.v1.<release>.v<revision>, labelled
// owner=helm, name, status and version. Its data key `release` holds
// base64(gzip(JSON of the release)) (helm pkg/storage/driver/util.go,
// encodeRelease), and the Secret's own encoding adds a second base64 on top.

export const HELM_SECRET_TYPE = "helm.sh/release.v1";
export const HELM_OWNER_SELECTOR = "owner=helm";

const GZIP_MAGIC = [0x1f, 0x8b, 0x08];

/** The fields of a release this program reads. */
export interface HelmRelease {
    name: string;
    namespace: string;
    revision: number;
    /** deployed, superseded, failed, pending-install, pending-upgrade, pending-rollback, uninstalling, uninstalled. */
    status: string;
    chart: { name: string; version: string; appVersion?: string };
    /** The user-supplied values (`helm install -f/--set`, Flux's spec.values): may hold secrets, never printed as is. */
    values: Values;
    /** The Secret the revision lives in. */
    secret: string;
    /** Who wrote the Secret (managedFields managers): helm, helm-controller, pulumi-resource-kubernetes. */
    managers: string[];
    /** The newest other revision still marked deployed: where `helm rollback` returns to. Set by latestRevisions. */
    lastDeployed?: number;
}

/** Helm's release JSON, as far as it is read here. */
interface ReleaseJson {
    name?: unknown;
    namespace?: unknown;
    version?: unknown;
    info?: { status?: unknown };
    chart?: { metadata?: { name?: unknown; version?: unknown; appVersion?: unknown } };
    config?: unknown;
}

/**
 * Decodes the `release` data of a Helm release Secret as the API returns it
 * (the Secret's base64). Releases stored before Helm compressed them are
 * plain JSON under the inner base64, as Helm's own decodeRelease accepts.
 */
export function decodeReleaseData(data: string): ReleaseJson {
    const inner = Buffer.from(Buffer.from(data, "base64").toString("latin1"), "base64");
    const json = GZIP_MAGIC.every((b, i) => inner[i] === b) ? gunzipSync(inner) : inner;
    return JSON.parse(json.toString("utf8")) as ReleaseJson;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** A release from its Secret's fields, or a reason it cannot be read. */
export function releaseFromSecret(secret: {
    name: string;
    namespace: string;
    data?: Record<string, string>;
    managers: string[];
}): HelmRelease | { error: string } {
    const data = secret.data?.release;
    if (!data) return { error: `Secret ${secret.namespace}/${secret.name} has no release data` };
    let r: ReleaseJson;
    try {
        r = decodeReleaseData(data);
    } catch (e) {
        return { error: `Secret ${secret.namespace}/${secret.name} does not decode as a Helm release: ${(e as Error).message}` };
    }
    const meta = r.chart?.metadata ?? {};
    const name = str(r.name);
    const version = typeof r.version === "number" ? r.version : undefined;
    if (!name || version === undefined) return { error: `Secret ${secret.namespace}/${secret.name} holds no release name or revision` };
    const config = r.config;
    return {
        name,
        namespace: str(r.namespace) ?? secret.namespace,
        revision: version,
        status: str(r.info?.status) ?? "unknown",
        chart: { name: str(meta.name) ?? "", version: str(meta.version) ?? "", appVersion: str(meta.appVersion) },
        values: config && typeof config === "object" && !Array.isArray(config) ? (config as Values) : {},
        secret: secret.name,
        managers: secret.managers,
    };
}

/**
 * Each release's latest revision: what `helm list` shows and what `helm
 * upgrade` starts from. A failed or interrupted upgrade leaves the previous
 * revision deployed; that one is recorded as lastDeployed.
 */
export function latestRevisions(releases: HelmRelease[]): HelmRelease[] {
    const byRelease = new Map<string, HelmRelease[]>();
    for (const r of releases) {
        const key = `${r.namespace}/${r.name}`;
        byRelease.set(key, [...(byRelease.get(key) ?? []), r]);
    }
    const out: HelmRelease[] = [];
    for (const revisions of byRelease.values()) {
        revisions.sort((a, b) => b.revision - a.revision);
        const [latest, ...older] = revisions;
        const deployed = older.find((r) => r.status === "deployed");
        out.push(deployed ? { ...latest, lastDeployed: deployed.revision } : latest);
    }
    return out.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/** The chart's name in a chart reference: cilium, or flux-operator in oci://ghcr.io/.../flux-operator. */
export function chartName(ref: string): string {
    return ref.replace(/\/+$/, "").split("/").pop() ?? ref;
}
