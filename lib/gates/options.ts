import { parseArgs } from "node:util";
import { durationMs, isDuration } from "../config/common";
import { POLL_RULE } from "../config/gates";
import { PHASES, Phase } from "../phases";

// The checker's options and their command-line form. index.ts turns options
// into flags for the gates' commands; cli/gate.ts parses them back. One
// table drives both directions, so they cannot drift apart.

export type GateName = "crds" | Phase;
export const GATE_NAMES: readonly GateName[] = ["crds", ...PHASES];

export interface CommonOptions {
    timeoutMs: number;
    /** At most 2s (POLL_RULE, for the config key and the flag alike). */
    pollMs: number;
    probeImage: string;
    probeNamespace: string;
    /** kubeconfig context. @default the current context, like the Pulumi Kubernetes provider */
    context?: string;
    /** kubeconfig file. @default KUBECONFIG or ~/.kube/config, like the Pulumi Kubernetes provider */
    kubeconfig?: string;
}

export interface CrdsOptions extends CommonOptions {
    crds: string[];
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

export interface IngressOptions extends CommonOptions, ServiceIpOptions {
    namespace: string;
    service: string;
    /** The controller Service's type as the chart values render it: LoadBalancer gets an address from a Cilium pool, any other is probed on its ClusterIP. */
    serviceType: string;
    deployment: string;
    port: number;
}

export interface GitopsOptions extends CommonOptions, ServiceIpOptions {
    namespace: string;
    deployments: string[];
    gitRepository: string;
    fluxPhases: string[];
    /** Every configured Kustomization as `<flux phase>/<name>`: each must exist, not only those that do. */
    kustomizations: string[];
}

export interface GateOptions {
    crds: CrdsOptions;
    network: NetworkOptions;
    dns: DnsOptions;
    certificates: CertificatesOptions;
    ingress: IngressOptions;
    gitops: GitopsOptions;
}

type Kind = "string" | "strings" | "bool" | "int" | "duration";
interface Flag {
    flag: string;
    kind: Kind;
}

const f = (flag: string, kind: Kind = "string"): Flag => ({ flag, kind });

const TIMING = { timeoutMs: f("timeout", "duration"), pollMs: f("poll", "duration"), context: f("context"), kubeconfig: f("kubeconfig") };
const PROBE = { probeImage: f("probe-image"), probeNamespace: f("probe-namespace") };
const SERVICE_IP = { serviceIp: f("service-ip") };

/** Every option of every gate, by flag. Option keys not listed here never reach a command line. */
export const FLAGS: { [G in GateName]: Record<string, Flag> } = {
    crds: { ...TIMING, crds: f("crd", "strings") },
    network: {
        ...TIMING,
        ...PROBE,
        namespace: f("namespace"),
        agent: f("agent-daemonset"),
        operator: f("operator-deployment"),
        crds: f("crd", "strings"),
        ...SERVICE_IP,
        kubeProxyReplacement: f("kube-proxy-replacement", "bool"),
    },
    dns: {
        ...TIMING,
        ...PROBE,
        namespace: f("namespace"),
        deployment: f("deployment"),
        dnsDomain: f("dns-domain"),
        externalName: f("resolve"),
        ...SERVICE_IP,
    },
    certificates: { ...TIMING, namespace: f("namespace"), deployment: f("deployment"), ...SERVICE_IP },
    ingress: {
        ...TIMING,
        ...PROBE,
        namespace: f("namespace"),
        service: f("service"),
        serviceType: f("service-type"),
        deployment: f("deployment"),
        port: f("port", "int"),
        ...SERVICE_IP,
    },
    gitops: {
        ...TIMING,
        namespace: f("namespace"),
        deployments: f("deployment", "strings"),
        gitRepository: f("git-repository"),
        fluxPhases: f("flux-phase", "strings"),
        kustomizations: f("kustomization", "strings"),
        ...SERVICE_IP,
    },
};

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

export class UsageError extends Error {}

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
    const rest: Record<string, unknown> = {};
    for (const name of Object.keys(extra)) rest[name] = values[name];
    return { options: options as unknown as GateOptions[G], extra: rest };
}
