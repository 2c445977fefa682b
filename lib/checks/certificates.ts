import { closest } from "fastest-levenshtein";
import type { PlatformConfig } from "../config";
import { configPath, error, Problem } from "../problems";
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

export const certificateChecks: Check[] = [
    { name: "issuer-names-unique", run: uniqueNames },
    { name: "ca-issuer-signed-by", run: caSignedBy },
];
