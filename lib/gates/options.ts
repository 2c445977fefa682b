import { parseArgs } from "node:util";
import { durationMs, isDuration } from "../config/common";
import { POLL_RULE } from "../config/gates";
import { PHASES, Phase } from "../phases";

// The checker's options and their command-line form. index.ts turns options
// into flags for the gates' commands; cli/gate.ts parses them back. One
// table drives both directions, so they cannot drift apart.

/**
 * `announcements` is no phase of its own: the ingress gate runs its steps,
 * and the doctor shows them as a link of their own, on which nothing after
 * it depends (only clients outside the cluster do). `gateway` likewise: the
 * ingress gate runs the Gateway's steps, the doctor shows them as a link.
 * `gateway-api-crds` runs before the network phase installs the Gateway API CRDs.
 */
export type GateName = "crds" | "gateway-api-crds" | Phase | "gateway" | "announcements";
export const GATE_NAMES: readonly GateName[] = ["crds", "gateway-api-crds", ...PHASES, "gateway", "announcements"];

export interface CommonOptions {
    timeoutMs: number;
    /** At most 2s (POLL_RULE, for the config key and the flag alike). */
    pollMs: number;
    probeImage: string;
    probeNamespace: string;
    /** kubeconfig context. @default the current context, like the Pulumi Kubernetes provider */
    context?: string;
    /**
     * Where `context` came from, so that a context the kubeconfig lacks is
     * fixed where it was set. Never a flag itself.
     * @default "stack" (cluster.kubeContext, through gateOptions)
     */
    contextFrom?: ContextOrigin;
    /** kubeconfig file. @default KUBECONFIG or ~/.kube/config, like the Pulumi Kubernetes provider */
    kubeconfig?: string;
}

/** `--context` on this command line, or cluster.kubeContext in the stack's config. */
export type ContextOrigin = "flag" | "stack";

export interface CrdsOptions extends CommonOptions {
    crds: string[];
}

export interface GatewayApiCrdsOptions extends CommonOptions {
    /** `install`: refuse CRDs another installer put there; `existing`: wait for the ones Cilium needs. */
    mode: "install" | "existing";
    /** The CRD names this program installs. */
    crds: string[];
    /** `NAME=VERSION`: each CRD Cilium needs, with the version it must serve. */
    served: string[];
    /** The Gateway API release this program installs, e.g. v1.4.1. */
    bundleVersion: string;
}

/** Options of a gate that reads crash messages: they blame the network only for the kubernetes Service's own address. */
export interface ServiceIpOptions {
    /** The kubernetes Service's ClusterIP, e.g. 10.96.0.1. */
    serviceIp: string;
}

export interface NetworkOptions extends CommonOptions, ServiceIpOptions {
    namespace: string;
    agent: string;
    operator: string;
    crds: string[];
    /** Whether Cilium is configured to replace kube-proxy, so its agent must report it active. */
    kubeProxyReplacement: boolean;
}

export interface DnsOptions extends CommonOptions, ServiceIpOptions {
    namespace: string;
    deployment: string;
    dnsDomain: string;
    externalName: string;
}

export interface CertificatesOptions extends CommonOptions, ServiceIpOptions {
    namespace: string;
    deployment: string;
}

/** What announces LoadBalancer addresses outside the cluster: BGP sessions, L2 leases. Unset keys: nothing to check. */
export interface AnnouncementFields {
    /** Cilium's namespace: cilium-config and the L2 announcement leases live there. */
    ciliumNamespace: string;
    /** The CiliumBGPClusterConfig whose sessions must be established on every node it selects. */
    bgpClusterConfig?: string;
    /** `POOL/FAMILY` for each pool whose addresses the BGP advertisements send over a configured session, e.g. bgp-ingress/ipv4. */
    bgpPools?: string[];
    /** The pools whose Service addresses L2 announcements answer ARP for. */
    l2Pools?: string[];
}

export interface AnnouncementOptions extends CommonOptions, AnnouncementFields {}

