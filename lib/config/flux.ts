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
    apiVersion: z
        .string()
        .min(1)
        .optional()
        .meta({ description: "The object's API version, e.g. `apps/v1`.", defaultText: "the API server's preferred version of the kind" }),
    kind: z.string().min(1).describe("The object's kind, e.g. `Deployment`."),
    name: z.string().min(1).describe("The object's name."),
    namespace: z.string().min(1).optional().meta({ description: "The object's namespace.", defaultText: "the Kustomization's namespace" }),
});

/** Flux's retry after a failed attempt; Flux's own default is the interval (10m here). */
export const RETRY_INTERVAL = "2m";

/** Is `path` inside the repository? Flux resolves it against the repository root. */
export function isRepositoryPath(v: string): boolean {
    return (v === "." || v.startsWith("./")) && !v.split("/").includes("..");
}

export const kustomizationSchema = z.strictObject({
    name: k8sName.describe("The Kustomization's name, unique across all phases."),
    path: must(
        z.string(),
        isRepositoryPath,
        "is not a path inside the repository",
        "start the path with ./ and stay below the repository root, e.g. ./infrastructure/longhorn",
    ).describe(
        "A directory inside the repository, e.g. `./infrastructure/longhorn`. It must start with `./` (stricter than Flux, which also takes `infrastructure/x`: this program asks for one spelling), and `..` is refused. A path used twice, or one that contains another configured path (both would apply and prune what is below), is refused.",
    ),
    dependsOn: z.array(k8sName).default([]).meta({
        description:
            "Extra dependencies by Kustomization name, in the same or an earlier phase, on top of the previous phase, which every Kustomization depends on anyway. An unknown name (a likely misspelling gets a suggestion), one in a later phase, and a cycle are refused.",
        defaultText: "only the previous phase",
    }),
    interval: duration.default("10m").describe("How often Flux reconciles it."),
    timeout: duration.optional().meta({
        description:
            "Flux's timeout for one attempt: build, apply and health checks. Pulumi waits for Ready through a failed attempt, the retry interval and the retry: `2 × timeout + retryInterval` (21m by default: 2 × 9m30s + 2m).",
        defaultText: "Flux's: the interval minus 30s, at least 30s",
    }),
    retryInterval: duration
        .default(RETRY_INTERVAL)
        .describe(
            "How long Flux waits after a failed attempt before it tries again (`spec.retryInterval`). Flux's own default is the interval, so one failed apply would wait 10 minutes for its retry.",
        ),
    prune: z.boolean().default(true).describe("Delete from the cluster what was removed from Git."),
    wait: z
        .boolean()
        .default(true)
        .describe("Ready only when everything it applied is ready. Flux then ignores `healthChecks` (a warning says so)."),
    healthChecks: z
        .array(healthCheck)
        .default([])
        .meta({ description: "Objects whose health makes it Ready; read only when `wait` is false.", defaultText: "none" }),
    critical: z.boolean().default(true).meta({
        description:
            "Whether later phases wait for it. `false` (monitoring, dashboards): the next Flux phase does not list it in its generated Flux `dependsOn`, Pulumi does not wait for it to be Ready (no `pulumi.com/waitFor`), and the gitops gate reports it without failing on it. A critical Kustomization that names a non-critical one in `dependsOn` is refused: it would make it a barrier after all.",
        defaultText: "a barrier for every later phase",
    }),
    notOwnedByPlatform: z.boolean().default(false).meta({
        description:
            "Says that this Kustomization applies nothing this program or Talos deploys although its name or path suggests so. It silences the two-owners error and warning, and the policy `flux-single-owner` (through the annotation `talos-platform/not-owned-by-platform`). Check the repository before setting it.",
        defaultText: "the two-owners check runs",
    }),
});
export type KustomizationConfig = z.output<typeof kustomizationSchema>;

