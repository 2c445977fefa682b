import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadNote, median, verdict } from "./bench-stats";

// `npm test` against the checks it ran before, one after the other, each
// from cold caches as on a fresh clone (no incremental type-check record, no
// Prettier cache). Opt-in (--npm-test N): one run takes a minute or more.

/** The test command before it ran its checks side by side. */
const BEFORE = `tsc -p tsconfig.json --noEmit && eslint . && prettier --check "**/*.ts" && mocha "test/**/*.test.ts"`;
const GOAL_S = 90;

function coldCaches(root: string): void {
    fs.rmSync(path.join(root, "dist", ".tsbuildinfo"), { force: true });
    fs.rmSync(path.join(root, "node_modules", ".cache", "prettier"), { recursive: true, force: true });
}

function timed(root: string, file: string, args: string[]): number {
    coldCaches(root);
    const env = { ...process.env, PATH: `${path.join(root, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}` };
    const start = process.hrtime.bigint();
    const r = spawnSync(file, args, { cwd: root, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`${[file, ...args].join(" ")} failed (exit ${r.status}):\n${(r.stdout + r.stderr).slice(-3000)}`);
    return ms;
}

/** Markdown lines for the bench report. */
export function benchTests(root: string, runs: number): string[] {
    const start = loadNote();
    const now: number[] = [];
    const before: number[] = [];
    for (let r = 0; r < runs; r++) {
        now.push(timed(root, "npm", ["test"]));
        before.push(timed(root, "/bin/sh", ["-c", BEFORE]));
    }
    const s = (xs: number[]) =>
        `${(median(xs) / 1000).toFixed(1)} | ${(Math.min(...xs) / 1000).toFixed(1)} | ${(Math.max(...xs) / 1000).toFixed(1)}`;
    return [
        `npm test from cold caches: ${runs} interleaved runs each, wall-clock s, ${os.cpus().length} CPUs, ${start} at the start, ${loadNote()} at the end`,
        "",
        "| case | median | min | max |",
        "|---|---|---|---|",
        `| npm test (type-check, lint and mocha --parallel side by side) | ${s(now)} |`,
        `| before: ${BEFORE.replace(/\|/g, "\\|")} | ${s(before)} |`,
        "",
        `npm test / before: ${(median(now) / median(before)).toFixed(2)}×; npm test: ${(median(now) / 1000).toFixed(0)} s (goal ≤ ${GOAL_S} s on 2 cores: ${verdict(median(now) <= GOAL_S * 1000)})`,
    ];
}
