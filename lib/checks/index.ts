import { bgpChecks } from "./bgp";
import { certificateChecks } from "./certificates";
import { chartValueChecks } from "./chart-values";
import { ciliumChecks } from "./cilium";
import { clusterChecks } from "./cluster";
import { crdOrderChecks } from "./crd-order";
import { crossPhaseChecks } from "./cross-phase";
import { dnsChecks } from "./dns";
import { dns01Checks } from "./dns01";
import { gatewayChecks } from "./gateway";
import { gateChecks } from "./gates";
import { ingressChecks } from "./ingress";
import { ingressAnnotationChecks } from "./ingress-annotations";
import { lbPoolChecks } from "./lb-pools";
import { lifecycleChecks } from "./lifecycle";
import { gitopsChecks } from "./gitops";
import { networkChecks } from "./network";
import { nodeIpamChecks } from "./node-ipam";
import { secretChecks } from "./secrets";
import { valuesSecretChecks } from "./values-secrets";
import type { Check } from "./types";

/** Every cross-check, by domain. Order only affects the order of the report. */
export const CHECKS: Check[] = [
    ...clusterChecks,
    ...networkChecks,
    ...nodeIpamChecks,
    ...ciliumChecks,
    ...bgpChecks,
    ...dnsChecks,
    ...certificateChecks,
    ...dns01Checks,
    ...ingressChecks,
    ...gatewayChecks,
    ...chartValueChecks,
    ...crdOrderChecks,
    ...lbPoolChecks,
    ...ingressAnnotationChecks,
    ...crossPhaseChecks,
    ...gitopsChecks,
    ...secretChecks,
    ...valuesSecretChecks,
    ...gateChecks,
    ...lifecycleChecks,
];
