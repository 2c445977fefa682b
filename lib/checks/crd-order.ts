import type { PlatformConfig } from "../config";
import type { ChartConfig } from "../config/common";
import { Values, valueAt } from "../merge";
import { Phase, PHASES } from "../phases";
import { configPath, error, Problem, warning } from "../problems";
import { apiGroup, BUILT_IN_GROUPS, renderedObjects } from "../charts/rendered";
import { ciliumValues } from "../values/cilium";
import { certManagerValues } from "../values/cert-manager";
import { corednsValues } from "../values/coredns";
import { dns01FallthroughZones, dns01RecursiveNameservers } from "../values/dns01";
import { fluxOperatorValues } from "../values/flux";
import { ingressNginxValues } from "../values/ingress-nginx";
import { KIND, readValue, switchOn, ValueKeys } from "../values/read";
import type { Check } from "./types";

// One predicate and one message for the config check and the policy on
// Helm releases: a chart must not enable an object whose CRD comes later.

/** Who installs a CRD group, and when. "flux" means: a Kustomization, after every phase. */
export const CRD_PROVIDERS: Record<string, { by: string; at: Phase | "flux" }> = {
    "cilium.io": { by: "Cilium", at: "network" },
    "cert-manager.io": { by: "cert-manager", at: "certificates" },
    "monitoring.coreos.com": { by: "the monitoring Kustomization (Flux)", at: "flux" },
};

export interface CrdFeature {
    /** Dotted values key that turns the object on. */
    path: string;
    /** The value of `path` that turns it on; unset, anything Helm's `if` takes as true does. */
    equals?: string;
    /** What to set `path` to instead, when `equals` is given. */
    off?: string;
    /** Other switches the template needs on as well, with the chart's defaults. */
    requires?: Array<[string, boolean]>;
    group: string;
    kind: string;
    /** The values key of the issuerRef the emitted Certificate carries. */
    issuerRef?: string;
    /** An empty issuerRef makes the chart create an issuer of its own instead of naming none. */
    ownIssuerWhenEmpty?: boolean;
}

const serviceMonitor = (path: string): CrdFeature => ({ path, group: "monitoring.coreos.com", kind: "ServiceMonitor" });
const certificates = (path: string, requires: Array<[string, boolean]>, issuerRef: string): CrdFeature => ({
    path,
    equals: "certmanager",
    off: "helm",
    requires,
    group: "cert-manager.io",
    kind: "Certificate",
    issuerRef,
});

/** Chart switches that render custom resources, by chart name. */
export const CRD_FEATURES: Record<string, CrdFeature[]> = {
    cilium: [
        serviceMonitor("prometheus.serviceMonitor.enabled"),
        serviceMonitor("operator.prometheus.serviceMonitor.enabled"),
        serviceMonitor("hubble.metrics.serviceMonitor.enabled"),
        serviceMonitor("hubble.relay.prometheus.serviceMonitor.enabled"),
        serviceMonitor("envoy.prometheus.serviceMonitor.enabled"),
        serviceMonitor("clustermesh.apiserver.metrics.serviceMonitor.enabled"),
        // templates/hubble/tls-certmanager and clustermesh-apiserver/tls-certmanager
        certificates(
            "hubble.tls.auto.method",
            [
                ["hubble.enabled", true],
                ["hubble.tls.enabled", true],
                ["hubble.tls.auto.enabled", true],
            ],
            "hubble.tls.auto.certManagerIssuerRef",
        ),
        certificates(
            "clustermesh.apiserver.tls.auto.method",
            [
                ["clustermesh.useAPIServer", false],
                ["clustermesh.apiserver.tls.auto.enabled", true],
            ],
            "clustermesh.apiserver.tls.auto.certManagerIssuerRef",
        ),
    ],
    coredns: [serviceMonitor("prometheus.monitor.enabled")],
    "cert-manager": [
        serviceMonitor("prometheus.servicemonitor.enabled"),
        { path: "prometheus.podmonitor.enabled", group: "monitoring.coreos.com", kind: "PodMonitor" },
    ],
    "ingress-nginx": [
        serviceMonitor("controller.metrics.serviceMonitor.enabled"),
        { path: "controller.metrics.prometheusRule.enabled", group: "monitoring.coreos.com", kind: "PrometheusRule" },
        {
            path: "controller.admissionWebhooks.certManager.enabled",
            requires: [["controller.admissionWebhooks.enabled", true]],
            group: "cert-manager.io",
            kind: "Certificate",
            issuerRef: "controller.admissionWebhooks.certManager.admissionCert.issuerRef",
            ownIssuerWhenEmpty: true,
        },
    ],
    "flux-operator": [serviceMonitor("serviceMonitor.create")],
};

/** Does the chart render the feature's object with these values? One predicate for the check and the policy. */
export function featureOn(values: Values, f: CrdFeature): boolean {
    const on = f.equals !== undefined ? readValue(values, f.path, KIND.string) === f.equals : switchOn(values, f.path, false);
    return on && (f.requires ?? []).every(([key, chartDefault]) => switchOn(values, key, chartDefault));
}

/** The values keys the features read, for the type check. */
export function featureKeys(chart: string): ValueKeys {
    return Object.fromEntries(
        (CRD_FEATURES[chart] ?? []).flatMap((f) => [
            [f.path, f.equals !== undefined ? KIND.string : KIND.switch],
            ...(f.requires ?? []).map(([key]) => [key, KIND.switch]),
            ...(f.issuerRef ? [[f.issuerRef, KIND.map]] : []),
        ]),
    );
}

