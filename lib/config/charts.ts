import { z } from "zod";
import { chartFields } from "./common";

// Chart-backed sections. Each phase's issue deepens its own schema; the
// shared fields (chart, repository, pinned version, namespace, values) come
// from chartFields so every component reads them the same way.

export const ciliumSchema = z.strictObject({
    ...chartFields({ chart: "cilium", repository: "https://helm.cilium.io", version: "1.19.4", namespace: "kube-system" }),
});
export type CiliumConfig = z.output<typeof ciliumSchema>;

export const corednsSchema = z.strictObject({
    ...chartFields({
        chart: "coredns",
        repository: "https://coredns.github.io/helm",
        version: "1.46.2",
        namespace: "kube-system",
    }),
});
export type CorednsConfig = z.output<typeof corednsSchema>;

export const certManagerSchema = z.strictObject({
    ...chartFields({
        chart: "cert-manager",
        repository: "https://charts.jetstack.io",
        version: "v1.21.1",
        namespace: "cert-manager",
    }),
});
export type CertManagerConfig = z.output<typeof certManagerSchema>;

export const ingressNginxSchema = z.strictObject({
    ...chartFields({
        chart: "ingress-nginx",
        repository: "https://kubernetes.github.io/ingress-nginx",
        version: "4.15.1",
        namespace: "ingress-nginx",
    }),
});
export type IngressNginxConfig = z.output<typeof ingressNginxSchema>;
