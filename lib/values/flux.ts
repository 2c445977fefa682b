import type { ClusterConfig } from "../config/cluster";
import { durationMs } from "../config/common";
import { FluxConfig, FluxPhaseConfig, GitSourceConfig, isPatchWildcard, KustomizationConfig } from "../config/flux";
import { mergeValues, Values } from "../merge";
import { K8sObject, WAIT_FOR_READY } from "./objects";

// Pure builders for the Flux objects; the Flux components only register them.

export type { K8sObject } from "./objects";

/** The CRD the flux-operator chart installs. */
export const OPERATOR_CRDS = ["fluxinstances.fluxcd.controlplane.io"];

/** The CRDs of the objects this program creates, which the FluxInstance's distribution installs. */
export const DISTRIBUTION_CRDS = ["gitrepositories.source.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io"];

/** The flux-operator chart's release name. */
export const FLUX_OPERATOR_RELEASE = "flux-operator";

/** The label that records a Kustomization's Flux phase on the object itself. */
export const PHASE_LABEL = "talos-platform/flux-phase";

/** flux-operator chart values; `flux.values` merged last. The operator needs nothing computed. */
export function fluxOperatorValues(flux: FluxConfig): Values {
    return mergeValues({}, flux.values);
}

/**
 * The Flux releases each flux-operator version bundles (its config/data/flux
 * directory at the tag). Without a distribution artifact the operator
 * resolves a version range against these alone (builder.MatchVersionWithEmbedded).
 */
export const BUNDLED_FLUX: Readonly<Record<string, readonly string[]>> = {
    "0.58.1": [
        ...["2.2.3", "2.3.0", "2.4.0", "2.5.0", "2.5.1"],
        ...["2.6.0", "2.6.1", "2.6.2", "2.6.3", "2.6.4"],
        ...["2.7.0", "2.7.1", "2.7.2", "2.7.3", "2.7.4", "2.7.5"],
        ...["2.8.0", "2.8.1", "2.8.2", "2.8.3", "2.8.5", "2.8.6", "2.8.7", "2.8.8"],
        ...["2.9.0", "2.9.1", "2.9.2", "2.9.3", "2.9.4"],
    ],
};

/** What the configured distribution version becomes on the cluster, as far as this program can tell offline. */
export interface FluxDistribution {
    /** As configured: 2.9.4 or 2.9.x. */
    version: string;
    /** The release flux-operator installs, when its bundle is known; undefined when it is not, or bundles no match. */
    resolvesTo?: string;
    /** Who decides, and from what, in words. */
    resolvedBy: string;
    /** The operator's bundle is known and holds no release the version selects: the FluxInstance would never become Ready. */
    unavailable?: boolean;
}

const versionParts = (v: string) => v.replace(/^v/, "").split(".").map(Number);

/** The release `version` (exact or MAJOR.MINOR.x) selects from flux-operator `operator`'s bundle. */
export function fluxDistribution(flux: Pick<FluxConfig, "version" | "distribution">): FluxDistribution {
    const version = flux.distribution.version;
    const bundle = BUNDLED_FLUX[flux.version];
    const operator = `flux-operator ${flux.version}`;
    if (!bundle) return { version, resolvedBy: `${operator} at deploy time (this program does not know that version's bundle)` };
    const [major, minor, patch] = versionParts(version);
    const matches = bundle
        .filter((b) => {
            const [bm, bn, bp] = versionParts(b);
            return bm === major && bn === minor && (isPatchWildcard(version) || bp === patch);
        })
        .sort((a, b) => versionParts(b)[2] - versionParts(a)[2]);
    if (!matches.length) return { version, resolvedBy: `${operator}, which bundles no Flux ${version}`, unavailable: true };
    return {
        version,
        resolvesTo: matches[0],
        resolvedBy: isPatchWildcard(version)
            ? `${operator} at deploy time: the newest ${major}.${minor} release it bundles`
            : `${operator}: an exact version it bundles`,
    };
}

/**
 * The Git ref name the FluxInstance's sync takes (refs/heads/main,
 * refs/tags/v1): the operator puts it in the GitRepository's spec.ref.name.
 * A semver range has no such form; the checks refuse it with sync.
 */
export function syncRef(source: GitSourceConfig): string | undefined {
    if (source.semver) return undefined;
    if (source.tag) return `refs/tags/${source.tag}`;
    return `refs/heads/${source.branch ?? "main"}`;
}

