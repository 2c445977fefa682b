"use strict";
// `npm test`: the type-check, the lint and mocha, side by side. One after the
// other they took about two minutes on two cores; side by side, about as long
// as mocha alone. The type-check and the lint run at a lower priority, so
// that the tests' own clocks (a gate's timeout, a poll interval) keep the CPU
// they had when nothing ran beside them. For the same reason mocha runs its
// files one at a time: with --parallel, the gates' end-to-end tests, whose
// budgets are fractions of a second, failed on a loaded machine.
//
// Each check's output is printed whole when it ends, under a line that says
// how it ended; the exit status is 0 only if every check passed.

const { spawn } = require("node:child_process");
const os = require("node:os");

/** npm scripts, in the order their output is most useful when several fail. */
const CHECKS = [
    { name: "typecheck", script: "typecheck", background: true },
    { name: "lint", script: "lint", background: true },
    { name: "mocha", script: "test:unit", background: false },
];
/** Added to this process's niceness (19 at most) for the background checks. */
const LOWER_PRIORITY = 10;

const children = new Set();

function runCheck(check) {
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
    child.stdout.on("data", (d) => output.push(d));
    child.stderr.on("data", (d) => output.push(d));
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

function report(r) {
    const how = r.status === 0 ? "passed" : `FAILED (exit status ${r.status})`;
    const head = `── ${r.check.name} ${how} in ${r.seconds.toFixed(1)} s `;
    process.stdout.write(`${head}${"─".repeat(Math.max(3, 72 - head.length))}\n`);
    const text = Buffer.concat(r.output).toString("utf8").replace(/\s+$/, "");
    if (text) process.stdout.write(text + "\n");
}

async function main() {
    const started = Date.now();
    process.stdout.write(
        `npm test: ${CHECKS.map((c) => c.name).join(", ")} side by side (${CHECKS.filter((c) => c.background)
            .map((c) => c.name)
            .join(" and ")} at lower priority); each one's output follows when it ends\n`,
    );
    const results = await Promise.all(
        CHECKS.map((c) =>
            runCheck(c).then((r) => {
                report(r);
                return r;
            }),
        ),
    );
    const failed = results.filter((r) => r.status !== 0).map((r) => r.check.name);
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
