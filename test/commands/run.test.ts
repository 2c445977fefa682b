import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkerCommand } from "../../lib/gates/command";
import * as pulumi from "@pulumi/pulumi";
import { DEBUG_ENV, INTERNAL_ERROR } from "../../lib/exit";
import { ConfigError, error } from "../../lib/problems";
import { ROOT } from "../helpers";

// cli/run.cjs decides between the compiled dist/ and the TypeScript sources.
// Each case runs the real launcher in a small project of its own (two
// commands that print where they were loaded from), so that compiling and
// editing never touch this repository's dist/.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const launcher = require("../../cli/run.cjs") as {
    INTERNAL_ERROR: number;
    DEBUG_ENV: string;
    MANIFEST: string;
    COMMANDS: Record<string, string>;
};

// Without @types/node, so that each compile takes a fraction of a second.
const COMMAND = (name: string) => `import { tag } from "../lib/tag";
declare const process: { argv: string[]; stdout: { write(s: string): void } };
declare const __filename: string;
export function run(): void {
    const from = __filename.includes("/dist/") ? "dist" : "source";
    process.stdout.write(\`\${tag} ${name} \${from} \${JSON.stringify(process.argv.slice(2))}\`);
}
`;

function project(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tp-run-"));
    const write = (file: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
    };
    write("cli/run.cjs", fs.readFileSync(path.join(ROOT, "cli", "run.cjs"), "utf8"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    write(
        "tsconfig.json",
        JSON.stringify({
            compilerOptions: {
                strict: true,
                target: "ES2022",
                lib: ["ES2022"],
                types: [],
                module: "commonjs",
                outDir: "dist",
                rootDir: ".",
            },
            include: ["cli/**/*.ts", "lib/**/*.ts"],
        }),
    );
    write("tsconfig.build.json", JSON.stringify({ extends: "./tsconfig.json", include: ["cli/**/*.ts", "lib/**/*.ts"] }));
    write("cli/gate.ts", COMMAND("gate"));
    write("cli/plan.ts", COMMAND("plan"));
    write("lib/tag.ts", `export const tag = "v1";\n`);
    write("lib/unused.ts", `export const unused = 1;\n`);
    return dir;
}

function run(dir: string, ...args: string[]) {
    const r = spawnSync(process.execPath, ["cli/run.cjs", ...args], { cwd: dir, encoding: "utf8" });
    return { status: r.status, out: r.stdout, err: r.stderr };
}

describe("cli/run.cjs: the compiled dist/ when it matches the sources", function () {
    // Each case compiles or loads TypeScript in a process of its own.
    this.timeout(120_000);

    it("runs a gate from the sources, saying why, until dist/ is built; then from dist/, silently", () => {
        const dir = project();
        const before = run(dir, "gate", "network", "--help");
        expect(before.out).to.equal(`v1 gate source ["network","--help"]`);
        expect(before.err).to.contain("running from the TypeScript sources").and.contain("dist/ has not been built");
        expect(before.status).to.equal(0);

        expect(run(dir, "build").status).to.equal(0);
        const files = JSON.parse(fs.readFileSync(path.join(dir, launcher.MANIFEST), "utf8")).files;
        expect(Object.keys(files)).to.deep.equal([
            "cli/gate.ts",
            "cli/plan.ts",
            "lib/tag.ts",
            "lib/unused.ts",
            "tsconfig.build.json",
            "tsconfig.json",
        ]);
        expect(run(dir, "gate", "network", "--help")).to.deep.equal({ status: 0, out: `v1 gate dist ["network","--help"]`, err: "" });
    });

    it("goes by content: a touched file keeps dist/, an edited or deleted one does not, and the gate names it", () => {
        const dir = project();
        expect(run(dir, "build").status).to.equal(0);
        const tag = path.join(dir, "lib", "tag.ts");
        const later = new Date(Date.now() + 60_000);
        fs.utimesSync(tag, later, later);
        expect(run(dir, "gate").out).to.equal(`v1 gate dist []`);

        fs.writeFileSync(tag, `export const tag = "v2";\n`);
        const edited = run(dir, "gate");
        expect(edited.out).to.equal(`v2 gate source []`);
        expect(edited.err).to.contain("lib/tag.ts changed since the last build");

        // plan compiles first, which makes dist/ current for the gates too.
        const plan = run(dir, "plan", "--format", "json");
        expect(plan.out).to.equal(`v2 plan dist ["--format","json"]`);
        expect(plan.err).to.equal("plan: compiling dist/ first: lib/tag.ts changed since the last build\n");
        expect(run(dir, "gate").out).to.equal(`v2 gate dist []`);

        fs.rmSync(path.join(dir, "lib", "unused.ts"));
        expect(run(dir, "gate").err).to.contain("lib/unused.ts was deleted since the last build");
    });

    it("treats a dist/ that lost a compiled file as stale, and build writes it again", () => {
        const dir = project();
        expect(run(dir, "build").status).to.equal(0);
        fs.rmSync(path.join(dir, "dist", "lib", "tag.js"));
        const lost = run(dir, "gate");
        expect(lost.out).to.equal(`v1 gate source []`);
        expect(lost.err).to.contain("dist/lib/tag.js is missing");
        expect(run(dir, "build").status).to.equal(0);
        expect(run(dir, "gate")).to.deep.equal({ status: 0, out: `v1 gate dist []`, err: "" });
    });

    it("records a JSON file a source imports, whose copy in dist/ the compiled code reads: an edit or a lost copy makes dist/ stale", () => {
        const dir = project();
        const config = JSON.parse(fs.readFileSync(path.join(dir, "tsconfig.json"), "utf8"));
        config.compilerOptions.resolveJsonModule = true;
        fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(config));
        fs.writeFileSync(path.join(dir, "lib", "data.json"), `{ "tag": "v1" }\n`);
        fs.writeFileSync(path.join(dir, "lib", "tag.ts"), `import * as data from "./data.json";\nexport const tag = data.tag;\n`);
        expect(run(dir, "build").status).to.equal(0);
        expect(Object.keys(JSON.parse(fs.readFileSync(path.join(dir, launcher.MANIFEST), "utf8")).files)).to.include("lib/data.json");
        expect(run(dir, "gate")).to.deep.equal({ status: 0, out: `v1 gate dist []`, err: "" });

        fs.writeFileSync(path.join(dir, "lib", "data.json"), `{ "tag": "v2" }\n`);
        const edited = run(dir, "gate");
        expect(edited.out).to.equal(`v2 gate source []`);
        expect(edited.err).to.contain("lib/data.json changed since the last build");
        expect(run(dir, "plan").out).to.equal(`v2 plan dist []`);

        fs.rmSync(path.join(dir, "dist", "lib", "data.json"));
        expect(run(dir, "gate").err).to.contain("dist/lib/data.json is missing");
        expect(run(dir, "build").status).to.equal(0);
        expect(run(dir, "gate")).to.deep.equal({ status: 0, out: `v2 gate dist []`, err: "" });
    });

    it("runs no plan from a dist/ that does not compile; prepare (npm ci) only warns, and the gates run the sources", () => {
        const dir = project();
        expect(run(dir, "build").status).to.equal(0);
        fs.writeFileSync(path.join(dir, "lib", "tag.ts"), `export const tag: number = "v3";\n`);

        const plan = run(dir, "plan");
        expect(plan.status).to.equal(INTERNAL_ERROR);
        expect(plan.out).to.equal("");
        expect(plan.err).to.contain("error TS2322").and.contain("dist/ did not compile (tsc's errors are above); nothing was run");

        const prepare = run(dir, "prepare");
        expect(prepare.status).to.equal(0);
        expect(prepare.err).to.contain("prepare: dist/ did not compile");
        // The failed build left no record, so dist/ (which tsc may have half written) is not used.
        expect(fs.existsSync(path.join(dir, launcher.MANIFEST))).to.equal(false);
        const gate = run(dir, "gate");
        expect(gate.out).to.equal(`v3 gate source []`);
        expect(gate.err).to.contain("dist/ has not been built");
    });

    it("refuses an unknown command with its usage, exit status 2", () => {
        const r = run(project(), "deploy");
        expect(r.status).to.equal(2);
        expect(r.err).to.contain('unknown command "deploy"').and.contain("usage: node cli/run.cjs");
        expect(r.err).to.contain(`usage: node cli/run.cjs ${Object.keys(launcher.COMMANDS).join("|")} [args]`);
    });

    it("exits with lib/exit.ts's internal-error status and debug variable", () => {
        expect(launcher.INTERNAL_ERROR).to.equal(INTERNAL_ERROR);
        expect(launcher.DEBUG_ENV).to.equal(DEBUG_ENV);
    });
});

/** Runs a shell command in the project directory, as pulumi-command does; the modules its node process loaded. */
function loadedModules(command: string) {
    const loaded = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tp-modules-")), "modules.json");
    const reporter = path.join(path.dirname(loaded), "report.js");
    fs.writeFileSync(
        reporter,
        `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(loaded)}, JSON.stringify(Object.keys(require.cache))));\n`,
    );
    const r = spawnSync("/bin/sh", ["-c", command], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, NODE_OPTIONS: `--require ${reporter}` },
    });
    return { r, modules: JSON.parse(fs.readFileSync(loaded, "utf8")) as string[] };
}

