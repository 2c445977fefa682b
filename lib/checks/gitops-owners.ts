import type { PlatformConfig } from "../config";
import type { ClusterConfig } from "../config/cluster";
import type { FluxConfig } from "../config/flux";
import type { Phase } from "../phases";
import { configPath, error, Problem, warning } from "../problems";

// What Flux must leave alone, and how a Kustomization's name or path gives
// away that it would apply one of those components.

/** Something Flux must not apply because another owner deploys it. */
export interface OwnedComponent {
    component: string;
    phase: Phase;
    /** What it covers, for messages and the plan. */
    covers: string;
    /** Who deploys it: this program, or (CoreDNS, unless disabled there) Talos. */
    owner: "talos-platform" | "Talos";
    /** The config section that configures it when this program deploys it. */
    section: string;
    /** Names that stand for it, spelled with separators: cert-manager, cluster-issuers. */
    aliases: string[];
}

/**
 * The settings that decide who owns what: Talos runs CoreDNS unless
 * cluster.coreDnsDisabled; this program deploys ingress-nginx unless
 * ingressNginx.enabled is false, and the Gateway API CRDs with the gateway
 * on and gateway.gatewayApi.crds: install.
 */
export type Ownership = Pick<ClusterConfig, "coreDnsDisabled"> & {
    /** @default true */
    ingressNginx?: boolean;
    /** @default false */
    gatewayApiCrds?: boolean;
};

/** A stack's ownership settings. */
export function ownershipOf(config: Pick<PlatformConfig, "cluster" | "ingressNginx" | "gateway">): Required<Ownership> {
    return {
        coreDnsDisabled: config.cluster.coreDnsDisabled,
        ingressNginx: config.ingressNginx.enabled,
        gatewayApiCrds: config.gateway.enabled && config.gateway.gatewayApi.crds === "install",
    };
}

const OWNED = new Map<string, readonly OwnedComponent[]>();

/** What this program or Talos deploys, so Flux must not, for this cluster. */
export function ownedComponents(o: Ownership): readonly OwnedComponent[] {
    const key = `${o.coreDnsDisabled}/${o.ingressNginx ?? true}/${o.gatewayApiCrds ?? false}`;
    let owned = OWNED.get(key);
    if (!owned) OWNED.set(key, (owned = listOwned(o)));
    return owned;
}

function listOwned(o: Ownership): OwnedComponent[] {
    const own = (component: string, section: string, phase: Phase, covers: string, aliases: string[]): OwnedComponent => ({
        component,
        phase,
        covers,
        owner: "talos-platform",
        section,
        aliases,
    });
    const coredns = own("coredns", "coredns", "dns", "CoreDNS", ["coredns", "kube-dns"]);
    return [
        ...(o.gatewayApiCrds
            ? [own("gateway-api", "gateway", "network", "the Gateway API CRDs", ["gateway-api", "gateway-api-crds", "gatewayapi"])]
            : []),
        own("cilium", "cilium", "network", "Cilium, its LoadBalancer IP pools and BGP", [
            "cilium",
            "bgp",
            "lb-ipam",
            "ip-pools",
            "lb-pools",
        ]),
        o.coreDnsDisabled ? coredns : { ...coredns, owner: "Talos" },
        own("cert-manager", "certManager", "certificates", "cert-manager and its ClusterIssuers", [
            "cert-manager",
            "issuers",
            "issuer",
            "cluster-issuers",
            "cluster-issuer",
        ]),
        // Turned off here, ingress-nginx is anybody's to deploy (GitOps included).
        ...(o.ingressNginx === false
            ? []
            : [own("ingress-nginx", "ingressNginx", "ingress", "ingress-nginx", ["ingress-nginx", "nginx-ingress"])]),
        own("flux", "flux", "gitops", "the Flux controllers: flux-operator and its FluxInstance", [
            "flux-system",
            "flux-operator",
            "flux-instance",
        ]),
    ];
}

/**
 * Words that place or qualify a component without naming another one:
 * infrastructure-cert-manager and ./kubernetes/apps/kube-system/cilium/app
 * are still cert-manager and Cilium, while cert-manager-trust-manager and
 * ./apps/grafana-dashboards/cilium are something else.
 */
