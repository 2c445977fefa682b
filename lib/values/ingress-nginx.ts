import type { LbPoolConfig } from "../config/cilium";
import type { IngressNginxConfig } from "../config/ingress-nginx";
import type { LabelSelector } from "../config/selectors";
import { mergeValues, Values } from "../merge";
import { CERT_MANAGER_API, CustomObject } from "./cert-manager";
import { spreadAcrossNodes } from "./coredns";
import { KIND, readValue, switchOn, ValueKeys } from "./read";
import { EmittedService, mergedMaps, serviceFamilies } from "./services";

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

interface ServiceTemplate {
    name: string;
    component: string;
    /** The switches that must all be on, with the chart's defaults. */
    when: Array<[string, boolean]>;
    typeKey: string;
    /** Unset, the type is the controller Service's (else ClusterIP). */
    inheritsControllerType?: boolean;
    familiesKey?: string;
    /** Where its externalTrafficPolicy is set; the chart's "" leaves Kubernetes' Cluster. */
    trafficPolicyKey?: string;
    /** Where the user sets this Service's own labels. */
    labelsKey: string;
    /** Every labels map the template merges, in order. */
    labelKeys: string[];
    annotationKeys: string[];
}

// The Services of ingress-nginx 4.15's templates, and the keys each reads.
const SERVICES: ServiceTemplate[] = [
    {
        name: "ingress-nginx-controller",
        component: "controller",
        when: [
            ["controller.service.enabled", true],
            ["controller.service.external.enabled", true],
        ],
        typeKey: "controller.service.type",
        inheritsControllerType: true,
        familiesKey: "controller.service.ipFamilies",
        trafficPolicyKey: "controller.service.externalTrafficPolicy",
        labelsKey: "controller.service.labels",
        labelKeys: ["controller.service.labels", "controller.service.external.labels"],
        annotationKeys: ["controller.service.annotations"],
    },
    {
        name: "ingress-nginx-controller-internal",
        component: "controller",
        when: [
            ["controller.service.enabled", true],
            ["controller.service.internal.enabled", false],
        ],
        typeKey: "controller.service.internal.type",
        inheritsControllerType: true,
        familiesKey: "controller.service.internal.ipFamilies",
        trafficPolicyKey: "controller.service.internal.externalTrafficPolicy",
        labelsKey: "controller.service.internal.labels",
        labelKeys: ["controller.service.labels", "controller.service.internal.labels"],
        annotationKeys: ["controller.service.internal.annotations"],
    },
    {
        name: "ingress-nginx-controller-metrics",
        component: "controller",
        when: [
            ["controller.metrics.enabled", false],
            ["controller.metrics.service.enabled", true],
        ],
        typeKey: "controller.metrics.service.type",
        labelsKey: "controller.metrics.service.labels",
        labelKeys: ["controller.metrics.service.labels"],
        annotationKeys: ["controller.metrics.service.annotations"],
    },
    {
        name: "ingress-nginx-controller-admission",
        component: "admission-webhook",
        when: [["controller.admissionWebhooks.enabled", true]],
        typeKey: "controller.admissionWebhooks.service.type",
        // controller-service-webhook.yaml labels it with the controller's labels.
        labelsKey: "controller.labels",
        labelKeys: ["controller.labels"],
        annotationKeys: ["controller.admissionWebhooks.service.annotations"],
    },
    {
        name: "ingress-nginx-defaultbackend",
        component: "default-backend",
        when: [["defaultBackend.enabled", false]],
        typeKey: "defaultBackend.service.type",
        // default-backend-service.yaml reads defaultBackend.labels; the chart has no defaultBackend.service.labels.
        labelsKey: "defaultBackend.labels",
        labelKeys: ["defaultBackend.labels"],
        annotationKeys: ["defaultBackend.service.annotations"],
    },
];

/** The ingress-nginx chart's values keys that the builders and checks read. */
export const INGRESS_NGINX_VALUE_KEYS: ValueKeys = {
    "controller.kind": KIND.string,
    "controller.name": KIND.string,
    "controller.replicaCount": KIND.count,
    "controller.autoscaling.enabled": KIND.switch,
    "controller.autoscaling.minReplicas": KIND.count,
    "controller.keda.enabled": KIND.switch,
    "controller.keda.minReplicas": KIND.count,
    "controller.admissionWebhooks.certManager.admissionCert.issuerRef": KIND.map,
    commonLabels: KIND.stringMap,
    ...Object.fromEntries(
        SERVICES.flatMap((t) => [
            ...t.when.map(([k]) => [k, KIND.switch]),
            [t.typeKey, KIND.string],
            ...(t.familiesKey ? [[t.familiesKey, KIND.strings]] : []),
            ...(t.trafficPolicyKey ? [[t.trafficPolicyKey, KIND.string]] : []),
            ...[...t.labelKeys, ...t.annotationKeys].map((k) => [k, KIND.stringMap]),
        ]),
    ),
};

/** The Services the ingress-nginx chart renders, as its templates would from the merged values. */
export function ingressNginxServices(ingress: IngressNginxConfig, pools: LbPoolConfig[]): EmittedService[] {
    const v = ingressNginxValues(ingress, pools);
    const common = mergedMaps(v, ["commonLabels"]);
    const controllerType = readValue(v, "controller.service.type", KIND.string) ?? "LoadBalancer";
    return SERVICES.filter((t) => t.when.every(([k, d]) => switchOn(v, k, d))).map((t) => {
        const labels = mergedMaps(v, t.labelKeys);
        const annotations = mergedMaps(v, t.annotationKeys);
        // The chart's own default for both controller Services is single-stack IPv4.
        const families = t.familiesKey ? serviceFamilies(readValue(v, t.familiesKey, KIND.strings) ?? ["IPv4"]) : undefined;
        return {
            section: "ingressNginx" as const,
            labelsKey: t.labelsKey,
            annotationsKey: t.annotationKeys[0],
            typeKey: t.typeKey,
            namespace: ingress.namespace,
            name: t.name,
            type: readValue(v, t.typeKey, KIND.string) || (t.inheritsControllerType ? controllerType : "ClusterIP"),
            labels: {
                "app.kubernetes.io/name": INGRESS_RELEASE,
                "app.kubernetes.io/instance": INGRESS_RELEASE,
                "app.kubernetes.io/part-of": INGRESS_RELEASE,
                "app.kubernetes.io/managed-by": "Helm",
                ...common.map,
                "app.kubernetes.io/component": t.component,
                ...labels.map,
            },
            annotations: annotations.map,
            families: families?.length ? families : undefined,
            ...(t.trafficPolicyKey
                ? {
                      trafficPolicyKey: t.trafficPolicyKey,
                      externalTrafficPolicy: readValue(v, t.trafficPolicyKey, KIND.string) || "Cluster",
                  }
                : {}),
            wellTyped: common.ok && labels.ok && annotations.ok,
        };
    });
}
