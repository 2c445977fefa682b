import type { LbPoolConfig } from "../config/cilium";
import type { IngressNginxConfig } from "../config/ingress-nginx";
import type { LabelSelector } from "../config/selectors";
import { mergeValues, Values, valueAt } from "../merge";
import { CERT_MANAGER_API, CustomObject } from "./cert-manager";
import { spreadAcrossNodes } from "./coredns";
import { EmittedService, enabled, stringMap } from "./services";

export const INGRESS_RELEASE = "ingress-nginx";
/** Cilium LB IPAM's annotation for a fixed address; the pool is still chosen by labels. */
export const LB_IPS_ANNOTATION = "lbipam.cilium.io/ips";

/**
 * Labels that satisfy a pool's serviceSelector: its matchLabels, and the
 * first value of each In expression. Exists/NotIn/DoesNotExist say nothing
 * about what to set, so they are left to the values escape hatch.
 */
export function labelsFor(selector: LabelSelector | undefined): Record<string, string> {
    const labels: Record<string, string> = { ...(selector?.matchLabels ?? {}) };
    for (const e of selector?.matchExpressions ?? []) {
        if (e.operator === "In" && e.values?.length && !(e.key in labels)) labels[e.key] = e.values[0];
    }
    // Cilium reads these two from the Service's metadata, not from labels.
    delete labels["io.kubernetes.service.namespace"];
    delete labels["io.kubernetes.service.name"];
    return labels;
}

/** ingress-nginx chart values; `ingressNginx.values` merged last. */
export function ingressNginxValues(ingress: IngressNginxConfig, pools: LbPoolConfig[]): Values {
    const pool = pools.find((p) => p.name === ingress.loadBalancer.pool);
    const service: Values = {
        type: "LoadBalancer",
        externalTrafficPolicy: ingress.loadBalancer.externalTrafficPolicy,
        // Cilium picks the pool by the Service's labels; annotations select nothing.
        labels: labelsFor(pool?.serviceSelector),
    };
    if (ingress.loadBalancer.ip) service.annotations = { [LB_IPS_ANNOTATION]: ingress.loadBalancer.ip };
    const controller: Values = {
        replicaCount: ingress.replicas,
        ingressClassResource: { name: ingress.ingressClass.name, enabled: true, default: ingress.ingressClass.default },
        ingressClass: ingress.ingressClass.name,
        service,
        admissionWebhooks: { enabled: true },
        // ServiceMonitor and PrometheusRule CRDs arrive with Flux, after this phase.
        metrics: { enabled: ingress.metrics, serviceMonitor: { enabled: false }, prometheusRule: { enabled: false } },
        affinity: spreadAcrossNodes({
            "app.kubernetes.io/name": INGRESS_RELEASE,
            "app.kubernetes.io/instance": INGRESS_RELEASE,
            "app.kubernetes.io/component": "controller",
        }),
    };
    if (ingress.defaultCertificate) {
        controller.extraArgs = { "default-ssl-certificate": `${ingress.namespace}/${ingress.defaultCertificate.secretName}` };
    }
    return mergeValues({ controller }, ingress.values);
}

/** The default TLS certificate, when configured. */
export function defaultCertificate(ingress: IngressNginxConfig): CustomObject | undefined {
    const dc = ingress.defaultCertificate;
    if (!dc) return undefined;
    return {
        apiVersion: CERT_MANAGER_API,
        kind: "Certificate",
        metadata: { name: dc.secretName, namespace: ingress.namespace },
        spec: {
            secretName: dc.secretName,
            dnsNames: dc.dnsNames,
            issuerRef: { name: dc.issuer, kind: "ClusterIssuer", group: "cert-manager.io" },
        },
    };
}

/** The Services the ingress-nginx chart renders, as its templates would from the merged values. */
export function ingressNginxServices(ingress: IngressNginxConfig, pools: LbPoolConfig[]): EmittedService[] {
    const v = ingressNginxValues(ingress, pools);
    const common = {
        "app.kubernetes.io/name": INGRESS_RELEASE,
        "app.kubernetes.io/instance": INGRESS_RELEASE,
        "app.kubernetes.io/part-of": INGRESS_RELEASE,
        "app.kubernetes.io/managed-by": "Helm",
        ...stringMap(v, "commonLabels"),
    };
    const svc = (name: string, key: string, type: unknown, component: string, labelKeys: string[], annotationKeys: string[]) => ({
        section: "ingressNginx" as const,
        labelsKey: key,
        annotationsKey: annotationKeys[0],
        namespace: ingress.namespace,
        name,
        type: String(type ?? "ClusterIP"),
        labels: Object.assign({ ...common, "app.kubernetes.io/component": component }, ...labelKeys.map((k) => stringMap(v, k))),
        annotations: Object.assign({}, ...annotationKeys.map((k) => stringMap(v, k))),
    });
    const out: EmittedService[] = [];
    const serviceType = valueAt(v, "controller.service.type") ?? "LoadBalancer";
    if (enabled(v, "controller.service.enabled", true) && enabled(v, "controller.service.external.enabled", true)) {
        out.push(
            svc(
                "ingress-nginx-controller",
                "controller.service.labels",
                serviceType,
                "controller",
                ["controller.service.labels", "controller.service.external.labels"],
                ["controller.service.annotations"],
            ),
        );
    }
    if (enabled(v, "controller.service.enabled", true) && enabled(v, "controller.service.internal.enabled", false)) {
        out.push(
            svc(
                "ingress-nginx-controller-internal",
                "controller.service.internal.labels",
                valueAt(v, "controller.service.internal.type") || serviceType,
                "controller",
                ["controller.service.labels", "controller.service.internal.labels"],
                ["controller.service.internal.annotations"],
            ),
        );
    }
    if (enabled(v, "controller.metrics.enabled", false) && enabled(v, "controller.metrics.service.enabled", true)) {
        out.push(
            svc(
                "ingress-nginx-controller-metrics",
                "controller.metrics.service.labels",
                valueAt(v, "controller.metrics.service.type"),
                "controller",
                ["controller.metrics.service.labels"],
                ["controller.metrics.service.annotations"],
            ),
        );
    }
    if (enabled(v, "controller.admissionWebhooks.enabled", true)) {
        out.push(
            svc(
                "ingress-nginx-controller-admission",
                "controller.admissionWebhooks.labels",
                valueAt(v, "controller.admissionWebhooks.service.type"),
                "admission-webhook",
                [],
                ["controller.admissionWebhooks.service.annotations"],
            ),
        );
    }
    if (enabled(v, "defaultBackend.enabled", false)) {
        out.push(
            svc(
                "ingress-nginx-defaultbackend",
                "defaultBackend.service.labels",
                valueAt(v, "defaultBackend.service.type"),
                "default-backend",
                [],
                ["defaultBackend.service.annotations"],
            ),
        );
    }
    return out;
}
