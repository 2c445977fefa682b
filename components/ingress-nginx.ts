import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfigInput, resolveSection } from "../lib/config";
import type { LbPoolConfig } from "../lib/config/cilium";
import { releaseArgs, RELEASE_OPTIONS } from "../lib/helm";
import { typeToken } from "../lib/phases";
import { defaultCertificate, ingressNginxValues, INGRESS_RELEASE } from "../lib/values/ingress-nginx";

export interface IngressNginxArgs {
    /**
     * Chart settings (`talos-platform:ingressNginx`).
     * @default chart ingress-nginx 4.15.1 from https://kubernetes.github.io/ingress-nginx into ingress-nginx
     */
    config?: PlatformConfigInput["ingressNginx"];
    /**
     * Cilium's LoadBalancer pools; the Service gets the labels of the pool named in
     * `loadBalancer.pool`. @default [] (no pool labels)
     */
    pools?: LbPoolConfig[];
}

/**
 * The ingress phase: ingress-nginx behind a LoadBalancer Service whose
 * address comes from a Cilium pool, and its default TLS certificate.
 */
export class IngressNginx extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: IngressNginxArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("ingress", "IngressNginx"), name, {}, opts);
        const config = resolveSection("ingressNginx", args.config);

        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            releaseArgs(INGRESS_RELEASE, config, ingressNginxValues(config, args.pools ?? [])),
            { parent: this, ...RELEASE_OPTIONS },
        );
        const certificate = defaultCertificate(config);
        if (certificate) {
            // The release creates the namespace. The ingress gate waits for it to be Ready and says why
            // when it is not; pulumi.com/waitFor would wait 10 minutes in silence on Ready=False.
            new k8s.apiextensions.CustomResource(`${name}-default-certificate`, certificate, { parent: this, dependsOn: [this.release] });
        }
        this.registerOutputs({ releaseStatus: this.release.status.status });
    }
}
