import { EnforcementLevel, ResourceValidation, ResourceValidationArgs, ReportViolation } from "@pulumi/policy";

/** Violations stop `pulumi up` unless a policy says otherwise. */
export const DEFAULT_ENFORCEMENT: EnforcementLevel = "mandatory";

/**
 * validateResourceOfType for custom resources, which share one Pulumi class:
 * the type token carries group, version and kind.
 */
export function validateCustomResourceOfType<TProps>(
    apiVersion: string,
    kind: string,
    validate: (props: TProps, args: ResourceValidationArgs, report: ReportViolation) => void,
): ResourceValidation {
    const type = `kubernetes:${apiVersion}:${kind}`;
    return (args, report) => {
        if (args.type === type) validate(args.props as TProps, args, report);
    };
}
