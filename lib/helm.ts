import * as k8s from "@pulumi/kubernetes";
import type { ChartConfig } from "./config/common";
import type { Values } from "./merge";

/** The chart reference as Helm takes it: repository URL plus chart, or a full OCI reference. */
export function chartRef(chart: ChartConfig): { chart: string; repositoryOpts?: { repo: string } } {
    if (chart.repository.startsWith("oci://")) {
        return { chart: `${chart.repository.replace(/\/$/, "")}/${chart.chart}` };
    }
    return { chart: chart.chart, repositoryOpts: { repo: chart.repository } };
}

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
        values,
        // Helm waits for the workloads to be ready, so the next step starts on a running controller.
        skipAwait: false,
        timeout: 600,
        atomic: false,
    };
}
