import { execFileSync, spawnSync } from "node:child_process";
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

/**
 * CPU seconds used so far by this process's finished children and theirs
 * (Linux: /proc/self/stat cutime + cstime); undefined elsewhere.
 */
function childCpuSeconds(): number | undefined {
    try {
        const fields = fs.readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
        const ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })) || 100;
        // Fields 16 and 17 of stat(5), counted from the state (field 3) at index 0.
        return (Number(fields[13]) + Number(fields[14])) / ticks;
    } catch {
        return undefined;
    }
}

interface Run {
    ms: number;
    /** CPU seconds of the whole run, all processes. */
    cpu?: number;
    /** Mocha's titles of the failed tests, or the command's last lines when it failed otherwise. */
    failed?: string;
}

function timed(root: string, file: string, args: string[]): Run {
    coldCaches(root);
    const env = { ...process.env, PATH: `${path.join(root, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}` };
    const cpuBefore = childCpuSeconds();
    const start = process.hrtime.bigint();
    const r = spawnSync(file, args, { cwd: root, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const cpuAfter = childCpuSeconds();
    const cpu = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
    if (r.status === 0) return { ms, cpu };
    const text = r.stdout + r.stderr;
    // Mocha: "  1) outer describe\n       inner describe\n         test title:"
    const titles = [...text.matchAll(/^ {2}\d+\) ((?:.+\n)*?.+):$/gm)].map((m) => m[1].replace(/\s*\n\s*/g, " › ").trim());
    return { ms, cpu, failed: titles.length ? [...new Set(titles)].join("; ") : text.trim().split("\n").slice(-5).join(" / ") };
}

/** Markdown lines for the bench report. */
export function benchTests(root: string, runs: number): string[] {
    const start = loadNote();
    const now: Run[] = [];
    const before: Run[] = [];
    for (let r = 0; r < runs; r++) {
        now.push(timed(root, "npm", ["test"]));
        before.push(timed(root, "/bin/sh", ["-c", BEFORE]));
    }
    const s = (runs: Run[]) => {
        const xs = runs.map((r) => r.ms / 1000);
        const cpu = runs.every((r) => r.cpu !== undefined) ? median(runs.map((r) => r.cpu!)).toFixed(0) : "n/a";
        return `${median(xs).toFixed(1)} | ${Math.min(...xs).toFixed(1)} | ${Math.max(...xs).toFixed(1)} | ${cpu} | ${runs.filter((r) => r.failed).length}`;
    };
    const failures = [...now.map((r) => ["npm test", r] as const), ...before.map((r) => ["before", r] as const)]
        .filter(([, r]) => r.failed)
        .map(([what, r]) => `  ${what} failed: ${r.failed}`);
    const med = (runs: Run[]) => median(runs.map((r) => r.ms));
    return [
        `npm test from cold caches: ${runs} interleaved runs each, wall-clock s, ${os.cpus().length} CPUs, ${start} at the start, ${loadNote()} at the end`,
        "",
        "| case | median | min | max | CPU s (median) | failed runs |",
        "|---|---|---|---|---|---|",
        `| npm test (mocha in three parts, test/live at normal priority, and the lint with its type-check lower, side by side) | ${s(now)} |`,
        `| before: ${BEFORE.replace(/\|/g, "\\|")} | ${s(before)} |`,
        "",
        `npm test / before: ${(med(now) / med(before)).toFixed(2)}×; npm test: ${(med(now) / 1000).toFixed(0)} s (goal ≤ ${GOAL_S} s on 2 cores: ${verdict(med(now) <= GOAL_S * 1000)})`,
        ...failures,
    ];
}
