import { z } from "zod";
import { isAddress } from "../net";
import { chartFields, k8sName, must } from "./common";

const DNS_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;

export const ingressNginxSchema = z
    .strictObject({
        enabled: z
            .boolean()
            .default(true)
            .describe(
                "Install ingress-nginx. Set to false once every route has moved to the Gateway (`gateway`): the release, its default certificate and its checks go, and the ingress gate checks the Gateway alone.",
            ),
        ...chartFields({
            chart: "ingress-nginx",
            repository: "https://kubernetes.github.io/ingress-nginx",
            version: "4.15.1",
            namespace: "ingress-nginx",
        }),
        replicas: z
            .number()
            .int()
            .min(2)
            .default(2)
            .describe(
                "Controller replicas: at least 2, spread across nodes. With the chart's `controller.autoscaling` or `controller.keda` on, their `minReplicas` must be at least 2 too.",
            ),
        loadBalancer: z
            .strictObject({
                pool: k8sName.optional().meta({
                    description:
                        "The `cilium.loadBalancerPools` entry the Service draws from: the pool's `serviceSelector` labels are put on the Service (annotations select nothing).",
                    defaultText: "none: only a pool without a selector would match",
                }),
                ip: must(z.string(), isAddress, "is not an IP address", "write a single address such as 172.29.52.201").optional().meta({
                    description: "A fixed address for the Service (annotation `lbipam.cilium.io/ips`); it must lie in that pool.",
                    defaultText: "any free address of the pool",
                }),
                externalTrafficPolicy: z
                    .enum(["Cluster", "Local"])
                    .default("Cluster")
                    .describe("`Cluster` spreads traffic over every node; `Local` keeps client source addresses."),
            })
            .prefault({})
            .describe(
                "Where the controller's LoadBalancer Service gets its address: a Cilium pool, and in it, optionally, a fixed address.",
            ),
        ingressClass: z
            .strictObject({
                name: k8sName.default("nginx").describe("The IngressClass's name."),
                default: z.boolean().default(true).describe("Whether Ingresses without `ingressClassName` get this class."),
            })
            .prefault({})
            .describe("The IngressClass the controller serves."),
        metrics: z
            .boolean()
            .default(true)
            .describe(
                "The Prometheus metrics endpoint and its Service. Never a ServiceMonitor or PrometheusRule: their CRDs come later, with Flux.",
            ),
        defaultCertificate: z
            .strictObject({
                issuer: k8sName.describe("The `certManager.issuers` entry, by name, that issues the certificate."),
                dnsNames: z
                    .array(
                        must(
                            z.string(),
                            (v) => DNS_NAME.test(v),
                            "is not a DNS name",
                            "write a lower-case name, optionally with a leading wildcard, e.g. *.k8s.example.com",
                        ).meta({ pattern: DNS_NAME.source }),
                    )
                    .min(1)
                    .describe("The certificate's DNS names, in lower case, optionally with a leading wildcard (`*.k8s.example.com`)."),
                secretName: k8sName
                    .default("default-tls")
                    .describe("The Secret the certificate is stored in, in the controller's namespace."),
            })
            .optional()
            .meta({
                description:
                    "A certificate served for hosts without a TLS secret of their own (`--default-ssl-certificate`), issued by a configured ClusterIssuer.",
                defaultText: "none: the controller's self-signed fake certificate",
            }),
    })
    .meta({
        title: "Ingress phase: ingress-nginx",
        description:
            "ingress-nginx, on a LoadBalancer address from a Cilium pool, with its admission webhook on. ingress-nginx was retired upstream in March 2026 and gets no more security fixes: the plan reports this as the advisory finding `ingress-nginx-retired`, pointing to the `gateway` section (Gateway API on Cilium) and, once that is on, saying what is left to move.",
    });
export type IngressNginxConfig = z.output<typeof ingressNginxSchema>;
