import { ResourceValidationPolicy } from "@pulumi/policy";
import { CERT_MANAGER_API } from "../lib/values/cert-manager";
import { waitForReadyProblem } from "../lib/values/objects";
import { validateCustomResourceOfType } from "./kit";

interface ObjectProps {
    metadata?: { name?: string; annotations?: Record<string, string> };
}

/**
 * Without the wait, `pulumi up` moves on as soon as the object exists, and
 * the next phase starts against an issuer that may never become Ready.
 */
export const clusterIssuerWaitsForReady: ResourceValidationPolicy = {
    name: "cluster-issuer-waits-for-ready",
    description: "Every ClusterIssuer carries pulumi.com/waitFor: condition=Ready.",
    enforcementLevel: "mandatory",
    validateResource: validateCustomResourceOfType<ObjectProps>(CERT_MANAGER_API, "ClusterIssuer", (issuer, _args, report) => {
        const problem = waitForReadyProblem({ kind: "ClusterIssuer", ...issuer });
        if (problem) report(problem);
    }),
};

export const certificatePolicies: ResourceValidationPolicy[] = [clusterIssuerWaitsForReady];
