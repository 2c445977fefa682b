import { expect } from "chai";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "../helpers";

// cli/test.cjs, which `npm test` runs, against an npm stand-in: each check
// prints its priority and exits as the case says.

describe("npm test (cli/test.cjs)", function () {
    this.timeout(60_000);

    // An npm stand-in: `npm run -s <script>` prints the script's priority and exits as told.
    function checks(exit: { lint?: number; live?: number; offline?: number; commands?: number }): string {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tp-test-"));
        const status = {
            lint: exit.lint ?? 0,
            "test:live": exit.live ?? 0,
            "test:offline": exit.offline ?? 0,
            "test:commands": exit.commands ?? 0,
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
        const { CHECKS } = require("../../cli/test.cjs") as { CHECKS: { script: string }[] };
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
        // Mocha's three parts: test/live/ (its files two at a time: they mostly wait), the files directly in test/, and test/commands/.
        expect(commands).to.include.members([
            `mocha --parallel --jobs 2 "test/live/*.test.ts"`,
            `mocha "test/*.test.ts"`,
            `mocha "test/commands/*.test.ts"`,
        ]);
    });

    it("leaves no test file out of the three parts, and keeps every test of the fake API server in test/live", () => {
        const all = fs
            .readdirSync(path.join(ROOT, "test"), { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile() && e.name.endsWith(".test.ts"))
            .map((e) =>
                path
                    .relative(path.join(ROOT, "test"), path.join(e.parentPath ?? e.path, e.name))
                    .split(path.sep)
                    .join("/"),
            );
        const parts = all.filter((f) => !f.includes("/") || /^(live|commands)\/[^/]+$/.test(f));
        expect(all.length).to.be.greaterThan(50);
        expect(
            all.filter((f) => !parts.includes(f)),
            "test files no part runs",
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
            ["mocha test/commands", "test:commands"],
        ]) {
            expect(r.stdout).to.match(new RegExp(`── ${name} passed in [\\d.]+ s ─+\\n${script} ran at`));
            expect(r.stdout.indexOf(`── ${name} passed`)).to.be.greaterThan(r.stdout.indexOf("── mocha test/live passed"));
        }
        expect(r.stdout).to.match(/npm test: all 4 checks passed in [\d.]+ s\n$/);
        const normal = priority(r.stdout, "test:live");
        expect(priority(r.stdout, "test:offline")).to.equal(Math.min(19, normal + 5));
        expect(priority(r.stdout, "test:commands")).to.equal(Math.min(19, normal + 5));
        expect(priority(r.stdout, "lint")).to.equal(Math.min(19, normal + 10));
    });

    it("fails when one check fails, naming it, after every check has run and shown its output", () => {
        const r = runner(checks({ lint: 2 }));
        expect(r.status).to.equal(1);
        expect(r.stdout).to.match(/── type-check and lint FAILED \(exit status 2\) in [\d.]+ s ─+\nlint ran at priority/);
        expect(r.stdout)
            .to.contain("test:live ran at priority")
            .and.contain("test:offline ran at priority")
            .and.contain("test:commands ran at priority");
        expect(r.stdout).to.match(/npm test: type-check and lint failed \(3 of 4 checks passed\) in [\d.]+ s\n$/);
        expect(runner(checks({ offline: 1, lint: 1 })).stdout).to.contain(
            "npm test: type-check and lint, mocha test failed (2 of 4 checks passed)",
        );
        expect(runner(checks({ live: 1 })).stdout).to.contain("npm test: mocha test/live failed (3 of 4 checks passed)");
        expect(runner(checks({ commands: 1 })).stdout).to.contain("npm test: mocha test/commands failed (3 of 4 checks passed)");
    });
});

describe("the type-check in ESLint (eslint.config.mjs's local/type-check)", function () {
    // ESLint over two small projects of its own, against TypeScript's own lib, not this repository's 2,500 files.
    this.timeout(60_000);

    type Messages = Record<string, string[]>;

    /** One ESLint run over `projects` (a folder each, with its tsconfig.json), as `npm run lint` runs it; messages by file. */
    function lint(projects: Record<string, { options: Record<string, unknown>; files: Record<string, string> }>) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tp-typecheck-"));
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
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
        for (const [project, { options, files }] of Object.entries(projects)) {
            fs.mkdirSync(path.join(dir, project));
            const compilerOptions = { strict: true, noUnusedLocals: true, lib: ["ES2022"], types: [], module: "commonjs", ...options };
            fs.writeFileSync(path.join(dir, project, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["*.ts"] }));
            for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, project, name), text);
        }
        const eslint = path.join(ROOT, "node_modules", "eslint", "bin", "eslint.js");
        const r = spawnSync(process.execPath, [eslint, "--format", "json", ...Object.keys(projects)], { cwd: dir, encoding: "utf8" });
        const results = JSON.parse(r.stdout) as {
            filePath: string;
            messages: { ruleId: string; line: number; column: number; message: string }[];
        }[];
        const messages: Messages = {};
        for (const f of results)
            messages[path.relative(dir, f.filePath)] = f.messages.map((m) => `${m.line}:${m.column} ${m.ruleId} ${m.message}`);
        return { dir, status: r.status, messages };
    }

    /** What tsc itself says of one project: "file(line,col): TSnnnn: message". */
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

    it("reports what tsc reports, where tsc does, under each project's options, and nothing in a file tsc passes", () => {
        const { dir, status, messages } = lint({
            // An error across files, an unused local, and a file without errors.
            types: {
                options: {},
                files: {
                    "a.ts": `export function twice(n: number): number {\n    return n * 2;\n}\n`,
                    "b.ts": `import { twice } from "./a";\nconst unused = 1;\nexport const x: string = twice(2);\n`,
                    "ok.ts": `export const y = 1;\n`,
                },
            },
            // An error of the options, which is the whole program's: tsc reports only those when there are any.
            options: {
                options: { strictNullChecks: false, exactOptionalPropertyTypes: true },
                files: { "c.ts": "export const c = 1;\n", "d.ts": "export const d = 2;\n" },
            },
        });
        expect(status).to.equal(1);
        expect(messages[path.join("types", "a.ts")]).to.deep.equal([]);
        expect(messages[path.join("types", "ok.ts")]).to.deep.equal([]);
        // ESLint's line:column and tsc's (line,col) count alike, from 1.
        const b = messages[path.join("types", "b.ts")];
        expect(b).to.have.length(2);
        expect(b.map((m) => m.replace(/^(\d+):(\d+) local\/type-check /, "b.ts($1,$2): "))).to.deep.equal(tsc(path.join(dir, "types")));

        // Once, on whichever file of the project ESLint took first, naming its tsconfig.json.
        const fromTsc = tsc(path.join(dir, "options"));
        expect(fromTsc.length, "tsc reports the option error").to.be.greaterThan(0);
        const reported = [...messages[path.join("options", "c.ts")], ...messages[path.join("options", "d.ts")]];
        expect(reported.map((m) => m.replace(/^1:1 local\/type-check .*tsconfig\.json: /, ""))).to.deep.equal(
            fromTsc.map((l) => l.replace(/^tsconfig\.json\(\d+,\d+\): /, "")),
        );
    });
});
