import { durationMs } from "../config/common";
import { LONG_GATE_TIMEOUT_MS, PROBE_IMAGE } from "../config/gates";
import { PHASES } from "../phases";
import { configPath, warning } from "../problems";
import type { Check } from "./types";

/** An image reference that names a digest: the runtime pulls exactly that content, whatever its tag now points to. */
export function pinnedByDigest(image: string): boolean {
    return /@sha256:[0-9a-f]{64}$/.test(image);
}

export const gateChecks: Check[] = [
    {
        name: "gate-timeouts",
        run: ({ gates }) =>
            PHASES.filter((p) => durationMs(gates[p].timeout) > LONG_GATE_TIMEOUT_MS).map((p) =>
                warning(
                    "gate-timeout-long",
                    configPath(["gates", p, "timeout"]),
                    "lets the gate wait more than 10m: a link that is not up by then is broken, and waiting only delays naming it",
                    `keep it at 10m or less (default ${p === "network" ? "2m" : "3m"}); a gate still fails at once when the failure is certain`,
                    gates[p].timeout,
                ),
            ),
    },
    {
        name: "gate-probe-image-digest",
        run: ({ gates }) =>
            pinnedByDigest(gates.probeImage)
                ? []
                : [
                      warning(
                          "gate-probe-image-tag",
                          configPath(["gates", "probeImage"]),
                          "is pinned by tag only: a tag can be pushed again, and the probe pods would then run something else than the image that was checked",
                          `add the digest, e.g. ${PROBE_IMAGE}; a mirror of it keeps the same digest`,
                          gates.probeImage,
                      ),
                  ],
    },
];
