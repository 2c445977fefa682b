import { z } from "zod";
import { chartFields, duration, isPinnedVersion, k8sName, must, pinnedVersionFix } from "./common";
import { example, showValueAs } from "./issues";
import { secretKeyName } from "./secrets";

/** The Flux distribution this program installs unless told otherwise. */
export const FLUX_VERSION = "2.9.4";

/** MAJOR.MINOR.x: the newest patch release of one minor version, which flux-operator picks ("Distribution version" in its FluxInstance docs). */
const PATCH_WILDCARD = /^v?\d+\.\d+\.x$/;

export function isPatchWildcard(v: unknown): boolean {
    return typeof v === "string" && PATCH_WILDCARD.test(v);
}

/** An exact Flux version, or a patch wildcard: patch and CVE releases without a config edit, never a new minor version. */
export function isFluxVersion(v: unknown): boolean {
    return isPinnedVersion(v) || isPatchWildcard(v);
}

export const FLUX_VERSION_FIX = `${pinnedVersionFix("Flux", FLUX_VERSION)}, or a patch wildcard such as 2.9.x (flux-operator then installs that minor version's newest patch release); a minor or major wildcard (2.x) would change Flux's APIs on its own`;

const healthCheck = z.strictObject({
    /** @default the API server's preferred version of the kind */
    apiVersion: z.string().min(1).optional(),
    kind: z.string().min(1),
    name: z.string().min(1),
    /** @default the Kustomization's namespace */
    namespace: z.string().min(1).optional(),
});

/** Flux's retry after a failed attempt; Flux's own default is the interval (10m here). */
export const RETRY_INTERVAL = "2m";

/** Is `path` inside the repository? Flux resolves it against the repository root. */
export function isRepositoryPath(v: string): boolean {
    return (v === "." || v.startsWith("./")) && !v.split("/").includes("..");
}

export const kustomizationSchema = z.strictObject({
    name: k8sName,
    /** Path in the Git repository, e.g. ./infrastructure/longhorn. */
    path: must(
        z.string(),
        isRepositoryPath,
        "is not a path inside the repository",
        "start the path with ./ and stay below the repository root, e.g. ./infrastructure/longhorn",
    ),
    /**
     * Extra dependencies by Kustomization name, on top of the previous phase
     * (which every Kustomization depends on anyway). Same or earlier phases only.
     * @default [] (only the previous phase)
     */
    dependsOn: z.array(k8sName).default([]),
    /** How often Flux reconciles it. @default 10m */
    interval: duration.default("10m"),
    /** Flux's timeout for one attempt: build, apply and health checks. @default Flux's: the interval minus 30s, at least 30s */
    timeout: duration.optional(),
    /** Retry interval after a failure. @default 2m (Flux's own default would be the interval, 10m) */
    retryInterval: duration
        .default(RETRY_INTERVAL)
        .describe(
            "How soon Flux retries after a failed attempt (spec.retryInterval). Flux's own default is the interval, 10 minutes here.",
        ),
    /** Delete what was removed from Git. @default true */
    prune: z.boolean().default(true),
    /** Ready only when everything it applied is ready; Flux then ignores healthChecks. @default true */
    wait: z.boolean().default(true),
    /** Objects whose health makes it Ready; only read when wait is false. @default [] */
    healthChecks: z.array(healthCheck).default([]),
    /**
     * Says that this Kustomization applies nothing this program or Talos
     * deploys, when its name or path suggests otherwise (the two-owners check
     * would refuse it, or warn about a directory above such a component).
     * Check the repository before setting it. @default false (the check runs)
     */
    notOwnedByPlatform: z.boolean().default(false),
});
export type KustomizationConfig = z.output<typeof kustomizationSchema>;

export const fluxPhaseSchema = z
    .strictObject({
        name: k8sName,
        kustomizations: z.array(kustomizationSchema),
    })
    // Also when other fields of the phase are wrong, so one round reports everything.
    .check(
        z.superRefine(
            (p, ctx) => {
                if (!Array.isArray(p.kustomizations) || p.kustomizations.length) return;
                const phase = typeof p.name === "string" ? ` '${p.name}'` : "";
                ctx.addIssue({
                    code: "custom",
                    path: ["kustomizations"],
                    message: "is empty",
                    params: { fix: `add a Kustomization, or remove the phase${phase}` },
                    input: p.kustomizations,
                });
            },
            { when: () => true },
        ),
    );
export type FluxPhaseConfig = z.output<typeof fluxPhaseSchema>;

const GIT_URL = /^(https?|ssh):\/\/[^/]/;
// git@github.com:owner/repo, the scp-like form Git accepts but Flux does not.
const SCP_LIKE = /^([^@/:]+)@([^/:]+):(.+)$/;

/** The fix for a URL Flux cannot clone, with the ssh:// form of an scp-like address. */
export function gitUrlFix(v: string): string {
    const m = SCP_LIKE.exec(v);
    if (m) return `Flux takes only URLs; write ssh://${m[1]}@${m[2]}/${m[3].replace(/^\//, "")}`;
    return "write an https://, http:// or ssh:// URL, e.g. https://github.com/geoffdavis/talos-gitops";
}

