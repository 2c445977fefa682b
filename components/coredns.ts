import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfigInput, resolveSection } from "../lib/config";
import type { ClusterConfig } from "../lib/config/cluster";
import { releaseArgs, RELEASE_OPTIONS } from "../lib/helm";
import { typeToken } from "../lib/phases";
import { corednsValues } from "../lib/values/coredns";

export interface CoreDnsArgs {
    /** Talos facts: whether Talos runs its own CoreDNS, and the cluster domain. */
    cluster: ClusterConfig;
    /**
     * Chart settings (`talos-platform:coredns`).
     * @default chart coredns 1.46.2 from https://coredns.github.io/helm into kube-system
     */
    config?: PlatformConfigInput["coredns"];
    /**
     * Zones inside the cluster domain whose names CoreDNS has no record for go
     * on to the upstreams (`dns01FallthroughZones(config)` from lib/values/dns01.ts).
     * @default [] (CoreDNS answers NXDOMAIN for every such name, as Talos' does)
     */
    fallthrough?: string[];
    /** Protects the release: Pulumi refuses to delete or replace it (cluster DNS hangs on it). @default true */
    protect?: boolean;
}

/**
 * The DNS phase. Installs CoreDNS only when Talos' own is disabled; otherwise
 * the phase consists of its gate on the CoreDNS Talos runs.
 */
export class CoreDns extends pulumi.ComponentResource {
    readonly release?: k8s.helm.v3.Release;

    constructor(name: string, args: CoreDnsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("dns", "CoreDns"), name, {}, opts);
        const config = resolveSection("coredns", args.config);

        if (args.cluster.coreDnsDisabled) {
            this.release = new k8s.helm.v3.Release(
                `${name}-release`,
                releaseArgs("coredns", config, corednsValues(args.cluster, config, { fallthrough: args.fallthrough })),
                { parent: this, protect: args.protect ?? true, ...RELEASE_OPTIONS },
            );
        }
        this.registerOutputs({ managed: args.cluster.coreDnsDisabled });
    }
}
