import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ownedComponents, Ownership } from "../lib/checks/gitops-owners";
import { PlatformConfigInput, resolveSection } from "../lib/config";
import type { ClusterConfig } from "../lib/config/cluster";
import { secretConfig } from "../lib/config/stack";
import { releaseArgs, RELEASE_OPTIONS } from "../lib/helm";
import { typeToken } from "../lib/phases";
import {
    DISTRIBUTION_CRDS,
    fluxDistribution,
    FLUX_DELETE_TIMEOUT,
    FLUX_OPERATOR_RELEASE,
    fluxInstance,
    fluxOperatorValues,
    gitCredentialsData,
    gitCredentialsSecretName,
    gitRepository,
    K8sObject,
    OPERATOR_CRDS,
} from "../lib/values/flux";
import { CrdWait, CrdWaitSettings } from "./crd-wait";
import { FluxPhase } from "./flux-phase";

export interface FluxArgs {
    /** Talos facts: the cluster domain reaches the Flux controllers. */
    cluster: ClusterConfig;
    /**
     * Operator chart, distribution, Git source and Kustomization phases (`talos-platform:flux`).
     * With `sync`, the FluxInstance owns the root GitRepository and Kustomization
     * and the phases are only the graph expected in Git.
     * @default flux-operator 0.58.1, Flux 2.9.4, no Git source (required), no Kustomizations, no sync
     */
    config?: PlatformConfigInput["flux"];
    /** How long to wait for the operator's and the distribution's CRDs, and the cluster's identity. @default 2m each, polled every 2s */
    crdWait?: CrdWaitSettings;
    /**
     * Leaves the FluxInstance in the cluster when Pulumi deletes it (`retainOnDelete`). Deleting it
     * makes the Flux Operator uninstall Flux: its controllers, then its CRDs, and with them every
     * Kustomization, GitRepository and HelmRelease in the cluster (their finalizers removed first, so
     * what they applied stays, unmanaged). Kept, Flux runs on without the operator.
     * @default true
     */
    keepFluxOnDelete?: boolean;
    /**
     * Who deploys what Flux must leave alone (`ownershipOf(config)`).
     * @default from `cluster` alone: ingress-nginx deployed here, no Gateway API CRDs
     */
    ownership?: Ownership;
}

/**
 * The GitOps phase: Flux through the Flux Operator, its Git source, and the
 * Kustomizations in ordered Flux phases. What this program deploys itself
 * stays out of Flux; the component's inputs say which, for the plan, with
 * who owns the Kustomizations and which Flux release the operator installs.
 *
 * Two ownership modes. By default this program creates the GitRepository and
 * every Kustomization of `phases`. With `sync`, the FluxInstance's .spec.sync
 * creates the root GitRepository and Kustomization (the Flux Operator's own
 * bootstrap), the repository holds every other Kustomization, and `phases`
 * registers nothing: the gitops gate checks that graph in the cluster.
 */
export class Flux extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;
    readonly phases: FluxPhase[];

    constructor(name: string, args: FluxArgs, opts?: pulumi.ComponentResourceOptions) {
        // For the plan: what Flux leaves alone on this cluster, and who deploys it instead.
        const excludedFromFlux = ownedComponents(args.ownership ?? args.cluster).map(({ component, phase, covers, owner }) => ({
            component,
            phase,
            covers,
            owner,
        }));
        const config = resolveSection("flux", args.config);
        const fluxOwnership = config.sync
            ? { kustomizations: "git", root: config.source.name, path: config.sync.path }
            : { kustomizations: "talos-platform" };
        super(typeToken("gitops", "Flux"), name, { excludedFromFlux, fluxOwnership, fluxDistribution: fluxDistribution(config) }, opts);
        const context = args.cluster.kubeContext;
        const cr = (role: string, obj: K8sObject, dependsOn: pulumi.Resource[], extra: pulumi.CustomResourceOptions = {}) =>
            new k8s.apiextensions.CustomResource(`${name}-${role}`, obj, { parent: this, dependsOn, ...extra });

        this.release = new k8s.helm.v3.Release(`${name}-operator`, releaseArgs(FLUX_OPERATOR_RELEASE, config, fluxOperatorValues(config)), {
            parent: this,
            ...RELEASE_OPTIONS,
        });
        // The chart installs the FluxInstance CRD and creates the namespace.
        const operatorInstalled = [this.release];
        const operatorCrds = new CrdWait(
            `${name}-operator-crds`,
            { phase: "gitops", crds: OPERATOR_CRDS, after: operatorInstalled, context, ...args.crdWait },
            { parent: this },
        );
        // The Secret the Git source reads, when it needs credentials; the chart made its namespace.
        const gitCredentials = (): pulumi.Resource[] => {
            const data = gitCredentialsData(config.source, secretConfig);
            if (!data) return [];
            const metadata = { name: gitCredentialsSecretName(config.source), namespace: config.namespace };
            return [
                new k8s.core.v1.Secret(
                    `${name}-git-credentials`,
                    { metadata, stringData: data },
                    { parent: this, dependsOn: operatorInstalled },
                ),
            ];
        };

        if (config.sync) {
            // The instance's sync clones with the Secret, and the instance is Ready only once its root Kustomization has applied.
            cr("instance", fluxInstance(args.cluster, config), [operatorCrds, ...gitCredentials()], {
                retainOnDelete: args.keepFluxOnDelete ?? true,
            });
            // The graph the gitops gate expects in Git; nothing here creates or deletes a Kustomization.
            let previous: pulumi.Resource[] = [];
            this.phases = config.phases.map((phase, index) => {
                const p = new FluxPhase(
                    `${name}-phase-${phase.name}`,
                    { flux: config, index, namePrefix: name, definedInGit: true },
                    { parent: this, dependsOn: previous },
                );
                previous = [p];
                return p;
            });
            this.registerOutputs({});
            return;
        }

        const instance = cr("instance", fluxInstance(args.cluster, config), [operatorCrds], {
            retainOnDelete: args.keepFluxOnDelete ?? true,
        });
        // The GitRepository and Kustomization CRDs come from the distribution the instance installs.
        const distributionCrds = new CrdWait(
            `${name}-crds`,
            { phase: "gitops", crds: DISTRIBUTION_CRDS, after: [instance], context, ...args.crdWait },
            { parent: this },
        );

        // The source reads its Secret on its first fetch.
        const sourceReady = [distributionCrds, ...gitCredentials()];
        // source-controller's finalizer holds a deleted GitRepository until it has cleaned up.
        const source = cr("source", gitRepository(config), sourceReady, { customTimeouts: { delete: FLUX_DELETE_TIMEOUT } });

        // Each Flux phase waits for the previous one's critical Kustomizations to be Ready; the first for the fetched source.
        let previous: pulumi.Resource[] = [source];
        this.phases = config.phases.map((phase, index) => {
            const p = new FluxPhase(
                `${name}-phase-${phase.name}`,
                { flux: config, index, namePrefix: name },
                { parent: this, dependsOn: previous },
            );
            // The whole phase when all of it is a barrier; else its critical Kustomizations, or the barrier before it when it has none.
            if (p.critical.length === p.kustomizations.length) previous = [p];
            else if (p.critical.length) previous = p.critical;
            return p;
        });
        this.registerOutputs({});
    }
}
