import { z } from "zod";
import { duration } from "./common";

function gate(timeout: string) {
    return z.strictObject({ timeout: duration.default(timeout) }).prefault({});
}

/** Readiness gates between phases. */
export const gatesSchema = z
    .strictObject({
        /** Image of the short-lived probe pods; pinned by tag. @default curlimages/curl:8.11.1 */
        probeImage: z.string().min(1).default("curlimages/curl:8.11.1"),
        /** How often a gate polls. @default 2s */
        pollInterval: duration.default("2s"),
        /** A broken network shows within seconds; waiting longer only delays the diagnosis. @default 2m */
        network: gate("2m"),
        dns: gate("3m"),
        certificates: gate("3m"),
        ingress: gate("3m"),
        gitops: gate("3m"),
    })
    .prefault({});
export type GatesConfig = z.output<typeof gatesSchema>;
