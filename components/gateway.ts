import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfigInput, resolveSection } from "../lib/config";
import type { LbPoolConfig } from "../lib/config/cilium";
import { typeToken } from "../lib/phases";
import { gatewayClassObject, gatewayObject, redirectRoute } from "../lib/values/gateway";
import type { K8sObject } from "../lib/values/objects";

export interface GatewayArgs {
    /** The `gateway` section. @default the section's defaults (which leave it disabled: nothing is created) */
    config?: PlatformConfigInput["gateway"];
    /**
     * Cilium's LoadBalancer pools; the Gateway's Service gets the labels of the
     * pool named in `loadBalancer.pool`. @default [] (no pool labels)
     */
    pools?: LbPoolConfig[];
    /**
     * Whether to create the Gateway's namespace. False when another component
     * creates it (ingress-nginx's or cert-manager's) or Kubernetes does (kube-system).
     * @default true
     */
    createNamespace?: boolean;
}

/**
 * The ingress phase's shared Gateway, served by Cilium's Gateway API
 * controller on a LoadBalancer address from a Cilium pool, with its
 * certificates from cert-manager's gateway-shim (the Gateway's
 * cert-manager.io/cluster-issuer annotation), the route that redirects HTTP
 * to HTTPS, and a GatewayClass when the class is not Cilium's own `cilium`.
 * Construct it after the certificates gate and the ClusterIssuers: the
 * gateway-shim needs the issuer Ready to issue.
 */
export class Gateway extends pulumi.ComponentResource {
    readonly gateway?: k8s.apiextensions.CustomResource;

    constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("ingress", "Gateway"), name, {}, opts);
        const config = resolveSection("gateway", args.config);
        if (!config.enabled) {
            this.registerOutputs({});
            return;
        }
        const cr = (role: string, obj: K8sObject, dependsOn: pulumi.Resource[]) =>
            new k8s.apiextensions.CustomResource(`${name}-${role}`, obj as k8s.apiextensions.CustomResourceArgs, {
                parent: this,
                dependsOn,
            });

        const needs: pulumi.Resource[] = [];
        if (args.createNamespace ?? true) {
            needs.push(new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: config.namespace } }, { parent: this }));
        }
        const cls = gatewayClassObject(config);
        if (cls) needs.push(cr("class", cls, []));
        this.gateway = cr(config.name, gatewayObject(config, args.pools ?? []), needs);
        const redirect = redirectRoute(config);
        // Attaches to the Gateway's redirect listener: after the Gateway, so that it is accepted at once.
        if (redirect) cr(`${config.name}-https-redirect`, redirect, [this.gateway]);
        this.registerOutputs({ gateway: `${config.namespace}/${config.name}` });
    }
}
