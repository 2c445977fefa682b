import { ACME_SERVERS, CertManagerConfig, IssuerConfig } from "../config/cert-manager";
import type { ClusterConfig } from "../config/cluster";
import { mergeValues, Values, valueAt } from "../merge";
import { K8sObject, WAIT_FOR_READY } from "./objects";

/** A custom resource as the component registers it. */
export type CustomObject = K8sObject;

export const CERT_MANAGER_API = "cert-manager.io/v1";
/** The chart's webhook Service name for release "cert-manager". */
export const WEBHOOK_SERVICE = "cert-manager-webhook";
/** The key of the Cloudflare token inside its Kubernetes Secret. */
export const CLOUDFLARE_TOKEN_KEY = "api-token";

/**
 * The webhook's fully qualified Service name. The chart's serving
 * certificate lists only the short names; clients that use the FQDN (a
 * proxy's no_proxy list, a mesh) need the cluster domain in it.
 */
export function webhookFqdn(certManager: CertManagerConfig, cluster: ClusterConfig): string {
    return `${WEBHOOK_SERVICE}.${certManager.namespace}.svc.${cluster.dnsDomain}`;
}

/** cert-manager chart values; `certManager.values` merged last. */
export function certManagerValues(certManager: CertManagerConfig, cluster: ClusterConfig): Values {
    const computed: Values = {
        // Keep the CRDs on uninstall: deleting them deletes every Certificate.
        crds: { enabled: true, keep: true },
        replicaCount: 1,
        // A repeated flag adds to the chart's own list of names.
        webhook: { replicaCount: 1, extraArgs: [`--dynamic-serving-dns-names=${webhookFqdn(certManager, cluster)}`] },
        cainjector: { enabled: true },
        // ServiceMonitor and PodMonitor CRDs arrive with Flux, after this phase.
        prometheus: { enabled: true, servicemonitor: { enabled: false }, podmonitor: { enabled: false } },
    };
    if (certManager.defaultIssuer) {
        computed.ingressShim = {
            defaultIssuerName: certManager.defaultIssuer,
            defaultIssuerKind: "ClusterIssuer",
            defaultIssuerGroup: "cert-manager.io",
        };
    }
    return mergeValues(computed, certManager.values);
}

/**
 * Where a ClusterIssuer's Secrets live: cert-manager's cluster resource
 * namespace, which is its own namespace unless the values say otherwise.
 */
export function clusterResourceNamespace(certManager: CertManagerConfig): string {
    const v = valueAt(mergeValues({}, certManager.values), "clusterResourceNamespace");
    return typeof v === "string" && v !== "" ? v : certManager.namespace;
}

export function cloudflareSecretName(issuer: IssuerConfig): string {
    return `${issuer.name}-cloudflare-api-token`;
}

export function caSecretName(issuer: IssuerConfig): string {
    return issuer.ca?.secretName ?? `${issuer.name}-keypair`;
}

export function acmeServerUrl(server: string): string {
    return server in ACME_SERVERS ? ACME_SERVERS[server as keyof typeof ACME_SERVERS] : server;
}

/** The ClusterIssuer for one configured issuer. */
export function clusterIssuer(issuer: IssuerConfig): CustomObject {
    let spec: Values;
    if (issuer.ca) {
        spec = { ca: { secretName: caSecretName(issuer) } };
    } else if (issuer.acme) {
        const solver: Values = {
            dns01: { cloudflare: { apiTokenSecretRef: { name: cloudflareSecretName(issuer), key: CLOUDFLARE_TOKEN_KEY } } },
        };
        if (issuer.acme.cloudflare.dnsZones.length) solver.selector = { dnsZones: issuer.acme.cloudflare.dnsZones };
        spec = {
            acme: {
                server: acmeServerUrl(issuer.acme.server),
                ...(issuer.acme.email ? { email: issuer.acme.email } : {}),
                privateKeySecretRef: { name: `${issuer.name}-account-key` },
                solvers: [solver],
            },
        };
    } else {
        spec = { selfSigned: {} };
    }
    return {
        apiVersion: CERT_MANAGER_API,
        kind: "ClusterIssuer",
        metadata: { name: issuer.name, annotations: { ...WAIT_FOR_READY } },
        spec,
    };
}

/** The CA certificate a ca issuer signs with, issued by its self-signed issuer. */
export function caCertificate(issuer: IssuerConfig, certManager: CertManagerConfig): CustomObject | undefined {
    if (!issuer.ca) return undefined;
    return {
        apiVersion: CERT_MANAGER_API,
        kind: "Certificate",
        metadata: { name: caSecretName(issuer), namespace: clusterResourceNamespace(certManager), annotations: { ...WAIT_FOR_READY } },
        spec: {
            isCA: true,
            commonName: issuer.ca.commonName,
            secretName: caSecretName(issuer),
            duration: issuer.ca.duration,
            privateKey: { algorithm: "ECDSA", size: 256 },
            issuerRef: { name: issuer.ca.signedBy, kind: "ClusterIssuer", group: "cert-manager.io" },
        },
    };
}
