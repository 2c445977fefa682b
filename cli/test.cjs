"use strict";
// `npm test`: the type-check, the lint and mocha, side by side. One after the
// other they took about two minutes on two cores; side by side, about as long
// as mocha alone. The type-check and the lint run at a lower priority, so
// that the tests' own clocks (a gate's timeout, a poll interval) keep the CPU
// they had when nothing ran beside them. For the same reason mocha runs its
// files one at a time: with --parallel, the gates' end-to-end tests, whose
// budgets are fractions of a second, failed on a loaded machine.
//
// mocha's output streams as it runs; each other check's output is printed
// whole after it, under a line that says how the check ended. The exit status
// is 0 only if every check passed.

const { spawn } = require("node:child_process");
const os = require("node:os");

/** npm scripts. The one in the foreground streams its output; the others' waits for it. */
const CHECKS = [
    { name: "typecheck", script: "typecheck", background: true },
    { name: "lint", script: "lint", background: true },
    { name: "mocha", script: "test:unit", background: false },
];
/** Added to this process's niceness (19 at most) for the background checks. */
const LOWER_PRIORITY = 10;

const children = new Set();

function rule(text) {
    return `── ${text} ${"─".repeat(Math.max(3, 68 - text.length))}\n`;
}

function runCheck(check, onOutput) {
    const started = Date.now();
    // The npm that runs `npm test` sets npm_execpath; through it, the same npm runs each script.
    const npm = process.env.npm_execpath;
    const [file, args] = npm ? [process.execPath, [npm, "run", "-s", check.script]] : ["npm", ["run", "-s", check.script]];
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"], shell: !npm && process.platform === "win32" });
    children.add(child);
    child.on("close", () => children.delete(child));
    if (check.background) {
        try {
            // Children inherit it: tsc, eslint and prettier run below the tests.
            os.setPriority(child.pid, Math.min(19, os.getPriority() + LOWER_PRIORITY));
        } catch {
            // Not allowed here: the check still runs, at normal priority.
        }
    }
    const output = [];
    const collect = (d) => (onOutput ? onOutput(d) : output.push(d));
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    return new Promise((resolve) => {
        child.on("error", (e) => resolve({ check, status: 127, output: [Buffer.from(`${e.message}\n`)], seconds: 0 }));
        child.on("close", (code, signal) =>
            resolve({
                check,
                status: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1),
                output,
                seconds: (Date.now() - started) / 1000,
            }),
        );
    });
}

function ending(r) {
    return `${r.check.name} ${r.status === 0 ? "passed" : `FAILED (exit status ${r.status})`} in ${r.seconds.toFixed(1)} s`;
}

async function main() {
    const started = Date.now();
    const background = CHECKS.filter((c) => c.background);
    const [live] = CHECKS.filter((c) => !c.background);
    process.stdout.write(
        `npm test: ${CHECKS.map((c) => c.name).join(", ")} side by side (${background.map((c) => c.name).join(" and ")} at lower priority)\n`,
    );
    process.stdout.write(rule(live.name));
    let liveEnded = false;
    const waiting = [];
    const show = (r) => {
        process.stdout.write(rule(ending(r)));
        const text = Buffer.concat(r.output)
            .toString("utf8")
            .replace(/^\s*\n/, "")
            .replace(/\s+$/, "");
        if (text) process.stdout.write(text + "\n");
    };
    const results = await Promise.all([
        runCheck(live, (d) => process.stdout.write(d)).then((r) => {
            process.stdout.write(rule(ending(r)));
            liveEnded = true;
            waiting.splice(0).forEach(show);
            return r;
        }),
        ...background.map((c) =>
            runCheck(c).then((r) => {
                if (liveEnded) show(r);
                else waiting.push(r);
                return r;
            }),
        ),
    ]);
    const failed = results
        .filter((r) => r.status !== 0)
        .map((r) => r.check.name)
        .sort((a, b) => CHECKS.findIndex((c) => c.name === a) - CHECKS.findIndex((c) => c.name === b));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stdout.write(
        failed.length
            ? `npm test: ${failed.join(", ")} failed (${results.length - failed.length} of ${results.length} checks passed) in ${seconds} s\n`
            : `npm test: all ${results.length} checks passed in ${seconds} s\n`,
    );
    return failed.length ? 1 : 0;
}

module.exports = { CHECKS };

if (require.main === module) {
    // Interrupted or stopped: stop the checks too, instead of leaving them running unseen.
    for (const [signal, status] of [
        ["SIGINT", 130],
        ["SIGTERM", 143],
    ])
        process.once(signal, () => {
            for (const c of children) c.kill(signal);
            process.exit(status);
        });
    main().then((status) => (process.exitCode = status));
}
