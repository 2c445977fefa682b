import { closest } from "fastest-levenshtein";
import type { PlatformConfig } from "../config";
import { configPath, error, Problem } from "../problems";
import { certManagerValues } from "../values/cert-manager";
import { KIND, readValue, switchOn } from "../values/read";
import { minReplicaProblems, ReplicaRule } from "./replicas";
import type { Check } from "./types";

/** "; known: a, b" or a hint that there are none, for messages about issuer names. */
export function knownIssuersHint(config: PlatformConfig, name: string): string {
    const names = config.certManager.issuers.map((i) => i.name);
    if (!names.length) return "add it under certManager.issuers (no issuers are configured)";
    return `use one of ${names.join(", ")}${names.length > 1 ? ` (closest: ${closest(name, names)})` : ""}, or add it under certManager.issuers`;
}

/** ClusterIssuers are cluster-wide: two entries with one name would overwrite each other. */
function uniqueNames(config: PlatformConfig): Problem[] {
    const seen = new Map<string, number>();
    const problems: Problem[] = [];
    config.certManager.issuers.forEach((issuer, i) => {
        const first = seen.get(issuer.name);
        if (first === undefined) seen.set(issuer.name, i);
        else
            problems.push(
                error(
                    configPath(["certManager", "issuers", i, "name"]),
                    `repeats the name of ${configPath(["certManager", "issuers", first])}; ClusterIssuer names are cluster-wide`,
                    "give each issuer its own name",
                    issuer.name,
                ),
            );
    });
    return problems;
}

/** A CA issuer needs its certificate from a self-signed issuer this program creates. */
function caSignedBy(config: PlatformConfig): Problem[] {
    const issuers = config.certManager.issuers;
    const problems: Problem[] = [];
    issuers.forEach((issuer, i) => {
        if (!issuer.ca) return;
        const signer = issuers.find((x) => x.name === issuer.ca!.signedBy);
        const key = configPath(["certManager", "issuers", i, "ca", "signedBy"]);
        if (!signer) {
            problems.push(
                error(
                    key,
                    "names no configured issuer",
                    knownIssuersHint(config, issuer.ca.signedBy).replace("add it", "add a selfSigned issuer"),
                    issuer.ca.signedBy,
                ),
            );
        } else if (!signer.selfSigned) {
            problems.push(
                error(
                    key,
                    `names ${signer.name}, which is not a selfSigned issuer; a CA certificate must come from one`,
                    "name a selfSigned issuer, e.g. add { name: selfsigned, selfSigned: {} }",
                    issuer.ca.signedBy,
                ),
            );
        }
    });
    return problems;
}

/** The webhook's replicas: its failurePolicy is Fail, so it is as critical as DNS. */
export const WEBHOOK_REPLICAS: ReplicaRule = {
    section: "certManager",
    what: "the cert-manager webhook",
    replicasKey: "webhook.replicaCount",
    chartReplicas: 1,
    autoscalers: [],
    risk: "its failurePolicy is Fail, so during one node drain every write of a cert-manager object would fail",
    fix: "remove webhook.replicaCount from the values and set talos-platform:certManager.webhookReplicas to 2 or more (cert-manager's best-practice guide recommends 3)",
};

function webhookReplicas(config: PlatformConfig): Problem[] {
    return minReplicaProblems(WEBHOOK_REPLICAS, certManagerValues(config.certManager, config.cluster));
}

/** A PodDisruptionBudget that allows no eviction makes every drain of the node wait forever. */
function disruptionBudgets(config: PlatformConfig): Problem[] {
    const v = certManagerValues(config.certManager, config.cluster);
    const webhookShort = minReplicaProblems(WEBHOOK_REPLICAS, v).length > 0;
    const components = [
        { prefix: "", what: "controller", on: true },
        // One replica short is already reported by WEBHOOK_REPLICAS.
        { prefix: "webhook.", what: "webhook", on: !webhookShort },
        { prefix: "cainjector.", what: "cainjector", on: switchOn(v, "cainjector.enabled", true) },
    ];
    return components.flatMap(({ prefix, what, on }) => {
        if (!on || !switchOn(v, `${prefix}podDisruptionBudget.enabled`, false)) return [];
        const replicas = readValue(v, `${prefix}replicaCount`, KIND.count) ?? 1;
        const min = readValue(v, `${prefix}podDisruptionBudget.minAvailable`, KIND.countOrPercent);
        // The template renders each bound with `with`, so a 0 is left out; "0%" is not.
        const max = readValue(v, `${prefix}podDisruptionBudget.maxUnavailable`, KIND.countOrPercent);
        const byMin = (typeof min === "number" && min >= replicas) || min === "100%";
        if (!byMin && max !== "0%") return [];
        const budgetKey = byMin ? "minAvailable" : "maxUnavailable";
        return [
            error(
                configPath(["certManager", "values", ...`${prefix}podDisruptionBudget.${budgetKey}`.split(".")]),
                `lets no cert-manager ${what} pod be evicted with ${configPath(["certManager", "values", ...`${prefix}replicaCount`.split(".")])} at ${replicas}, so every drain of its node would wait forever`,
                `raise ${prefix}replicaCount above the budget's minimum, or set ${prefix}podDisruptionBudget.enabled to false`,
                byMin ? min : max,
            ),
        ];
    });
}

export const certificateChecks: Check[] = [
    { name: "issuer-names-unique", run: uniqueNames },
    { name: "ca-issuer-signed-by", run: caSignedBy },
    { name: "cert-manager-webhook-replicas", run: webhookReplicas },
    { name: "cert-manager-disruption-budgets", run: disruptionBudgets },
];
