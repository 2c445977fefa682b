import type { PlatformConfig } from "../config";
import { FluxConfig, kustomizationSchema, redactUrl } from "../config/flux";
import { suggestion } from "../config/issues";
import type { SecretRef } from "../config/secrets";
import { configPath, error, Problem, warning } from "../problems";
import { BUNDLED_FLUX, fluxDistribution } from "../values/flux";
import { nestedPaths, normalizedPath, singleOwner } from "./gitops-owners";
import type { Check } from "./types";

/**
 * A URL that carries a password, or over HTTP(S) a user name (where a token
 * often hides), would store credentials in plain text. ssh://git@ names only
 * the SSH user.
 */
export function urlHasCredentials(url: string): boolean {
    try {
        const u = new URL(url);
        return u.password !== "" || (u.protocol !== "ssh:" && u.username !== "");
    } catch {
        return false;
    }
}

export const URL_CREDENTIALS_MESSAGE = "carries credentials, which would be stored and shown in plain text";

/** The secret keys the Flux section names. */
export function fluxSecretRefs(flux: FluxConfig): SecretRef[] {
    const refs: SecretRef[] = [];
    const { httpsToken, sshKey } = flux.source;
    if (httpsToken) refs.push({ path: configPath(["flux", "source", "httpsToken", "tokenSecret"]), key: httpsToken.tokenSecret });
    if (sshKey) refs.push({ path: configPath(["flux", "source", "sshKey", "privateKeySecret"]), key: sshKey.privateKeySecret });
    return refs;
}

const ksPath = (i: number, j: number, ...rest: Array<string | number>) => configPath(["flux", "phases", i, "kustomizations", j, ...rest]);

interface Located {
    phase: number;
    index: number;
}

/** Every Kustomization by name, first occurrence wins; duplicates are reported separately. */
function locate(flux: FluxConfig): Map<string, Located> {
    const at = new Map<string, Located>();
    flux.phases.forEach((p, i) => p.kustomizations.forEach((k, j) => at.has(k.name) || at.set(k.name, { phase: i, index: j })));
    return at;
}

function duplicates(flux: FluxConfig): Problem[] {
    const problems: Problem[] = [];
    const phases = new Map<string, number>();
    flux.phases.forEach((p, i) => {
        const first = phases.get(p.name);
        if (first === undefined) phases.set(p.name, i);
        else
            problems.push(
                error(
                    configPath(["flux", "phases", i, "name"]),
                    `repeats the name of ${configPath(["flux", "phases", first, "name"])}`,
                    `give each phase its own name, or merge the two into one phase`,
                    p.name,
                ),
            );
    });
    const names = new Map<string, string>();
    const paths = new Map<string, string>();
    flux.phases.forEach((p, i) =>
        p.kustomizations.forEach((k, j) => {
            const firstName = names.get(k.name);
            if (firstName)
                problems.push(
                    error(
                        ksPath(i, j, "name"),
                        `repeats the Kustomization name at ${firstName}; Flux has one object per name, so one would overwrite the other`,
                        `rename one of them, or remove ${ksPath(i, j)}`,
                        k.name,
                    ),
                );
            else names.set(k.name, ksPath(i, j, "name"));
            const path = normalizedPath(k.path);
            const firstPath = paths.get(path);
            if (firstPath)
                problems.push(
                    error(
                        ksPath(i, j, "path"),
                        `is also applied by ${firstPath}; two Kustomizations would fight over, and prune, the same objects`,
                        `keep one Kustomization per path: remove ${ksPath(i, j)} or point it at another directory`,
                        k.path,
                    ),
                );
            else paths.set(path, ksPath(i, j, "path"));
        }),
    );
    return problems;
}

/**
 * Unknown names, dependencies on a later phase, and cycles. Generated
 * dependencies (on the previous phase) and extras on earlier phases all point
 * backwards, so a cycle can only run through extras within one phase: the
 * search walks those alone, once each, in linear time.
 */
function dependencies(flux: FluxConfig): Problem[] {
    const problems: Problem[] = [];
    const at = locate(flux);
    const known = [...at.keys()];
    const samePhase = new Map<string, Array<{ to: string; path: string }>>();
    flux.phases.forEach((p, i) =>
        p.kustomizations.forEach((k, j) => {
            if (at.get(k.name)?.phase !== i || at.get(k.name)?.index !== j) return; // a duplicate, reported elsewhere
            const edges: Array<{ to: string; path: string }> = [];
            k.dependsOn.forEach((d, n) => {
                const path = ksPath(i, j, "dependsOn", n);
                const target = at.get(d);
                if (!target) {
                    const likely = suggestion(d, known);
                    const hint = likely ? `did you mean '${likely}'? ` : "";
                    problems.push(
                        error(
                            path,
                            "names no Kustomization in talos-platform:flux.phases",
                            `${hint}name one listed there, or remove it`,
                            d,
                        ),
                    );
                } else if (target.phase > i) {
                    const later = configPath(["flux", "phases", target.phase]);
                    problems.push(
                        error(
                            path,
                            `names ${d}, which is in the later phase '${flux.phases[target.phase].name}' (${later}); it waits for this phase, so neither would ever become Ready`,
                            `move ${k.name} to phase '${flux.phases[target.phase].name}' or later, or move ${d} to phase '${p.name}' or earlier`,
                            d,
                        ),
                    );
                } else {
                    const dep = flux.phases[target.phase].kustomizations[target.index];
                    if (k.critical && !dep.critical) {
                        problems.push(
                            error(
                                path,
                                `names ${d}, which is marked critical: false, but ${k.name} is critical: Flux holds ${k.name} back until ${d} is Ready, and everything after ${k.name} waits for it, so ${d} would be a barrier after all`,
                                `set ${ksPath(i, j, "critical")} to false too, remove ${d} from the list, or make ${d} critical again`,
                                d,
                            ),
                        );
                    }
                    if (target.phase === i) edges.push({ to: d, path });
                }
            });
            samePhase.set(k.name, edges);
        }),
    );
    problems.push(...cycles(samePhase));
    return problems;
}