/**
 * The FluxInstance's .spec.sync: the operator creates the root GitRepository
 * and Kustomization, both named source.name (sync.name is immutable), in the
 * instance's namespace. The credentials Secret is the one this program
 * creates for the source.
 */
export function fluxSync(flux: FluxConfig): Values | undefined {
    if (!flux.sync) return undefined;
    const secret = gitCredentialsSecretName(flux.source);
    return {
        kind: "GitRepository",
        url: flux.source.url,
        ref: syncRef(flux.source) ?? "",
        path: flux.sync.path,
        interval: flux.source.interval,
        name: flux.source.name,
        ...(secret ? { pullSecret: secret } : {}),
    };
}

/**
 * The FluxInstance. Its cluster domain must be the cluster's: left at
 * cluster.local on a custom domain, the controllers cannot find each other.
 */
export function fluxInstance(cluster: ClusterConfig, flux: FluxConfig): K8sObject {
    const sync = fluxSync(flux);
    return {
        apiVersion: "fluxcd.controlplane.io/v1",
        kind: "FluxInstance",
        // The operator reconciles a single instance, and it must be named flux.
        metadata: { name: "flux", namespace: flux.namespace, annotations: { ...WAIT_FOR_READY } },
        spec: {
            distribution: { version: flux.distribution.version, registry: flux.distribution.registry },
            components: [...flux.components],
            cluster: { type: "kubernetes", domain: cluster.dnsDomain, networkPolicy: flux.networkPolicy },
            ...(sync ? { sync } : {}),
        },
    };
}

/** The Git ref Flux follows: the one of branch, tag or semver that is set, else branch main. */
export function gitRef(source: GitSourceConfig): Record<string, string> {
    if (source.semver) return { semver: source.semver };
    if (source.tag) return { tag: source.tag };
    return { branch: source.branch ?? "main" };
}

/**
 * The data of the Secret the GitRepository reads, under the keys
 * source-controller looks for: username and password for HTTPS, identity and
 * known_hosts for SSH. `secret` reads a secret key (the component passes
 * secretConfig), so only Pulumi secrets and public host keys go in.
 */
export function gitCredentialsData<S>(source: GitSourceConfig, secret: (key: string) => S): Record<string, S | string> | undefined {
    if (source.httpsToken) return { username: source.httpsToken.username, password: secret(source.httpsToken.tokenSecret) };
    if (source.sshKey) return { identity: secret(source.sshKey.privateKeySecret), known_hosts: source.sshKey.knownHosts };
    return undefined;
}

/** The Secret the GitRepository reads its credentials from, when it needs any. */
export function gitCredentialsSecretName(source: GitSourceConfig): string | undefined {
    return source.httpsToken || source.sshKey ? `${source.name}-git-auth` : undefined;
}

export function gitRepository(flux: FluxConfig): K8sObject {
    const spec: Values = { url: flux.source.url, ref: gitRef(flux.source), interval: flux.source.interval };
    const secret = gitCredentialsSecretName(flux.source);
    if (secret) spec.secretRef = { name: secret };
    return {
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "GitRepository",
        // Ready means fetched: a clone that fails stops `pulumi up` here, not in 14 Kustomizations.
        metadata: { name: flux.source.name, namespace: flux.namespace, annotations: { ...WAIT_FOR_READY } },
        spec,
    };
}

/**
 * What the generated dependsOn of phase `phaseIndex` lists: the critical
 * Kustomizations of the nearest earlier phase that has any. A non-critical
 * one is no barrier, and a phase of only non-critical ones passes on the
 * barrier before it.
 */
export function previousPhaseNames(phases: FluxPhaseConfig[], phaseIndex: number): string[] {
    for (let i = phaseIndex - 1; i >= 0; i--) {
        const critical = phases[i].kustomizations.filter((k) => k.critical);
        if (critical.length) return critical.map((k) => k.name);
    }
    return [];
}

/** `"false"` marks a Kustomization later phases do not wait for; the policy flux-waits-for-ready reads it. */
export const CRITICAL_ANNOTATION = "talos-platform/critical";

/** Flux's own dependsOn: the previous phase's Kustomizations, then any named extras. */
export function kustomizationDependencies(previous: string[], k: KustomizationConfig): string[] {
    return [...new Set([...previous, ...k.dependsOn])];
}

