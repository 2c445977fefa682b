import { z } from "zod";

/**
 * The sections whose Helm release may move to another namespace on a
 * deployed stack when the user says so. Flux is not among them: its
 * FluxInstance is kept on delete, so a move would leave a second instance
 * behind (docs/recovering.md says how to move it by hand).
 */
export const MOVABLE_RELEASES = ["cilium", "coredns", "certManager", "ingressNginx"] as const;
export type MovableRelease = (typeof MOVABLE_RELEASES)[number];

/** What `pulumi destroy`, a removed key and a moved release may do to a running cluster. */
export const lifecycleSchema = z
    .strictObject({
        /**
         * Keeps a running cluster's platform from being removed by accident.
         * @default true: the network phase (Cilium, its pools, BGP and L2 objects) and CoreDNS (when this
         * program runs it) are protected; the FluxInstance is kept when Pulumi deletes it; `pulumi destroy`
         * stops before its first delete with a message. false for a cluster being torn down on purpose.
         */
        protect: z
            .boolean()
            .default(true)
            .describe(
                "Keeps a running cluster's platform from being removed by accident. With `true`, the network phase (Cilium, its pools, BGP and L2 objects) and CoreDNS, when this program runs it, are protected (`protect`): Pulumi refuses to delete or replace them; the FluxInstance is kept in the cluster when Pulumi deletes it (`retainOnDelete`), so Flux keeps running; and `pulumi destroy` stops before its first delete with a message saying what it would remove. Set `false`, then run `pulumi up`, to tear the platform down on purpose (docs/destroy.md).",
            ),
        /**
         * Sections whose release may move to the namespace the config now names, on a stack that
         * recorded another one at its last `pulumi up`: the release is uninstalled, then installed in
         * the new namespace (delete-before-replace), so its phase is down in between.
         * @default [] (a moved namespace is refused before anything changes)
         */
        allowNamespaceMove: z
            .array(z.enum(MOVABLE_RELEASES))
            .default([])
            .describe(
                "Sections (`cilium`, `coredns`, `certManager`, `ingressNginx`) whose Helm release may move to the namespace the config now names, on a stack whose last `pulumi up` recorded another: the release is uninstalled first and then installed in the new namespace (delete-before-replace), so its phase is down in between, and its section is not protected for that update (the plan warns: `namespace-move-allowed`). Without it, a changed namespace on a deployed stack is refused before anything changes. Remove the entry once the move is done.",
            ),
    })
    .meta({
        title: "What a delete, a destroy or a moved release may do",
        description:
            "What `pulumi destroy`, a key removed from the config and a release moved to another namespace may do to a running cluster (docs/destroy.md, docs/recovering.md).",
        details: [
            "While `protect` is true, `pulumi destroy` stops before its first delete: a `DestroyGuard` depending on every component is deleted first, and its delete prints what the destroy would remove and fails. To tear the platform down: set `protect` to false, run `pulumi up` (it changes only the protection), then `pulumi destroy`.",
        ],
    });
export type LifecycleConfig = z.output<typeof lifecycleSchema>;
