import { ACME_SERVERS, CertManagerConfig, IssuerConfig } from "../config/cert-manager";
import type { ClusterConfig } from "../config/cluster";
import { helmFullname, truncName } from "../helm-names";
import { mergeValues, Values } from "../merge";
import { spreadAcrossNodes } from "./coredns";
import { K8sObject, WAIT_FOR_READY } from "./objects";
import { KIND, readValue, ValueKeys } from "./read";

/** A custom resource as the component registers it. */
export type CustomObject = K8sObject;

export const CERT_MANAGER_API = "cert-manager.io/v1";
/** Helm release name: the chart's object names derive from it. */
export const CERT_MANAGER_RELEASE = "cert-manager";
/** The key of the Cloudflare token inside its Kubernetes Secret. */
export const CLOUDFLARE_TOKEN_KEY = "api-token";

/** The cert-manager chart's values keys that the builders and checks read. */
export const CERT_MANAGER_VALUE_KEYS = {
    fullnameOverride: KIND.string,
    nameOverride: KIND.string,
    namespace: KIND.string,
    clusterResourceNamespace: KIND.string,
    extraArgs: KIND.strings,
    "webhook.extraArgs": KIND.strings,
    "ingressShim.defaultIssuerName": KIND.string,
    "ingressShim.defaultIssuerKind": KIND.string,
    "ingressShim.defaultIssuerGroup": KIND.string,
    replicaCount: KIND.count,
    "podDisruptionBudget.enabled": KIND.switch,
    "podDisruptionBudget.minAvailable": KIND.countOrPercent,
    "podDisruptionBudget.maxUnavailable": KIND.countOrPercent,
    "webhook.replicaCount": KIND.count,
    "webhook.podDisruptionBudget.enabled": KIND.switch,
    "webhook.podDisruptionBudget.minAvailable": KIND.countOrPercent,
    "webhook.podDisruptionBudget.maxUnavailable": KIND.countOrPercent,
    "cainjector.enabled": KIND.switch,
    "cainjector.replicaCount": KIND.count,
    "cainjector.podDisruptionBudget.enabled": KIND.switch,
    "cainjector.podDisruptionBudget.minAvailable": KIND.countOrPercent,
    "cainjector.podDisruptionBudget.maxUnavailable": KIND.countOrPercent,
} satisfies ValueKeys;

/** Where the chart puts its workloads: its `namespace` value, else the release's. */
export function certManagerNamespace(certManager: CertManagerConfig): string {
    return readValue(certManager.values, "namespace", KIND.string) || certManager.namespace;
}

/**
 * The webhook's Service, as the chart names it: its webhook.fullname helper
 * (the release's fullname cut to 55 characters, plus -webhook) in the
 * chart's namespace (the `namespace` value, else the release's). The gate
 * checker looks for its Deployment under the same name.
 */
export function certManagerWebhook(certManager: CertManagerConfig): { name: string; namespace: string } {
    const user = certManager.values;
    const fullname = helmFullname(CERT_MANAGER_RELEASE, certManager.chart, {
        fullnameOverride: readValue(user, "fullnameOverride", KIND.string),
        nameOverride: readValue(user, "nameOverride", KIND.string),
    });
    return {
        name: truncName(`${truncName(fullname, 55)}-webhook`),
        namespace: certManagerNamespace(certManager),
    };
}

/**
 * The webhook's fully qualified Service name. The chart's serving
 * certificate lists only the short names; clients that use the FQDN (a
 * proxy's no_proxy list, a mesh) need the cluster domain in it.
 */
export function webhookFqdn(certManager: CertManagerConfig, cluster: ClusterConfig): string {
    const webhook = certManagerWebhook(certManager);
    return `${webhook.name}.${webhook.namespace}.svc.${cluster.dnsDomain}`;
}

/**
 * Two replicas on different nodes, and a budget that lets a drain evict
 * only one at a time. The webhook matters most: its failurePolicy is Fail,
 * so while no replica answers, every write of a cert-manager object fails.
 */