// The user information of a URL (scheme://user:password@), or of an scp-like address.
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)?([^/?#]*)@/i;

/**
 * The URL as it may be shown: user information that may hold a credential
 * becomes ***. An ssh:// or scp-like user alone (git@) is only the SSH user.
 */
export function redactUrl(url: string): string {
    const m = USERINFO.exec(url);
    if (!m) return url;
    const sshUser = (m[1] === undefined || m[1].toLowerCase() === "ssh://") && !m[2].includes(":");
    return sshUser ? url : url.replace(USERINFO, `${m[1] ?? ""}***@`);
}

/** Flux's own URL check, so a bad URL fails here and not in source-controller. */
export const gitUrl = example(
    showValueAs(
        z.string().superRefine((v, ctx) => {
            if (!GIT_URL.test(v)) {
                ctx.addIssue({ code: "custom", message: "is not a URL Flux can clone", params: { fix: gitUrlFix(v) }, input: v });
            }
        }),
        (v) => (typeof v === "string" ? redactUrl(v) : v),
    ),
    { value: "https://github.com/<owner>/<repo>", note: "your GitOps repository" },
);

export const FLUX_COMPONENTS = [
    "source-controller",
    "kustomize-controller",
    "helm-controller",
    "notification-controller",
    "image-reflector-controller",
    "image-automation-controller",
    "source-watcher",
] as const;

export const fluxSchema = z.strictObject({
    /** The flux-operator chart. */
    ...chartFields({
        chart: "flux-operator",
        repository: "oci://ghcr.io/controlplaneio-fluxcd/charts",
        version: "0.58.1",
        namespace: "flux-system",
    }),
    /** The Flux distribution the FluxInstance installs. */
    distribution: z
        .strictObject({
            /**
             * An exact Flux version, or a patch wildcard (2.9.x) that flux-operator
             * resolves to the newest patch release it knows. @default 2.9.4
             */
            version: must(z.string(), isFluxVersion, "is not an exact version or a patch wildcard of Flux", FLUX_VERSION_FIX)
                .default(FLUX_VERSION)
                .describe(
                    "The Flux version the FluxInstance installs: exact (2.9.4), or a patch wildcard (2.9.x) that flux-operator resolves " +
                        "at deploy time to the newest patch release of that minor version it bundles. The plan shows what that is when it knows the operator's bundle.",
                ),
            /** @default ghcr.io/fluxcd */
            registry: z.string().min(1).default("ghcr.io/fluxcd"),
        })
        .prefault({}),
    /** The Flux controllers to run. @default source, kustomize, helm and notification controllers */
    components: z
        .array(z.enum(FLUX_COMPONENTS))
        .min(1)
        .default(["source-controller", "kustomize-controller", "helm-controller", "notification-controller"]),
    /** NetworkPolicies that keep flux-system to itself. @default true */
    networkPolicy: z.boolean().default(true),
    /** The Git source every Kustomization reads. */
    source: z
        .strictObject({
            /**
             * The GitRepository's name. flux-system is what `flux bootstrap`
             * names it, so Flux objects in the repository that point at it
             * keep working. @default flux-system
             */
            name: k8sName.default("flux-system"),
            /**
             * https://, http:// or ssh://. Required: a default repository
             * would have every cluster that forgot it sync somebody else's.
             */
            url: gitUrl,
            /** Branch to follow. Give at most one of branch, tag, semver. @default main, when no tag or semver is given */
            branch: z.string().min(1).optional(),
            /** Tag to check out. @default none */
            tag: z.string().min(1).optional(),
            /** Semver range over the repository's tags, e.g. ">=1.0.0 <2.0.0". @default none */
            semver: z.string().min(1).optional(),
            /** How often Flux fetches. @default 1m */
            interval: duration.default("1m"),
            /**
             * HTTPS credentials: a token (a GitHub PAT or deploy token) as the password.
             * @default none (a public repository)
             */
            httpsToken: z
                .strictObject({
                    /** Names the top-level secret key holding the token. */
                    tokenSecret: secretKeyName,
                    /** GitHub accepts any non-empty user name with a token. @default git */
                    username: z.string().min(1).default("git"),
                })
                .optional(),
            /**
             * SSH credentials: a deploy key, for ssh:// URLs.
             * @default none
             */
            sshKey: z
                .strictObject({
                    /** Names the top-level secret key holding the private key (PEM or OpenSSH format). */
                    privateKeySecret: secretKeyName,
                    /** known_hosts lines for the Git host (public, not secret): `ssh-keyscan <host>`. */
                    knownHosts: z.string().min(1),
                })
                .optional(),
        })
        // An absent source parses as {}, so the problem names the missing url itself.
        .prefault({} as { url: string }),
    /** Kustomizations in ordered phases: each phase waits for the previous one. @default [] */
    phases: z.array(fluxPhaseSchema).default([]),
    /**
     * The Flux Operator's own bootstrap: the FluxInstance's .spec.sync owns
     * the root GitRepository and Kustomization (both named source.name), made
     * from `source` and this path. The program then creates no GitRepository
     * and no Kustomization; `phases` is the graph it expects to find in Git,
     * which the gitops gate checks read-only.
     * @default none: this program creates the GitRepository and every Kustomization in `phases`
     */
    sync: z
        .strictObject({
            /** The directory in the repository the root Kustomization applies, e.g. ./clusters/home-ops. */
            path: must(
                z.string(),
                isRepositoryPath,
                "is not a path inside the repository",
                "start the path with ./ and stay below the repository root, e.g. ./clusters/home-ops",
            ).describe("The directory in the repository the FluxInstance's root Kustomization applies, e.g. ./clusters/home-ops."),
        })
        .optional()
        .describe(
            "Flux Operator's sync: the FluxInstance's .spec.sync owns the root GitRepository and Kustomization (named source.name, from " +
                "source.url, its branch or tag, and this path); the program creates no GitRepository or Kustomization, and flux.phases becomes " +
                "the graph the gitops gate expects to find in Git. See docs/flux-ownership.md, also for switching an existing stack.",
        ),
});
export type FluxConfig = z.output<typeof fluxSchema>;
export type GitSourceConfig = FluxConfig["source"];
