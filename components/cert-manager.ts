import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfigInput, resolveSection } from "../lib/config";
import type { ClusterConfig } from "../lib/config/cluster";
import { releaseArgs, RELEASE_OPTIONS } from "../lib/helm";
import { typeToken } from "../lib/phases";
import { CERT_MANAGER_RELEASE, certManagerValues } from "../lib/values/cert-manager";

export interface CertManagerArgs {
    /** Talos facts: the cluster domain goes into the webhook's serving certificate. */
    cluster: ClusterConfig;
    /**
     * Chart settings (`talos-platform:certManager`).
     * @default chart cert-manager v1.21.1 from https://charts.jetstack.io into cert-manager
     */
    config?: PlatformConfigInput["certManager"];
    /**
     * Resolvers for cert-manager's DNS-01 self-check, passed as
     * --dns01-recursive-nameservers with --dns01-recursive-nameservers-only
     * (`dns01RecursiveNameservers(config)` from lib/values/dns01.ts).
     * @default none: the self-check asks the resolvers in /etc/resolv.conf, the cluster's CoreDNS
     */
    recursiveNameservers?: string[];
    /**
     * Turn on cert-manager's Gateway API support, so that its gateway-shim
     * issues the certificates of Gateways annotated with an issuer. The
     * Gateway API CRDs must exist when cert-manager starts.
     * @default false
     */
    gatewayApi?: boolean;
}

/**
 * The certificates phase: cert-manager with its CRDs, webhook and
 * cainjector. The ClusterIssuers are a component of their own, because they
 * need the certificates gate, which needs this.
 */
export class CertManager extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("certificates", "CertManager"), name, {}, opts);
        const config = resolveSection("certManager", args.config);

        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            releaseArgs(
                CERT_MANAGER_RELEASE,
                config,
                certManagerValues(config, args.cluster, { recursiveNameservers: args.recursiveNameservers, gatewayApi: args.gatewayApi }),
            ),
            { parent: this, ...RELEASE_OPTIONS },
        );
        this.registerOutputs({ releaseStatus: this.release.status.status });
    }
}
