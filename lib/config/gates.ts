import { z } from "zod";
import { duration, durationMs, isDuration, k8sName, must } from "./common";

/**
 * The probe pods' image: curlimages/curl 8.11.1 (Alpine, with busybox's sh
 * and nslookup) by the digest of its multi-platform index on Docker Hub.
 * The digest was not pulled from the registry here (no network); it is the
 * one several unrelated public repositories pin for this tag, e.g. after
 * `docker buildx imagetools inspect curlimages/curl:8.11.1`. A runtime pulls
 * by the digest and ignores the tag, so a re-pushed tag cannot change the
 * probe; a wrong digest fails the pull (ImagePullBackOff, which the gates name).
 */
export const PROBE_IMAGE = "docker.io/curlimages/curl:8.11.1@sha256:c1fe1679c34d9784c1b0d1e5f62ac0a79fca01fb6377cdd33e90473c6f9f9a69";

/** The longest poll interval a gate may use: a healthy phase must pass within a poll of becoming healthy. */
export const MAX_POLL_MS = 2000;

/** The one poll-interval rule: the config key, the gate command's --poll and the doctor's. */
export const POLL_RULE = {
    ok: (ms: number) => ms > 0 && ms <= MAX_POLL_MS,
    message: "is not between 1ms and 2s",
    fix: "use at most 2s, e.g. 1s or 2s; a longer interval delays every `up` by up to that much per gate",
};

/** A gate that waits longer than this hides a broken link instead of naming it (a warning, not an error). */
export const LONG_GATE_TIMEOUT_MS = 10 * 60_000;

// Each rule passes what is not a duration at all: `duration` already reports that, once.
const timeout = must(
    duration,
    (v) => !isDuration(v) || durationMs(v) >= 1000,
    "is shorter than one second",
    "give the gate time to run a probe pod, e.g. 2m; a broken link is still reported as soon as it is certain",
);

function gate(defaultTimeout: string) {
    return z.strictObject({ timeout: timeout.default(defaultTimeout) }).prefault({});
}

/** Readiness gates between phases. */
export const gatesSchema = z
    .strictObject({
        /**
         * Image of the short-lived probe pods, pinned by digest; a mirror's
         * name goes here (a mirror keeps the digest). It needs sh, curl and nslookup.
         * @default PROBE_IMAGE (curlimages/curl 8.11.1 by its digest)
         */
        probeImage: must(
            z.string().min(1),
            (v) => /:[\w][\w.-]*$|@sha256:[0-9a-f]{64}$/.test(v) && !v.endsWith(":latest"),
            "is not pinned to a tag or digest",
            `name an exact tag or digest, e.g. ${PROBE_IMAGE}; an unpinned probe can change between two runs`,
        ).default(PROBE_IMAGE),
        /** Namespace the probe pods run in; it must admit non-root pods (Pod Security baseline or restricted). @default default */
        probeNamespace: k8sName.default("default"),
        /** How often a gate polls. At most 2s, so a gate passes within 2s of its phase becoming healthy. @default 2s */
        pollInterval: must(duration, (v) => !isDuration(v) || POLL_RULE.ok(durationMs(v)), POLL_RULE.message, POLL_RULE.fix).default("2s"),
        /** A broken network shows within seconds; waiting longer only delays the diagnosis. Over 10m is a warning. @default 2m */
        network: gate("2m"),
        dns: z
            .strictObject({
                timeout: timeout.default("3m"),
                /**
                 * An external name the DNS probe resolves, proving CoreDNS forwards upstream.
                 * @default the host of flux.source.url (github.com for the report's repository)
                 */
                externalName: must(
                    z.string(),
                    (v) => /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}\.?$/i.test(v),
                    "is not a fully qualified host name",
                    "name a public host, e.g. github.com",
                ).optional(),
            })
            .prefault({}),
        /** @default 3m */
        certificates: gate("3m"),
        /** @default 3m */
        ingress: gate("3m"),
        /** @default 3m */
        gitops: gate("3m"),
    })
    .prefault({});
export type GatesConfig = z.output<typeof gatesSchema>;
