import { z } from "zod";
import { chartFields, duration, k8sName, must, pinnedVersion } from "./common";

const healthCheck = z.strictObject({
    apiVersion: z.string().min(1).optional(),
    kind: z.string().min(1),
    name: z.string().min(1),
    namespace: z.string().min(1).optional(),
});

export const kustomizationSchema = z.strictObject({
    name: k8sName,
    /** Path in the Git repository, e.g. ./infrastructure/longhorn. */
    path: must(
        z.string(),
        (v) => v.startsWith("./") || v === ".",
        "is not a repository-relative path",
        "start the path with ./, e.g. ./infrastructure/longhorn",
    ),
    /** Extra dependencies by Kustomization name, on top of the previous phase. @default [] */
    dependsOn: z.array(z.string()).default([]),
    /** @default 10m */
    interval: duration.default("10m"),
    /** @default Flux's default (the interval) */
    timeout: duration.optional(),
    /** @default Flux's default (the interval) */
    retryInterval: duration.optional(),
    /** Delete what was removed from Git. @default true */
    prune: z.boolean().default(true),
    /** Ready only when everything it applied is ready. @default true */
    wait: z.boolean().default(true),
    healthChecks: z.array(healthCheck).default([]),
});
export type KustomizationConfig = z.output<typeof kustomizationSchema>;

export const fluxPhaseSchema = z.strictObject({
    name: k8sName,
    kustomizations: z.array(kustomizationSchema).min(1),
});
export type FluxPhaseConfig = z.output<typeof fluxPhaseSchema>;

export const fluxSchema = z.strictObject({
    /** The flux-operator chart. */
    ...chartFields({
        chart: "flux-operator",
        repository: "oci://ghcr.io/controlplaneio-fluxcd/charts",
        version: "0.58.1",
        namespace: "flux-system",
    }),
    /** The Flux distribution the FluxInstance installs. */
    distribution: z
        .strictObject({
            /** @default 2.9.4 */
            version: pinnedVersion.default("2.9.4"),
            /** @default ghcr.io/fluxcd */
            registry: z.string().min(1).default("ghcr.io/fluxcd"),
        })
        .prefault({}),
    /** The Git source every Kustomization reads. */
    source: z
        .strictObject({
            /** @default https://github.com/geoffdavis/talos-gitops (the report's repository) */
            url: z.string().min(1).default("https://github.com/geoffdavis/talos-gitops"),
            /** @default main */
            branch: z.string().min(1).default("main"),
            /** @default 1m */
            interval: duration.default("1m"),
        })
        .prefault({}),
    /** Kustomizations in ordered phases: each phase waits for the previous one. @default [] */
    phases: z.array(fluxPhaseSchema).default([]),
});
export type FluxConfig = z.output<typeof fluxSchema>;