/** One problem per dependency that closes a cycle, with the cycle spelled out. */
function cycles(edges: Map<string, Array<{ to: string; path: string }>>): Problem[] {
    const problems: Problem[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: Array<{ name: string; via?: string }> = [];
    const visit = (name: string, via?: string) => {
        state.set(name, "open");
        stack.push({ name, via });
        for (const e of edges.get(name) ?? []) {
            const s = state.get(e.to);
            if (s === undefined) visit(e.to, e.path);
            else if (s === "open") {
                const start = stack.findIndex((f) => f.name === e.to);
                const members = stack.slice(start);
                const cycle = [...members.map((f) => f.name), e.to].join(" → ");
                const keys = [...members.slice(1).map((f) => f.via!), e.path];
                problems.push(
                    error(
                        e.path,
                        `closes the dependency cycle ${cycle}; each waits for the next, so none would ever become Ready`,
                        `remove one of these dependencies: ${keys.join(", ")}`,
                        e.to,
                    ),
                );
            }
        }
        stack.pop();
        state.set(name, "done");
    };
    for (const name of edges.keys()) if (!state.has(name)) visit(name);
    return problems;
}

/** The host entry known_hosts uses for a URL: host, or [host]:port off port 22. */
function knownHostsEntry(url: URL): string {
    const host = url.hostname.replace(/^\[|\]$/g, "");
    return url.port && url.port !== "22" ? `[${host}]:${url.port}` : host;
}

function source(flux: FluxConfig): Problem[] {
    const problems: Problem[] = [];
    const s = flux.source;
    const key = (...k: string[]) => configPath(["flux", "source", ...k]);
    // Problems show the URL without the credentials it may carry.
    const url = redactUrl(s.url);
    const refs = (["branch", "tag", "semver"] as const).filter((r) => s[r] !== undefined);
    if (refs.length > 1) {
        problems.push(
            error(
                key(refs[1]),
                `is set together with ${refs
                    .filter((r) => r !== refs[1])
                    .map((r) => key(r))
                    .join(" and ")}; Flux would silently follow only one (semver, then tag, then branch)`,
                `keep one of ${refs.join(", ")}`,
                s[refs[1]],
            ),
        );
    }
    if (flux.sync && s.semver !== undefined) {
        problems.push(
            error(
                key("semver"),
                `cannot be followed with ${configPath(["flux", "sync"])}: the FluxInstance's sync takes one Git ref name (refs/heads/<branch> or refs/tags/<tag>), not a range`,
                `use ${key("tag")} or ${key("branch")}, or remove ${configPath(["flux", "sync"])}`,
                s.semver,
            ),
        );
    }
    if (urlHasCredentials(s.url)) {
        problems.push(error(key("url"), URL_CREDENTIALS_MESSAGE, `remove them from the URL and use ${key("httpsToken")}`, url));
    }
    const scheme = s.url.split("://")[0];
    if (s.httpsToken && s.sshKey) {
        problems.push(error(key("sshKey"), `is set together with ${key("httpsToken")}`, `keep the one that matches ${key("url")}`));
    } else if (s.httpsToken && scheme !== "https") {
        problems.push(
            error(
                key("httpsToken"),
                `needs an https:// URL, but ${key("url")} is ${scheme}://; a token over ${scheme} would be sent in the clear or not at all`,
                `use the repository's https:// URL, or ${key("sshKey")} for ssh://`,
                url,
            ),
        );
    } else if (s.sshKey && scheme !== "ssh") {
        problems.push(
            error(key("sshKey"), `needs an ssh:// URL, but ${key("url")} is ${scheme}://`, `use ssh://git@<host>/<owner>/<repo>`, url),
        );
    } else if (scheme === "ssh" && !s.sshKey) {
        problems.push(
            error(
                key("url"),
                `is an ssh:// URL, but ${key("sshKey")} is not set; Flux cannot clone over SSH without a key`,
                `set ${key("sshKey")}, or use the https:// URL`,
                url,
            ),
        );
    }
    if (s.sshKey && scheme === "ssh") {
        const entry = knownHostsEntry(new URL(s.url));
        const lines = s.sshKey.knownHosts.split("\n").filter((l) => l.trim() && !l.trim().startsWith("#"));
        const hashed = lines.some((l) => l.trim().startsWith("|1|"));
        const covered = lines.some((l) => l.trim().split(/\s+/)[0].split(",").includes(entry));
        if (!covered && !hashed) {
            problems.push(
                error(
                    key("sshKey", "knownHosts"),
                    `has no key for ${entry}, the host of ${key("url")}; Flux would refuse to connect`,
                    `add the host's keys: ssh-keyscan ${entry.replace(/^\[(.*)\]:(\d+)$/, "-p $2 $1")}`,
                ),
            );
        }
    }
    return problems;
}

function components(flux: FluxConfig): Problem[] {
    const needed = ["source-controller", ...(flux.phases.length || flux.sync ? ["kustomize-controller"] : [])];
    const kustomizations = flux.sync ? "root Kustomization of talos-platform:flux.sync" : "Kustomizations in talos-platform:flux.phases";
    return needed
        .filter((c) => !flux.components.includes(c as FluxConfig["components"][number]))
        .map((c) =>
            error(
                configPath(["flux", "components"]),
                `leaves out ${c}, which the ${c === "source-controller" ? "GitRepository" : kustomizations} need`,
                `add ${c} to the list`,
                flux.components,
            ),
        );
}

/** Settings of a Kustomization that Git owns under flux.sync; only name, path and dependsOn describe the graph the gate checks. */
const GIT_OWNED = ["interval", "timeout", "retryInterval", "prune", "wait", "healthChecks"] as const;

/** With flux.sync the Kustomizations are Git's: a setting here would look effective and change nothing. */
function settingsOwnedByGit(flux: FluxConfig): Problem[] {
    if (!flux.sync) return [];
    const set: string[] = [];
    flux.phases.forEach((p, i) =>
        p.kustomizations.forEach((k, j) => {
            const defaults = kustomizationSchema.parse({ name: k.name, path: k.path });
            for (const field of GIT_OWNED) if (JSON.stringify(k[field]) !== JSON.stringify(defaults[field])) set.push(ksPath(i, j, field));
        }),
    );
    // flux.deletionPolicy only reaches the Kustomizations this program creates: none under sync.
    if (flux.deletionPolicy !== "Orphan") set.push(configPath(["flux", "deletionPolicy"]));
    if (!set.length) return [];
    return [
        warning(
            "flux-settings-owned-by-git",
            set[0],
            `has no effect: with ${configPath(["flux", "sync"])} the Kustomization is defined in Git, and this program only checks that it exists, is Ready and depends as declared${set.length > 1 ? ` (nor do ${set.length - 1} more such settings, e.g. ${set[1]})` : ""}`,
            "set it on the Kustomization in the repository, and remove it here",
        ),
    ];
}

/** The operator resolves the version against the Flux releases it bundles: one it lacks never installs. */
function distributionAvailable(flux: FluxConfig): Problem[] {
    const d = fluxDistribution(flux);
    if (!d.unavailable) return [];
    const bundle = BUNDLED_FLUX[flux.version] ?? [];
    const newest = bundle[bundle.length - 1];
    return [
        error(
            configPath(["flux", "distribution", "version"]),
            `selects no Flux release flux-operator ${flux.version} bundles (${configPath(["flux", "version"])}), so the FluxInstance would never become Ready`,
            `use a release it bundles, e.g. ${newest} or ${newest.replace(/\.\d+$/, ".x")}, or a flux-operator version that bundles ${d.version}`,
            d.version,
        ),
    ];
}

/** Flux ignores healthChecks when wait is true: say so instead of letting them look effective. */
function ignoredHealthChecks(flux: FluxConfig): Problem[] {
    const problems: Problem[] = [];
    flux.phases.forEach((p, i) =>
        p.kustomizations.forEach((k, j) => {
            if (k.wait && k.healthChecks.length) {
                problems.push(
                    warning(
                        "flux-health-checks-ignored",
                        ksPath(i, j, "healthChecks"),
                        `are ignored: ${ksPath(i, j, "wait")} is true, so Flux checks everything the Kustomization applied instead`,
                        `set ${ksPath(i, j, "wait")} to false to check only these, or remove them`,
                    ),
                );
            }
        }),
    );
    return problems;
}

const flux = (run: (f: FluxConfig) => Problem[]) => (c: PlatformConfig) => run(c.flux);

export const gitopsChecks: Check[] = [
    { name: "flux-unique-names", run: flux(duplicates) },
    { name: "flux-nested-paths", run: flux(nestedPaths) },
    { name: "flux-dependencies", run: flux(dependencies) },
    { name: "flux-single-owner", run: singleOwner },
    { name: "flux-git-source", run: flux(source) },
    { name: "flux-components", run: flux(components) },
    { name: "flux-health-checks-ignored", run: flux(ignoredHealthChecks) },
    { name: "flux-settings-owned-by-git", run: flux(settingsOwnedByGit) },
    { name: "flux-distribution-available", run: flux(distributionAvailable) },
];
