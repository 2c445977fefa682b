import type { PlatformConfig } from "../config";
import { isPlainObject } from "../merge";
import { configPath, error, Problem } from "../problems";
import { apiGroup, renderedObjects } from "../charts/rendered";
import { certManagerValues } from "../values/cert-manager";
import { isIllTyped, KIND, readValue } from "../values/read";
import { knownIssuersHint } from "./certificates";
import { CRD_FEATURES, featureOn, releases } from "./crd-order";
import { sourceKey } from "./dns";
import type { Check } from "./types";

/** Every place under `value` where `test` holds for a key, as path segments. */
export function findKeys(
    value: unknown,
    test: (key: string, v: unknown) => boolean,
    at: (string | number)[] = [],
): Array<{ at: (string | number)[]; value: unknown }> {
    if (Array.isArray(value)) return value.flatMap((v, i) => findKeys(v, test, [...at, i]));
    if (!isPlainObject(value)) return [];
    return Object.entries(value).flatMap(([k, v]) => [
        ...(test(k, v) ? [{ at: [...at, k], value: v }] : []),
        ...findKeys(v, test, [...at, k]),
    ]);
}

const ISSUER_ANNOTATION = "cert-manager.io/issuer";
const CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer";
const ISSUER_KIND_ANNOTATION = "cert-manager.io/issuer-kind";
const ISSUER_GROUP_ANNOTATION = "cert-manager.io/issuer-group";

export interface IssuerChoice {
    name: unknown;
    kind: unknown;
    group?: unknown;
    /** The annotation that names it, where the problem is reported. */
    key: string;
    /** Two annotations that cert-manager refuses together. */
    conflict?: [string, string];
}

/**
 * The issuer cert-manager's ingress-shim takes from an object's annotations
 * (its issuerForIngressLike): issuer means an Issuer, cluster-issuer a
 * ClusterIssuer, issuer-kind and issuer-group override the kind and group.
 * Undefined when no annotation names an issuer.
 */
export function annotationIssuer(a: Record<string, unknown>): IssuerChoice | undefined {
    const has = (k: string) => a[k] !== undefined;
    if (!has(ISSUER_ANNOTATION) && !has(CLUSTER_ISSUER_ANNOTATION)) return undefined;
    const key = has(CLUSTER_ISSUER_ANNOTATION) ? CLUSTER_ISSUER_ANNOTATION : ISSUER_ANNOTATION;
    const pairs: Array<[string, string]> = [
        [ISSUER_ANNOTATION, CLUSTER_ISSUER_ANNOTATION],
        [CLUSTER_ISSUER_ANNOTATION, ISSUER_KIND_ANNOTATION],
        [CLUSTER_ISSUER_ANNOTATION, ISSUER_GROUP_ANNOTATION],
    ];
    return {
        name: a[key],
        kind: a[ISSUER_KIND_ANNOTATION] ?? (key === CLUSTER_ISSUER_ANNOTATION ? "ClusterIssuer" : "Issuer"),
        group: a[ISSUER_GROUP_ANNOTATION],
        key,
        conflict: pairs.find(([x, y]) => has(x) && has(y)),
    };
}

