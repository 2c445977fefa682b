import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import { benchGates } from "./bench-gates";

// Wall-clock medians of whole processes, interleaved so drift in machine
// load hits every case alike. Ratios are only quoted within one run.

const ROOT = path.resolve(__dirname, "..", "..");
const PLAN = path.join(ROOT, "dist", "cli", "plan.js");

interface Case {
    name: string;
    args: string[];
}

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
    execFileSync(process.execPath, c.args, { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
    return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { runs: { type: "string", default: "7" }, "gate-runs": { type: "string", default: "5" } } });
    const runs = Number(values.runs);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-platform-bench-"));
    const stack = (n: number) => {
        const file = path.join(dir, `Pulumi.k${n}.yaml`);
        fs.writeFileSync(file, generatedStack(n));
        return file;
    };
    const cases: Case[] = [
        {
            name: "bare import (@pulumi/pulumi + @pulumi/kubernetes)",
            args: ["-e", "require('@pulumi/pulumi'); require('@pulumi/kubernetes')"],
        },
        { name: "plan: dev stack", args: [PLAN, "--stack", "dev", "--format", "json"] },
        { name: "plan: 100 Kustomizations", args: [PLAN, "--config", stack(100), "--format", "json"] },
        { name: "plan: 500 Kustomizations", args: [PLAN, "--config", stack(500), "--format", "json"] },
    ];
    const samples = new Map(cases.map((c) => [c.name, [] as number[]]));
    time(cases[1]); // warm the file cache
    for (let r = 0; r < runs; r++) for (const c of cases) samples.get(c.name)!.push(time(c));

    const med = new Map(cases.map((c) => [c.name, median(samples.get(c.name)!)]));
    const [bare, dev, , k500] = cases.map((c) => med.get(c.name)!);
    const rows = cases.map((c) => {
        const xs = samples.get(c.name)!;
        return `| ${c.name} | ${med.get(c.name)!.toFixed(0)} | ${Math.min(...xs).toFixed(0)} | ${Math.max(...xs).toFixed(0)} |`;
    });
    const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
    const out = [
        `talos-platform bench: ${runs} interleaved runs per case, wall-clock ms, node ${process.version}, ${os.cpus().length} CPUs`,
        "",
        "| case | median | min | max |",
        "|---|---|---|---|",
        ...rows,
        "",
        `dev plan / bare import: ${(dev / bare).toFixed(2)}× (goal ≤ 2×: ${verdict(dev <= 2 * bare)})`,
        `500 Kustomizations / dev plan: ${(k500 / dev).toFixed(2)}× (goal ≤ 3×: ${verdict(k500 <= 3 * dev)})`,
    ];
    process.stdout.write(out.join("\n") + "\n");
    fs.rmSync(dir, { recursive: true, force: true });
    process.stdout.write("\n" + (await benchGates(Number(values["gate-runs"]))).join("\n") + "\n");
}

if (require.main === module) {
    main().catch((e: unknown) => {
        process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
    });
}
