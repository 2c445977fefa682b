import { expect } from "chai";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "./helpers";

// cli/test.cjs, which `npm test` runs, against an npm stand-in: each check
// prints its priority and exits as the case says.

describe("npm test (cli/test.cjs)", function () {
    this.timeout(60_000);

    // An npm stand-in: `npm run -s <script>` prints the script's priority and exits as told.
    function checks(exit: { lint?: number; live?: number; offline?: number }): string {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tp-test-"));
        const status = {
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
        expect(commands.join(" && ")).to.contain("eslint .").and.contain("prettier --check");
        // The type-check is ESLint's (eslint.config.mjs's local/type-check, tested below): on for every TypeScript file.
        const config = JSON.parse(
            execFileSync(
                process.execPath,
                [path.join(ROOT, "node_modules", "eslint", "bin", "eslint.js"), "--print-config", "test/helpers.ts"],
                {
                    cwd: ROOT,
                    encoding: "utf8",
                },
            ),
        );
        expect(config.rules["local/type-check"]).to.deep.equal([2]);
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
            ["type-check and lint", "lint"],
            ["mocha test", "test:offline"],
        ]) {
            expect(r.stdout).to.match(new RegExp(`── ${name} passed in [\\d.]+ s ─+\\n${script} ran at`));
            expect(r.stdout.indexOf(`── ${name} passed`)).to.be.greaterThan(r.stdout.indexOf("── mocha test/live passed"));
        }
        expect(r.stdout).to.match(/npm test: all 3 checks passed in [\d.]+ s\n$/);
        const normal = priority(r.stdout, "test:live");
        expect(priority(r.stdout, "test:offline")).to.equal(Math.min(19, normal + 5));
        expect(priority(r.stdout, "lint")).to.equal(Math.min(19, normal + 10));
    });

    it("fails when one check fails, naming it, after every check has run and shown its output", () => {
        const r = runner(checks({ lint: 2 }));
        expect(r.status).to.equal(1);
        expect(r.stdout).to.match(/── type-check and lint FAILED \(exit status 2\) in [\d.]+ s ─+\nlint ran at priority/);
        expect(r.stdout).to.contain("test:live ran at priority").and.contain("test:offline ran at priority");
        expect(r.stdout).to.match(/npm test: type-check and lint failed \(2 of 3 checks passed\) in [\d.]+ s\n$/);
        expect(runner(checks({ offline: 1, lint: 1 })).stdout).to.contain(
            "npm test: type-check and lint, mocha test failed (1 of 3 checks passed)",
        );
        expect(runner(checks({ live: 1 })).stdout).to.contain("npm test: mocha test/live failed (2 of 3 checks passed)");
    });
});

describe("the type-check in ESLint (eslint.config.mjs's local/type-check)", function () {
    // ESLint in a project of its own: a few lines against TypeScript's own lib, not this repository's 2,500 files.
    this.timeout(60_000);

    function lint(files: Record<string, string>, compilerOptions: Record<string, unknown> = {}) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tp-typecheck-"));
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
        const options = {
            strict: true,
            noUnusedLocals: true,
            target: "ES2022",
            lib: ["ES2022"],
            types: [],
            module: "commonjs",
            ...compilerOptions,
        };
        fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: options, include: ["*.ts"] }));
        fs.writeFileSync(
            path.join(dir, "eslint.config.mjs"),
            `import { localPlugin } from ${JSON.stringify(path.join(ROOT, "eslint.config.mjs"))};
import tseslint from "typescript-eslint";
export default [{
    files: ["**/*.ts"],
    languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: ${JSON.stringify(dir)} } },
    plugins: { local: localPlugin },
    rules: { "local/type-check": "error" },
}];
`,
        );
        for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
        const r = spawnSync(
            process.execPath,
            [path.join(ROOT, "node_modules", "eslint", "bin", "eslint.js"), "--format", "json", ...Object.keys(files)],
            {
                cwd: dir,
                encoding: "utf8",
            },
        );
        const results = JSON.parse(r.stdout) as {
            filePath: string;
            messages: { ruleId: string; line: number; column: number; message: string }[];
        }[];
        return {
            dir,
            status: r.status,
            messages: Object.fromEntries(
                results.map((f) => [path.basename(f.filePath), f.messages.map((m) => `${m.line}:${m.column} ${m.ruleId} ${m.message}`)]),
            ),
        };
    }

    /** What tsc itself says of the same project: "file(line,col): TSnnnn: message". */
    function tsc(dir: string): string[] {
        const r = spawnSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir, "--noEmit"], {
            cwd: dir,
            encoding: "utf8",
        });
        return r.stdout
            .split("\n")
            .filter((l) => / error TS\d+/.test(l))
            .map((l) => l.replace(" error ", " "));
    }

    it("reports tsc's errors where tsc does, across files, under the project's compiler options, and fails the lint", () => {
        const { dir, status, messages } = lint({
            "a.ts": `export function twice(n: number): number {\n    return n * 2;\n}\n`,
            "b.ts": `import { twice } from "./a";\nconst unused = 1;\nexport const x: string = twice(2);\n`,
            "ok.ts": `export const y = 1;\n`,
        });
        expect(status).to.equal(1);
        expect(messages["a.ts"]).to.deep.equal([]);
        expect(messages["ok.ts"]).to.deep.equal([]);
        expect(messages["b.ts"]).to.have.length(2);
        // ESLint's line:column and tsc's (line,col) count alike, from 1.
        const ours = messages["b.ts"].map((m) => m.replace(/^(\d+):(\d+) local\/type-check /, "b.ts($1,$2): "));
        expect(ours).to.deep.equal(tsc(dir));
    });

    it("passes a project tsc passes, and reports the program's option errors once, as tsc does", () => {
        expect(lint({ "a.ts": `export const a = 1;\n`, "b.ts": `export const b = 2;\n` })).to.deep.include({
            status: 0,
            messages: { "a.ts": [], "b.ts": [] },
        });
        const wrong = lint(
            { "a.ts": `export const a = 1;\n`, "b.ts": `export const b = 2;\n` },
            { strictNullChecks: false, exactOptionalPropertyTypes: true },
        );
        expect(wrong.status).to.equal(1);
        const reported = [...wrong.messages["a.ts"], ...wrong.messages["b.ts"]];
        const fromTsc = tsc(wrong.dir);
        expect(fromTsc.length, "tsc reports the option error").to.be.greaterThan(0);
        // On the first file linted, as many as tsc reports, naming the tsconfig.json.
        expect(wrong.messages["b.ts"]).to.deep.equal([]);
        expect(reported.map((m) => m.replace(/^1:1 local\/type-check .*tsconfig\.json: /, ""))).to.deep.equal(
            fromTsc.map((l) => l.replace(/^tsconfig\.json\(\d+,\d+\): /, "")),
        );
    });
});