/** Flux's timeout for one attempt (kustomize-controller's GetTimeout): the interval minus 30s unless set, at least 30s. */
export function attemptTimeoutMs(k: KustomizationConfig): number {
    const ms = k.timeout ? durationMs(k.timeout) : durationMs(k.interval) - 30_000;
    return Math.max(ms, 30_000);
}

/**
 * How long Pulumi waits for Ready: a failed attempt (its timeout), the wait
 * before Flux retries (retryInterval), and the retry itself. Pulumi's own
 * default (10 minutes) would give up on a Kustomization Flux is still
 * allowed to be working on.
 */
export function readyTimeoutSeconds(k: KustomizationConfig): number {
    const retry = durationMs(k.retryInterval);
    return Math.ceil((2 * attemptTimeoutMs(k) + retry) / 1000);
}

/**
 * How long Pulumi waits for a Flux object (a Kustomization, the GitRepository)
 * to go once deleted. kustomize-controller's finalizer clears within seconds
 * while it runs, and an Orphan deletion deletes nothing; when the controller
 * is gone, the finalizer never clears, and waiting the ready timeout (up to
 * half an hour) for it would only delay `npm run doctor`'s fix.
 */
export const FLUX_DELETE_TIMEOUT = "5m";

/** Marks a Kustomization whose config says notOwnedByPlatform, so the policy flux-single-owner lets it pass too. */
export const NOT_OWNED_BY_PLATFORM = "talos-platform/not-owned-by-platform";

/** A Kustomization of phase `phaseIndex`; `previous` is previousPhaseNames(), computed once per phase. */
export function kustomization(flux: FluxConfig, phaseIndex: number, previous: string[], k: KustomizationConfig): K8sObject {
    const spec: Values = {
        interval: k.interval,
        path: k.path,
        prune: k.prune,
        wait: k.wait,
        sourceRef: { kind: "GitRepository", name: flux.source.name },
        // Without it Flux's default (MirrorPrune) deletes everything a deleted Kustomization applied.
        deletionPolicy: flux.deletionPolicy,
    };
    const deps = kustomizationDependencies(previous, k);
    if (deps.length) spec.dependsOn = deps.map((name) => ({ name }));
    if (k.timeout) spec.timeout = k.timeout;
    // Without it Flux waits a whole interval (10m) before retrying a failed apply.
    spec.retryInterval = k.retryInterval;
    if (k.healthChecks.length) spec.healthChecks = k.healthChecks.map((h) => ({ ...h }));
    return {
        apiVersion: "kustomize.toolkit.fluxcd.io/v1",
        kind: "Kustomization",
        metadata: {
            name: k.name,
            namespace: flux.namespace,
            labels: { [PHASE_LABEL]: flux.phases[phaseIndex].name },
            annotations: {
                // Pulumi waits only for a barrier: a non-critical one neither holds back nor fails `pulumi up`.
                ...(k.critical
                    ? { ...WAIT_FOR_READY, "pulumi.com/timeoutSeconds": String(readyTimeoutSeconds(k)) }
                    : { [CRITICAL_ANNOTATION]: "false" }),
                ...(k.notOwnedByPlatform ? { [NOT_OWNED_BY_PLATFORM]: "true" } : {}),
            },
        },
        spec,
    };
}

/**
 * A phase's Kustomizations, each after the ones of the same phase it names
 * in dependsOn (config order otherwise), so Pulumi can make it wait for them.
 * A cycle, which the preflight checks refuse, leaves its members in config order.
 */
export function phaseOrder(phase: FluxPhaseConfig): KustomizationConfig[] {
    const inPhase = new Map(phase.kustomizations.map((k) => [k.name, k]));
    const placed = new Set<string>();
    const visiting = new Set<string>();
    const out: KustomizationConfig[] = [];
    const place = (k: KustomizationConfig) => {
        if (placed.has(k.name) || visiting.has(k.name)) return;
        visiting.add(k.name);
        for (const d of k.dependsOn) {
            const dep = inPhase.get(d);
            if (dep) place(dep);
        }
        visiting.delete(k.name);
        placed.add(k.name);
        out.push(k);
    };
    phase.kustomizations.forEach(place);
    return out;
}
