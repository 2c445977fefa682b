import { z } from "zod";
import { isAddress } from "../net";
import { k8sName, must } from "./common";
import { labelSelectorSchema } from "./selectors";

/** The Gateway API bundles this program carries (crds/gateway-api/<version>/), standard channel. */
export const GATEWAY_API_VERSIONS = ["v1.4.1"] as const;
export type GatewayApiVersion = (typeof GATEWAY_API_VERSIONS)[number];

/** The GatewayClass Cilium's chart creates (gatewayAPI.gatewayClass.create) for its controller. */
export const CILIUM_GATEWAY_CLASS = "cilium";

/** Well-known ports: a listener without `port` takes its protocol's. */
export const DEFAULT_PORTS = { HTTP: 80, HTTPS: 443 } as const;

const listenerSchema = z.strictObject({
    name: k8sName.describe("The listener's name (its `sectionName`): routes attach to it by this name. Unique in the Gateway."),
    hostname: z
        .string()
        .min(1)
        .describe(
            "The host name the listener serves, in lower case: `app.example.com`, or a wildcard as the whole left-most label, `*.example.com` (one label deep). Routes attached to it answer only for names it matches.",
        ),
    port: z.number().int().min(1).max(65535).optional().meta({
        description: "The port the listener takes on the Gateway's address.",
        defaultText: "80 for HTTP, 443 for HTTPS",
    }),
    protocol: z.enum(["HTTP", "HTTPS"]).describe("`HTTP`, or `HTTPS`: TLS ends at the Gateway with the listener's certificate."),
    issuer: k8sName.optional().meta({
        description:
            "HTTPS: the `certManager.issuers` entry, by name, that issues the listener's certificate. cert-manager's gateway-shim reads it from the Gateway's `cert-manager.io/cluster-issuer` annotation, so every listener that names an issuer names the same one.",
        defaultText: "none: the certificate comes from `certificateSecret`",
    }),
    certificateSecret: k8sName.optional().meta({
        description:
            "HTTPS: the TLS Secret, in the Gateway's namespace, the listener serves. With `issuer`, cert-manager writes the certificate into it; without, it must already exist (the ingress gate checks that it does).",
        defaultText: "with `issuer`: `<gateway name>-<listener name>-tls`",
    }),
});
export type ListenerConfig = z.output<typeof listenerSchema>;

export const gatewaySchema = z
    .strictObject({
        enabled: z
            .boolean()
            .default(false)
            .describe(
                "Serve a shared Gateway from Cilium's Gateway API controller, next to ingress-nginx or instead of it. Turns on Gateway API in Cilium (`gatewayAPI.enabled`) and cert-manager (`config.gatewayAPI.enabled`) and installs the Gateway API CRDs in the network phase, before Cilium.",
            ),
        className: k8sName
            .default(CILIUM_GATEWAY_CLASS)
            .describe(
                "The Gateway's GatewayClass. `cilium` is the class Cilium's chart creates; another name gets a GatewayClass of its own for Cilium's controller (`io.cilium/gateway-controller`).",
            ),
        name: k8sName
            .default("platform")
            .describe("The shared Gateway's name; Cilium names its LoadBalancer Service `cilium-gateway-<name>`."),
        namespace: k8sName
            .default("gateway")
            .describe("The shared Gateway's namespace, created by this program; certificate Secrets live here too."),
        gatewayApi: z
            .strictObject({
                version: z
                    .enum(GATEWAY_API_VERSIONS)
                    .default("v1.4.1")
                    .describe(
                        "The Gateway API release whose standard-channel CRDs are installed: one this program carries (Cilium 1.19 implements v1.4).",
                    ),
                crds: z
                    .enum(["install", "existing"])
                    .default("install")
                    .describe(
                        "`install`: this program installs the CRDs before Cilium and keeps them on delete; CRDs another installer already put on the cluster are refused before anything is created, with the two ways out. `existing`: another owner (Talos `extraManifests`, a GitOps repository) installs them; the network phase waits until the CRDs Cilium needs are there.",
                    ),
            })
            .prefault({})
            .describe("The Gateway API CRDs (standard channel), pinned."),
        loadBalancer: z
            .strictObject({
                pool: k8sName.optional().meta({
                    description:
                        "The `cilium.loadBalancerPools` entry the Gateway's Service draws from: the pool's `serviceSelector` labels go on the Service through the Gateway's `spec.infrastructure.labels`.",
                    defaultText: "none: only a pool without a selector would match",
                }),
                ip: must(z.string(), isAddress, "is not an IP address", "write a single address such as 172.29.52.202").optional().meta({
                    description:
                        "A fixed address for the Gateway (annotation `lbipam.cilium.io/ips` through `spec.infrastructure.annotations`); it must lie in that pool and differ from ingress-nginx's.",
                    defaultText: "any free address of the pool",
                }),
                externalTrafficPolicy: z
                    .enum(["Cluster", "Local"])
                    .default("Cluster")
                    .describe(
                        "`Cluster` spreads traffic over every node; `Local` keeps client source addresses. Cilium applies it to every Gateway's Service (`gatewayAPI.externalTrafficPolicy`).",
                    ),
            })
            .prefault({})
            .describe("Where the Gateway's LoadBalancer Service gets its address: a Cilium pool, and in it, optionally, a fixed address."),
        listeners: z
            .array(listenerSchema)
            .default([])
            .meta({ description: "The Gateway's listeners; at least one when the gateway is enabled.", defaultText: "none" }),
        httpsRedirect: z
            .boolean()
            .default(true)
            .describe(
                "When any listener is HTTPS: an HTTP listener `http-redirect` on port 80 for every host name, and an HTTPRoute on it that answers every request with a 301 to HTTPS.",
            ),
        allowedRoutes: z
            .strictObject({
                namespaces: z
                    .strictObject({
                        from: z
                            .enum(["All", "Same", "Selector"])
                            .default("All")
                            .describe(
                                "`All`: routes in any namespace may attach; `Same`: only routes in the Gateway's namespace; `Selector`: routes in namespaces whose labels `selector` matches (e.g. `matchLabels: { talos-platform/gateway: platform }`).",
                            ),
                        selector: labelSelectorSchema.optional().meta({
                            description: "With `from: Selector`: the namespaces whose routes may attach.",
                            defaultText: "none",
                        }),
                    })
                    .prefault({})
                    .describe("Which namespaces' routes may attach."),
            })
            .prefault({})
            .describe("Which routes may attach to the listeners (the redirect listener takes only its own route)."),
    })
    .meta({
        title: "Ingress phase: Gateway API on Cilium",
        description:
            "A shared Gateway served by Cilium's Gateway API controller (Envoy), on a LoadBalancer address from a Cilium pool, with certificates from cert-manager's gateway-shim: the successor to ingress-nginx, run side by side with it until the routes have moved (docs/gateway-api.md).",
        details: [
            "The Gateway API CRDs (standard channel) go in first, in the network phase, because Cilium's operator starts its Gateway API controller only when they exist when it starts; Cilium's values get `gatewayAPI.enabled: true`, which needs kube-proxy replacement and the L7 proxy. cert-manager gets its Gateway API support (`config.gatewayAPI.enabled`) in the certificates phase. The Gateway, its redirect route and, for a class other than `cilium`, its GatewayClass come in the ingress phase, after the certificates gate, next to ingress-nginx; the ingress gate checks them.",
        ],
    });
export type GatewayConfig = z.output<typeof gatewaySchema>;
