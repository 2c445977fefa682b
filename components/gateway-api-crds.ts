import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfigInput, resolveSection } from "../lib/config";
import { checkerCommand } from "../lib/gates/command";
import { gateFlags, GateOptions } from "../lib/gates/options";
import { typeToken } from "../lib/phases";
import { gatewayApiCrds } from "../lib/values/gateway-api";

export interface GatewayApiCrdsArgs {
    /**
     * The `gateway` section: its `gatewayApi` says which release, and whether
     * this program installs the CRDs or their owner does.
     * @default the section's defaults: Gateway API v1.4.1, installed here
     */
    config?: PlatformConfigInput["gateway"];
    /**
     * What the pre-check looks at (`gateOptions(config)["gateway-api-crds"]`
     * from lib/gates/targets.ts). Plain settings only.
     */
    check: GateOptions["gateway-api-crds"];
    /**
     * The cluster's identity as a trigger (identityTrigger() in lib/lifecycle/binding.ts): a
     * rebuilt cluster, which may hold another installer's CRDs, is checked again.
     * @default none: a rebuilt cluster is not checked again
     */
    clusterIdentity?: string;
    /**
     * Protects the CRDs, as the rest of the network phase: Pulumi refuses to delete or replace them.
     * They are kept in the cluster when Pulumi does delete them either way.
     * @default true
     */
    protect?: boolean;
}

/**
 * The Gateway API CRDs (standard channel) for the network phase: Cilium's
 * operator starts its Gateway API controller only if they exist when it
 * starts, so the Cilium release depends on this component.
 *
 * `install`: a pre-check first refuses Gateway API CRDs already on the
 * cluster (creating them would fail with AlreadyExists, which a preview does
 * not show), then each vendored CRD is created, labelled as this program's
 * and kept on delete: deleting a CRD deletes every Gateway and route of its
 * kind, Flux's included. Labelled CRDs (kept by an earlier delete, or handed
 * over) pass the pre-check when `pulumi up` runs with
 * PULUMI_K8S_UPSERT_EXISTING_OBJECTS=true, which makes the provider update
 * them in place. `existing`: another owner installs them; the check waits
 * for those Cilium needs.
 */
export class GatewayApiCrds extends pulumi.ComponentResource {
    readonly crds: k8s.apiextensions.v1.CustomResourceDefinition[] = [];

    constructor(name: string, args: GatewayApiCrdsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("network", "GatewayApiCrds"), name, {}, opts);
        const config = resolveSection("gateway", args.config);
        const { version, crds: mode } = config.gatewayApi;
        const check = new command.local.Command(
            // Not `-check`: it is no readiness gate (lib/lifecycle/gate-runs.ts counts those).
            `${name}-precheck`,
            {
                create: checkerCommand(["gateway-api-crds", ...gateFlags("gateway-api-crds", args.check)]),
                // Only creating the CRDs can collide, so it runs with them: once, and again for
                // another owner. A later change (another release, a timeout) finds them in this
                // stack's state, where the check would take them for another installer's.
                update: "true",
                triggers: [mode, ...(args.clusterIdentity === undefined ? [] : [args.clusterIdentity])],
            },
            { parent: this },
        );
        if (mode === "install") {
            for (const crd of gatewayApiCrds(version)) {
                // A CRD's name is plural.group; the plural names the resource.
                const plural = crd.spec.names.plural;
                this.crds.push(
                    new k8s.apiextensions.v1.CustomResourceDefinition(`${name}-${plural}`, crd, {
                        parent: this,
                        dependsOn: [check],
                        retainOnDelete: true,
                        protect: args.protect ?? true,
                    }),
                );
            }
        }
        this.registerOutputs({ version, mode, crds: this.crds.map((c) => c.metadata.name) });
    }
}
