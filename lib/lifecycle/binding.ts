import type { PlatformConfig } from "../config";
import type { ClusterConfig } from "../config/cluster";
import type { MovableRelease } from "../config/lifecycle";
import { kubernetesServiceIp } from "../gates/targets";
import { configPath, error, Problem, warning } from "../problems";

// One cluster per stack. Before anything is registered, the program checks
// that the kubeconfig's cluster is the one the stack describes (its API
// server's address) and the one it deployed to before (its kube-system
// namespace's UID). Pure: lib/lifecycle/source.ts reads the cluster and the
// recorded outputs, index.ts wires the result in.

/**
 * The Kubernetes provider's clusterIdentifier: fixed, on purpose. While it
 * stays the same, the provider treats a changed kubeconfig or context as an
 * update, never as a replacement (pulumi-kubernetes DiffConfig). A replaced
 * provider replaces every resource it manages: creates them through the new
 * settings, then deletes the old ones through the old settings, which, on a
 * cluster rebuilt at the same address, would delete what was just created.
 * Which cluster the provider talks to is checked here instead. Never change it.
 */
export const PROVIDER_CLUSTER_IDENTIFIER = "talos-platform";

/** What a `pulumi up` records in the stack output `clusterBinding`. */
export interface BindingRecord {
    /** kube-system's UID. */
    uid: string;
    /** The API server URL the kubeconfig named. */
    server: string;
    context: string;
}

/** What the stack's last `pulumi up` recorded in its outputs, as far as this program reads them back. */
export interface Recorded {
    /** Output `clusterBinding`. */
    binding?: BindingRecord;
    /** Output `releaseNamespaces`: each section's release namespace. */
    releaseNamespaces?: Partial<Record<ReleaseSection, string>>;
    /** Output `gatesChecked`: a digest of every gate command, recorded once all had run. */
    gatesChecked?: string;
}

/** What the program learned about the kubeconfig's cluster before registering anything. */
export type LiveRead =
    | { kind: "live"; context: string; server: string; uid: string }
    /** kube-system could not be read: no kubeconfig, an API server that does not answer, RBAC. */
    | { kind: "unreachable"; context?: string; server?: string; reason: string }
    /** The offline plan: nothing was contacted. */
    | { kind: "offline" };

/** The sections that install a Helm release. */
export type ReleaseSection = MovableRelease | "flux";

/** Each deployed section's release namespace, as this config installs it: what `releaseNamespaces` records. */
export function releaseNamespaces(config: PlatformConfig): Partial<Record<ReleaseSection, string>> {
    return {
        cilium: config.cilium.namespace,
        ...(config.cluster.coreDnsDisabled ? { coredns: config.coredns.namespace } : {}),
        certManager: config.certManager.namespace,
        ingressNginx: config.ingressNginx.namespace,
        flux: config.flux.namespace,
    };
}

/** What a section's phase loses while its release is uninstalled and installed again. */
export const MOVE_OUTAGE: Record<MovableRelease, string> = {
    cilium: "every pod loses its network, and the LoadBalancer addresses stop answering, until the new release is ready",
    coredns: "cluster DNS stops until the new release is ready",
    certManager:
        "certificates are neither issued nor renewed, and its webhook refuses cert-manager objects, until the new release is ready (its CRDs and Certificates stay)",
    ingressNginx: "ingress traffic stops until the new release is ready, and its LoadBalancer address may change",
};

/** The trigger element that makes every gate and CRD wait re-run when the cluster's identity changes. */
export function identityTrigger(uid: string | undefined): string {
    return `kube-system-uid:${uid ?? "read-at-pulumi-up"}`;
}

/** host:port of a URL, lower-cased, with the scheme's default port: what "the same API server address" compares. */
export function serverKey(url: string): string | undefined {
    try {
        const u = new URL(url);
        const port = u.port || (u.protocol === "http:" ? "80" : "443");
        return `${u.hostname.toLowerCase()}:${port}`;
    } catch {
        return undefined;
    }
}

/** A host as it goes into a URL: an IPv6 address in brackets. */
function urlHost(host: string): string {
    return host.includes(":") ? `[${host}]` : host;
}

/**
 * The addresses under which a kubeconfig may name this stack's API server:
 * the Talos endpoint, KubePrism's localhost on a node, the kubernetes
 * Service inside the cluster, and the user's aliases.
 */
export function apiServers(config: PlatformConfig): string[] {
    const c = config.cluster;
    const prism = c.kubePrism.enabled ? [`https://localhost:${c.kubePrism.port}`, `https://127.0.0.1:${c.kubePrism.port}`] : [];
    const inCluster = `https://${urlHost(kubernetesServiceIp(config))}:443`;
    return [...new Set([c.apiEndpoint, ...prism, inCluster, ...c.apiServerAliases])];
}

export function serverMatches(server: string, config: PlatformConfig): boolean {
    const key = serverKey(server);
    return key !== undefined && apiServers(config).some((s) => serverKey(s) === key);
}

/** How the program binds to the cluster, once checked. */
export interface Binding {
    /** The context the provider gets: cluster.kubeContext, or the current context that was checked. */
    context?: string;
    /** The kube-system UID the gates' triggers carry: the live one, else the pinned or recorded one. */
    uid?: string;
    /** What this run records as `clusterBinding`: only after a successful check of the live cluster. */
    record?: BindingRecord;
}

export interface BindingResult {
    binding: Binding;
    /** Errors stop `pulumi up` before anything is registered; warnings are logged. */
    problems: Problem[];
}

