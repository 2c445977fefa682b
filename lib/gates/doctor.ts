import { PHASES, Phase } from "../phases";
import { checkGate, CheckerIo } from "./checker";
import { formatDiagnosis } from "./diagnosis";
import type { Kube } from "./kube";
import type { GateOptions } from "./options";
import { GateResult, seconds } from "./run";

export interface DoctorResult {
    ok: boolean;
    links: { phase: Phase; result?: GateResult }[];
}

/**
 * Runs the gates in recovery order and stops at the first broken link:
 * what comes after it cannot work, so checking it would only add noise.
 * Read-only apart from the probe pods, which are always deleted.
 */
export async function doctor(options: GateOptions, io: CheckerIo, kube: Kube): Promise<DoctorResult> {
    const links: DoctorResult["links"] = [];
    let broken = false;
    for (const phase of PHASES) {
        if (broken) {
            links.push({ phase });
            continue;
        }
        io.out(`── ${phase}\n`);
        const result = await checkGate(phase, options[phase], io, kube);
        links.push({ phase, result });
        broken = !result.ok;
    }
    return { ok: !broken, links };
}

export function renderChain(r: DoctorResult): string {
    const failed = r.links.find((l) => l.result && !l.result.ok);
    const width = Math.max(...PHASES.map((p) => p.length));
    const out = ["", "recovery chain:"];
    for (const { phase, result } of r.links) {
        const name = phase.padEnd(width);
        if (!result) out.push(`  · ${name}  blocked by ${failed?.phase}`);
        else if (result.ok) out.push(`  ✓ ${name}  ${result.passed.length} checks passed (${seconds(result.elapsedMs)})`);
        else {
            const how = result.interrupted
                ? "interrupted"
                : result.timedOut
                  ? `timed out after ${seconds(result.elapsedMs)}`
                  : `failed after ${seconds(result.elapsedMs)}`;
            out.push(`  ✗ ${name}  ${result.diagnosis?.link ?? result.failedStep} (${how})`);
        }
    }
    if (failed?.result?.diagnosis) out.push("", `${failed.phase} is the first broken link:`, formatDiagnosis(failed.result.diagnosis));
    else if (r.ok) out.push("", "every link works.");
    return out.join("\n") + "\n";
}
