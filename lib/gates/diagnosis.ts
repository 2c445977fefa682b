import { PHASES, Phase } from "../phases";

/**
 * Why a gate failed: the link in the recovery chain that broke, the exact
 * errors seen, the likely cause, and what cannot work until it is fixed.
 */
export interface Diagnosis {
    /** The broken link, e.g. "pods → kubernetes Service 10.96.0.1:443". */
    link: string;
    /** Exact errors and live settings, verbatim. */
    evidence: string[];
    cause: string;
    fix?: string;
    /** Downstream components that cannot work until this link does. */
    blocks: string[];
}

/** What each phase brings up, as the blocked list names it. */
export const PHASE_COMPONENTS: Record<Phase, string> = {
    network: "Cilium (Service routing, LB IPAM)",
    dns: "CoreDNS",
    certificates: "cert-manager (webhook, cainjector, ClusterIssuers)",
    ingress: "ingress-nginx and the Gateway",
    gitops: "Flux (GitRepository, Kustomizations)",
};

/** The components of every phase after `phase`: nothing there can work while it is broken. */
export function blockedAfter(phase: Phase, extra: string[] = []): string[] {
    return [...extra, ...PHASES.slice(PHASES.indexOf(phase) + 1).map((p) => `${PHASE_COMPONENTS[p]} (${p})`)];
}

export function formatDiagnosis(d: Diagnosis, indent = "  "): string {
    const lines = [`${indent}broken link: ${d.link}`, `${indent}evidence:`];
    for (const e of d.evidence) lines.push(`${indent}  ${e}`);
    lines.push(`${indent}likely cause: ${d.cause}`);
    if (d.fix) lines.push(`${indent}fix: ${d.fix}`);
    lines.push(`${indent}blocks: ${d.blocks.length ? d.blocks.join("; ") : "nothing further"}`);
    return lines.join("\n");
}

/**
 * A step's result when the object it waits for does not exist yet: keep
 * waiting, and if the deadline comes first, say which phase should have made it.
 */
export function notFound(
    id: string,
    phase: Phase,
    cause: string,
    more: { link?: string; fix?: string } = {},
): { ok: false; waiting: string; diagnosis: Diagnosis } {
    return {
        ok: false,
        waiting: `${id} not found`,
        diagnosis: {
            link: more.link ?? id,
            evidence: [`${id}: not found`],
            cause,
            ...(more.fix ? { fix: more.fix } : {}),
            blocks: blockedAfter(phase),
        },
    };
}
