import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";

/** The gates' and CRD waits' commands are named `<component>-check` (components/gate.ts, components/crd-wait.ts). */
const CHECK_COMMAND = /-check$/;

/** What `pulumi up` prints when no gate runs: the update checks nothing about the cluster. */
export const NO_GATE_RUNS =
    "talos-platform: no readiness gate runs in this update: nothing a gate depends on changed since the last `pulumi up` (the gates, like every command, run only when their inputs change), so the cluster is not re-checked. To check a cluster that looks healthy, run `npm run doctor`; after a rebuild, see docs/recovering.md.";

interface Seen {
    name: string;
    create: unknown;
    triggers: unknown;
    resource: pulumi.CustomResource;
}

/**
 * Records every gate and CRD wait command registered from now on. A
 * `local.Command` runs again only when its command or triggers change, so
 * their digest, compared with the one the last `pulumi up` recorded once
 * all of them had run, says whether this update runs any gate. The engine,
 * not the program, decides whether anything else changes: this is the
 * closest a program can come to "this update changed nothing".
 */
export function watchGateCommands(): { digest(): string; checked(): pulumi.Output<string> } {
    const seen: Seen[] = [];
    pulumi.runtime.registerStackTransformation(({ type, name, props, resource }) => {
        if (type === "command:local:Command" && CHECK_COMMAND.test(name)) {
            seen.push({ name, create: props.create, triggers: props.triggers, resource: resource as pulumi.CustomResource });
        }
        return undefined;
    });
    const digest = () => gateDigest(seen);
    return {
        digest,
        // Resolves only once every check has run (or was already in the state): a failed gate records nothing.
        checked: () => pulumi.all(seen.map((s) => s.resource.id)).apply(() => digest()),
    };
}

export function gateDigest(commands: { name: string; create: unknown; triggers: unknown }[]): string {
    const rows = commands.map((c) => JSON.stringify([c.name, c.create, c.triggers])).sort();
    return "sha256:" + createHash("sha256").update(rows.join("\n")).digest("hex").slice(0, 16);
}
