import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import type { Plan } from "../lib/plan/model";
import { renderMarkdown, renderText } from "../lib/plan/render";
import { runPlan } from "../lib/plan/run";
import { readStackFile, StackFileError } from "../lib/plan/stackfile";

const USAGE = `usage: npm run -s plan -- [--stack NAME | --config FILE] [--format text|json|markdown] [--out FILE]

Runs the Pulumi program offline, under Pulumi's mock engine, and shows what
\`pulumi up\` would deploy, phase by phase. No cluster, no Pulumi account.

  --stack NAME     read Pulumi.NAME.yaml (default: dev)
  --config FILE    read FILE instead (same format as Pulumi.<stack>.yaml)
  --format FORMAT  text (default), json, or markdown (for PR comments)
  --out FILE       write the plan to FILE instead of standard output

Exit status: 0 ok, 1 config errors or mandatory findings, 2 usage errors.`;

const FORMATS = ["text", "json", "markdown"] as const;
type Format = (typeof FORMATS)[number];

export interface Io {
    out(text: string): void;
    err(text: string): void;
    cwd: string;
}

class UsageError extends Error {}

export function render(plan: Plan, format: Format): string {
    if (format === "json") return JSON.stringify(plan, null, 2) + "\n";
    return format === "markdown" ? renderMarkdown(plan) : renderText(plan);
}

function options(argv: string[]) {
    try {
        return parseArgs({
            args: argv,
            options: {
                stack: { type: "string" },
                config: { type: "string" },
                format: { type: "string", default: "text" },
                out: { type: "string" },
                help: { type: "boolean", short: "h" },
            },
            strict: true,
            allowPositionals: false,
        }).values;
    } catch (e) {
        throw new UsageError((e as Error).message);
    }
}

/** The plan command. Returns the exit status. */
export async function main(argv: string[], io: Io): Promise<number> {
    try {
        const values = options(argv);
        if (values.help) {
            io.out(USAGE + "\n");
            return 0;
        }
        const format = values.format as Format;
        if (!FORMATS.includes(format)) throw new UsageError(`unknown format '${values.format}'; use one of ${FORMATS.join(", ")}`);
        if (values.stack && values.config) throw new UsageError("give --stack or --config, not both");
        const stack = values.stack ?? "dev";
        if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new UsageError(`'${stack}' is not a stack name`);
        const file = values.config ? path.resolve(io.cwd, values.config) : path.join(io.cwd, `Pulumi.${stack}.yaml`);
        const stackName = values.config
            ? path
                  .basename(file)
                  .replace(/^Pulumi\./, "")
                  .replace(/\.ya?ml$/, "")
            : stack;

        let input;
        try {
            input = readStackFile(file, stackName);
        } catch (e) {
            if (e instanceof StackFileError) throw new UsageError(e.message);
            throw e;
        }
        const plan = await runPlan(input);
        const text = render(plan, format);
        if (values.out) fs.writeFileSync(path.resolve(io.cwd, values.out), text);
        else io.out(text);
        return plan.ok ? 0 : 1;
    } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        io.err(`plan: ${e.message}\n\n${USAGE}\n`);
        return 2;
    }
}

if (require.main === module) {
    const io: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), cwd: process.cwd() };
    main(process.argv.slice(2), io).then(
        (code) => (process.exitCode = code),
        (e: unknown) => {
            process.stderr.write(`plan: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
            process.exitCode = 1;
        },
    );
}
