import * as k8s from "@pulumi/kubernetes";
import { secretLeaves } from "./checks/values-secrets";
import type { ChartConfig } from "./config/common";
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

/** The chart reference as Helm takes it: repository URL plus chart, or a full OCI reference. */
export function chartRef(chart: ChartConfig): { chart: string; repositoryOpts?: { repo: string } } {
    if (chart.repository.startsWith("oci://")) {
        return { chart: `${chart.repository.replace(/\/$/, "")}/${chart.chart}` };
    }
    return { chart: chart.chart, repositoryOpts: { repo: chart.repository } };
}

/**
 * Resource options every Helm release gets. The only replacement of a
 * release is a move to another namespace (pulumi-kubernetes replaces on a
 * changed name or namespace, and the release names are fixed here); done
 * create-first, the new release's cluster-scoped objects fail Helm's
 * ownership check against the old one, so the old one is uninstalled first.
 * index.ts refuses such a move unless lifecycle.allowNamespaceMove names it.
 */
export const RELEASE_OPTIONS = { deleteBeforeReplace: true } as const;

/**
 * Arguments for a helm.v3.Release: pinned chart, fixed release name (so an
 * existing installation is adopted rather than duplicated) and the final
 * values, which the component's values builder has already merged with the
 * user's escape hatch.
 */
export function releaseArgs(releaseName: string, chart: ChartConfig, values: Values): k8s.helm.v3.ReleaseArgs {
    return {
        name: releaseName,
        ...chartRef(chart),
        version: chart.version,
        namespace: chart.namespace,
        createNamespace: chart.namespace !== "kube-system",
        values: secretLeaves(values) as Values,
        // Helm waits for the workloads to be ready, so the next step starts on a running controller.
        skipAwait: false,
        timeout: 600,
        atomic: false,
    };
}
