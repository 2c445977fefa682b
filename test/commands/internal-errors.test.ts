import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { ROOT } from "../helpers";

// The commands' own exit status for a bug, in a process of their own: runCli ends it with process.exit.

describe("gate and doctor commands: internal errors", () => {
    const run = (env: NodeJS.ProcessEnv) =>
        spawnSync(
            process.execPath,
            [
                "-r",
                "ts-node/register/transpile-only",
                "-e",
                'require("./lib/gates/checker").runCli("gate", async () => { throw new Error("boom"); })',
            ],
            { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" },
        );

    it("exits 3, not 1 (a broken link), with one line and no stack trace unless asked", function () {
        this.timeout(60_000);
        const quiet = run({ TALOS_PLATFORM_DEBUG: "" });
        expect(quiet.status).to.equal(3);
        expect(quiet.stderr).to.contain("gate: internal error: boom (set TALOS_PLATFORM_DEBUG=1").and.not.contain("    at ");
        const debug = run({ TALOS_PLATFORM_DEBUG: "1" });
        expect(debug.status).to.equal(3);
        expect(debug.stderr).to.contain("    at ");
    });
});
