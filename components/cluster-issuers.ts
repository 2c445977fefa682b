import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfigInput, resolveSection } from "../lib/config";
import { secretConfig } from "../lib/config/stack";
import { typeToken } from "../lib/phases";
import {
    caCertificate,
    CLOUDFLARE_TOKEN_KEY,
    cloudflareSecretName,
    clusterIssuer,
    clusterResourceNamespace,
    CustomObject,
} from "../lib/values/cert-manager";

export interface ClusterIssuersArgs {
    /**
     * The issuers and cert-manager's namespace (`talos-platform:certManager`).
     * @default no issuers: the component is empty
     */
    config?: PlatformConfigInput["certManager"];
}

/**
 * The ClusterIssuers of the certificates phase. Construct it after the
 * certificates gate: cert-manager's webhook admits these objects, and the
 * gate is what proves it answers. Each issuer is waited on until Ready.
 */
export class ClusterIssuers extends pulumi.ComponentResource {
    /** The ClusterIssuers by issuer name. */
    readonly issuers: Record<string, k8s.apiextensions.CustomResource> = {};
    /** The Cloudflare token Secrets by ACME issuer name. */
    readonly tokenSecrets: Record<string, k8s.core.v1.Secret> = {};

    constructor(name: string, args: ClusterIssuersArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("certificates", "ClusterIssuers"), name, {}, opts);
        const config = resolveSection("certManager", args.config);
        const namespace = clusterResourceNamespace(config);
        const cr = (role: string, obj: CustomObject, dependsOn: pulumi.Resource[]) =>
            new k8s.apiextensions.CustomResource(`${name}-${role}`, obj, { parent: this, dependsOn });

        // The chart creates only its own namespace; ClusterIssuer secrets may be told to live elsewhere.
        const namespaceReady: pulumi.Resource[] =
            namespace === config.namespace
                ? []
                : [new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: namespace } }, { parent: this })];

        // Self-signed and ACME issuers stand alone; a CA issuer needs its signer first.
        const ordered = [...config.issuers.filter((i) => !i.ca), ...config.issuers.filter((i) => i.ca)];
        for (const issuer of ordered) {
            let needs: pulumi.Resource[] = namespaceReady;
            if (issuer.acme) {
                // The token lives in a Secret the issuer names; its value stays a Pulumi secret throughout.
                this.tokenSecrets[issuer.name] = new k8s.core.v1.Secret(
                    `${name}-${issuer.name}-token`,
                    {
                        metadata: { name: cloudflareSecretName(issuer), namespace },
                        type: "Opaque",
                        stringData: { [CLOUDFLARE_TOKEN_KEY]: secretConfig(issuer.acme.cloudflare.apiTokenSecret) },
                    },
                    { parent: this, dependsOn: namespaceReady },
                );
                needs = [this.tokenSecrets[issuer.name]];
            }
            const ca = caCertificate(issuer, config);
            if (ca) {
                // The CA certificate needs its self-signed issuer Ready, and the CA issuer needs the certificate's Secret.
                const signer = this.issuers[issuer.ca!.signedBy];
                needs = [cr(`${issuer.name}-certificate`, ca, [...namespaceReady, ...(signer ? [signer] : [])])];
            }
            this.issuers[issuer.name] = cr(issuer.name, clusterIssuer(issuer), needs);
        }
        this.registerOutputs({ issuers: Object.keys(this.issuers) });
    }
}
