import type { PlatformConfig } from "../config";
import { Values, valueAt } from "../merge";
import { Phase, PHASES } from "../phases";
import { configPath, error, Problem } from "../problems";
import { ciliumValues } from "../values/cilium";
import { certManagerValues } from "../values/cert-manager";
import { corednsValues } from "../values/coredns";
import { ingressNginxValues } from "../values/ingress-nginx";
import type { Check } from "./types";

// One predicate and one message for the config check and the policy on
// Helm releases: a chart must not enable an object whose CRD comes later.

/** Who installs a CRD group, and when. "flux" means: a Kustomization, after every phase. */
export const CRD_PROVIDERS: Record<string, { by: string; at: Phase | "flux" }> = {
    "cilium.io": { by: "Cilium", at: "network" },
    "cert-manager.io": { by: "cert-manager", at: "certificates" },
    "monitoring.coreos.com": { by: "the monitoring Kustomization (Flux)", at: "flux" },
};

interface CrdFeature {
    /** Dotted values key that turns the object on. */
    path: string;
    group: string;
    kind: string;
}

const serviceMonitor = (path: string): CrdFeature => ({ path, group: "monitoring.coreos.com", kind: "ServiceMonitor" });

/** Chart switches that render custom resources, by chart name. */
export const CRD_FEATURES: Record<string, CrdFeature[]> = {
    cilium: [
        serviceMonitor("prometheus.serviceMonitor.enabled"),
        serviceMonitor("operator.prometheus.serviceMonitor.enabled"),
        serviceMonitor("hubble.metrics.serviceMonitor.enabled"),
        serviceMonitor("hubble.relay.prometheus.serviceMonitor.enabled"),
        serviceMonitor("envoy.prometheus.serviceMonitor.enabled"),
        serviceMonitor("clustermesh.apiserver.metrics.serviceMonitor.enabled"),
    ],
    coredns: [serviceMonitor("prometheus.monitor.enabled")],
    "cert-manager": [
        serviceMonitor("prometheus.servicemonitor.enabled"),
        { path: "prometheus.podmonitor.enabled", group: "monitoring.coreos.com", kind: "PodMonitor" },
    ],
    "ingress-nginx": [
        serviceMonitor("controller.metrics.serviceMonitor.enabled"),
        { path: "controller.metrics.prometheusRule.enabled", group: "monitoring.coreos.com", kind: "PrometheusRule" },
        { path: "controller.admissionWebhooks.certManager.enabled", group: "cert-manager.io", kind: "Certificate" },
    ],
};

/** The phase each chart is installed in, for a release whose component is unknown. */
export const CHART_PHASE: Record<string, Phase> = {
    cilium: "network",
    coredns: "dns",
    "cert-manager": "certificates",
    "ingress-nginx": "ingress",
};

function rank(at: Phase | "flux"): number {
    return at === "flux" ? PHASES.length : PHASES.indexOf(at);
}

export interface LateCrd extends CrdFeature {
    provider: { by: string; at: Phase | "flux" };
}

/** The features a chart's final values enable whose CRDs are installed after `phase`. */
export function lateCrdFeatures(chart: string, phase: Phase, values: Values): LateCrd[] {
    const out: LateCrd[] = [];
    for (const f of CRD_FEATURES[chart] ?? []) {
        const on = valueAt(values, f.path);
        if (on !== true && on !== "true") continue;
        const provider = CRD_PROVIDERS[f.group] ?? { by: "nothing in this program", at: "flux" };
        if (rank(provider.at) > rank(phase)) out.push({ ...f, provider });
    }
    return out;
}

export function lateCrdMessage(chart: string, phase: Phase, f: LateCrd): string {
    const when = f.provider.at === "flux" ? "only after every phase" : `only in the ${f.provider.at} phase`;
    return `${chart}'s ${f.path} makes it emit a ${f.kind} (${f.group}), whose CRD ${f.provider.by} installs ${when}; the ${phase}-phase release would fail on an unknown kind`;
}

export function lateCrdFix(f: LateCrd): string {
    return `leave ${f.path} false until ${f.provider.by} comes before this phase; ship the ${f.kind} from a later Kustomization instead`;
}

/** The charts this program installs, with their final values and where their escape hatch lives. */
function releases(config: PlatformConfig): Array<{ section: string; chart: string; phase: Phase; values: Values }> {
    const out = [
        { section: "cilium", chart: "cilium", phase: "network" as Phase, values: ciliumValues(config.cluster, config.cilium) },
        {
            section: "certManager",
            chart: "cert-manager",
            phase: "certificates" as Phase,
            values: certManagerValues(config.certManager, config.cluster),
        },
        {
            section: "ingressNginx",
            chart: "ingress-nginx",
            phase: "ingress" as Phase,
            values: ingressNginxValues(config.ingressNginx, config.cilium.loadBalancerPools),
        },
    ];
    if (config.cluster.coreDnsDisabled) {
        out.splice(1, 0, { section: "coredns", chart: "coredns", phase: "dns", values: corednsValues(config.cluster, config.coredns) });
    }
    return out;
}

function crdOrder(config: PlatformConfig): Problem[] {
    return releases(config).flatMap((r) =>
        lateCrdFeatures(r.chart, r.phase, r.values).map((f) =>
            error(configPath([r.section, "values", ...f.path.split(".")]), lateCrdMessage(r.chart, r.phase, f), lateCrdFix(f), true),
        ),
    );
}

export const crdOrderChecks: Check[] = [{ name: "crd-from-later-phase", run: crdOrder }];