/** The shared Gateway the ingress gate checks. Unset `gateway`: none. */
export interface GatewayFields {
    /** `NAMESPACE/NAME` of the Gateway. */
    gateway?: string;
    /** Its GatewayClass, which Cilium's controller must have accepted. */
    gatewayClass?: string;
    /** `NAME`, or `NAME=SECRET` for a listener serving a TLS Secret: each must be Programmed, each Secret present. */
    gatewayListeners?: string[];
}

export interface GatewayOptions extends CommonOptions, GatewayFields {}

export interface IngressOptions extends CommonOptions, ServiceIpOptions, AnnouncementFields, GatewayFields {
    /** Whether ingress-nginx is installed: false leaves the Gateway to check. */
    ingressNginx: boolean;
    namespace: string;
    service: string;
    /** The controller Service's type as the chart values render it: LoadBalancer gets an address from a Cilium pool, any other is probed on its ClusterIP. */
    serviceType: string;
    deployment: string;
    port: number;
    /** The default TLS Certificate, in `namespace`, that must be Ready. @default none: no certificate is checked */
    certificate?: string;
}

export interface GitopsOptions extends CommonOptions, ServiceIpOptions {
    namespace: string;
    deployments: string[];
    gitRepository: string;
    fluxPhases: string[];
    /** Every configured Kustomization as `<flux phase>/<name>`: each must exist, not only those that do. */
    kustomizations: string[];
    /** Those of `kustomizations` marked `critical: false`: reported, never waited for. @default none */
    nonCritical?: string[];
    /**
     * flux.sync: the FluxInstance's root Kustomization, which must be Ready. Its
     * Kustomizations come from Git, so they are found by name, not by the phase
     * label, and their spec.dependsOn is checked against `dependsOn`.
     * @default none: this program created the Kustomizations, labelled by phase
     */
    rootKustomization?: string;
    /** With rootKustomization: each declared dependency as `<name>=<dependency>`, which Git must make it wait for. @default [] */
    dependsOn?: string[];
}

export interface GateOptions {
    crds: CrdsOptions;
    "gateway-api-crds": GatewayApiCrdsOptions;
    network: NetworkOptions;
    dns: DnsOptions;
    certificates: CertificatesOptions;
    ingress: IngressOptions;
    gitops: GitopsOptions;
    gateway: GatewayOptions;
    announcements: AnnouncementOptions;
}

type Kind = "string" | "strings" | "bool" | "int" | "duration";
export interface Flag {
    flag: string;
    kind: Kind;
    /** The value's format in help text, e.g. PHASE/NAME. */
    arg: string;
    /** What the flag means, for `<gate> --help`. */
    help: string;
}

const f = (flag: string, kind: Kind, arg: string, help: string): Flag => ({ flag, kind, arg, help });

