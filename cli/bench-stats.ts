import * as os from "node:os";

/** The median of some samples. */
export function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const verdict = (ok: boolean) => (ok ? "met" : "MISSED");

/** The machine's load, for reading a run's numbers: this machine is shared. */
export function loadNote(): string {
    return `load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" / ")} (1 / 5 / 15 min)`;
}
