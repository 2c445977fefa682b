import { ResourceValidationPolicy } from "@pulumi/policy";
import { CERT_MANAGER_API, WAIT_FOR_READY } from "../lib/values/cert-manager";
import { validateCustomResourceOfType } from "./kit";

interface ObjectProps {
    metadata?: { name?: string; annotations?: Record<string, string> };
}

const [WAIT_KEY, WAIT_VALUE] = Object.entries(WAIT_FOR_READY)[0];

/**
 * Without the wait, `pulumi up` moves on as soon as the object exists, and
 * the next phase starts against an issuer that may never become Ready.
 */
export const clusterIssuerWaitsForReady: ResourceValidationPolicy = {
    name: "cluster-issuer-waits-for-ready",
    description: "Every ClusterIssuer carries pulumi.com/waitFor: condition=Ready.",
    enforcementLevel: "mandatory",
    validateResource: validateCustomResourceOfType<ObjectProps>(CERT_MANAGER_API, "ClusterIssuer", (issuer, _args, report) => {
        const got = issuer.metadata?.annotations?.[WAIT_KEY];
        if (got !== WAIT_VALUE) {
            report(
                `ClusterIssuer ${issuer.metadata?.name ?? "(unnamed)"} has ${WAIT_KEY} ${JSON.stringify(got)}: set it to "${WAIT_VALUE}" so that nothing after it starts before cert-manager reports it Ready.`,
            );
        }
    }),
};

export const certificatePolicies: ResourceValidationPolicy[] = [clusterIssuerWaitsForReady];