/** The flags every gate takes; only `--timeout`'s default differs: the config key it reads. */
const timing = (timeoutKey: string) => ({
    timeoutMs: f("timeout", "duration", "D", `give up after D, a duration such as 90s or 3m (default: ${timeoutKey})`),
    pollMs: f("poll", "duration", "D", "poll every D, at most 2s (default: gates.pollInterval)"),
    context: f("context", "string", "NAME", "kubeconfig context (default: cluster.kubeContext, else the current one)"),
    kubeconfig: f("kubeconfig", "string", "FILE", "kubeconfig file (default: KUBECONFIG or ~/.kube/config)"),
});
const TIMING = timing("gates.network.timeout");
const PROBE = {
    probeImage: f("probe-image", "string", "IMAGE", "image of the probe pods (default: gates.probeImage)"),
    probeNamespace: f("probe-namespace", "string", "NS", "namespace the probe pods run in (default: gates.probeNamespace)"),
};
const ANNOUNCEMENTS = {
    ciliumNamespace: f(
        "cilium-namespace",
        "string",
        "NS",
        "Cilium's namespace, where cilium-config and the L2 leases are (default: cilium.namespace)",
    ),
    bgpClusterConfig: f(
        "bgp-cluster-config",
        "string",
        "NAME",
        "the CiliumBGPClusterConfig whose sessions must be established on every node it selects (default: the one cilium.bgp creates; none without cilium.bgp)",
    ),
    bgpPools: f(
        "bgp-pool",
        "strings",
        "POOL/FAMILY",
        "a LoadBalancer pool and address family (ipv4, ipv6) whose Service addresses every established session must advertise",
    ),
    l2Pools: f(
        "l2-pool",
        "strings",
        "POOL",
        "a LoadBalancer pool whose Service addresses must each have an L2 announcement lease with a live holder",
    ),
};
const GATEWAY = {
    gateway: f(
        "gateway",
        "string",
        "NS/NAME",
        "the shared Gateway (default: gateway.namespace/gateway.name when gateway.enabled; none otherwise)",
    ),
    gatewayClass: f(
        "gateway-class",
        "string",
        "NAME",
        "the Gateway's class, which Cilium's controller must have accepted (default: gateway.className)",
    ),
    gatewayListeners: f(
        "gateway-listener",
        "strings",
        "NAME[=SECRET]",
        "a listener that must be Programmed; with =SECRET, the TLS Secret in the Gateway's namespace it serves must exist",
    ),
};
const SERVICE_IP = {
    serviceIp: f(
        "service-ip",
        "string",
        "IP",
        "the kubernetes Service's ClusterIP, which crash messages name when the network is broken (default: first address of cluster.serviceSubnets[0])",
    ),
};

/**
 * Every option of every gate, by flag, with its help: the gate command's
 * parser, its per-gate help and `pulumi up`'s command lines all read this
 * table. Option keys not listed here never reach a command line.
 */
