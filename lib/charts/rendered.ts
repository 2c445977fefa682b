import { parseAllDocuments } from "yaml";
import { isPlainObject, Values } from "../merge";
import { KIND, readValue, switchOn } from "../values/read";
import { chartData } from "./catalog";

// Objects a chart renders from values that this program does not build
// itself: the free-form object lists (extraObjects) and the Ingresses a
// chart makes from an `ingress` block. The checks give them the rules the
// program's own objects get: CRD order, issuer references, pool selection,
// and the ingress controller's admission of annotations.

/** What part of a release's values a rendered object comes from. */
export interface RenderedObject {
    /** Its place under `<section>.values`, e.g. ["extraObjects", 0] or ["hubble", "ui", "ingress"]. */
    at: Array<string | number>;
    /** What renders it, for messages: "extraObjects[0]", "hubble.ui.ingress". */
    source: string;
    apiVersion: string;
    kind: string;
    metadata: { name?: string; namespace?: string; labels: Record<string, unknown>; annotations: Record<string, unknown> };
    /** Where its labels and annotations are set, under `<section>.values` (the string itself, for one written as a string). */
    labelsAt: Array<string | number>;
    annotationsAt: Array<string | number>;
    spec: Values;
    /** Written as a YAML string (a `tpl` template): its keys are not in the values tree. */
    fromString: boolean;
}

/** Top-level values keys that by convention hold whole objects, each rendered as it is. */
export const OBJECT_LIST_KEYS = ["extraObjects", "extraDeploy", "extraManifests"];

/** Charts whose template runs every item through `tpl`, which takes strings only. */
export const TPL_STRING_ITEMS: Record<string, string[]> = { "cert-manager": ["extraObjects"] };

/** The Ingresses charts render from an `ingress` block, with the switches the template needs (chart defaults). */
export const CHART_INGRESSES: Record<
    string,
    Array<{ path: string; name: string; when: Array<Array<[string, boolean]>>; annotations: string[] }>
> = {
    // templates/hubble-ui/ingress.yaml: (hubble.enabled or hubble.ui.standalone.enabled) and hubble.ui.enabled and the ingress.
    cilium: [
        {
            path: "hubble.ui.ingress",
            name: "hubble-ui",
            when: [
                [
                    ["hubble.enabled", true],
                    ["hubble.ui.standalone.enabled", false],
                ],
                [["hubble.ui.enabled", false]],
                [["hubble.ui.ingress.enabled", false]],
            ],
            annotations: ["hubble.ui.annotations", "hubble.ui.ingress.annotations"],
        },
    ],
    // templates/ingress.yaml
    "flux-operator": [
        { path: "web.ingress", name: "flux-operator", when: [[["web.ingress.enabled", false]]], annotations: ["web.ingress.annotations"] },
    ],
};

/** `apiVersion`'s group: "" for the core group (v1). */
export function apiGroup(apiVersion: string): string {
    return apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
}

const stringMapAt = (values: Values, key: string): Record<string, unknown> => readValue(values, key, KIND.map) ?? {};

/**
 * An object written as a string: a YAML document with Helm template
 * expressions in it. Expressions are read as placeholders; a document that
 * is YAML only once rendered is skipped.
 */
function parseObjects(text: string): Values[] {
    const attempt = (t: string) => {
        const docs = parseAllDocuments(t);
        if (!Array.isArray(docs) || docs.some((d) => d.errors.length)) return undefined;
        return docs.map((d) => d.toJS() as unknown).filter(isPlainObject);
    };
    return attempt(text) ?? (attempt(text.replace(/\{\{-?[\s\S]*?-?\}\}/g, PLACEHOLDER)) ?? []).map((o) => shown(o) as Values);
}

const PLACEHOLDER = "TEMPLATE-EXPRESSION";

/** Placeholders back as "{{…}}", so that a message shows the name as the user wrote it, give or take the expression. */
function shown(v: unknown): unknown {
    if (typeof v === "string") return v.split(PLACEHOLDER).join("{{…}}");
    if (Array.isArray(v)) return v.map(shown);
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [shown(k) as string, shown(x)]));
    return v;
}

function toRendered(obj: Values, at: Array<string | number>, source: string, fromString: boolean): RenderedObject | undefined {
    if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") return undefined;
    const meta = isPlainObject(obj.metadata) ? obj.metadata : {};
    return {
        at,
        source,
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        metadata: {
            name: typeof meta.name === "string" ? meta.name : undefined,
            namespace: typeof meta.namespace === "string" ? meta.namespace : undefined,
            labels: isPlainObject(meta.labels) ? meta.labels : {},
            annotations: isPlainObject(meta.annotations) ? meta.annotations : {},
        },
        // Written as a string, the object's maps are not values keys: problems name the string.
        labelsAt: fromString ? at : [...at, "metadata", "labels"],
        annotationsAt: fromString ? at : [...at, "metadata", "annotations"],
        spec: isPlainObject(obj.spec) ? obj.spec : {},
        fromString,
    };
}

/** The object-list keys a chart has: those its key tree lists, or, without data for the version, every conventional one. */
function objectListKeys(chart: string, version: string): string[] {
    const data = chartData(chart, version);
    return data ? OBJECT_LIST_KEYS.filter((k) => k in data.keys.keys) : OBJECT_LIST_KEYS;
}

/** An item of an object list that the chart cannot render: a map where its `tpl` takes a string. */
export interface UnrenderableItem {
    at: Array<string | number>;
    key: string;
}

/** The objects a release's merged values make its chart render, beyond what this program computes. */
export function renderedObjects(release: { chart: string; values: Values; config: { version: string } }): {
    objects: RenderedObject[];
    unrenderable: UnrenderableItem[];
} {
    const { chart, values } = release;
    const objects: RenderedObject[] = [];
    const unrenderable: UnrenderableItem[] = [];
    for (const key of objectListKeys(chart, release.config.version)) {
        const list = values[key];
        if (!Array.isArray(list)) continue;
        list.forEach((item, i) => {
            const at = [key, i];
            if (typeof item === "string") {
                for (const obj of parseObjects(item)) {
                    const r = toRendered(obj, at, `${key}[${i}]`, true);
                    if (r) objects.push(r);
                }
            } else if (isPlainObject(item)) {
                if (TPL_STRING_ITEMS[chart]?.includes(key)) unrenderable.push({ at, key });
                const r = toRendered(item, at, `${key}[${i}]`, false);
                if (r) objects.push(r);
            }
        });
    }
    for (const ing of CHART_INGRESSES[chart] ?? []) {
        if (!ing.when.every((any) => any.some(([k, d]) => switchOn(values, k, d)))) continue;
        const annotations = Object.assign({}, ...ing.annotations.map((k) => stringMapAt(values, k))) as Record<string, unknown>;
        const className = readValue(values, `${ing.path}.className`, KIND.string);
        const at = ing.path.split(".");
        objects.push({
            at,
            source: ing.path,
            apiVersion: "networking.k8s.io/v1",
            kind: "Ingress",
            metadata: { name: ing.name, labels: stringMapAt(values, `${ing.path}.labels`), annotations },
            labelsAt: [...at, "labels"],
            annotationsAt: [...at, "annotations"],
            spec: className ? { ingressClassName: className } : {},
            fromString: false,
        });
    }
    return { objects, unrenderable };
}

/** Kubernetes' own API groups: their kinds need no CRD. */
export const BUILT_IN_GROUPS = new Set([
    "",
    "apps",
    "batch",
    "policy",
    "autoscaling",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "certificates.k8s.io",
    "node.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "events.k8s.io",
    "resource.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
]);