const NEUTRAL = [
    "infrastructure",
    "infra",
    "apps",
    "app",
    "base",
    "core",
    "clusters",
    "controllers",
    "controller",
    "configs",
    "config",
    "crds",
    "crd",
    "kubernetes",
    "k8s",
    "platform",
    "system",
    "kube-system",
    "operator",
    "helm",
    "release",
    "releases",
];

const words = (s: string) =>
    s
        .toLowerCase()
        .split(/[._-]+/)
        .filter(Boolean);
const PHRASE_WORDS = 3;

type Phrases = Map<string, OwnedComponent | "neutral">;
const PHRASES = new WeakMap<readonly OwnedComponent[], Phrases>();

/** Each alias and neutral word, without separators, and what it stands for; built once per list. */
function phrases(owned: readonly OwnedComponent[]): Phrases {
    let map = PHRASES.get(owned);
    if (map) return map;
    map = new Map(NEUTRAL.map((n) => [words(n).join(""), "neutral" as const]));
    for (const c of owned) for (const a of c.aliases) map.set(words(a).join(""), c);
    PHRASES.set(owned, map);
    return map;
}

/**
 * What one name or directory names: an owned component when it is made of
 * that component's aliases and neutral words only, "neutral" when of neutral
 * words only, and undefined when any word names something else. Words are
 * matched longest phrase first (cert + manager is cert-manager).
 */
function classify(segment: string, table: Phrases): OwnedComponent | "neutral" | undefined {
    const w = words(segment);
    let found: OwnedComponent | undefined;
    for (let i = 0; i < w.length;) {
        let n = Math.min(PHRASE_WORDS, w.length - i);
        for (; n > 0; n--) {
            const hit = table.get(w.slice(i, i + n).join(""));
            if (hit === undefined) continue;
            if (hit !== "neutral") found ??= hit;
            break;
        }
        if (n === 0) return undefined;
        i += n;
    }
    return found ?? "neutral";
}

/** The owned component a Kustomization name stands for, if any. */
export function ownerOfName(name: string, owned: readonly OwnedComponent[]): OwnedComponent | undefined {
    const c = classify(name, phrases(owned));
    return c === "neutral" ? undefined : c;
}

const segments = (path: string) => path.split("/").filter((s) => s && s !== ".");

/**
 * The owned component a path applies, if any: the first directory that is
 * not a neutral container names it, and everything below it belongs to it
 * (./infrastructure/cilium-bgp/overlays/prod is Cilium's).
 */
export function ownerOfPath(path: string, owned: readonly OwnedComponent[]): OwnedComponent | undefined {
    const table = phrases(owned);
    for (const seg of segments(path)) {
        const c = classify(seg, table);
        if (c !== "neutral") return c;
    }
    return undefined;
}

export interface TwoOwners {
    field: "name" | "path";
    value: string;
    owner: OwnedComponent;
}

/** A Kustomization whose name or path stands for an owned component; one predicate for the check and the policy. */
export function twoOwners(name: string | undefined, path: string | undefined, owned: readonly OwnedComponent[]): TwoOwners | undefined {
    const byName = name ? ownerOfName(name, owned) : undefined;
    if (name && byName) return { field: "name", value: name, owner: byName };
    const byPath = path ? ownerOfPath(path, owned) : undefined;
    if (path && byPath) return { field: "path", value: path, owner: byPath };
    return undefined;
}

const CORE_DNS_BY_TALOS = `${configPath(["cluster", "coreDnsDisabled"])} is false`;

function deployedBy(c: OwnedComponent): string {
    return c.owner === "Talos" ? `Talos runs (${CORE_DNS_BY_TALOS})` : `this program deploys in its ${c.phase} phase`;
}

/** One message for the config check and the policy. */
export function twoOwnersMessage({ field, value, owner }: TwoOwners): string {
    return (
        `Kustomization ${field} '${value}' duplicates ${owner.component}, which ${deployedBy(owner)} ` +
        `(${owner.covers}); with Flux applying it too, two owners would fight over the same objects`
    );
}

/** How to resolve two owners; `override` is the Kustomization's notOwnedByPlatform key. */
export function twoOwnersFix(owner: OwnedComponent, override: string): string {
    const elsewhere =
        owner.owner === "Talos"
            ? `Talos deploys it (Talos cluster.coreDNS); for this program to own it instead, set Talos cluster.coreDNS.disabled and ${configPath(["cluster", "coreDnsDisabled"])} to true`
            : `configure it in ${configPath([owner.section])} instead`;
    return `leave it out of talos-platform:flux.phases (and out of the repository's Flux paths): ${elsewhere}. If it applies something else, set ${override} to true`;
}

