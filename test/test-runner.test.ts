import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "./helpers";

// cli/test.cjs, which `npm test` runs, against an npm stand-in: each check
// prints its priority and exits as the case says.

describe("npm test (cli/test.cjs)", function () {
    this.timeout(60_000);

    // An npm stand-in: `npm run -s <script>` prints the script's priority and exits as told.
    function checks(exit: { typecheck?: number; lint?: number; mocha?: number }): string {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tp-test-"));
        const status = { typecheck: exit.typecheck ?? 0, lint: exit.lint ?? 0, "test:unit": exit.mocha ?? 0 };
        fs.writeFileSync(
            path.join(dir, "npm.js"),
            `const [run, silent, script] = process.argv.slice(2);
if (run !== "run" || silent !== "-s") process.exit(99);
console.log(script + " ran at priority " + require("os").getPriority());
process.exit(${JSON.stringify(status)}[script]);
`,
        );
        return dir;
    }
    const runner = (dir: string) =>
        spawnSync(process.execPath, [path.join(ROOT, "cli", "test.cjs")], {
            cwd: dir,
            encoding: "utf8",
            env: { ...process.env, npm_execpath: path.join(dir, "npm.js") },
        });
    const priority = (out: string, name: string) => Number(new RegExp(`${name} ran at priority (-?\\d+)`).exec(out)![1]);

    it("runs every check npm test ran before: the type-check, ESLint, Prettier and all of mocha's tests", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        expect(pkg.scripts.test).to.equal("node cli/test.cjs");
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { CHECKS } = require("../cli/test.cjs") as { CHECKS: { script: string }[] };
        const commands = CHECKS.map((c) => pkg.scripts[c.script] as string).join(" && ");
        expect(commands).to.contain("tsc -p tsconfig.json --noEmit").and.contain("eslint .").and.contain("prettier --check");
        expect(commands).to.contain(`mocha "test/**/*.test.ts"`);
    });

    it("passes when every check passes: the tests at normal priority and live, the others below and after them", () => {
        const r = runner(checks({}));
        expect(r.status, r.stdout + r.stderr).to.equal(0);
        expect(r.stdout).to.match(/── mocha ─+\ntest:unit ran at priority -?\d+\n── mocha passed in [\d.]+ s ─+\n/);
        for (const name of ["typecheck", "lint"]) {
            expect(r.stdout).to.match(new RegExp(`── ${name} passed in [\\d.]+ s ─+\\n${name} ran at`));
            expect(r.stdout.indexOf(`── ${name} passed`)).to.be.greaterThan(r.stdout.indexOf("── mocha passed"));
        }
        expect(r.stdout).to.match(/npm test: all 3 checks passed in [\d.]+ s\n$/);
        const normal = priority(r.stdout, "test:unit");
        expect(priority(r.stdout, "typecheck")).to.equal(Math.min(19, normal + 10));
        expect(priority(r.stdout, "lint")).to.equal(Math.min(19, normal + 10));
    });

    it("fails when one check fails, naming it, after every check has run and shown its output", () => {
        const r = runner(checks({ lint: 2 }));
        expect(r.status).to.equal(1);
        expect(r.stdout).to.match(/── lint FAILED \(exit status 2\) in [\d.]+ s ─+\nlint ran at priority/);
        expect(r.stdout).to.contain("typecheck ran at priority").and.contain("test:unit ran at priority");
        expect(r.stdout).to.match(/npm test: lint failed \(2 of 3 checks passed\) in [\d.]+ s\n$/);
        expect(runner(checks({ mocha: 1, typecheck: 1 })).stdout).to.contain("npm test: typecheck, mocha failed (1 of 3 checks passed)");
    });
});