const KUBE_CONTEXT = configPath(["cluster", "kubeContext"]);
const IDENTITY = configPath(["cluster", "identity"]);

function describeCluster(c: ClusterConfig, config: PlatformConfig): string {
    return `this stack's cluster '${c.name}' (${apiServers(config).join(", ")})`;
}

/**
 * Checks the kubeconfig's cluster against the stack: the server's address,
 * then kube-system's UID against the pinned (cluster.identity) or recorded
 * one. `dryRun`: a preview, where an API server that cannot be read is a
 * warning (the provider's own preview tolerates it), not a refusal.
 */
export function checkBinding(config: PlatformConfig, live: LiveRead, recorded: Recorded, dryRun: boolean): BindingResult {
    const c = config.cluster;
    const expected = c.identity ?? recorded.binding?.uid;
    const expectedFrom = c.identity
        ? `pinned in ${IDENTITY}`
        : `recorded by this stack's last \`pulumi up\` through ${recorded.binding?.server} (context ${recorded.binding?.context})`;
    if (live.kind === "offline") return { binding: { context: c.kubeContext, uid: c.identity }, problems: [] };

    const problems: Problem[] = [];
    const where = live.context ? `the kubeconfig's context '${live.context}' (server ${live.server})` : "the kubeconfig";
    if (live.server !== undefined && !serverMatches(live.server, config)) {
        problems.push(
            error(
                c.kubeContext ? KUBE_CONTEXT : configPath(["cluster", "apiEndpoint"]),
                `${where} is not ${describeCluster(c, config)}; nothing was changed`,
                `select the stack's cluster: set ${KUBE_CONTEXT} to its context (\`kubectl config get-contexts\`) or point KUBECONFIG at its kubeconfig (\`talosctl kubeconfig\`); if ${live.server} is this cluster's API server under another address, add it to ${configPath(["cluster", "apiServerAliases"])}`,
                live.server,
            ),
        );
    }
    if (live.kind === "unreachable") {
        const message = `cannot read kube-system through ${where}, so which cluster it is cannot be checked: ${live.reason}`;
        const kubectl = live.context ? `kubectl --context ${live.context}` : "kubectl";
        const fix = `make \`${kubectl} get namespace kube-system\` work from this machine (VPN, kubeconfig, an admin user), then run it again`;
        if (dryRun) problems.push(warning("cluster-not-checked", IDENTITY, `${message}; \`pulumi up\` will refuse to run like this`, fix));
        else problems.push(error(IDENTITY, `${message}; nothing was changed`, fix));
        return { binding: { context: live.context ?? c.kubeContext, uid: expected }, problems };
    }
    if (expected !== undefined && live.uid !== expected) {
        problems.push(
            error(
                IDENTITY,
                `${where} reaches a cluster whose kube-system UID is ${live.uid}, but this stack is bound to the cluster with UID ${expected} (${expectedFrom}): it is another cluster, or this one was rebuilt; nothing was changed`,
                `if the kubeconfig points at the wrong cluster, select the right one (${KUBE_CONTEXT}); if the cluster was rebuilt on purpose, bind the stack to the new one: \`pulumi config set --path ${IDENTITY} ${live.uid}\`, then \`pulumi up --refresh\` (Pulumi forgets what the old cluster had, installs it again, and every gate runs again in order; docs/recovering.md)`,
                live.uid,
            ),
        );
    }
    const ok = !problems.some((p) => p.severity === "error");
    return {
        binding: {
            context: live.context,
            uid: live.uid,
            record: ok ? { uid: live.uid, server: live.server, context: live.context } : undefined,
        },
        problems,
    };
}

/**
 * A section's release in another namespace than the last `pulumi up`
 * recorded: Helm cannot install the new one beside the old (their
 * cluster-scoped objects collide), so it must be uninstalled first: refused
 * unless lifecycle.allowNamespaceMove lists the section.
 */
export function namespaceMoves(config: PlatformConfig, recorded: Recorded): Problem[] {
    const now = releaseNamespaces(config);
    const problems: Problem[] = [];
    for (const [section, before] of Object.entries(recorded.releaseNamespaces ?? {}) as [ReleaseSection, string][]) {
        const after = now[section];
        if (after === undefined || after === before) continue;
        const path = configPath([section, "namespace"]);
        const what = `moves the ${section} release from ${before}, where this stack's last \`pulumi up\` installed it, to ${after}: Helm cannot install it beside the old one (their cluster-scoped objects collide), so it would be uninstalled first`;
        if (section === "flux") {
            problems.push(
                error(
                    path,
                    `${what}, and the FluxInstance, which is kept on delete, would stay behind`,
                    `keep ${before}; moving Flux is done by hand (docs/recovering.md#a-release-in-another-namespace)`,
                    after,
                ),
            );
        } else if (!config.lifecycle.allowNamespaceMove.includes(section)) {
            problems.push(
                error(
                    path,
                    `${what}: ${MOVE_OUTAGE[section]}; nothing was changed`,
                    `keep ${before}, or accept the outage: \`pulumi config set --path 'talos-platform:lifecycle.allowNamespaceMove[0]' ${section}\`, then \`pulumi up\` uninstalls it and installs it in ${after}; remove the entry afterwards (docs/recovering.md#a-release-in-another-namespace)`,
                    after,
                ),
            );
        }
    }
    return problems;
}

/** Whether a section's release may be replaced in this update: listed in lifecycle.allowNamespaceMove. */
export function moveAllowed(config: PlatformConfig, section: MovableRelease): boolean {
    return config.lifecycle.allowNamespaceMove.includes(section);
}
