import type { PlatformConfig } from "../config";
import type { LbPoolConfig } from "../config/cilium";
import { CILIUM_GATEWAY_CLASS, DEFAULT_PORTS, GatewayConfig, ListenerConfig } from "../config/gateway";
import type { Values } from "../merge";
import { GATEWAY_API_GROUP } from "./gateway-api";
import { LB_IPS_ANNOTATION, labelsFor } from "./ingress-nginx";
import type { K8sObject } from "./objects";
import type { EmittedService } from "./services";
import { certManagerNamespace } from "./cert-manager";

// The ingress phase's Gateway API objects, built from the `gateway` section:
// the shared Gateway, its HTTP-to-HTTPS redirect route and, for a class
// other than Cilium's own, a GatewayClass for Cilium's controller.

export const GATEWAY_API_V1 = `${GATEWAY_API_GROUP}/v1`;
/** The controllerName Cilium's Gateway API controller answers for. */
export const CILIUM_GATEWAY_CONTROLLER = "io.cilium/gateway-controller";
/** cert-manager's gateway-shim issues a certificate for each TLS listener of a Gateway carrying it. */
export const CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer";
/** The HTTP listener the redirect route attaches to. */
export const REDIRECT_LISTENER = "http-redirect";

/** A listener with its port and certificate Secret resolved. */
export interface ResolvedListener extends ListenerConfig {
    port: number;
    /** The TLS Secret an HTTPS listener serves; undefined for HTTP. */
    secret?: string;
}

export function listenerPort(l: Pick<ListenerConfig, "port" | "protocol">): number {
    return l.port ?? DEFAULT_PORTS[l.protocol];
}

/** The Secret an HTTPS listener serves: its own, or where cert-manager writes the issuer's certificate. */
export function listenerSecret(gateway: GatewayConfig, l: ListenerConfig): string | undefined {
    if (l.protocol !== "HTTPS") return undefined;
    return l.certificateSecret ?? (l.issuer ? `${gateway.name}-${l.name}-tls` : undefined);
}

export function resolvedListeners(gateway: GatewayConfig): ResolvedListener[] {
    return gateway.listeners.map((l) => ({ ...l, port: listenerPort(l), secret: listenerSecret(gateway, l) }));
}

/** Whether the program adds the HTTP redirect listener and its route. */
export function redirects(gateway: GatewayConfig): boolean {
    return gateway.httpsRedirect && gateway.listeners.some((l) => l.protocol === "HTTPS");
}

/** The issuer cert-manager's gateway-shim uses: the one the listeners name (the checks make it one). */
export function gatewayIssuer(gateway: GatewayConfig): string | undefined {
    return gateway.listeners.find((l) => l.protocol === "HTTPS" && l.issuer)?.issuer;
}

/** The LoadBalancer Service Cilium creates for a Gateway. */
export function gatewayServiceName(gateway: Pick<GatewayConfig, "name">): string {
    return `cilium-gateway-${gateway.name}`;
}

function allowedRoutes(gateway: GatewayConfig): Values {
    const { from, selector } = gateway.allowedRoutes.namespaces;
    return { namespaces: { from, ...(from === "Selector" && selector ? { selector } : {}) } };
}

/** The labels and annotations Cilium copies onto the Gateway's Service: the pool's selector labels and the fixed address. */
export function gatewayInfrastructure(
    gateway: GatewayConfig,
    pools: LbPoolConfig[],
): { labels: Record<string, string>; annotations: Record<string, string> } {
    const pool = pools.find((p) => p.name === gateway.loadBalancer.pool);
    return {
        labels: labelsFor(pool?.serviceSelector),
        annotations: gateway.loadBalancer.ip ? { [LB_IPS_ANNOTATION]: gateway.loadBalancer.ip } : {},
    };
}

