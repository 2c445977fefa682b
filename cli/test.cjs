"use strict";
// `npm test`: the type-check and lint, and mocha, side by side. One after the
// other they took minutes on two cores; side by side, about as long as the
// longest of them.
//
// The type-check is part of the lint: ESLint's type-aware rules build the
// same TypeScript program tsc would, and a rule of eslint.config.mjs reports
// tsc's errors from it (\`npm run typecheck\` is plain tsc, for the editor
// loop). As a check of its own, tsc parsed and bound the 2,500 files again.
//
// Mocha runs in three parts. test/live/ holds the tests that drive the gate
// checker, the doctor and adopt over HTTP against the fake API server, with
// real clocks: their budgets are fractions of a second, and they spend most of
// their time waiting on a poll or a child process, so two of their files run
// at once (mocha --parallel --jobs 2). test/commands/ holds the tests that run
// the project's commands as processes of their own (cli/run.cjs compiling a
// project, pr-comment planning a base commit, npm test itself): their mocha
// process mostly waits for those, which would hold the other tests up. The
// rest of test/ is CPU bound (Pulumi's mocks, the checks), in one process so
// that its plans are made once (test/helpers.ts). The live tests run at
// normal priority, so their clocks keep the CPU they would have alone; the
// other tests fill the CPU the live ones leave idle, a step lower; the
// type-check and lint lower still. With --parallel over all of test/, which
// mixes both kinds at one priority, the live tests failed on a loaded machine.
//
// The live tests' output streams as they run; each other check's output is
// printed whole after it, under a line that says how the check ended. The exit
// status is 0 only if every check passed.

const { spawn } = require("node:child_process");
const os = require("node:os");

/**
 * npm scripts, each with what it adds to this process's niceness (19 at
 * most). The one that is `live` streams its output; the others' waits for it.
 */
const CHECKS = [
    { name: "type-check and lint", script: "lint", nicer: 10 },
    { name: "mocha test/live", script: "test:live", nicer: 0, live: true },
    { name: "mocha test", script: "test:offline", nicer: 5 },
    { name: "mocha test/commands", script: "test:commands", nicer: 5 },
];

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
    if (check.nicer > 0) {
        try {
            // Children inherit it: tsc, eslint, prettier and the offline tests run below the live tests.
            os.setPriority(child.pid, Math.min(19, os.getPriority() + check.nicer));
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
    const background = CHECKS.filter((c) => !c.live);
    const [live] = CHECKS.filter((c) => c.live);
    const lower = CHECKS.filter((c) => c.nicer > 0)
        .map((c) => `${c.name} +${c.nicer}`)
        .join(", ");
    process.stdout.write(`npm test: ${CHECKS.map((c) => c.name).join(", ")} side by side (lower priority: ${lower})\n`);
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
