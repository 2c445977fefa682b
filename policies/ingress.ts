import * as k8s from "@pulumi/kubernetes";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";

/** The chart name of a release, with or without an OCI or repository prefix. */
export function chartName(chart: unknown): string {
    return typeof chart === "string" ? (chart.split("/").pop() ?? chart) : "";
}

export const INGRESS_NGINX_RETIRED =
    "ingress-nginx was retired in March 2026 and gets no more releases or security fixes; it still works, but plan the move to Gateway API, " +
    "which Cilium can serve (cilium.values.gatewayAPI.enabled, with the Gateway API CRDs installed before Cilium), and keep the controller off the public edge until then.";

/** ingress-nginx still runs, so the notice advises and never blocks. */
export const ingressNginxRetired: ResourceValidationPolicy = {
    name: "ingress-nginx-retired",
    description: "Advises that ingress-nginx is retired upstream and points to Gateway API.",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(k8s.helm.v3.Release, (release, _args, report) => {
        if (chartName(release.chart) === "ingress-nginx") report(INGRESS_NGINX_RETIRED);
    }),
};

export const ingressPolicies: ResourceValidationPolicy[] = [ingressNginxRetired];
