import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

/** The guard's type token: outside the five phases, it belongs to none. */
export const DESTROY_GUARD_TYPE = "talos-platform:lifecycle:DestroyGuard";

/** The variable the guard's delete command prints: the message is in the state, the command line stays short. */
export const GUARD_MESSAGE_ENV = "TALOS_PLATFORM_DESTROY_GUARD";

export interface DestroyGuardArgs {
    /**
     * Everything `pulumi destroy` must not start on while the guard is armed: every top-level
     * component. Pulumi deletes dependents first, so the guard's delete comes before all of them.
     */
    guards: pulumi.Resource[];
    /** Refuse the delete. When false the guard's delete does nothing, and a destroy proceeds. */
    armed: boolean;
    /** What a destroy would remove and how to confirm it: printed when the armed guard refuses. */
    message: string;
}

/**
 * Stops `pulumi destroy` before its first delete while the stack's platform
 * is protected, with a message of this program's own. `pulumi destroy` does
 * not run the program, so the message travels in the state: a
 * `local.Command` whose delete prints it and fails. Pulumi deletes dependents
 * before what they depend on, and the guard depends on everything, so its
 * delete is the first; a failed delete stops the destroy there. Protected
 * resources alone would let a destroy remove the GitOps, ingress and
 * certificates phases before it reaches the first protected one.
 */
export class DestroyGuard extends pulumi.ComponentResource {
    readonly command: command.local.Command;

    constructor(name: string, args: DestroyGuardArgs, opts?: pulumi.ComponentResourceOptions) {
        super(DESTROY_GUARD_TYPE, name, {}, opts);
        this.command = new command.local.Command(
            `${name}-command`,
            {
                create: "true",
                // Disarming replaces the delete command through an update (which re-runs `true`).
                delete: args.armed ? `printf '%s\\n' "$${GUARD_MESSAGE_ENV}" >&2; exit 1` : "true",
                environment: { [GUARD_MESSAGE_ENV]: args.message },
            },
            { parent: this, dependsOn: args.guards },
        );
        this.registerOutputs({});
    }
}