function highlyAvailable(component: string, name: string, replicas = 2): Values {
    return {
        replicaCount: replicas,
        podDisruptionBudget: { enabled: true, minAvailable: 1 },
        affinity: spreadAcrossNodes({
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/instance": CERT_MANAGER_RELEASE,
            "app.kubernetes.io/component": component,
        }),
    };
}

/** The controller's flag for the resolvers of its DNS-01 self-check (cert-manager's "Setting Nameservers for DNS01 Self Check"). */
export const RECURSIVE_NAMESERVERS_FLAG = "--dns01-recursive-nameservers";
/** With it, the self-check asks only those resolvers, never the authoritative nameservers they name. */
export const RECURSIVE_NAMESERVERS_ONLY_FLAG = "--dns01-recursive-nameservers-only";

/** The controller flags that make the DNS-01 self-check ask `nameservers`, in the form cert-manager's docs show. */
export function recursiveNameserverArgs(nameservers: string[]): string[] {
    return [RECURSIVE_NAMESERVERS_ONLY_FLAG, `${RECURSIVE_NAMESERVERS_FLAG}=${nameservers.join(",")}`];
}

/** Inputs of the cert-manager values that come from other sections. */
export interface CertManagerValuesOptions {
    /**
     * Resolvers for the DNS-01 self-check (dns01RecursiveNameservers).
     * @default none: the self-check asks the resolvers in /etc/resolv.conf, the cluster's CoreDNS
     */
    recursiveNameservers?: string[];
    /**
     * Turn on cert-manager's Gateway API support (its gateway-shim), which
     * issues certificates for Gateways annotated with an issuer.
     * @default false
     */
    gatewayApi?: boolean;
}

/** cert-manager chart values; `certManager.values` merged last. */
export function certManagerValues(certManager: CertManagerConfig, cluster: ClusterConfig, options: CertManagerValuesOptions = {}): Values {
    const controllerName = readValue(certManager.values, "nameOverride", KIND.string) || certManager.chart;
    const computed: Values = {
        // Keep the CRDs on uninstall: deleting them deletes every Certificate.
        crds: { enabled: true, keep: true },
        ...highlyAvailable("controller", controllerName),
        webhook: {
            ...highlyAvailable("webhook", "webhook", certManager.webhookReplicas),
            // A repeated flag adds to the chart's own list of names.
            extraArgs: [`--dynamic-serving-dns-names=${webhookFqdn(certManager, cluster)}`],
        },
        cainjector: { enabled: true, ...highlyAvailable("cainjector", "cainjector") },
        // ServiceMonitor and PodMonitor CRDs arrive with Flux, after this phase.
        prometheus: { enabled: true, servicemonitor: { enabled: false }, podmonitor: { enabled: false } },
    };
    if (options.recursiveNameservers?.length) computed.extraArgs = recursiveNameserverArgs(options.recursiveNameservers);
    if (options.gatewayApi) {
        // The v1.21 chart's controller configuration (ControllerConfiguration, apiVersion
        // and kind defaulted by the chart); earlier releases took config.enableGatewayAPI
        // (from 1.16) or the flag --enable-gateway-api (1.15).
        computed.config = { gatewayAPI: { enabled: true } };
    }
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
 * namespace, which is the controller's own (--cluster-resource-namespace
 * defaults to $(POD_NAMESPACE)) unless the values say otherwise.
 */
export function clusterResourceNamespace(certManager: CertManagerConfig): string {
    return readValue(certManager.values, "clusterResourceNamespace", KIND.string) || certManagerNamespace(certManager);
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

/**
 * The CA certificate a ca issuer signs with, issued by its self-signed
 * issuer. Its key never rotates at renewal (rotationPolicy Never): since
 * cert-manager 1.18 the default is Always, and a CA with a new key leaves
 * every leaf certificate issued before the renewal outside the trust bundle.
 * Rotating the CA key is a deliberate act (docs/phases.md#rotating-the-ca-key-on-purpose).
 */
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
            privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Never" },
            issuerRef: { name: issuer.ca.signedBy, kind: "ClusterIssuer", group: "cert-manager.io" },
        },
    };
}
