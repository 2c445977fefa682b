import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { FluxConfig } from "../lib/config/flux";
import { SUBPHASE_INPUT, typeToken } from "../lib/phases";
import { FLUX_DELETE_TIMEOUT, kustomization, phaseOrder, previousPhaseNames } from "../lib/values/flux";

export interface FluxPhaseArgs {
    /** The resolved Flux section. */
    flux: FluxConfig;
    /** Which of `flux.phases` this is. */
    index: number;
    /**
     * Prefix of the Kustomizations' resource names: the Flux component's
     * name. A resource's URN holds its parents' types, never their names, so
     * `${namePrefix}-ks-<name>` keeps a Kustomization's URN when it moves to
     * another phase. Named after this phase instead, a move would delete the
     * Kustomization, and Flux would prune everything it had applied.
     */
    namePrefix: string;
    /**
     * The Kustomizations live in Git, applied by the FluxInstance's sync: the
     * component only records the phase for the plan and registers none.
     * @default false (this component creates and waits for each Kustomization)
     */
    definedInGit?: boolean;
}

/**
 * One Flux phase of the gitops phase: its Kustomizations, each critical one
 * waiting to be Ready. Whatever depends on this component waits for all of
 * them (a non-critical one only to be created); its own dependsOn holds them
 * back until the previous phase is Ready.
 */
export class FluxPhase extends pulumi.ComponentResource {
    readonly kustomizations: k8s.apiextensions.CustomResource[];
    /** The Kustomizations later phases wait for (all but those marked `critical: false`). */
    readonly critical: k8s.apiextensions.CustomResource[];

    constructor(name: string, args: FluxPhaseArgs, opts?: pulumi.ComponentResourceOptions) {
        const phase = args.flux.phases[args.index];
        // The plan reads the sub-phase's name from this input.
        const inputs = {
            [SUBPHASE_INPUT]: phase.name,
            kustomizations: phase.kustomizations.map((k) => k.name),
            ...(args.definedInGit ? { definedIn: "git" } : {}),
        };
        super(typeToken("gitops", "FluxPhase"), name, inputs, opts);
        const previous = previousPhaseNames(args.flux.phases, args.index);
        if (args.definedInGit) {
            this.kustomizations = [];
            this.critical = [];
            this.registerOutputs({});
            return;
        }

        const created = new Map<string, k8s.apiextensions.CustomResource>();
        for (const k of phaseOrder(phase)) {
            // Flux holds a Kustomization back until those it names are Ready;
            // Pulumi does the same within the phase, so a failure stops here.
            const samePhase = k.dependsOn.map((d) => created.get(d)).filter((r): r is k8s.apiextensions.CustomResource => !!r);
            const ks = new k8s.apiextensions.CustomResource(
                `${args.namePrefix}-ks-${k.name}`,
                kustomization(args.flux, args.index, previous, k),
                // kustomize-controller's finalizer holds a deleted Kustomization until it has applied the
                // deletionPolicy; the ready timeout (pulumi.com/timeoutSeconds) would be the delete timeout too.
                { parent: this, dependsOn: samePhase, customTimeouts: { delete: FLUX_DELETE_TIMEOUT } },
            );
            created.set(k.name, ks);
        }
        this.kustomizations = [...created.values()];
        this.critical = phase.kustomizations.filter((k) => k.critical).map((k) => created.get(k.name)!);
        this.registerOutputs({});
    }
}