/** The phase each chart is installed in, for a release whose component is unknown. */
export const CHART_PHASE: Record<string, Phase> = {
    cilium: "network",
    coredns: "dns",
    "cert-manager": "certificates",
    "ingress-nginx": "ingress",
    "flux-operator": "gitops",
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
        if (!featureOn(values, f)) continue;
        const provider = CRD_PROVIDERS[f.group] ?? { by: "nothing in this program", at: "flux" };
        if (rank(provider.at) > rank(phase)) out.push({ ...f, provider });
    }
    return out;
}

export function lateCrdMessage(chart: string, phase: Phase, f: LateCrd): string {
    const when = f.provider.at === "flux" ? "only after every phase" : `only in the ${f.provider.at} phase`;
    const setting = f.equals !== undefined ? `${f.path}: ${f.equals}` : f.path;
    return `${chart}'s ${setting} makes it emit a ${f.kind} (${f.group}), whose CRD ${f.provider.by} installs ${when}; the ${phase}-phase release would fail on an unknown kind`;
}

export function lateCrdFix(f: LateCrd): string {
    const off = f.equals !== undefined ? `set ${f.path} to ${f.off}` : `leave ${f.path} false`;
    if (f.provider.at !== "flux") return `${off}: ${f.provider.by} is installed only in the ${f.provider.at} phase, after this one`;
    return `${off} until ${f.provider.by} comes before this phase; ship the ${f.kind} from a later Kustomization instead`;
}

export interface Release {
    /** The config section whose `values` are merged into the release's. */
    section: "cilium" | "coredns" | "certManager" | "ingressNginx" | "flux";
    /** The chart this program knows it as (CRD_FEATURES, chart data); the section may name a mirror's copy. */
    chart: string;
    phase: Phase;
    values: Values;
    /** The section: chart name, repository, pinned version, namespace and the user's own `values`. */
    config: ChartConfig;
}

/** The charts this program installs, in phase order, with their final values. */
export function releases(config: PlatformConfig): Release[] {
    const { cluster } = config;
    const out: Release[] = [
        {
            section: "cilium",
            chart: "cilium",
            phase: "network",
            values: ciliumValues(cluster, config.cilium, config.gateway),
            config: config.cilium,
        },
    ];
    if (cluster.coreDnsDisabled) {
        out.push({
            section: "coredns",
            chart: "coredns",
            phase: "dns",
            // With the DNS-01 fallthrough and self-check resolvers, as the components get them: these are the values Helm receives.
            values: corednsValues(cluster, config.coredns, { fallthrough: dns01FallthroughZones(config) }),
            config: config.coredns,
        });
    }
    out.push(
        {
            section: "certManager",
            chart: "cert-manager",
            phase: "certificates",
            values: certManagerValues(config.certManager, cluster, {
                recursiveNameservers: dns01RecursiveNameservers(config),
                gatewayApi: config.gateway.enabled,
            }),
            config: config.certManager,
        },
        ...(config.ingressNginx.enabled
            ? [
                  {
                      section: "ingressNginx" as const,
                      chart: "ingress-nginx",
                      phase: "ingress" as const,
                      values: ingressNginxValues(config.ingressNginx, config.cilium.loadBalancerPools),
                      config: config.ingressNginx,
                  },
              ]
            : []),
        { section: "flux", chart: "flux-operator", phase: "gitops", values: fluxOperatorValues(config.flux), config: config.flux },
    );
    return out;
}

/**
 * Objects a chart renders from its values (extraObjects) whose kind needs a
 * CRD: Helm maps every object of a release to an API before it creates any,
 * so a CRD that this same release installs (by template, or by an operator
 * that starts later) is as missing as one a later phase installs.
 */
function renderedCrdProblems(r: Release): Problem[] {
    const problems: Problem[] = [];
    for (const o of renderedObjects(r).objects) {
        const group = apiGroup(o.apiVersion);
        if (BUILT_IN_GROUPS.has(group)) continue;
        const key = configPath([r.section, "values", ...o.at]);
        const what = `${r.chart}'s ${o.source} is a ${o.kind} (${o.apiVersion})`;
        const provider = CRD_PROVIDERS[group];
        if (!provider) {
            problems.push(
                warning(
                    "chart-object-crd-unknown",
                    key,
                    `${what}, whose CRD no phase of talos-platform installs; unless the cluster has it before the ${r.phase} phase (from Talos' extraManifests, say), the release fails on an unknown kind`,
                    `make sure the CRD is installed before the ${r.phase} phase, or ship the ${o.kind} from a Flux Kustomization`,
                    o.kind,
                ),
            );
            continue;
        }
        if (rank(provider.at) < rank(r.phase)) continue;
        const when =
            provider.at === r.phase
                ? "in this same release"
                : provider.at === "flux"
                  ? "only after every phase"
                  : `only in the ${provider.at} phase`;
        const instead = o.kind === "ClusterIssuer" && group === "cert-manager.io" ? "declare it in certManager.issuers, or " : "";
        problems.push(
            error(
                key,
                `${what}, whose CRD ${provider.by} installs ${when}; Helm resolves every object's kind before it creates any, so the ${r.phase}-phase release would fail on an unknown kind`,
                `${instead}ship the ${o.kind} from a Flux Kustomization, which runs after every phase`,
                o.kind,
            ),
        );
    }
    return problems;
}

function crdOrder(config: PlatformConfig): Problem[] {
    return releases(config).flatMap((r) => [
        ...lateCrdFeatures(r.chart, r.phase, r.values).map((f) =>
            error(
                configPath([r.section, "values", ...f.path.split(".")]),
                lateCrdMessage(r.chart, r.phase, f),
                lateCrdFix(f),
                valueAt(r.values, f.path),
            ),
        ),
        ...renderedCrdProblems(r),
    ]);
}

export const crdOrderChecks: Check[] = [{ name: "crd-from-later-phase", run: crdOrder }];
