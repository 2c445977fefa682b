import { durationMs } from "../config/common";
import { LONG_GATE_TIMEOUT_MS } from "../config/gates";
import { PHASES } from "../phases";
import { configPath, warning } from "../problems";
import type { Check } from "./types";

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
];