/** The shared Gateway. */
export function gatewayObject(gateway: GatewayConfig, pools: LbPoolConfig[]): K8sObject {
    const listeners: Values[] = resolvedListeners(gateway).map((l) => ({
        name: l.name,
        hostname: l.hostname,
        port: l.port,
        protocol: l.protocol,
        ...(l.secret ? { tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: l.secret }] } } : {}),
        allowedRoutes: allowedRoutes(gateway),
    }));
    if (redirects(gateway)) {
        // No hostname: every name the other listeners do not take on port 80 is redirected.
        listeners.push({
            name: REDIRECT_LISTENER,
            port: DEFAULT_PORTS.HTTP,
            protocol: "HTTP",
            allowedRoutes: { namespaces: { from: "Same" } },
        });
    }
    const issuer = gatewayIssuer(gateway);
    const { labels, annotations } = gatewayInfrastructure(gateway, pools);
    const infrastructure: Values = {};
    if (Object.keys(labels).length) infrastructure.labels = labels;
    if (Object.keys(annotations).length) infrastructure.annotations = annotations;
    return {
        apiVersion: GATEWAY_API_V1,
        kind: "Gateway",
        metadata: {
            name: gateway.name,
            namespace: gateway.namespace,
            ...(issuer ? { annotations: { [CLUSTER_ISSUER_ANNOTATION]: issuer } } : {}),
        },
        spec: {
            gatewayClassName: gateway.className,
            ...(Object.keys(infrastructure).length ? { infrastructure } : {}),
            listeners,
        },
    };
}

/** The port HTTPS answers on, for the redirect: 443 when a listener takes it, else the lowest HTTPS port. */
export function httpsPort(gateway: GatewayConfig): number {
    const ports = resolvedListeners(gateway)
        .filter((l) => l.protocol === "HTTPS")
        .map((l) => l.port)
        .sort((a, b) => a - b);
    return ports.includes(DEFAULT_PORTS.HTTPS) ? DEFAULT_PORTS.HTTPS : ports[0];
}

/** The route on the redirect listener: every request gets a 301 to the same URL over HTTPS. */
export function redirectRoute(gateway: GatewayConfig): K8sObject | undefined {
    if (!redirects(gateway)) return undefined;
    const port = httpsPort(gateway);
    return {
        apiVersion: GATEWAY_API_V1,
        kind: "HTTPRoute",
        metadata: { name: `${gateway.name}-https-redirect`, namespace: gateway.namespace },
        spec: {
            parentRefs: [{ group: GATEWAY_API_GROUP, kind: "Gateway", name: gateway.name, sectionName: REDIRECT_LISTENER }],
            rules: [
                {
                    filters: [
                        {
                            type: "RequestRedirect",
                            // Without a port, Gateway API redirects to the scheme's well-known one.
                            requestRedirect: { scheme: "https", statusCode: 301, ...(port !== DEFAULT_PORTS.HTTPS ? { port } : {}) },
                        },
                    ],
                },
            ],
        },
    };
}

/** A GatewayClass of its own for Cilium's controller; Cilium's chart already creates `cilium`. */
export function gatewayClassObject(gateway: GatewayConfig): K8sObject | undefined {
    if (gateway.className === CILIUM_GATEWAY_CLASS) return undefined;
    return {
        apiVersion: GATEWAY_API_V1,
        kind: "GatewayClass",
        metadata: { name: gateway.className },
        spec: { controllerName: CILIUM_GATEWAY_CONTROLLER },
    };
}

/**
 * The Gateway's LoadBalancer Service as Cilium creates it, for the pool
 * checks: the infrastructure labels and annotations, in the Gateway's
 * namespace, with Cilium's externalTrafficPolicy for Gateways.
 */
export function gatewayServices(gateway: GatewayConfig, pools: LbPoolConfig[], externalTrafficPolicy: string): EmittedService[] {
    if (!gateway.enabled) return [];
    const { labels, annotations } = gatewayInfrastructure(gateway, pools);
    return [
        {
            section: "gateway",
            labelsKey: "loadBalancer.pool",
            annotationsKey: "loadBalancer.ip",
            typeKey: "",
            namespace: gateway.namespace,
            name: gatewayServiceName(gateway),
            type: "LoadBalancer",
            labels,
            annotations,
            externalTrafficPolicy,
            trafficPolicyKey: "gatewayAPI.externalTrafficPolicy",
            wellTyped: true,
        },
    ];
}

/**
 * Whether the Gateway's namespace is one that exists before the ingress
 * phase or that another component creates there: Kubernetes' own,
 * Cilium's, cert-manager's, or ingress-nginx's (its release creates it in
 * the same phase). Any other, the Gateway component creates.
 */
export function gatewayNamespaceExists(config: Pick<PlatformConfig, "gateway" | "cilium" | "certManager" | "ingressNginx">): boolean {
    const taken = ["kube-system", "default", config.cilium.namespace, certManagerNamespace(config.certManager)];
    if (config.ingressNginx.enabled) taken.push(config.ingressNginx.namespace);
    return taken.includes(config.gateway.namespace);
}