export const FLAGS: { [G in GateName]: Record<string, Flag> } = {
    crds: {
        ...TIMING,
        crds: f("crd", "strings", "NAME", "a CustomResourceDefinition that must be Established, e.g. ciliumnodes.cilium.io"),
    },
    "gateway-api-crds": {
        ...TIMING,
        mode: f(
            "mode",
            "string",
            "install|existing",
            "install: refuse Gateway API CRDs another installer put on the cluster; existing: wait until the ones Cilium needs are there (default: gateway.gatewayApi.crds)",
        ),
        crds: f("crd", "strings", "NAME", "a Gateway API CRD this program installs"),
        served: f("served", "strings", "NAME=VERSION", "a CRD Cilium needs, and the version of it that must be served"),
        bundleVersion: f(
            "bundle-version",
            "string",
            "VERSION",
            "the Gateway API release this program installs (default: gateway.gatewayApi.version)",
        ),
    },
    network: {
        ...timing("gates.network.timeout"),
        ...PROBE,
        namespace: f("namespace", "string", "NS", "Cilium's namespace (default: cilium.namespace)"),
        agent: f("agent-daemonset", "string", "NAME", "the Cilium agent DaemonSet"),
        operator: f("operator-deployment", "string", "NAME", "the Cilium operator Deployment"),
        crds: f("crd", "strings", "NAME", "a Cilium CustomResourceDefinition that must be Established"),
        ...SERVICE_IP,
        kubeProxyReplacement: f(
            "kube-proxy-replacement",
            "bool",
            "true|false",
            "whether Cilium replaces kube-proxy, so its agent must report KubeProxyReplacement: True",
        ),
    },
    dns: {
        ...timing("gates.dns.timeout"),
        ...PROBE,
        namespace: f("namespace", "string", "NS", "CoreDNS's namespace (kube-system for Talos' own CoreDNS)"),
        deployment: f("deployment", "string", "NAME", "the CoreDNS Deployment"),
        dnsDomain: f(
            "dns-domain",
            "string",
            "DOMAIN",
            "the cluster's DNS domain: the probe resolves kubernetes.default.svc.DOMAIN (default: cluster.dnsDomain)",
        ),
        externalName: f(
            "resolve",
            "string",
            "HOST",
            "an external name the probe resolves through CoreDNS's upstreams (default: gates.dns.externalName, else the Git source's host)",
        ),
        ...SERVICE_IP,
    },
    certificates: {
        ...timing("gates.certificates.timeout"),
        namespace: f("namespace", "string", "NS", "cert-manager's namespace"),
        deployment: f("deployment", "string", "NAME", "the cert-manager webhook Deployment"),
        ...SERVICE_IP,
    },
    ingress: {
        ...timing("gates.ingress.timeout"),
        ...PROBE,
        namespace: f("namespace", "string", "NS", "ingress-nginx's namespace"),
        service: f("service", "string", "NAME", "the controller Service"),
        serviceType: f(
            "service-type",
            "string",
            "TYPE",
            "the controller Service's type: LoadBalancer needs an address from a CiliumLoadBalancerIPPool; any other type is probed on its ClusterIP",
        ),
        deployment: f("deployment", "string", "NAME", "the controller Deployment"),
        port: f("port", "int", "N", "the controller Service's HTTP port"),
        certificate: f(
            "certificate",
            "string",
            "NAME",
            "a cert-manager Certificate in NS that must be Ready (default: ingressNginx.defaultCertificate's, when set)",
        ),
        ingressNginx: f(
            "ingress-nginx",
            "bool",
            "true|false",
            "whether ingress-nginx is installed (default: ingressNginx.enabled); false checks the Gateway alone",
        ),
        ...SERVICE_IP,
        ...GATEWAY,
        ...ANNOUNCEMENTS,
    },
    gitops: {
        ...timing("gates.gitops.timeout"),
        namespace: f("namespace", "string", "NS", "Flux's namespace"),
        deployments: f("deployment", "strings", "NAME", "a Flux controller Deployment that must be ready"),
        gitRepository: f("git-repository", "string", "NAME", "the GitRepository that must be Ready with an artifact"),
        fluxPhases: f("flux-phase", "strings", "NAME", "a Flux phase (label talos-platform/flux-phase), in order"),
        kustomizations: f("kustomization", "strings", "PHASE/NAME", "a Kustomization that must exist in Flux phase PHASE and be Ready"),
        nonCritical: f(
            "non-critical",
            "strings",
            "PHASE/NAME",
            "a Kustomization marked critical: false: reported when missing or not Ready, but the gate does not fail on it",
        ),
        rootKustomization: f(
            "root-kustomization",
            "string",
            "NAME",
            "flux.sync: the FluxInstance's root Kustomization; then the Kustomizations are Git's, found by name and checked read-only",
        ),
        dependsOn: f(
            "depends-on",
            "strings",
            "NAME=DEP",
            "with --root-kustomization: Kustomization NAME must wait for DEP, directly or through others",
        ),
        ...SERVICE_IP,
    },
    gateway: {
        ...timing("gates.ingress.timeout"),
        ...PROBE,
        ...GATEWAY,
    },
    announcements: {
        ...timing("gates.ingress.timeout"),
        ...ANNOUNCEMENTS,
    },
};

/** The flags every gate takes; the rest of a gate's flags are its own. */
export const COMMON_FLAGS: readonly Flag[] = Object.values(timing("the gate's gates.<phase>.timeout"));

/** Help lines per flag, e.g. `  --kustomization PHASE/NAME  a Kustomization ...; repeat for each`, in two columns wrapped at `width`. */
export function flagLines(flags: readonly Pick<Flag, "flag" | "arg" | "help" | "kind">[], width = 100): string[] {
    const names = flags.map((x) => `--${x.flag}${x.arg ? ` ${x.arg}` : ""}`);
    const column = 2 + Math.max(...names.map((n) => n.length)) + 2;
    const out: string[] = [];
    flags.forEach((x, i) => {
        let line = `  ${names[i]}`.padEnd(column);
        let fresh = true;
        for (const word of `${x.help}${x.kind === "strings" ? "; repeat for each" : ""}`.split(" ")) {
            if (!fresh && line.length + 1 + word.length > width) {
                out.push(line);
                line = " ".repeat(column);
                fresh = true;
            }
            line += (fresh ? "" : " ") + word;
            fresh = false;
        }
        out.push(line);
    });
    return out;
}

