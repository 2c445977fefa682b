import { z } from "zod";
import { isAddress } from "../net";
import { chartFields, k8sName, must } from "./common";

const DNS_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;

export const ingressNginxSchema = z.strictObject({
    ...chartFields({
        chart: "ingress-nginx",
        repository: "https://kubernetes.github.io/ingress-nginx",
        version: "4.15.1",
        namespace: "ingress-nginx",
    }),
    /** Controller replicas, spread across nodes. @default 2 */
    replicas: z.number().int().min(2).default(2),
    /** Where the controller's LoadBalancer Service gets its address. */
    loadBalancer: z
        .strictObject({
            /**
             * The cilium.loadBalancerPools entry to draw from; its serviceSelector's
             * labels are put on the Service. @default none (only a pool without a selector would match)
             */
            pool: k8sName.optional(),
            /** A fixed address from that pool (annotation lbipam.cilium.io/ips). @default any free address */
            ip: must(z.string(), isAddress, "is not an IP address", "write a single address such as 172.29.52.201").optional(),
            /** Cluster spreads traffic over every node; Local keeps client source IPs. @default Cluster */
            externalTrafficPolicy: z.enum(["Cluster", "Local"]).default("Cluster"),
        })
        .prefault({}),
    /** The IngressClass the controller serves. */
    ingressClass: z
        .strictObject({
            /** @default nginx */
            name: k8sName.default("nginx"),
            /** Ingresses without ingressClassName get this class. @default true */
            default: z.boolean().default(true),
        })
        .prefault({}),
    /** Prometheus metrics endpoint and Service (no ServiceMonitor: its CRDs come with Flux). @default true */
    metrics: z.boolean().default(true),
    /**
     * A certificate served for hosts without a TLS secret of their own
     * (--default-ssl-certificate), issued by a configured ClusterIssuer.
     * @default none (the controller's self-signed fake certificate)
     */
    defaultCertificate: z
        .strictObject({
            /** A certManager.issuers name. */
            issuer: k8sName,
            dnsNames: z
                .array(
                    must(
                        z.string(),
                        (v) => DNS_NAME.test(v),
                        "is not a DNS name",
                        "write a lower-case name, optionally with a leading wildcard, e.g. *.k8s.example.com",
                    ),
                )
                .min(1),
            /** @default default-tls */
            secretName: k8sName.default("default-tls"),
        })
        .optional(),
});
export type IngressNginxConfig = z.output<typeof ingressNginxSchema>;
