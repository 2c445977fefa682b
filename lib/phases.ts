/**
 * The recovery order from the Week 4 report: each phase needs the one before
 * it working, not merely installed. Components carry their phase in their
 * type token (talos-platform:<phase>:<Class>), which is how the plan and the
 * tests find it.
 */
export const PHASES = ["network", "dns", "certificates", "ingress", "gitops"] as const;

export type Phase = (typeof PHASES)[number];

export const PHASE_PURPOSE: Record<Phase, string> = {
    network: "Cilium programs Service ClusterIPs (kube-proxy replacement), LB IPAM, BGP or L2 announcements",
    dns: "CoreDNS resolves cluster and external names through the API server",
    certificates: "cert-manager, its webhook and the ClusterIssuers",
    ingress: "ingress-nginx and Cilium's Gateway, each on a LoadBalancer IP from a Cilium pool",
    gitops: "Flux and its Kustomizations, phase by phase",
};

export function typeToken(phase: Phase, className: string): string {
    return `talos-platform:${phase}:${className}`;
}

/** The phase named by a type token, or undefined for foreign types. */
export function phaseOfType(type: string): Phase | undefined {
    const m = /^talos-platform:([^:]+):/.exec(type);
    if (!m) return undefined;
    return (PHASES as readonly string[]).includes(m[1]) ? (m[1] as Phase) : undefined;
}

export function previousPhase(phase: Phase): Phase | undefined {
    const i = PHASES.indexOf(phase);
    return i > 0 ? PHASES[i - 1] : undefined;
}

/**
 * A component that is one ordered step inside a phase (a Flux phase inside
 * gitops) passes the step's name under this input; the plan lists such
 * components as their phase's sub-phases, in registration order.
 */
export const SUBPHASE_INPUT = "subphase";
