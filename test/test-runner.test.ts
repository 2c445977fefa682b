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
    function checks(exit: { typecheck?: number; lint?: number; live?: number; offline?: number }): string {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tp-test-"));
        const status = {
            typecheck: exit.typecheck ?? 0,
            lint: exit.lint ?? 0,
            "test:live": exit.live ?? 0,
            "test:offline": exit.offline ?? 0,
        };
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
        const commands = CHECKS.map((c) => pkg.scripts[c.script] as string);
        expect(commands.join(" && ")).to.contain("tsc -p tsconfig.json --noEmit").and.contain("eslint .").and.contain("prettier --check");
        // Mocha's two halves: test/live/ (its files two at a time: they mostly wait) and the files directly in test/.
        expect(commands).to.include.members([`mocha --parallel --jobs 2 "test/live/*.test.ts"`, `mocha "test/*.test.ts"`]);
    });

    it("leaves no test file out of the two halves, and keeps every test of the fake API server in test/live", () => {
        const all = fs
            .readdirSync(path.join(ROOT, "test"), { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile() && e.name.endsWith(".test.ts"))
            .map((e) =>
                path
                    .relative(path.join(ROOT, "test"), path.join(e.parentPath ?? e.path, e.name))
                    .split(path.sep)
                    .join("/"),
            );
        const halves = all.filter((f) => !f.includes("/") || /^live\/[^/]+$/.test(f));
        expect(all.length).to.be.greaterThan(50);
        expect(
            all.filter((f) => !halves.includes(f)),
            "test files neither half runs",
        ).to.deep.equal([]);
        const fakeApi = all.filter((f) => /from "\.{1,2}\/fake-kube"/.test(fs.readFileSync(path.join(ROOT, "test", f), "utf8")));
        expect(fakeApi.length).to.be.at.least(5);
        expect(
            fakeApi.filter((f) => !f.startsWith("live/")),
            "tests of the fake API server outside test/live",
        ).to.deep.equal([]);
    });

    it("passes when every check passes: the live tests at normal priority and streamed, the others below and after them", () => {
        const r = runner(checks({}));
        expect(r.status, r.stdout + r.stderr).to.equal(0);
        expect(r.stdout).to.match(/── mocha test\/live ─+\ntest:live ran at priority -?\d+\n── mocha test\/live passed in [\d.]+ s ─+\n/);
        for (const [name, script] of [
            ["typecheck", "typecheck"],
            ["lint", "lint"],
            ["mocha test", "test:offline"],
        ]) {
            expect(r.stdout).to.match(new RegExp(`── ${name} passed in [\\d.]+ s ─+\\n${script} ran at`));
            expect(r.stdout.indexOf(`── ${name} passed`)).to.be.greaterThan(r.stdout.indexOf("── mocha test/live passed"));
        }
        expect(r.stdout).to.match(/npm test: all 4 checks passed in [\d.]+ s\n$/);
        const normal = priority(r.stdout, "test:live");
        expect(priority(r.stdout, "test:offline")).to.equal(Math.min(19, normal + 5));
        expect(priority(r.stdout, "typecheck")).to.equal(Math.min(19, normal + 10));
        expect(priority(r.stdout, "lint")).to.equal(Math.min(19, normal + 10));
    });

    it("fails when one check fails, naming it, after every check has run and shown its output", () => {
        const r = runner(checks({ lint: 2 }));
        expect(r.status).to.equal(1);
        expect(r.stdout).to.match(/── lint FAILED \(exit status 2\) in [\d.]+ s ─+\nlint ran at priority/);
        expect(r.stdout)
            .to.contain("typecheck ran at priority")
            .and.contain("test:live ran at priority")
            .and.contain("test:offline ran at priority");
        expect(r.stdout).to.match(/npm test: lint failed \(3 of 4 checks passed\) in [\d.]+ s\n$/);
        expect(runner(checks({ offline: 1, typecheck: 1 })).stdout).to.contain(
            "npm test: typecheck, mocha test failed (2 of 4 checks passed)",
        );
        expect(runner(checks({ live: 1 })).stdout).to.contain("npm test: mocha test/live failed (3 of 4 checks passed)");
    });
});
