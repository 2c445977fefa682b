import { PHASES, Phase } from "../phases";
import { checkGate, CheckerIo } from "./checker";
import { formatDiagnosis } from "./diagnosis";
import type { Kube } from "./kube";
import type { GateName, GateOptions } from "./options";
import { recoveryCheck, RecoveryResult, RecoveryTargets, renderRecovery } from "./recovery";
import { apiServerLine, exitStatus, GateResult, seconds } from "./run";

/** A link of the chain: a phase, the Gateway (in the ingress phase), or the announcements side link. */
export type DoctorLink = Phase | "gateway" | "announcements";

export interface DoctorResult {
    ok: boolean;
    /** `side`: a link nothing later in the chain depends on; the chain goes on past it. */
    links: { phase: DoctorLink; result?: GateResult; side?: boolean }[];
    /** What interrupted operations left behind; absent when not looked for. */
    recovery?: RecoveryResult;
}

/** The ingress gate's options without its Gateway and announcement steps, which the doctor shows as links of their own. */
function ingressOnly(o: GateOptions["ingress"]): GateOptions["ingress"] {
    return { ...o, bgpClusterConfig: undefined, bgpPools: undefined, l2Pools: undefined, gateway: undefined };
}

/**
 * Runs the gates in recovery order and stops at the first broken link:
 * what comes after it cannot work, so checking it would only add noise.
 * The ingress phase is two links when both serve: ingress-nginx, then the
 * Gateway (pulumi up's ingress gate checks both, and GitOps waits for it).
 * BGP and L2 announcements are a side link after ingress (pulumi up's
 * ingress gate checks them): only clients outside the cluster need them, so
 * a broken one fails the doctor without stopping the chain.
 * Read-only apart from the probe pods, which are always deleted.
 */
export async function doctor(options: GateOptions, io: CheckerIo, kube: Kube, recovery?: RecoveryTargets): Promise<DoctorResult> {
    // First, before the gates create probe pods of their own: what the last interrupted operation left.
    let left: RecoveryResult | undefined;
    if (recovery) {
        io.out("── left behind\n");
        // Bounded like a gate: without it, an API server that accepts and stays silent held each read for REQUEST_LIMIT_MS.
        kube.limit((io.now ?? Date.now)() + options.network.timeoutMs, io.signal);
        left = await recoveryCheck(kube, recovery);
    }
    const links: DoctorResult["links"] = [];
    const announce = options.announcements;
    const announced = announce.bgpClusterConfig !== undefined || (announce.l2Pools?.length ?? 0) > 0;
    let broken = false;
    let sideBroken = false;
    const link = async <G extends GateName>(name: DoctorLink & G, o: GateOptions[G]) => {
        if (broken) return void links.push({ phase: name });
        io.out(`── ${name}\n`);
        const result = await checkGate(name, o, io, kube);
        links.push({ phase: name, result });
        broken = !result.ok;
    };
    for (const phase of PHASES) {
        if (phase !== "ingress") {
            await link(phase, options[phase]);
            continue;
        }
        if (options.ingress.ingressNginx) await link("ingress", ingressOnly(options.ingress));
        if (options.gateway.gateway) await link("gateway", options.gateway);
        if (!announced) continue;
        if (broken) {
            links.push({ phase: "announcements", side: true });
            continue;
        }
        io.out(`── announcements\n`);
        const result = await checkGate("announcements", announce, io, kube);
        links.push({ phase: "announcements", result, side: true });
        sideBroken = !result.ok;
    }
    return { ok: !broken && !sideBroken, links, recovery: left };
}

/**
 * 0 every link works and nothing left behind blocks the next `pulumi up`, 1 a link is broken or
 * something left behind needs fixing, 2 this machine cannot reach the API server, 130 interrupted.
 */
export function doctorExit(r: DoctorResult): number {
    if (r.links.some((l) => l.result?.interrupted)) return 130;
    const failed = r.links.find((l) => l.result && !l.result.ok)?.result;
    if (failed) return exitStatus(failed);
    return r.recovery?.findings.some((f) => f.blocking) ? 1 : 0;
}

export function renderChain(r: DoctorResult): string {
    const failed = r.links.find((l) => l.result && !l.result.ok);
    // The checker's own requests got no answer: that says nothing about the phase it was checking.
    const api = failed?.result?.interrupted ? undefined : failed?.result?.unreachable;
    const width = Math.max(...r.links.map((l) => l.phase.length));
    const out = ["", "recovery chain:"];
    if (api) out.push(`  ✗ ${apiServerLine(api)}`);
    // The first broken link of the chain itself: a side link blocks nothing.
    const blocker = r.links.find((l) => l.result && !l.result.ok && !l.side) ?? failed;
    for (const { phase, result, side } of r.links) {
        const name = phase.padEnd(width);
        if (api && !result?.ok) out.push(`  · ${name}  not checked`);
        else if (!result) out.push(`  · ${name}  blocked by ${blocker?.phase}`);
        else if (result.ok) out.push(`  ✓ ${name}  ${result.passed.length} checks passed (${seconds(result.elapsedMs)})`);
        else {
            const how = result.interrupted
                ? "interrupted"
                : result.timedOut
                  ? `timed out after ${seconds(result.elapsedMs)}`
                  : `failed after ${seconds(result.elapsedMs)}`;
            out.push(`  ✗ ${name}  ${result.diagnosis?.link ?? result.failedStep} (${how}${side ? "; nothing later depends on it" : ""})`);
        }
    }
    if (api && failed?.result?.diagnosis) {
        const whose =
            api.kind === "unanswered"
                ? "the API server is the first broken link (the control plane, below every phase); no phase was checked:"
                : "the checker's own link to the API server is broken, not a link in the cluster; no phase was checked:";
        out.push("", whose, formatDiagnosis(failed.result.diagnosis));
    } else if (failed) {
        const main = r.links.find((l) => l.result && !l.result.ok && !l.side);
        const side = r.links.find((l) => l.result && !l.result.ok && l.side);
        if (main?.result?.diagnosis) out.push("", `${main.phase} is the first broken link:`, formatDiagnosis(main.result.diagnosis));
        if (side?.result?.diagnosis)
            out.push(
                "",
                `${side.phase} is broken${main ? " too" : ""} (a side link: only clients outside the cluster need it, so the chain was checked past it):`,
                formatDiagnosis(side.result.diagnosis),
            );
    } else if (r.ok) out.push("", "every link works.");
    if (r.recovery) {
        const blocking = r.recovery.findings.filter((f) => f.blocking).length;
        const head = r.recovery.findings.length
            ? `left behind by an interrupted operation (${r.recovery.findings.length}${blocking ? `; ${blocking} to fix before the next \`pulumi up\`` : ""}):`
            : "left behind by an interrupted operation:";
        out.push("", head, renderRecovery(r.recovery).trimEnd());
    }
    return out.join("\n") + "\n";
}
