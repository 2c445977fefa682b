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

const TIMEOUT_TEXT =
    "How long the gate waits for its phase to work before `pulumi up` stops there, with a diagnosis. At least `1s`; over `10m` is the warning `gate-timeout-long`. A failure that is certain ends the gate at once.";

function gate(defaultTimeout: string, passes: string) {
    return z
        .strictObject({ timeout: timeout.default(defaultTimeout).describe(TIMEOUT_TEXT) })
        .prefault({})
        .describe(`The ${passes}`);
}

/** Readiness gates between phases. */
export const gatesSchema = z
    .strictObject({
        probeImage: must(
            z.string().min(1),
            (v) => /:[\w][\w.-]*$|@sha256:[0-9a-f]{64}$/.test(v) && !v.endsWith(":latest"),
            "is not pinned to a tag or digest",
            `name an exact tag or digest, e.g. ${PROBE_IMAGE}; an unpinned probe can change between two runs`,
        )
            .default(PROBE_IMAGE)
            .describe(
                "Image of the short-lived probe pods, pinned by tag or digest (not `latest`); the default is curlimages/curl 8.11.1 by the digest of its multi-platform index. A mirror's name goes here: a mirror keeps the digest. A tag alone is the warning `gate-probe-image-tag`. It needs `sh`, `curl` and `nslookup`.",
            ),
        probeNamespace: k8sName
            .default("default")
            .describe("Namespace the probe pods run in; it must admit non-root pods (Pod Security baseline or restricted)."),
        pollInterval: must(duration, (v) => !isDuration(v) || POLL_RULE.ok(durationMs(v)), POLL_RULE.message, POLL_RULE.fix)
            .default("2s")
            .describe(
                "How often a gate polls: at most `2s`, so a gate passes within 2s of its phase becoming healthy (the same rule as the gate commands' `--poll`).",
            ),
        network: gate(
            "2m",
            "network gate, before DNS: Cilium is ready and a probe pod reaches the kubernetes Service. A broken network shows within seconds; waiting longer only delays the diagnosis.",
        ),
        dns: z
            .strictObject({
                timeout: timeout.default("3m").describe(TIMEOUT_TEXT),
                externalName: must(
                    z.string(),
                    (v) => /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}\.?$/i.test(v),
                    "is not a fully qualified host name",
                    "name a public host, e.g. github.com",
                )
                    .optional()
                    .meta({
                        description: "A public host name the DNS probe resolves, proving CoreDNS forwards to its upstreams.",
                        defaultText: "the host of `flux.source.url` (`github.com` for the report's repository)",
                    }),
            })
            .prefault({})
            .describe(
                "The DNS gate, before certificates: CoreDNS is ready and a probe pod resolves `kubernetes.default.svc.<dnsDomain>` and `externalName`.",
            ),
        certificates: gate(
            "3m",
            "certificates gate, before ingress: cert-manager's webhook is ready and a dry-run create of a Certificate succeeds.",
        ),
        ingress: gate(
            "3m",
            "ingress gate, before GitOps: the controller is ready, its LoadBalancer Service has an address from a Cilium pool, and a probe pod gets an HTTP answer from it. That answer comes from inside the cluster (Cilium's socket load balancer serves the address on the pod's own node), so with `cilium.bgp` the gate also reads every node's BGP sessions and the routes of each announced pool, and with `cilium.l2Announcements` each announced Service's lease.",
        ),
        gitops: gate(
            "3m",
            "GitOps gate, last: the Flux controllers are ready, the `GitRepository` has an artifact, and every configured Kustomization, phase by phase, is Ready.",
        ),
    })
    .prefault({})
    .meta({
        title: "Readiness gates between the phases",
        description:
            "Readiness gates: between two phases, `pulumi up` runs the gate checker, which proves the phase works (short-lived probe pods, the components' own status) before the next one is deployed.",
        details: [
            "A timeout is at least `1s`; one over `10m` is the warning `gate-timeout-long`: a link that is not up by then is broken, and a longer wait only delays naming it.",
        ],
    });
export type GatesConfig = z.output<typeof gatesSchema>;
