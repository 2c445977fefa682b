import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfigInput, resolveSection } from "../lib/config";
import type { ClusterConfig } from "../lib/config/cluster";
import { releaseArgs } from "../lib/helm";
import { typeToken } from "../lib/phases";
import { fluxInstance, fluxOperatorValues, gitRepository, K8sObject, kustomization } from "../lib/values/flux";

export interface FluxArgs {
    /** Talos facts: the cluster domain reaches the Flux controllers. */
    cluster: ClusterConfig;
    /**
     * Operator chart, distribution, Git source and Kustomization phases (`talos-platform:flux`).
     * @default flux-operator 0.58.1, Flux 2.9.4, the report's repository on main, no Kustomizations
     */
    config?: PlatformConfigInput["flux"];
}

/** The GitOps phase: Flux through the Flux Operator, and its Kustomizations in phases. */
export class Flux extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: FluxArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("gitops", "Flux"), name, {}, opts);
        const config = resolveSection("flux", args.config);
        const cr = (role: string, obj: K8sObject, dependsOn: pulumi.Resource[]) =>
            new k8s.apiextensions.CustomResource(`${name}-${role}`, obj, { parent: this, dependsOn });

        this.release = new k8s.helm.v3.Release(`${name}-operator`, releaseArgs("flux-operator", config, fluxOperatorValues(config)), {
            parent: this,
        });
        // The operator's CRDs exist only once its release is installed.
        const operatorReady = [this.release];
        const instance = cr("instance", fluxInstance(args.cluster, config), operatorReady);
        // GitRepository and Kustomization CRDs come from the distribution the instance installs.
        const fluxReady = [instance];
        const source = cr("source", gitRepository(config), fluxReady);

        let previousPhase: pulumi.Resource[] = [source];
        config.phases.forEach((phase, i) => {
            const current = phase.kustomizations.map((k) => cr(`ks-${k.name}`, kustomization(config, i, k), previousPhase));
            previousPhase = current;
        });
        this.registerOutputs({});
    }
}
