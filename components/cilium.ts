import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfigInput, resolveSection } from "../lib/config";
import type { ClusterConfig } from "../lib/config/cluster";
import { releaseArgs } from "../lib/helm";
import { typeToken } from "../lib/phases";
import { ciliumValues } from "../lib/values/cilium";

export interface CiliumArgs {
    /** The Talos facts Cilium's values derive from. */
    cluster: ClusterConfig;
    /**
     * Chart and feature settings (`talos-platform:cilium`).
     * @default chart cilium 1.19.4 from https://helm.cilium.io into kube-system, no extra values
     */
    config?: PlatformConfigInput["cilium"];
}

/** The network phase: Cilium as CNI and kube-proxy replacement. */
export class Cilium extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;
    readonly releaseStatus: pulumi.Output<string>;

    constructor(name: string, args: CiliumArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("network", "Cilium"), name, {}, opts);
        const config = resolveSection("cilium", args.config);

        this.release = new k8s.helm.v3.Release(`${name}-release`, releaseArgs("cilium", config, ciliumValues(args.cluster, config)), {
            parent: this,
        });
        this.releaseStatus = this.release.status.status;
        this.registerOutputs({ releaseStatus: this.releaseStatus });
    }
}
