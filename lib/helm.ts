import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { credentialKind } from "./checks/values-secrets";
import type { ChartConfig } from "./config/common";
import type { Values } from "./merge";

export { helmFullname, truncName } from "./helm-names";

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

/**
 * The values with every likely credential made a Pulumi secret, so that one
 * the check could only warn about is at least encrypted in the state and
 * hidden in previews and the plan.
 */
export function secretLeaves(value: unknown, key = ""): unknown {
    if (typeof value === "string") return credentialKind(key, value) ? pulumi.secret(value) : value;
    if (Array.isArray(value)) return value.map((v) => secretLeaves(v, key));
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, secretLeaves(v, k)]));
    return value;
}
