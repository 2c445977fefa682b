import type { Policies } from "@pulumi/policy";
import { certificatePolicies } from "./certificates";
import { chartPolicies } from "./charts";
import { crdOrderPolicies } from "./crd-order";
import { gatewayPolicies } from "./gateway";
import { gitopsPolicies } from "./gitops";
import { ingressPolicies } from "./ingress";
import { networkPolicies } from "./network";

/**
 * Every policy of the pack, by domain. The offline plan evaluates the same
 * list, so a pull request sees what `pulumi preview --policy-pack` enforces.
 */
export const POLICIES: Policies = [
    ...chartPolicies,
    ...networkPolicies,
    ...crdOrderPolicies,
    ...certificatePolicies,
    ...ingressPolicies,
    ...gatewayPolicies,
    ...gitopsPolicies,
];
