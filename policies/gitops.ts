import { ResourceValidationPolicy } from "@pulumi/policy";
import { ownerOf, twoOwnersMessage, URL_CREDENTIALS_MESSAGE, urlHasCredentials } from "../lib/checks/gitops";
import { isPinnedVersion, PINNED_VERSION_FIX } from "../lib/config/common";
import { WAIT_FOR_READY, waitForReadyProblem } from "../lib/values/objects";
import { validateCustomResourceOfType } from "./kit";

interface FluxObject {
    metadata?: { name?: string; annotations?: Record<string, string> };
    spec?: {
        path?: string;
        url?: string;
        cluster?: { domain?: string };
        distribution?: { version?: string };
    };
}

const FLUX_INSTANCE = ["fluxcd.controlplane.io/v1", "FluxInstance"] as const;
const GIT_REPOSITORY = ["source.toolkit.fluxcd.io/v1", "GitRepository"] as const;
const KUSTOMIZATION = ["kustomize.toolkit.fluxcd.io/v1", "Kustomization"] as const;

const [waitKey, waitValue] = Object.entries(WAIT_FOR_READY)[0];

/** Phase ordering is only real if Pulumi waits for Flux to say Ready before starting what depends on it. */
export const fluxWaitsForReady: ResourceValidationPolicy = {
    name: "flux-waits-for-ready",
    description: `FluxInstances, GitRepositories and Kustomizations carry ${waitKey}: ${waitValue}.`,
    enforcementLevel: "mandatory",
    validateResource: [FLUX_INSTANCE, GIT_REPOSITORY, KUSTOMIZATION].map(([apiVersion, kind]) =>
        validateCustomResourceOfType<FluxObject>(apiVersion, kind, (obj, _args, report) => {
            const problem = waitForReadyProblem({ kind, ...obj });
            if (problem) report(problem);
        }),
    ),
};

/** The operator defaults the domain to cluster.local, which breaks Flux on a cluster with a custom dnsDomain. */
export const fluxInstanceClusterDomain: ResourceValidationPolicy = {
    name: "flux-instance-cluster-domain",
    description: "The FluxInstance names the cluster's DNS domain instead of relying on the cluster.local default.",
    enforcementLevel: "mandatory",
    validateResource: validateCustomResourceOfType<FluxObject>(...FLUX_INSTANCE, (obj, _args, report) => {
        if (!obj.spec?.cluster?.domain) {
            report(
                "the FluxInstance sets no spec.cluster.domain, so the operator assumes cluster.local; on a cluster with another " +
                    "domain the Flux controllers cannot reach each other: set it to the cluster's dnsDomain.",
            );
        }
    }),
};

export const fluxDistributionPinned: ResourceValidationPolicy = {
    name: "flux-distribution-pinned",
    description: "The FluxInstance pins an exact Flux version.",
    enforcementLevel: "mandatory",
    validateResource: validateCustomResourceOfType<FluxObject>(...FLUX_INSTANCE, (obj, _args, report) => {
        const version = obj.spec?.distribution?.version;
        if (!isPinnedVersion(version)) {
            report(
                `the FluxInstance's distribution version ${JSON.stringify(version ?? null)} is not pinned, so the operator would upgrade Flux on its own: ${PINNED_VERSION_FIX}.`,
            );
        }
    }),
};

/** Same predicate and message as the config check flux-single-owner. */
export const fluxSingleOwner: ResourceValidationPolicy = {
    name: "flux-single-owner",
    description: "No Kustomization stands for a component this program deploys itself.",
    enforcementLevel: "mandatory",
    validateResource: validateCustomResourceOfType<FluxObject>(...KUSTOMIZATION, (obj, _args, report) => {
        for (const [field, value] of [
            ["name", obj.metadata?.name],
            ["path", obj.spec?.path],
        ] as const) {
            const owner = value ? ownerOf(value) : undefined;
            if (value && owner) return report(twoOwnersMessage(field, value, owner) + ".");
        }
    }),
};

/** Same predicate and message as the config check on flux.source.url. */
export const fluxGitUrlWithoutCredentials: ResourceValidationPolicy = {
    name: "flux-git-url-without-credentials",
    description: "GitRepository URLs carry no credentials; those belong in a Secret named by spec.secretRef.",
    enforcementLevel: "mandatory",
    validateResource: validateCustomResourceOfType<FluxObject>(...GIT_REPOSITORY, (obj, _args, report) => {
        if (obj.spec?.url && urlHasCredentials(obj.spec.url)) {
            report(
                `GitRepository '${obj.metadata?.name ?? "?"}': the URL ${URL_CREDENTIALS_MESSAGE}; reference a Secret with spec.secretRef.`,
            );
        }
    }),
};

export const gitopsPolicies: ResourceValidationPolicy[] = [
    fluxWaitsForReady,
    fluxInstanceClusterDomain,
    fluxDistributionPinned,
    fluxSingleOwner,
    fluxGitUrlWithoutCredentials,
];
