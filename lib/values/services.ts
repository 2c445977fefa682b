import { isPlainObject, Values, valueAt } from "../merge";

/**
 * A Service a chart will render, as far as pool selection and CRD checks
 * need it: computed from the merged values, the way the chart's template
 * would.
 */
export interface EmittedService {
    /** The chart section that renders it, e.g. ingressNginx. */
    section: "coredns" | "certManager" | "ingressNginx";
    /** The values key (dotted, under <section>.values) that sets its labels. */
    labelsKey: string;
    /** The values key (dotted) that sets its annotations. */
    annotationsKey: string;
    namespace: string;
    name: string;
    type: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
}

/** A string map from the merged values (labels, annotations); anything else reads as empty. */
export function stringMap(values: Values, dotted: string): Record<string, string> {
    const v = valueAt(values, dotted);
    if (!isPlainObject(v)) return {};
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
}

/** A chart's boolean switch after the merge, with the chart's own default. */
export function enabled(values: Values, dotted: string, chartDefault: boolean): boolean {
    const v = valueAt(values, dotted);
    return v === undefined ? chartDefault : v === true || v === "true";
}
