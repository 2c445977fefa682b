import type { Phase } from "../phases";
import { blockedAfter } from "./diagnosis";
import type { CommonOptions } from "./options";
import type { ProbeRun } from "./probe";
import type { StepResult } from "./run";

/** A probe pod that was refused or never finished: the probe itself is the broken link. */
export function probeStuck(run: Exclude<ProbeRun, { kind: "done" }>, phase: Phase, o: CommonOptions): StepResult {
    const refused = run.kind === "refused";
    return {
        ok: false,
        // The API server refusing the pod does not change by waiting.
        final: refused,
        // A pod merely still starting when time ran out says nothing new about the phase.
        inconclusive: run.kind === "stuck" && run.cutShort === true,
        waiting: `probe pod ${run.pod}: ${run.reason}`,
        diagnosis: {
            link: `probe pod in namespace ${o.probeNamespace} (image ${o.probeImage})`,
            evidence: [`pod ${o.probeNamespace}/${run.pod}: ${run.reason}`],
            cause: refused
                ? "the API server refused the probe pod (namespace missing, Pod Security, or a quota)"
                : /ImagePull|ErrImage/.test(run.reason)
                  ? "the nodes cannot pull the probe image"
                  : "the probe pod did not finish in time",
            fix: refused
                ? "set talos-platform:gates.probeNamespace to a namespace that admits non-root pods"
                : "check the image (talos-platform:gates.probeImage) is reachable from the nodes, or mirror it",
            blocks: blockedAfter(phase),
        },
    };
}