/** 120000 → "2m", 1500 → "1500ms": the shortest exact Go duration. */
export function formatDuration(ms: number): string {
    if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
    if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
    return `${ms}ms`;
}

/** The command-line flags for one gate's options; `kubeconfig` is left to the environment, as the provider does. */
export function gateFlags<G extends GateName>(gate: G, options: GateOptions[G]): string[] {
    const out: string[] = [];
    const values = options as unknown as Record<string, unknown>;
    for (const [key, { flag, kind }] of Object.entries(FLAGS[gate])) {
        const v = values[key];
        if (v === undefined || key === "kubeconfig") continue;
        if (kind === "strings") for (const item of v as string[]) out.push(`--${flag}`, item);
        else if (kind === "duration") out.push(`--${flag}`, formatDuration(v as number));
        else out.push(`--${flag}`, String(v));
    }
    return out;
}

/** A command line that cannot be parsed (unknown flag, bad value, conflicting flags): the usage text follows the message. */
export class UsageError extends Error {}

/**
 * A command line that parses but cannot be acted on: a stack file that is
 * missing, unreadable or has config errors, or no way to tell which stack
 * is meant. The message says what to do; the usage text would bury it.
 */
export class ConfigError extends Error {}

/** A duration flag in milliseconds; --poll follows the same rule as talos-platform:gates.pollInterval. */
export function durationFlag(flag: string, text: string): number {
    if (!isDuration(text) || durationMs(text) <= 0) throw new UsageError(`--${flag} ${text} is not a duration such as 2s or 2m`);
    const ms = durationMs(text);
    if (flag === TIMING.pollMs.flag && !POLL_RULE.ok(ms)) throw new UsageError(`--${flag} ${text} ${POLL_RULE.message}: ${POLL_RULE.fix}`);
    return ms;
}

function convert(flag: string, kind: Kind, raw: string | string[] | boolean): unknown {
    if (kind === "strings") return raw as string[];
    const text = String(raw);
    if (kind === "duration") return durationFlag(flag, text);
    if (kind === "int") {
        if (!/^\d+$/.test(text)) throw new UsageError(`--${flag} ${text} is not a whole number`);
        return Number(text);
    }
    if (kind === "bool") {
        if (text !== "true" && text !== "false") throw new UsageError(`--${flag} takes true or false, not ${text}`);
        return text === "true";
    }
    return text;
}

/**
 * Parses one gate's flags over `base` (the options derived from a stack
 * file, or the defaults). `extra` declares flags the caller handles itself.
 */
export function parseGateFlags<G extends GateName>(
    gate: G,
    argv: string[],
    base: GateOptions[G],
    extra: Record<string, { type: "string" | "boolean"; short?: string }> = {},
): { options: GateOptions[G]; extra: Record<string, unknown> } {
    const spec = FLAGS[gate];
    const parserOptions: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = { ...extra };
    for (const { flag, kind } of Object.values(spec)) parserOptions[flag] = { type: "string", multiple: kind === "strings" };
    let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
    try {
        values = parseArgs({ args: argv, options: parserOptions, strict: true, allowPositionals: false }).values;
    } catch (e) {
        throw new UsageError((e as Error).message);
    }
    const options = { ...base } as unknown as Record<string, unknown>;
    for (const [key, { flag, kind }] of Object.entries(spec)) {
        const raw = values[flag];
        if (raw !== undefined) options[key] = convert(flag, kind, raw as string | string[]);
    }
    if (values[TIMING.context.flag] !== undefined) options.contextFrom = "flag" satisfies ContextOrigin;
    const rest: Record<string, unknown> = {};
    for (const name of Object.keys(extra)) rest[name] = values[name];
    return { options: options as unknown as GateOptions[G], extra: rest };
}
