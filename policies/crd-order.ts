import * as k8s from "@pulumi/kubernetes";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { CHART_PHASE, lateCrdFeatures, lateCrdFix, lateCrdMessage } from "../lib/checks/crd-order";
import { isPlainObject } from "../lib/merge";
import { Phase, phaseOfType } from "../lib/phases";
import { chartName } from "./ingress";

/**
 * The phase a resource belongs to, read from its URN: the type part lists
 * every ancestor's type, and the component's token carries the phase.
 */
export function phaseOfUrn(urn: string): Phase | undefined {
    const types = (urn.split("::")[2] ?? "").split("$");
    return types.map(phaseOfType).find((p) => p !== undefined);
}

/** The same rule as the config check crd-from-later-phase, on what the engine receives. */
export const noCrdFromLaterPhase: ResourceValidationPolicy = {
    name: "no-crd-from-later-phase",
    description: "A Helm release enables no object whose CRD a later phase or Flux installs.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(k8s.helm.v3.Release, (release, args, report) => {
        const chart = chartName(release.chart);
        const phase = phaseOfUrn(args.urn) ?? CHART_PHASE[chart];
        if (!phase || !isPlainObject(release.values)) return;
        for (const f of lateCrdFeatures(chart, phase, release.values)) report(`${lateCrdMessage(chart, phase, f)}. Fix: ${lateCrdFix(f)}.`);
    }),
};

export const crdOrderPolicies: ResourceValidationPolicy[] = [noCrdFromLaterPhase];
