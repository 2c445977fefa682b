import { ResourceValidationPolicy } from "@pulumi/policy";
import { URL_CREDENTIALS_MESSAGE, urlHasCredentials } from "../lib/checks/gitops";
import { ownedComponents, Ownership, ownershipOf, twoOwners, twoOwnersMessage } from "../lib/checks/gitops-owners";
import type { PlatformConfig } from "../lib/config";
import { FLUX_VERSION_FIX, isFluxVersion } from "../lib/config/flux";
import { CRITICAL_ANNOTATION, NOT_OWNED_BY_PLATFORM } from "../lib/values/flux";
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
    description: `FluxInstances, GitRepositories and Kustomizations carry ${waitKey}: ${waitValue}, except Kustomizations marked ${CRITICAL_ANNOTATION}: "false", which nothing waits for.`,
    enforcementLevel: "mandatory",
    validateResource: [FLUX_INSTANCE, GIT_REPOSITORY, KUSTOMIZATION].map(([apiVersion, kind]) =>
        validateCustomResourceOfType<FluxObject>(apiVersion, kind, (obj, _args, report) => {
            if (kind === "Kustomization" && obj.metadata?.annotations?.[CRITICAL_ANNOTATION] === "false") return;
            const problem = waitForReadyProblem({ kind, ...obj });
            if (problem) report(problem);
        }),
    ),
};

/** The policy config of flux-instance-cluster-domain: the cluster's cluster.dnsDomain. */
export interface ClusterDomainConfig {
    dnsDomain?: string;
}

/**
 * The operator defaults the domain to cluster.local, which breaks Flux on a
 * cluster with a custom dnsDomain. Given the cluster's domain as policy
 * config (the offline plan passes the stack's), the policy compares against
 * it; without, it can only require that some domain is set.
 */
export const fluxInstanceClusterDomain: ResourceValidationPolicy = {
    name: "flux-instance-cluster-domain",
    description:
        "The FluxInstance names the cluster's DNS domain: the policy config's dnsDomain when given, otherwise any domain rather than the operator's cluster.local default.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: { dnsDomain: { type: "string", description: "The cluster's DNS domain (Talos cluster.network.dnsDomain)." } },
    },
    validateResource: validateCustomResourceOfType<FluxObject>(...FLUX_INSTANCE, (obj, args, report) => {
        const domain = obj.spec?.cluster?.domain;
        const { dnsDomain } = args.getConfig<ClusterDomainConfig>();
        if (!domain) {
            report(
                "the FluxInstance sets no spec.cluster.domain, so the operator assumes cluster.local; on a cluster with another " +
                    `domain the Flux controllers cannot reach each other: set it to the cluster's dnsDomain${dnsDomain ? ` (${dnsDomain})` : ""}.`,
            );
        } else if (dnsDomain && domain !== dnsDomain) {
            report(
                `the FluxInstance's spec.cluster.domain is '${domain}', but the cluster's dnsDomain is '${dnsDomain}': ` +
                    "the Flux controllers would look each other up in the wrong domain; set it to the cluster's dnsDomain.",
            );
        }
    }),
};

export const fluxDistributionPinned: ResourceValidationPolicy = {
    name: "flux-distribution-pinned",
    description: "The FluxInstance pins an exact Flux version, or at most a patch wildcard (MAJOR.MINOR.x).",
    enforcementLevel: "mandatory",
    validateResource: validateCustomResourceOfType<FluxObject>(...FLUX_INSTANCE, (obj, _args, report) => {
        const version = obj.spec?.distribution?.version;
        if (!isFluxVersion(version)) {
            report(
                `the FluxInstance's distribution version ${JSON.stringify(version ?? null)} is not pinned, so the operator would upgrade Flux on its own: ${FLUX_VERSION_FIX}.`,
            );
        }
    }),
};

/**
 * Same predicate and message as the config check flux-single-owner. Who
 * runs CoreDNS comes from the policy config's coreDnsDisabled (the offline
 * plan passes the stack's cluster.coreDnsDisabled); without, Talos' default:
 * Talos runs it. Likewise ingressNginx (default: this program deploys it)
 * and gatewayApiCrds (default: it does not install them).
 */
export const fluxSingleOwner: ResourceValidationPolicy = {
    name: "flux-single-owner",
    description: "No Kustomization stands for a component this program or Talos deploys, unless it is marked as not owned by the platform.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            coreDnsDisabled: { type: "boolean", description: "Talos cluster.coreDNS.disabled: this program deploys CoreDNS." },
            ingressNginx: { type: "boolean", description: "ingressNginx.enabled: this program deploys ingress-nginx (the default)." },
            gatewayApiCrds: {
                type: "boolean",
                description: "gateway.enabled with gateway.gatewayApi.crds install: this program installs the Gateway API CRDs.",
            },
        },
    },
    validateResource: validateCustomResourceOfType<FluxObject>(...KUSTOMIZATION, (obj, args, report) => {
        if (obj.metadata?.annotations?.[NOT_OWNED_BY_PLATFORM] === "true") return;
        const { coreDnsDisabled = false, ingressNginx = true, gatewayApiCrds = false } = args.getConfig<Partial<Ownership>>();
        const hit = twoOwners(obj.metadata?.name, obj.spec?.path, ownedComponents({ coreDnsDisabled, ingressNginx, gatewayApiCrds }));
        if (hit) report(twoOwnersMessage(hit) + ".");
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

/** The config of the gitops policies for a stack, as `pulumi preview --policy-pack-config` takes it. */
export function gitopsPolicyConfig(config: PlatformConfig): Record<string, Record<string, unknown>> {
    return {
        [fluxInstanceClusterDomain.name]: { dnsDomain: config.cluster.dnsDomain } satisfies ClusterDomainConfig,
        [fluxSingleOwner.name]: ownershipOf(config) satisfies Ownership,
    };
}

export const gitopsPolicies: ResourceValidationPolicy[] = [
    fluxWaitsForReady,
    fluxInstanceClusterDomain,
    fluxDistributionPinned,
    fluxSingleOwner,
    fluxGitUrlWithoutCredentials,
];
