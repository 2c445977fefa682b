import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { checkerCommand } from "../lib/gates/command";
import { gateFlags, GateOptions } from "../lib/gates/options";
import { Phase, typeToken } from "../lib/phases";

export interface GateArgs {
    /** The phase this gate closes; the next phase's resources depend on it. */
    phase: Phase;
    /** The phase's components. The check runs only after they are deployed. */
    after: pulumi.Resource[];
    /**
     * What the checker looks at and for how long (`gateOptions(config)[phase]`
     * from lib/gates/targets.ts). Plain settings only: no secrets reach the command line.
     */
    options: GateOptions[Phase];
    /**
     * Inputs whose change re-runs the check. A gate re-checks when its
     * phase changes, not on every `pulumi up`.
     * @default [] (runs once, when first created, and when its options change)
     */
    triggers?: pulumi.Input<unknown>[];
}

/**
 * A readiness gate between two phases of the recovery order. The next phase
 * depends on this component, so `pulumi up` cannot start it before the
 * checker (cli/gate.ts) has seen the phase work, and stops with the
 * checker's diagnosis when it does not.
 */
export class Gate extends pulumi.ComponentResource {
    readonly phase: Phase;
    readonly check: command.local.Command;

    constructor(name: string, args: GateArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken(args.phase, "Gate"), name, {}, opts);
        this.phase = args.phase;
        this.check = new command.local.Command(
            `${name}-check`,
            {
                create: checkerCommand([args.phase, ...gateFlags(args.phase, args.options as never)]),
                triggers: args.triggers ?? [],
            },
            { parent: this, dependsOn: args.after },
        );
        this.registerOutputs({});
    }
}
