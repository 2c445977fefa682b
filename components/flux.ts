import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { OWNED_COMPONENTS } from "../lib/checks/gitops";
import { PlatformConfigInput, resolveSection } from "../lib/config";
import type { ClusterConfig } from "../lib/config/cluster";
import type { GitSourceConfig } from "../lib/config/flux";
import { secretConfig } from "../lib/config/secrets";
import { releaseArgs } from "../lib/helm";
import { typeToken } from "../lib/phases";
import {
    DISTRIBUTION_CRDS,
    fluxInstance,
    fluxOperatorValues,
    gitCredentialsSecretName,
    gitRepository,
    K8sObject,
    OPERATOR_CRDS,
} from "../lib/values/flux";
import { CrdWait, CrdWaitTiming } from "./crd-wait";
import { FluxPhase } from "./flux-phase";

export interface FluxArgs {
    /** Talos facts: the cluster domain reaches the Flux controllers. */
    cluster: ClusterConfig;
    /**
     * Operator chart, distribution, Git source and Kustomization phases (`talos-platform:flux`).
     * @default flux-operator 0.58.1, Flux 2.9.4, the report's repository on main, no Kustomizations
     */
    config?: PlatformConfigInput["flux"];
    /** How long to wait for the operator's and the distribution's CRDs. @default 2m each, polled every 2s */
    crdWait?: CrdWaitTiming;
}

/** The Secret's data: only ever Pulumi secrets and public host keys. */
function credentialData(source: GitSourceConfig): Record<string, pulumi.Input<string>> | undefined {
    if (source.httpsToken) return { username: source.httpsToken.username, password: secretConfig(source.httpsToken.tokenSecret) };
    if (source.sshKey) return { identity: secretConfig(source.sshKey.privateKeySecret), known_hosts: source.sshKey.knownHosts };
    return undefined;
}

/**
 * The GitOps phase: Flux through the Flux Operator, its Git source, and the
 * Kustomizations in ordered Flux phases. What this program deploys itself
 * stays out of Flux; the component's inputs say which, for the plan.
 */
export class Flux extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;
    readonly phases: FluxPhase[];

    constructor(name: string, args: FluxArgs, opts?: pulumi.ComponentResourceOptions) {
        const excludedFromFlux = OWNED_COMPONENTS.map(({ component, phase, covers }) => ({ component, phase, covers }));
        super(typeToken("gitops", "Flux"), name, { excludedFromFlux }, opts);
        const config = resolveSection("flux", args.config);
        const context = args.cluster.kubeContext;
        const cr = (role: string, obj: K8sObject, dependsOn: pulumi.Resource[]) =>
            new k8s.apiextensions.CustomResource(`${name}-${role}`, obj, { parent: this, dependsOn });

        this.release = new k8s.helm.v3.Release(`${name}-operator`, releaseArgs("flux-operator", config, fluxOperatorValues(config)), {
            parent: this,
        });
        // The chart installs the FluxInstance CRD and creates the namespace.
        const operatorInstalled = [this.release];
        const operatorCrds = new CrdWait(
            `${name}-operator-crds`,
            { phase: "gitops", crds: OPERATOR_CRDS, after: operatorInstalled, context, ...args.crdWait },
            { parent: this },
        );
        const instance = cr("instance", fluxInstance(args.cluster, config), [operatorCrds]);
        // The GitRepository and Kustomization CRDs come from the distribution the instance installs.
        const distributionCrds = new CrdWait(
            `${name}-crds`,
            { phase: "gitops", crds: DISTRIBUTION_CRDS, after: [instance], context, ...args.crdWait },
            { parent: this },
        );

        const data = credentialData(config.source);
        const credentials = data
            ? new k8s.core.v1.Secret(
                  `${name}-git-credentials`,
                  { metadata: { name: gitCredentialsSecretName(config.source), namespace: config.namespace }, stringData: data },
                  { parent: this, dependsOn: operatorInstalled },
              )
            : undefined;
        // The source reads its Secret on its first fetch.
        const sourceReady = [distributionCrds, ...(credentials ? [credentials] : [])];
        const source = cr("source", gitRepository(config), sourceReady);

        // Each Flux phase waits for the previous one's Kustomizations to be Ready; the first for the fetched source.
        let previous: pulumi.Resource[] = [source];
        this.phases = config.phases.map((phase, index) => {
            const p = new FluxPhase(
                `${name}-phase-${phase.name}`,
                { flux: config, index, namePrefix: name },
                { parent: this, dependsOn: previous },
            );
            previous = [p];
            return p;
        });
        this.registerOutputs({});
    }
}
