import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { Phase, typeToken } from "../lib/phases";

export interface GateArgs {
    /** The phase this gate closes; the next phase's resources depend on it. */
    phase: Phase;
    /** The phase's components. The check runs only after they are deployed. */
    after: pulumi.Resource[];
    /**
     * Inputs whose change re-runs the check. A gate re-checks when its
     * phase changes, not on every `pulumi up`.
     * @default [] (runs once, when first created)
     */
    triggers?: pulumi.Input<unknown>[];
}

/**
 * A readiness gate between two phases of the recovery order. The next phase
 * depends on this component, so `pulumi up` cannot start it before the
 * check below has passed.
 */
export class Gate extends pulumi.ComponentResource {
    readonly phase: Phase;

    constructor(name: string, args: GateArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken(args.phase, "Gate"), name, {}, opts);
        this.phase = args.phase;
        const triggers = args.triggers ?? [];

        // Placeholder check: it orders the phases today; the readiness checks
        // that replace it come with the gate checker.
        new command.local.Command(
            `${name}-check`,
            {
                create: `echo "talos-platform: ${args.phase} gate reached (readiness checks not yet wired)"`,
                triggers,
            },
            { parent: this, dependsOn: args.after },
        );
        this.registerOutputs({});
    }
}
