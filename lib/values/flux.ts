import type { ClusterConfig } from "../config/cluster";
import type { FluxConfig, FluxPhaseConfig, KustomizationConfig } from "../config/flux";
import { mergeValues, Values } from "../merge";

// Pure builders for the Flux objects; the Flux component only registers them.

export const GIT_REPOSITORY_NAME = "platform";

export interface K8sObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: Values;
}

/** flux-operator chart values; `flux.values` merged last. */
export function fluxOperatorValues(flux: FluxConfig): Values {
    return mergeValues({}, flux.values);
}

/**
 * The FluxInstance. Its cluster domain must be the cluster's: left at
 * cluster.local on a custom domain, the controllers cannot find each other.
 */
export function fluxInstance(cluster: ClusterConfig, flux: FluxConfig): K8sObject {
    return {
        apiVersion: "fluxcd.controlplane.io/v1",
        kind: "FluxInstance",
        metadata: { name: "flux", namespace: flux.namespace },
        spec: {
            distribution: { version: flux.distribution.version, registry: flux.distribution.registry },
            components: ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"],
            cluster: { type: "kubernetes", domain: cluster.dnsDomain, networkPolicy: true },
        },
    };
}

export function gitRepository(flux: FluxConfig): K8sObject {
    return {
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "GitRepository",
        metadata: { name: GIT_REPOSITORY_NAME, namespace: flux.namespace },
        spec: {
            url: flux.source.url,
            ref: { branch: flux.source.branch },
            interval: flux.source.interval,
        },
    };
}

/** Flux's own dependsOn: the previous phase's Kustomizations plus any named extras. */
export function kustomizationDependencies(phases: FluxPhaseConfig[], phaseIndex: number, k: KustomizationConfig): string[] {
    const previous = phaseIndex > 0 ? phases[phaseIndex - 1].kustomizations.map((p) => p.name) : [];
    return [...new Set([...previous, ...k.dependsOn])];
}

export function kustomization(flux: FluxConfig, phaseIndex: number, k: KustomizationConfig): K8sObject {
    const spec: Values = {
        interval: k.interval,
        path: k.path,
        prune: k.prune,
        wait: k.wait,
        sourceRef: { kind: "GitRepository", name: GIT_REPOSITORY_NAME },
    };
    const deps = kustomizationDependencies(flux.phases, phaseIndex, k);
    if (deps.length) spec.dependsOn = deps.map((name) => ({ name }));
    if (k.timeout) spec.timeout = k.timeout;
    if (k.retryInterval) spec.retryInterval = k.retryInterval;
    if (k.healthChecks.length) spec.healthChecks = k.healthChecks;
    return {
        apiVersion: "kustomize.toolkit.fluxcd.io/v1",
        kind: "Kustomization",
        metadata: { name: k.name, namespace: flux.namespace, labels: { "talos-platform/flux-phase": flux.phases[phaseIndex].name } },
        spec,
    };
}
