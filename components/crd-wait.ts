import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { checkerCommand, checkerFlags } from "../lib/gates/command";
import { Phase, typeToken } from "../lib/phases";

/** How long a CRD wait may take and how often it polls; the stack's gates settings. */
export interface CrdWaitTiming {
    /** @default 2m */
    timeout?: string;
    /** @default 2s */
    pollInterval?: string;
}

/** A CRD wait's timing, and the cluster it checks. */
export interface CrdWaitSettings extends CrdWaitTiming {
    /**
     * The cluster's identity as a trigger (identityTrigger() in lib/lifecycle/binding.ts): a
     * rebuilt cluster, whose CRDs are gone, re-runs the wait.
     * @default none: a rebuilt cluster does not re-run it
     */
    clusterIdentity?: string;
}

export interface CrdWaitArgs extends CrdWaitSettings {
    /** The phase whose objects need these CRDs. */
    phase: Phase;
    /** CRD names (plural.group), e.g. ciliumloadbalancerippools.cilium.io. */
    crds: string[];
    /** What installs the CRDs: a release, or an operator that registers them at start-up. */
    after: pulumi.Resource[];
    /**
     * The version of what installs them, e.g. the chart version: a new one
     * may bring new CRD versions, so it re-runs the wait.
     * @default none: only a changed CRD list re-runs it
     */
    version?: string;
    /** kubeconfig context. @default the current context */
    context?: string;
}

/**
 * Waits until CRDs exist and are Established. Some operators (Cilium's,
 * Flux's) register their CRDs only once running, after their release is
 * already "installed"; objects of those kinds must wait for this instead.
 */
export class CrdWait extends pulumi.ComponentResource {
    readonly crds: string[];

    constructor(name: string, args: CrdWaitArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken(args.phase, "CrdWait"), name, {}, opts);
        this.crds = [...args.crds].sort();
        const flags = checkerFlags({ context: args.context, timeout: args.timeout ?? "2m", pollInterval: args.pollInterval ?? "2s" });
        new command.local.Command(
            `${name}-check`,
            {
                create: checkerCommand(["crds", ...this.crds.flatMap((c) => ["--crd", c]), ...flags]),
                // A changed CRD list, version or cluster re-runs the wait; an unchanged one does not.
                triggers: [
                    ...this.crds,
                    ...(args.version === undefined ? [] : [args.version]),
                    ...(args.clusterIdentity === undefined ? [] : [args.clusterIdentity]),
                ],
            },
            { parent: this, dependsOn: args.after },
        );
        this.registerOutputs({ crds: this.crds });
    }
}
