import type { PolicyResource, PolicyResourceOptions, ResourceValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { gitopsPolicyConfig } from "../../policies/gitops";
import { DEFAULT_ENFORCEMENT } from "../../policies/kit";
import { POLICIES } from "../../policies/rules";
import type { PlatformConfig } from "../config";
import type { Finding, PlanResource } from "./model";

/** Per-policy config by policy name, as in the file `pulumi preview --policy-pack-config` reads. */
export type PolicyConfig = Record<string, Record<string, unknown>>;

/** The policy config that describes a stack, so policies compare against its facts (e.g. its cluster domain). */
export function stackPolicyConfig(config: PlatformConfig): PolicyConfig {
    return { ...gitopsPolicyConfig(config) };
}

export interface PolicyInput extends PlanResource {
    /** Inputs with secrets unwrapped, as CrossGuard passes them. */
    props: Record<string, unknown>;
}

class NotApplicable extends Error {}

function options(r: PolicyInput): PolicyResourceOptions {
    return {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        additionalSecretOutputs: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        parent: r.parent ?? undefined,
    };
}

function isTypeOf(type: string, cls: unknown): boolean {
    const token = (cls as { __pulumiType?: string }).__pulumiType;
    return token !== undefined && token === type;
}

/**
 * Evaluates the policy pack over the recorded resources, the way the
 * CrossGuard analyzer would during `pulumi preview --policy-pack policies`
 * (with `--policy-pack-config` when `config` is given).
 */
export async function evaluatePolicies(resources: PolicyInput[], config: PolicyConfig = {}): Promise<Finding[]> {
    const findings: Finding[] = [];
    const byUrn = new Map<string, PolicyResource>();
    const policyResources = resources.map((r): PolicyResource => {
        const pr: PolicyResource = {
            type: r.type,
            props: r.props,
            urn: r.urn,
            name: r.name,
            opts: options(r),
            dependencies: [],
            propertyDependencies: {},
            isType: (cls) => isTypeOf(r.type, cls),
            asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? r.props : undefined)) as PolicyResource["asType"],
        };
        byUrn.set(r.urn, pr);
        return pr;
    });
    resources.forEach((r, i) => {
        policyResources[i].parent = r.parent ? byUrn.get(r.parent) : undefined;
        policyResources[i].dependencies = r.dependsOn.map((u) => byUrn.get(u)).filter((d): d is PolicyResource => d !== undefined);
    });

    for (const policy of POLICIES) {
        const severity = policy.enforcementLevel ?? DEFAULT_ENFORCEMENT;
        if (severity === "disabled") continue;
        const level = severity === "advisory" ? "advisory" : "mandatory";
        const getConfig = <T extends object>() => ({ ...config[policy.name] }) as T;
        const notApplicable = (reason?: string): never => {
            throw new NotApplicable(reason);
        };
        if ("validateResource" in policy) {
            const validations = [(policy as ResourceValidationPolicy).validateResource].flat();
            for (const r of policyResources) {
                const report = (message: string, urn?: string) =>
                    findings.push({ rule: policy.name, severity: level, resource: urn ?? r.urn, message });
                const args: ResourceValidationArgs = {
                    type: r.type,
                    props: r.props,
                    urn: r.urn,
                    name: r.name,
                    opts: r.opts,
                    stackTags: new Map(),
                    isType: r.isType,
                    asType: r.asType as unknown as ResourceValidationArgs["asType"],
                    getConfig,
                    notApplicable,
                };
                for (const validate of validations) {
                    if (!validate) continue;
                    try {
                        await validate(args, report);
                    } catch (e) {
                        if (!(e instanceof NotApplicable)) throw e;
                    }
                }
            }
        } else {
            const report = (message: string, urn?: string) =>
                findings.push({ rule: policy.name, severity: level, resource: urn ?? "", message });
            try {
                await (policy as StackValidationPolicy).validateStack(
                    { resources: policyResources, stackTags: new Map(), getConfig, notApplicable },
                    report,
                );
            } catch (e) {
                if (!(e instanceof NotApplicable)) throw e;
            }
        }
    }
    return findings;
}
