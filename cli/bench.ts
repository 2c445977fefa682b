import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import { checkerCommand } from "../lib/gates/command";
import { benchGates } from "./bench-gates";
import { loadNote, median, verdict } from "./bench-stats";
import { benchTests } from "./bench-tests";

// Wall-clock medians of whole processes, interleaved so drift in machine
// load hits every case alike. Ratios are only quoted within one run.

const ROOT = path.resolve(__dirname, "..", "..");
const NODE_BIN = path.join(ROOT, "node_modules", ".bin");

/** A case: one or more commands run one after the other, like `a && b`. */
interface Case {
    name: string;
    steps: { file: string; args: string[] }[];
}

const node = (...args: string[]) => ({ file: process.execPath, args });

/** The dev stack with its Flux phases replaced by `count` generated Kustomizations in phases of 25. */
export function generatedStack(count: number): string {
    const doc = parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
    const phases: { name: string; kustomizations: { name: string; path: string }[] }[] = [];
    for (let i = 0; i < count; i++) {
        if (i % 25 === 0) phases.push({ name: `phase-${phases.length + 1}`, kustomizations: [] });
        phases[phases.length - 1].kustomizations.push({ name: `app-${i + 1}`, path: `./apps/app-${i + 1}` });
    }
    doc.config["talos-platform:flux"].phases = phases;
    return stringify(doc);
}

function time(c: Case): number {
    const start = process.hrtime.bigint();
    // npm puts node_modules/.bin on PATH for its scripts; so do these cases.
    const env = { ...process.env, PATH: `${NODE_BIN}${path.delimiter}${process.env.PATH ?? ""}` };
    for (const s of c.steps) execFileSync(s.file, s.args, { cwd: ROOT, env, stdio: ["ignore", "ignore", "inherit"] });
    return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Every case `runs` times, interleaved; rows of a Markdown table and the medians by name. */
function interleaved(cases: Case[], runs: number): { rows: string[]; med: Map<string, number> } {
    const samples = new Map(cases.map((c) => [c.name, [] as number[]]));
    for (const c of cases) time(c); // warm the file cache
    for (let r = 0; r < runs; r++) for (const c of cases) samples.get(c.name)!.push(time(c));
    const med = new Map(cases.map((c) => [c.name, median(samples.get(c.name)!)]));
    const rows = cases.map((c) => {
        const xs = samples.get(c.name)!;
        return `| ${c.name} | ${med.get(c.name)!.toFixed(0)} | ${Math.min(...xs).toFixed(0)} | ${Math.max(...xs).toFixed(0)} |`;
    });
    return { rows, med };
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            runs: { type: "string", default: "7" },
            "gate-runs": { type: "string", default: "5" },
            "npm-test": { type: "string", default: "0" },
        },
    });
    const runs = Number(values.runs);
    // A section with 0 runs is left out (e.g. --runs 0 --gate-runs 0 --npm-test 3).
    if (runs > 0) startUp(runs);
    const gateRuns = Number(values["gate-runs"]);
    if (gateRuns > 0) process.stdout.write("\n" + (await benchGates(gateRuns)).join("\n") + "\n");
    const testRuns = Number(values["npm-test"]);
    if (testRuns > 0) process.stdout.write("\n" + benchTests(ROOT, testRuns).join("\n") + "\n");
}

/** Start-up of the commands a user runs, against the bare imports they cannot be faster than. */
function startUp(runs: number): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-platform-bench-"));
    const stack = (n: number) => {
        const file = path.join(dir, `Pulumi.k${n}.yaml`);
        fs.writeFileSync(file, generatedStack(n));
        return file;
    };
    const json = ["--format", "json"];
    const C = {
        bare: "bare import (@pulumi/pulumi + @pulumi/kubernetes)",
        plan: "plan: dev stack, as `npm run plan` runs it (node cli/run.cjs plan)",
        npmPlan: "plan: dev stack, `npm run -s plan` (with npm's own start-up)",
        oldPlan: "plan: dev stack, before (tsc -b tsconfig.build.json && node dist/cli/plan.js)",
        k100: "plan: 100 Kustomizations",
        k500: "plan: 500 Kustomizations",
        client: "bare import (@kubernetes/client-node)",
        gate: "gate --help, as `pulumi up` runs it (sh -c 'node cli/run.cjs gate …')",
        gateTs: "gate --help from the sources (ts-node: before, and when dist/ is stale)",
    };
    const gateHelp = checkerCommand(["network", "--help"]);
    const cases: Case[] = [
        { name: C.bare, steps: [node("-e", "require('@pulumi/pulumi'); require('@pulumi/kubernetes')")] },
        { name: C.plan, steps: [node("cli/run.cjs", "plan", "--stack", "dev", ...json)] },
        { name: C.npmPlan, steps: [{ file: "npm", args: ["run", "-s", "plan", "--", "--stack", "dev", ...json] }] },
        {
            name: C.oldPlan,
            steps: [node(path.join(NODE_BIN, "tsc"), "-b", "tsconfig.build.json"), node("dist/cli/plan.js", "--stack", "dev", ...json)],
        },
        { name: C.k100, steps: [node("cli/run.cjs", "plan", "--config", stack(100), ...json)] },
        { name: C.k500, steps: [node("cli/run.cjs", "plan", "--config", stack(500), ...json)] },
        { name: C.client, steps: [node("-e", "require('@kubernetes/client-node')")] },
        // pulumi-command runs `create` as /bin/sh -c in the project directory.
        { name: C.gate, steps: [{ file: "/bin/sh", args: ["-c", gateHelp] }] },
        { name: C.gateTs, steps: [node("-r", "ts-node/register/transpile-only", "cli/gate.ts", "network", "--no-stack", "--help")] },
    ];
    const load = loadNote();
    const { rows, med } = interleaved(cases, runs);
    const m = (k: keyof typeof C) => med.get(C[k])!;
    const ratio = (a: keyof typeof C, b: keyof typeof C) => (m(a) / m(b)).toFixed(2);
    const out = [
        `talos-platform bench: ${runs} interleaved runs per case, wall-clock ms, node ${process.version}, ${os.cpus().length} CPUs, ${load} at the start, ${loadNote()} at the end`,
        "",
        "| case | median | min | max |",
        "|---|---|---|---|",
        ...rows,
        "",
        `npm run plan (what npm runs, its freshness check included) / bare import: ${ratio("plan", "bare")}× (goal ≤ 2×: ${verdict(m("plan") <= 2 * m("bare"))})`,
        `  with npm's own start-up, which the bare import does not pay: ${ratio("npmPlan", "bare")}×; before: ${ratio("oldPlan", "bare")}×`,
        `gate start, as pulumi up runs it / bare @kubernetes/client-node: ${ratio("gate", "client")}× (goal ≤ 1.5×: ${verdict(m("gate") <= 1.5 * m("client"))})`,
        `  from the sources under ts-node (before; now only when dist/ is stale): ${ratio("gateTs", "client")}×`,
        `500 Kustomizations / dev plan: ${ratio("k500", "plan")}× (goal ≤ 3×: ${verdict(m("k500") <= 3 * m("plan"))})`,
    ];
    process.stdout.write(out.join("\n") + "\n");
    fs.rmSync(dir, { recursive: true, force: true });
}

/** Runs the bench (cli/run.cjs calls this). */
export function run(): void {
    main().catch((e: unknown) => {
        process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
    });
}

if (require.main === module) run();