/** Why a path may apply owned components without naming one: the root, a cluster directory, or a neutral container. */
export function broadPath(path: string, owned: readonly OwnedComponent[]): "root" | "cluster" | "container" | undefined {
    const segs = segments(path);
    if (!segs.length) return "root";
    if (segs[0] === "clusters") return "cluster";
    const table = phrases(owned);
    return segs.every((s) => classify(s, table) === "neutral") ? "container" : undefined;
}

function ownedList(owned: readonly OwnedComponent[]): string {
    return owned.map((c) => `${c.covers} (${c.owner === "Talos" ? "run by Talos" : `${c.phase} phase`})`).join("; ");
}

const BROAD_REASON = {
    root: "is the repository root: Flux applies every manifest in the repository (it generates a kustomization.yaml where there is none)",
    cluster: "is a cluster directory, which in Flux's layout holds flux-system (Flux itself) and the Kustomizations of every component",
    container:
        "is a directory that conventionally holds components in subdirectories, and Flux applies every manifest below it (it generates a kustomization.yaml where there is none)",
};

const ksPath = (i: number, j: number, ...rest: Array<string | number>) => configPath(["flux", "phases", i, "kustomizations", j, ...rest]);

/**
 * Kustomizations that stand for what this program or Talos deploys (errors),
 * and paths above such components (warnings), unless notOwnedByPlatform.
 */
export function singleOwner(config: PlatformConfig): Problem[] {
    const owned = ownedComponents(ownershipOf(config));
    const problems: Problem[] = [];
    config.flux.phases.forEach((p, i) =>
        p.kustomizations.forEach((k, j) => {
            if (k.notOwnedByPlatform) return;
            const override = ksPath(i, j, "notOwnedByPlatform");
            const hit = twoOwners(k.name, k.path, owned);
            if (hit) {
                problems.push(error(ksPath(i, j, hit.field), twoOwnersMessage(hit), twoOwnersFix(hit.owner, override), hit.value));
                return;
            }
            const broad = broadPath(k.path, owned);
            if (broad) {
                problems.push(
                    warning(
                        "flux-path-may-apply-platform",
                        ksPath(i, j, "path"),
                        `${BROAD_REASON[broad]}, so it may also apply what this program or Talos deploys: ${ownedList(owned)}`,
                        `point it at the directories Flux should own, below this one; once you have checked that it applies none of these, set ${override} to true`,
                        k.path,
                    ),
                );
            }
        }),
    );
    return problems;
}

/** A path as directories below the repository root ("" for the root itself). */
export function normalizedPath(path: string): string {
    return segments(path).join("/");
}

/** Configured paths that contain another configured path: both Kustomizations would apply and prune what is below. */
export function nestedPaths(flux: FluxConfig): Problem[] {
    const first = new Map<string, { key: string; path: string }>();
    flux.phases.forEach((p, i) =>
        p.kustomizations.forEach((k, j) => {
            const n = normalizedPath(k.path);
            if (!first.has(n)) first.set(n, { key: ksPath(i, j, "path"), path: k.path });
        }),
    );
    const inside = new Map<string, string[]>();
    for (const n of first.keys()) {
        const segs = n ? n.split("/") : [];
        for (let d = 0; d < segs.length; d++) {
            const ancestor = segs.slice(0, d).join("/");
            if (first.has(ancestor)) inside.set(ancestor, [...(inside.get(ancestor) ?? []), n]);
        }
    }
    const SHOWN = 3;
    return [...inside].map(([outer, nested]) => {
        const { key, path } = first.get(outer)!;
        const keys = nested.map((n) => `${first.get(n)!.key} (${first.get(n)!.path})`);
        const more = keys.length > SHOWN ? ` and ${keys.length - SHOWN} more` : "";
        return error(
            key,
            `contains ${keys.slice(0, SHOWN).join(", ")}${more}; two Kustomizations would apply, and prune, the same objects`,
            `point it at a directory that holds no other Kustomization's path, or list its subdirectories as Kustomizations of their own`,
            path,
        );
    });
}
