import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfigInput, resolveSection } from "../lib/config";
import { releaseArgs } from "../lib/helm";
import { typeToken } from "../lib/phases";
import { ingressNginxValues } from "../lib/values/ingress-nginx";

export interface IngressNginxArgs {
    /**
     * Chart settings (`talos-platform:ingressNginx`).
     * @default chart ingress-nginx 4.15.1 from https://kubernetes.github.io/ingress-nginx into ingress-nginx
     */
    config?: PlatformConfigInput["ingressNginx"];
}

/** The ingress phase: ingress-nginx behind a LoadBalancer Service. */
export class IngressNginx extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: IngressNginxArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("ingress", "IngressNginx"), name, {}, opts);
        const config = resolveSection("ingressNginx", args.config);

        this.release = new k8s.helm.v3.Release(`${name}-release`, releaseArgs("ingress-nginx", config, ingressNginxValues(config)), {
            parent: this,
        });
        this.registerOutputs({ releaseStatus: this.release.status.status });
    }
}