export const fluxPhaseSchema = z
    .strictObject({
        name: k8sName.describe("The phase's name; the plan lists it as a sub-phase of gitops."),
        // At least one, which the refinement below checks; JSON Schema states it as minItems.
        kustomizations: z
            .array(kustomizationSchema)
            .meta({ minItems: 1 })
            .describe("The phase's Kustomizations, at least one. Each depends on every Kustomization of the previous phase."),
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

/** kustomize-controller v1's spec.deletionPolicy values. */
export const DELETION_POLICIES = ["Orphan", "MirrorPrune", "Delete", "WaitForTermination"] as const;

export const FLUX_COMPONENTS = [
    "source-controller",
    "kustomize-controller",
    "helm-controller",
    "notification-controller",
    "image-reflector-controller",
    "image-automation-controller",
    "source-watcher",
] as const;

export const fluxSchema = z
    .strictObject({
        /** The flux-operator chart. */
        ...chartFields({
            chart: "flux-operator",
            repository: "oci://ghcr.io/controlplaneio-fluxcd/charts",
            version: "0.58.1",
            namespace: "flux-system",
        }),
        distribution: z
            .strictObject({
                version: must(z.string(), isFluxVersion, "is not an exact version or a patch wildcard of Flux", FLUX_VERSION_FIX)
                    .default(FLUX_VERSION)
                    .describe(
                        "The Flux version the `FluxInstance` installs: exact (`2.9.4`), or a patch wildcard (`2.9.x`) that flux-operator resolves at deploy time to the newest patch release of that minor version it bundles (the plan says which, for the pinned operator). A wider range (`2.x`) is refused: the operator would upgrade Flux across minor versions on its own. A version the pinned operator does not bundle is refused too.",
                    ),
                registry: z.string().min(1).default("ghcr.io/fluxcd").describe("The registry Flux's controller images come from."),
            })
            .prefault({})
            .describe("The Flux distribution the `FluxInstance` installs."),
        components: z
            .array(z.enum(FLUX_COMPONENTS))
            .min(1)
            .default(["source-controller", "kustomize-controller", "helm-controller", "notification-controller"])
            .describe(
                "The `FluxInstance`'s controllers. `source-controller` is required (the `GitRepository` needs it), and so is `kustomize-controller` when there are phases or `sync`.",
            ),
        networkPolicy: z.boolean().default(true).describe("The `FluxInstance`'s NetworkPolicies, which keep flux-system to itself."),
        source: z
            .strictObject({
                name: k8sName
                    .default("flux-system")
                    .describe(
                        "The `GitRepository`'s name. `flux-system` is what `flux bootstrap` names it, so Flux objects in the repository that point at it keep working.",
                    ),
                url: gitUrl.describe(
                    "Your GitOps repository: an `https://`, `http://` or `ssh://` URL (the scp-like `git@host:path` is refused with its `ssh://` spelling), with no credentials inside. Required: a default repository would have every cluster that forgot it sync somebody else's.",
                ),
                branch: z.string().min(1).optional().meta({
                    description: "Branch to follow. Give at most one of `branch`, `tag`, `semver`.",
                    defaultText: "`main`, when no tag or semver is given",
                }),
                tag: z.string().min(1).optional().meta({ description: "Tag to check out.", defaultText: "none" }),
                semver: z.string().min(1).optional().meta({
                    description:
                        "A semver range over the repository's tags, e.g. `>=1.0.0 <2.0.0`. Not with `sync`, which takes one Git ref name.",
                    defaultText: "none",
                }),
                interval: duration.default("1m").describe("How often Flux fetches."),
                httpsToken: z
                    .strictObject({
                        tokenSecret: secretKeyName.describe(
                            "Name of the top-level secret key holding the token, e.g. `fluxGitToken` for `pulumi config set --secret talos-platform:fluxGitToken`.",
                        ),
                        username: z
                            .string()
                            .min(1)
                            .default("git")
                            .describe("The user name sent with the token; GitHub accepts any non-empty one."),
                    })
                    .optional()
                    .meta({
                        description:
                            "HTTPS credentials: a token (a GitHub PAT or deploy token) as the password; needs an `https://` URL. It goes into the Secret `<source.name>-git-auth` in flux-system (keys `username` and `password`).",
                        defaultText: "none: a public repository",
                    }),
                sshKey: z
                    .strictObject({
                        privateKeySecret: secretKeyName.describe(
                            "Name of the top-level secret key holding the private key (PEM or OpenSSH format), e.g. `fluxSshKey`, set with `pulumi config set --secret talos-platform:fluxSshKey`.",
                        ),
                        knownHosts: z
                            .string()
                            .min(1)
                            .describe(
                                "known_hosts lines for the Git host (public, not secret), e.g. from `ssh-keyscan <host>`; they must cover the URL's host.",
                            ),
                    })
                    .optional()
                    .meta({
                        description:
                            "SSH credentials: a deploy key; needs an `ssh://` URL. It goes into the Secret `<source.name>-git-auth` in flux-system (keys `identity` and `known_hosts`).",
                        defaultText: "none",
                    }),
            })
            // An absent source parses as {}, so the problem names the missing url itself.
            .prefault({} as { url: string })
            .describe("The Git source every Kustomization reads: one `GitRepository`, Ready (fetched) before the first phase."),
        deletionPolicy: z
            .enum(DELETION_POLICIES)
            .default("Orphan")
            .describe(
                "`spec.deletionPolicy` of every Kustomization: what kustomize-controller does with what a Kustomization applied when Pulumi deletes it (`pulumi destroy`, or a Kustomization removed from `phases`). `Orphan` (the default) leaves its workloads, namespaces and PersistentVolumeClaims in place; `MirrorPrune` deletes them when `prune` is true; `Delete` deletes them; `WaitForTermination` deletes them and waits until they are gone. Choose a deleting policy only for a cluster being torn down on purpose (the plan warns: `flux-deletes-workloads`).",
            ),
        phases: z.array(fluxPhaseSchema).default([]).meta({
            description:
                "Kustomizations in ordered phases: each phase waits for the previous one to be Ready. The plan lists them as sub-phases of gitops. With `sync`, they are the graph the gitops gate expects to find in Git.",
            defaultText: "none",
        }),
        sync: z
            .strictObject({
                path: must(
                    z.string(),
                    isRepositoryPath,
                    "is not a path inside the repository",
                    "start the path with ./ and stay below the repository root, e.g. ./clusters/home-ops",
                ).describe("The directory in the repository the `FluxInstance`'s root Kustomization applies, e.g. `./clusters/home-ops`."),
            })
            .optional()
            .meta({
                description:
                    "The Flux Operator's own bootstrap: the `FluxInstance`'s `.spec.sync` owns the root `GitRepository` and Kustomization (both named `source.name`, made from `source.url`, its branch or tag, its credentials and this path). The program then creates no `GitRepository` and no Kustomization, and `phases` becomes the graph the gitops gate checks in Git, read-only: every listed Kustomization exists, is Ready, and waits for what `phases` puts before it. Switching an existing stack needs `pulumi state delete` first: docs/phases.md#who-owns-the-kustomizations.",
                defaultText: "none: this program creates the `GitRepository` and every Kustomization in `phases`",
            }),
    })
    .meta({
        title: "GitOps phase: Flux",
        description:
            "Flux, installed the Flux Operator way: the `flux-operator` chart, a `FluxInstance`, a `GitRepository`, and Kustomizations in ordered phases.",
        details: [
            "Flux is installed the Flux Operator way: the `flux-operator` chart, then a `FluxInstance` (its cluster domain is `cluster.dnsDomain`), a `GitRepository`, and the Kustomizations in ordered phases. Pulumi waits for the operator's CRD, then for the `FluxInstance` to be Ready, then for the distribution's GitRepository and Kustomization CRDs, then for the `GitRepository` to be Ready (fetched), and then phase by phase for every Kustomization to be Ready (`pulumi.com/waitFor: condition=Ready`). A Kustomization keeps its Pulumi URN when it moves between phases, so a move never deletes it (which Flux's prune would turn into deleting everything it applied).",
            "With `sync` (the Flux Operator's own bootstrap), the `FluxInstance`'s `.spec.sync` creates the root `GitRepository` and Kustomization from `source` and `sync.path`, the repository holds every other Kustomization, and the program creates neither a `GitRepository` nor a Kustomization: `phases` is the graph the gitops gate checks in Git (each listed Kustomization exists, is Ready, and waits in its `spec.dependsOn`, directly or through others, for what `phases` puts before it). docs/phases.md#who-owns-the-kustomizations compares the two modes and says how to switch.",
            "`distribution.version` may be a patch wildcard (`2.9.x`): flux-operator installs the newest patch release of that minor version it bundles, and the plan says which (`Flux 2.9.x → 2.9.4`) when it knows the operator's bundle (flux-operator 0.58.1).",
            "Each Kustomization's Flux `spec.dependsOn` is generated: every Kustomization of the previous phase, then its extras. Each gets `spec.retryInterval` (2m unless set). The credentials go into the Secret `<source.name>-git-auth` in flux-system, under the keys source-controller reads (`username`/`password` for HTTPS, `identity`/`known_hosts` for SSH), which the `GitRepository` names in `spec.secretRef`. A problem never shows credentials: a URL's user information appears as `https://***@host/…`, and the value of a secret-name field (`tokenSecret`, `privateKeySecret`, and every other field that names a secret key) is not shown when it is refused. Such a field refuses a value that looks like a secret rather than a name (a known token prefix such as `ghp_`, or a long string of short random-looking runs of letters and digits).",
            "Refused before deploy, each naming its keys: a name or path used twice; a path that contains another configured path (both Kustomizations would apply and prune what is below); a `dependsOn` naming an unknown Kustomization (a likely misspelling gets a suggestion) or one in a later phase; a dependency cycle, spelled out (`a → b → c → a`); two refs; credentials that do not match the URL; and two owners.",
            "**Two owners.** A Kustomization must not apply what this program deploys (Cilium with its pools and BGP, cert-manager and its issuers, ingress-nginx, Flux itself, and CoreDNS when `cluster.coreDnsDisabled`) or what Talos runs (CoreDNS otherwise): two owners would fight over the same objects. A name stands for such a component when all its words are that component's names (`cert-manager`, `issuers`, `cluster-issuers`, `cilium`, `bgp`, `ingress-nginx`, `nginx-ingress`, `coredns`, `kube-dns`, `flux-system`, …) or neutral words (`infrastructure`, `apps`, `controllers`, `config`, `crds`, `kube-system`, …): `infrastructure-cert-manager-issuers` is cert-manager's, `cert-manager-trust-manager` is not. A path belongs to the component its first non-neutral directory names, with everything below it: `./infrastructure/cilium-bgp/overlays/prod` is Cilium's, `./apps/grafana-dashboards/cilium` is not. A path that may apply such components without naming one gets a warning that lists them: the repository root (Flux applies every manifest below a path, and generates a `kustomization.yaml` where there is none), a directory of neutral words only (`./infrastructure`), and anything under `./clusters/` (in Flux's layout, flux-system and the Kustomizations of every component). For a false positive, set `notOwnedByPlatform: true`.",
            "The plan lists the Flux phases as sub-phases of gitops and says what stays out of Flux, and who deploys it instead.",
        ],
    });
export type FluxConfig = z.output<typeof fluxSchema>;
export type GitSourceConfig = FluxConfig["source"];