describe("what the offline plan loads", function () {
    // It compiles dist/ first when a source changed since the last build.
    this.timeout(300_000);

    it("plans the dev stack without the Kubernetes client, which only a live cluster read needs", () => {
        const { r, modules } = loadedModules("node cli/run.cjs plan --format json");
        expect(r.status, r.stderr).to.equal(0);
        expect(JSON.parse(r.stdout).ok).to.equal(true);
        expect(modules.some((m) => m.includes(path.join("dist", "lib", "lifecycle", "source.js")))).to.equal(true);
        expect(modules.filter((m) => /node_modules[/\\]@kubernetes[/\\]/.test(m))).to.deep.equal([]);
    });
});

describe("the command a Gate resource runs", function () {
    this.timeout(60_000);

    it("starts the checker from the project directory, as pulumi up does, without loading the Pulumi SDK", () => {
        // pulumi-command runs `create` with /bin/sh -c in the project directory.
        const { r, modules } = loadedModules(checkerCommand(["network", "--help"]));
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.contain("usage: cli/gate.ts network");
        expect(modules.some((m) => m.includes(path.join("cli", "gate.")))).to.equal(true);
        expect(modules.filter((m) => /node_modules[/\\](@pulumi|@grpc)[/\\]/.test(m))).to.deep.equal([]);
    });

    it("still reports config errors to pulumi up as a RunError (a list, no stack trace), without the SDK in the gates", () => {
        const e = new ConfigError([error("talos-platform:cluster.name", "is required", "set it")]);
        expect(pulumi.RunError.isInstance(e)).to.equal(true);
        expect(ConfigError.isConfigError(e)).to.equal(true);
        expect(pulumi.RunError.isInstance(new Error("x"))).to.equal(false);
    });
});
