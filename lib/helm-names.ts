// Helm's naming helpers, free of Pulumi: the gates' checker computes the
// same object names as the components without loading the Pulumi SDK.

import type { Values } from "./merge";

/** Helm's trunc 63 | trimSuffix "-" on a generated name. */
export function truncName(s: string, max = 63): string {
    return s.slice(0, max).replace(/-+$/, "");
}

/**
 * Helm's conventional `<chart>.fullname` helper, which these charts use for
 * their objects: fullnameOverride, else the release name when it contains
 * the chart name (or nameOverride), else release-chart.
 */
export function helmFullname(release: string, chart: string, values: Values): string {
    const override = values.fullnameOverride;
    if (typeof override === "string" && override !== "") return truncName(override);
    const name = typeof values.nameOverride === "string" && values.nameOverride !== "" ? values.nameOverride : chart;
    return truncName(release.includes(name) ? release : `${release}-${name}`);
}
