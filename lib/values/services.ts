import type { Values } from "../merge";
import type { Family } from "../net";
import { isIllTyped, KIND, stringMap } from "./read";

/**
 * A Service a chart will render, as far as pool selection and CRD checks
 * need it: computed from the merged values, the way the chart's template
 * would.
 */
export interface EmittedService {
    /** The section that renders it, e.g. ingressNginx; `gateway`: Cilium renders it from the Gateway. */
    section: "cilium" | "coredns" | "certManager" | "ingressNginx" | "flux" | "gateway";
    /** The values key (dotted, under <section>.values) that sets its labels. */
    labelsKey: string;
    /** The values key (dotted) that sets its annotations. */
    annotationsKey: string;
    /** The values key (dotted) that sets its type. */
    typeKey: string;
    namespace: string;
    name: string;
    type: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    /** Its externalTrafficPolicy as rendered ("Cluster" when the chart leaves it to Kubernetes); undefined when not known. */
    externalTrafficPolicy?: string;
    /** The values key (dotted) that sets externalTrafficPolicy, when the chart has one. */
    trafficPolicyKey?: string;
    /** The address families it gets, when the values say; undefined when the cluster decides. */
    families?: Family[];
    /** False when a label or annotation map it reads is ill-typed: the type check reports that, and pool selection skips it. */
    wellTyped: boolean;
}

/** The string maps at `keys` merged in order, and whether every one of them is well-typed. */
export function mergedMaps(values: Values, keys: string[]): { map: Record<string, string>; ok: boolean } {
    return {
        map: Object.assign({}, ...keys.map((k) => stringMap(values, k))) as Record<string, string>,
        ok: keys.every((k) => !isIllTyped(values, k, KIND.stringMap)),
    };
}

/** Kubernetes' ipFamilies spelling to ours; unknown entries are dropped. */
export function serviceFamilies(ipFamilies: string[]): Family[] {
    return ipFamilies.flatMap((f) => (f === "IPv4" ? ["ipv4" as const] : f === "IPv6" ? ["ipv6" as const] : []));
}
