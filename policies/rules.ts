import type { Policies } from "@pulumi/policy";
import { chartPolicies } from "./charts";
import { gitopsPolicies } from "./gitops";

/**
 * Every policy of the pack, by domain. The offline plan evaluates the same
 * list, so a pull request sees what `pulumi preview --policy-pack` enforces.
 */
export const POLICIES: Policies = [...chartPolicies, ...gitopsPolicies];
