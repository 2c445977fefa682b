import * as fs from "node:fs";
import * as path from "node:path";
import type { GatewayApiVersion } from "../config/gateway";
import type { Values } from "../merge";

// The Gateway API CRDs this program installs: vendored, byte for byte, under
// crds/gateway-api/<version>/ (see crds/SOURCES.md), so that the plan, a
// preview and an `up` need no network and always install the same bytes.

/** The vendored bundles, relative to the project root. */
export const GATEWAY_API_DIR = path.join("crds", "gateway-api");
/** Each version's CRDs as one JSON list, derived from its YAML files (a test keeps them equal). */
export const BUNDLE_FILE = "standard.json";

export const GATEWAY_API_GROUP = "gateway.networking.k8s.io";
export const BUNDLE_VERSION_ANNOTATION = `${GATEWAY_API_GROUP}/bundle-version`;
export const CHANNEL_ANNOTATION = `${GATEWAY_API_GROUP}/channel`;

/**
 * What this program puts on the CRDs it installs, so the pre-check can tell
 * them from CRDs another installer (Talos extraManifests, kubectl, a chart)
 * already put on the cluster.
 */
export const INSTALLED_BY = { key: "app.kubernetes.io/managed-by", value: "talos-platform" } as const;

/**
 * The CRDs, and the versions of them, that Cilium 1.19's operator requires
 * at start-up before it runs its Gateway API controller
 * (operator/pkg/gateway-api/cell.go, requiredGVKs). TLSRoute is optional
 * there, and experimental in Gateway API v1.4: the standard channel has none.
 */
export const CILIUM_REQUIRED_CRDS: { name: string; version: string }[] = [
    { name: `gatewayclasses.${GATEWAY_API_GROUP}`, version: "v1" },
    { name: `gateways.${GATEWAY_API_GROUP}`, version: "v1" },
    { name: `httproutes.${GATEWAY_API_GROUP}`, version: "v1" },
    { name: `grpcroutes.${GATEWAY_API_GROUP}`, version: "v1" },
    { name: `referencegrants.${GATEWAY_API_GROUP}`, version: "v1beta1" },
];

export interface CrdObject {
    apiVersion: "apiextensions.k8s.io/v1";
    kind: "CustomResourceDefinition";
    metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
    spec: Values & {
        group: string;
        scope: string;
        names: { kind: string; plural: string };
        versions: { name: string; served: boolean; storage: boolean }[];
    };
}

/** The project root: the nearest folder up from here with a package.json (this file runs from lib/ and from dist/lib/). */
export function projectRoot(from = __dirname): string {
    for (let dir = from; ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "package.json"))) return dir;
        if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
    }
}

const bundles = new Map<string, CrdObject[]>();

function bundle(version: GatewayApiVersion): CrdObject[] {
    let crds = bundles.get(version);
    if (!crds) {
        const file = path.join(projectRoot(), GATEWAY_API_DIR, version, BUNDLE_FILE);
        crds = JSON.parse(fs.readFileSync(file, "utf8")) as CrdObject[];
        bundles.set(version, crds);
    }
    return crds;
}

/**
 * Server-side apply takes fields another field manager set only by force.
 * The pre-check lets only CRDs without an owner, or labelled as this
 * program's, reach the apply: forcing then takes over fields an earlier
 * install (or the installer the user handed them over from) left.
 */
export const PATCH_FORCE = { "pulumi.com/patchForce": "true" } as const;

/**
 * The standard-channel CRDs of a Gateway API release, as the component
 * registers them: labelled as this program's. A fresh copy on every call.
 */
export function gatewayApiCrds(version: GatewayApiVersion): CrdObject[] {
    return bundle(version).map((crd) => {
        const copy = structuredClone(crd);
        copy.metadata.labels = { ...copy.metadata.labels, [INSTALLED_BY.key]: INSTALLED_BY.value };
        copy.metadata.annotations = { ...copy.metadata.annotations, ...PATCH_FORCE };
        return copy;
    });
}

/** The CRD names of a release, in the order they are installed. */
export function gatewayApiCrdNames(version: GatewayApiVersion): string[] {
    return bundle(version).map((c) => c.metadata.name);
}
