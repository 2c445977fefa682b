import * as k8s from "@pulumi/kubernetes";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { isPinnedVersion, pinnedVersionFix } from "../lib/config/common";

/** Every Helm release names its repository and an exact chart version. */
export const helmReleasePinned: ResourceValidationPolicy = {
    name: "helm-release-pinned",
    description: "Helm releases pin an exact chart version from a named repository.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(k8s.helm.v3.Release, (release, _args, report) => {
        if (!isPinnedVersion(release.version)) {
            report(
                `chart '${release.chart}' has version ${JSON.stringify(release.version)}, which is not pinned: ${pinnedVersionFix(`the ${release.chart} chart`)}.`,
            );
        }
        const oci = typeof release.chart === "string" && release.chart.startsWith("oci://");
        if (!oci && !release.repositoryOpts?.repo) {
            report(`chart '${release.chart}' names no repository: set repositoryOpts.repo, or use a full oci:// reference.`);
        }
    }),
};

export const chartPolicies: ResourceValidationPolicy[] = [helmReleasePinned];