/** Every issuer this program names (default certificate, ingress-shim default, chart certificates, annotations) must be one it creates. */
function issuerReferences(config: PlatformConfig): Problem[] {
    const names = new Set(config.certManager.issuers.map((i) => i.name));
    const problems: Problem[] = [];
    const check = (key: string, ref: { name: unknown; kind: unknown; group?: unknown }, what: string) => {
        const { name, kind, group } = ref;
        if (group !== undefined && group !== "" && group !== "cert-manager.io") {
            problems.push(
                error(
                    key,
                    `${what} names an issuer of group ${JSON.stringify(group)}; this program creates only cert-manager.io ClusterIssuers`,
                    knownIssuersHint(config, String(name)),
                    name,
                ),
            );
        } else if (kind !== "ClusterIssuer") {
            problems.push(
                error(
                    key,
                    `${what} names ${kind === "Issuer" ? "a namespaced Issuer" : `an issuer of kind ${JSON.stringify(kind)}`} ${JSON.stringify(name)}; this program creates only ClusterIssuers, so nothing it manages answers it`,
                    `name a ClusterIssuer instead: ${knownIssuersHint(config, String(name))}`,
                    name,
                ),
            );
        } else if (typeof name !== "string" || !names.has(name)) {
            problems.push(
                error(
                    key,
                    `${what} names ClusterIssuer ${JSON.stringify(name)}, which certManager.issuers does not create`,
                    knownIssuersHint(config, String(name)),
                    name,
                ),
            );
        }
    };
    const dc = config.ingressNginx.enabled ? config.ingressNginx.defaultCertificate : undefined;
    if (dc)
        check(
            configPath(["ingressNginx", "defaultCertificate", "issuer"]),
            { name: dc.issuer, kind: "ClusterIssuer" },
            "the default certificate",
        );

    const cm = certManagerValues(config.certManager, config.cluster);
    const shim = readValue(cm, "ingressShim.defaultIssuerName", KIND.string);
    if (shim !== undefined) {
        const key = sourceKey("certManager", config.certManager.values, "ingressShim.defaultIssuerName", ["certManager", "defaultIssuer"]);
        const kind = readValue(cm, "ingressShim.defaultIssuerKind", KIND.string) ?? "Issuer";
        const group = readValue(cm, "ingressShim.defaultIssuerGroup", KIND.string);
        check(key, { name: shim, kind, group }, "cert-manager's ingress-shim default");
    }

    for (const r of releases(config)) {
        const at = (path: (string | number)[]) => configPath([r.section, "values", ...path]);
        // Certificates a chart renders itself, e.g. Hubble's with hubble.tls.auto.method certmanager.
        for (const f of (CRD_FEATURES[r.chart] ?? []).filter((x) => x.issuerRef && featureOn(r.values, x))) {
            const refKey = f.issuerRef!;
            if (isIllTyped(r.values, refKey, KIND.map)) continue;
            const ref = readValue(r.values, refKey, KIND.map) ?? {};
            if (!Object.keys(ref).length) {
                if (!f.ownIssuerWhenEmpty) {
                    problems.push(
                        error(
                            at(refKey.split(".")),
                            `is empty, so the ${f.kind} that ${f.path}: ${f.equals ?? true} renders names no issuer`,
                            `set it to { group: cert-manager.io, kind: ClusterIssuer, name: <one of certManager.issuers> }`,
                        ),
                    );
                }
                continue;
            }
            check(
                at([...refKey.split("."), "name"]),
                { name: ref.name, kind: ref.kind ?? "Issuer", group: ref.group },
                `the ${f.kind} of ${f.path}`,
            );
        }
        // Certificates a chart renders from an object list (extraObjects), and the annotations of objects written as strings.
        for (const o of renderedObjects(r).objects) {
            if (o.kind === "Certificate" && apiGroup(o.apiVersion) === "cert-manager.io") {
                const ref = isPlainObject(o.spec.issuerRef) ? o.spec.issuerRef : {};
                check(
                    at([...o.at, ...(o.fromString ? [] : ["spec", "issuerRef", "name"])]),
                    { name: ref.name, kind: ref.kind ?? "Issuer", group: ref.group },
                    `the Certificate of ${o.source}`,
                );
            }
            const choice = o.fromString ? annotationIssuer(o.metadata.annotations) : undefined;
            if (choice && !choice.conflict) check(at(o.at), choice, `the annotation of ${o.source}`);
        }
        for (const hit of findKeys(r.values, (_k, v) => isPlainObject(v) && annotationIssuer(v) !== undefined)) {
            const choice = annotationIssuer(hit.value as Record<string, unknown>)!;
            if (choice.conflict) {
                const [x, y] = choice.conflict;
                problems.push(
                    error(
                        at([...hit.at, y]),
                        `is set together with ${at([...hit.at, x])}; cert-manager refuses that pair and issues nothing`,
                        `keep only ${CLUSTER_ISSUER_ANNOTATION} with one of certManager.issuers`,
                        (hit.value as Record<string, unknown>)[y],
                    ),
                );
            } else check(at([...hit.at, choice.key]), choice, "the annotation");
        }
    }
    return problems;
}

export const issuerReferenceChecks: Check[] = [{ name: "issuer-references", run: issuerReferences }];
