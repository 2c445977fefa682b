import { DEBUG_ENV, debugRequested, INTERNAL_ERROR } from "../lib/exit";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { invocationDir } from "../lib/cwd";
import { BasePlanError, parseBasePlan } from "../lib/plan/base";
import { diffPlans } from "../lib/plan/diff";
import type { Plan } from "../lib/plan/model";
import { renderMarkdown, renderText } from "../lib/plan/render";
import { failedPlan, runPlanWithPolicyConfig } from "../lib/plan/run";
import { readStackFile, StackFileError, StackFileProblems } from "../lib/plan/stackfile";
import { CONFIG_NAMESPACE as PROJECT } from "../lib/problems";

const USAGE = `usage: npm run -s plan -- [--stack NAME | --config FILE] [--format text|json|markdown] [--out FILE]
                            [--base FILE] [--policy-config FILE] [--fetch-charts] [--debug]

Runs the Pulumi program offline, under Pulumi's mock engine, and shows what
\`pulumi up\` would deploy, phase by phase. No cluster, no Pulumi account.

  --stack NAME     read Pulumi.NAME.yaml (default: dev)
  --config FILE    read FILE instead (same format as Pulumi.<stack>.yaml)
  --format FORMAT  text (default), json, or markdown (for PR comments)
  --out FILE       write the plan to FILE instead of standard output
  --base FILE      compare with an earlier JSON plan (the base branch's): show
                   what changes first, and add "changes" to the JSON
  --policy-config FILE
                   also write the stack's policy pack config to FILE, for
                   pulumi preview/up --policy-pack policies --policy-pack-config FILE
  --fetch-charts   download each pinned chart version talos-platform carries no
                   data for (its Helm repository or OCI registry: network), keep
                   it in \$XDG_CACHE_HOME/talos-platform/charts (else
                   ~/.cache/talos-platform/charts), and check the values against it
  --debug          print the stack trace of an internal error (or set ${DEBUG_ENV}=1)

Relative paths start from the directory you ran npm in; Pulumi.NAME.yaml is
read from the project's directory.

Exit status: 0 ok; 1 config errors or mandatory findings (the plan says
which); 2 usage errors (nothing was planned); 3 internal error, a bug in
talos-platform (rerun with --debug and report it). With --base, the status is
still that of this plan, whatever the base's.`;

const FORMATS = ["text", "json", "markdown"] as const;
type Format = (typeof FORMATS)[number];

export interface Io {
    out(text: string): void;
    err(text: string): void;
    /** Where relative --config, --out and --policy-config paths start: the directory the user ran `npm run` in. */
    cwd: string;
    /** Where Pulumi.<stack>.yaml files live. @default cwd */
    projectDir?: string;
    /** Print an internal error's stack trace (--debug does too). */
    debug?: boolean;
    /** Where --fetch-charts keeps charts. @default chartCacheDir() */
    chartCache?: string;
}

/** The real command line's Io. */
export function processIo(env: NodeJS.ProcessEnv = process.env): Io {
    return {
        out: (t) => process.stdout.write(t),
        err: (t) => process.stderr.write(t),
        cwd: invocationDir(env),
        projectDir: process.cwd(),
        debug: debugRequested(env),
    };
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
                base: { type: "string" },
                "policy-config": { type: "string" },
                "fetch-charts": { type: "boolean" },
                debug: { type: "boolean" },
                help: { type: "boolean", short: "h" },
            },
            strict: true,
            allowPositionals: false,
        }).values;
    } catch (e) {
        throw new UsageError((e as Error).message);
    }
}

/**
 * The file a path flag names, checked before the plan runs: a plan that
 * takes seconds should not be lost to a typo in the output path.
 */
function writableFile(flag: string, given: string, cwd: string): string {
    const file = path.resolve(cwd, given);
    const dir = path.dirname(file);
    const where = given === file ? "" : ` (${file})`;
    let stat: fs.Stats | undefined;
    try {
        stat = fs.statSync(dir);
    } catch {
        throw new UsageError(`--${flag} ${given}${where}: the directory ${dir} does not exist; create it or write elsewhere`);
    }
    if (!stat.isDirectory()) throw new UsageError(`--${flag} ${given}${where}: ${dir} is not a directory; write elsewhere`);
    try {
        fs.accessSync(dir, fs.constants.W_OK);
    } catch {
        throw new UsageError(`--${flag} ${given}${where}: the directory ${dir} is not writable; write elsewhere`);
    }
    if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory())
        throw new UsageError(`--${flag} ${given}${where} is a directory; give a file name, e.g. ${path.join(given, "plan.md")}`);
    return file;
}

/** The --base plan, read before the plan runs: a wrong file is a usage error, found in a second, not after the plan. */
function readBase(given: string, cwd: string): Plan {
    const file = path.resolve(cwd, given);
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new UsageError(`--base ${given}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
        return parseBasePlan(text, `--base ${given}`);
    } catch (e) {
        if (e instanceof BasePlanError) throw new UsageError(e.message);
        throw e;
    }
}

/** Writes a file checked by writableFile; a failure now (disk full, a race) is the user's environment, not a bug. */
function writeFile(flag: string, file: string, text: string): void {
    try {
        fs.writeFileSync(file, text);
    } catch (e) {
        throw new UsageError(`--${flag}: cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
}

/**
 * --fetch-charts: the chart data the checks need for versions the program
 * does not carry. A chart that cannot be fetched stops the plan: CI asked
 * for the check, and a plan without it would look the same as one with it.
 */
async function fetchCharts(input: { config: Record<string, unknown>; secretKeys?: string[] }, io: Io): Promise<void> {
    // Loaded only here: a plan without the flag does not pay for tar and the downloader.
    type FetchModule = typeof import("../lib/charts/fetch");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ChartFetchError, chartCacheDir, fetchChart, uncheckedPins } = require("../lib/charts/fetch") as FetchModule;
    const cacheDir = io.chartCache ?? chartCacheDir();
    const inside = path.relative(io.projectDir ?? io.cwd, cacheDir);
    if (!inside.startsWith("..") && !path.isAbsolute(inside)) {
        throw new UsageError(`--fetch-charts: the chart cache ${cacheDir} is inside the project; point XDG_CACHE_HOME outside it`);
    }
    for (const pin of uncheckedPins(input.config, input.secretKeys)) {
        try {
            const data = await fetchChart(pin, { cacheDir });
            io.err(
                `plan: ${pin.section}: checking the ${pin.chart} ${pin.version} chart's values against ${pin.repository} (${data.dir})\n`,
            );
        } catch (e) {
            if (e instanceof ChartFetchError)
                throw new UsageError(`--fetch-charts: cannot fetch ${pin.chart} ${pin.version}: ${e.message}`);
            throw e;
        }
    }
}

/** A bug: one line, so it is not mistaken for a problem with the user's config; the stack trace on request. */
function internalError(e: unknown, debug: boolean): string {
    if (debug) return `plan: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`;
    const message = (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).split("\n")[0];
    return `plan: internal error (a bug in talos-platform, not in your config): ${message}; rerun with --debug or ${DEBUG_ENV}=1 for the stack trace\n`;
}

/** The plan command. Returns the exit status; `run` is replaceable so tests can make it fail. */
export async function main(argv: string[], io: Io, run: typeof runPlanWithPolicyConfig = runPlanWithPolicyConfig): Promise<number> {
    let debug = io.debug ?? false;
    try {
        const values = options(argv);
        debug ||= values.debug === true;
        if (values.help) {
            io.out(USAGE + "\n");
            return 0;
        }
        const format = values.format as Format;
        if (!FORMATS.includes(format)) throw new UsageError(`unknown format '${values.format}'; use one of ${FORMATS.join(", ")}`);
        if (values.stack && values.config) throw new UsageError("give --stack or --config, not both");
        const stack = values.stack ?? "dev";
        if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new UsageError(`'${stack}' is not a stack name`);
        const file = values.config ? path.resolve(io.cwd, values.config) : path.join(io.projectDir ?? io.cwd, `Pulumi.${stack}.yaml`);
        const stackName = values.config
            ? path
                  .basename(file)
                  .replace(/^Pulumi\./, "")
                  .replace(/\.ya?ml$/, "")
            : stack;
        const out = values.out === undefined ? undefined : writableFile("out", values.out, io.cwd);
        const base = values.base === undefined ? undefined : readBase(values.base, io.cwd);
        const policyFile =
            values["policy-config"] === undefined ? undefined : writableFile("policy-config", values["policy-config"], io.cwd);

        let input;
        try {
            input = readStackFile(file, stackName, undefined, values.config ?? `Pulumi.${stack}.yaml`);
        } catch (e) {
            // A file that is there but broken is the config's problem, reported like any config error.
            if (e instanceof StackFileProblems) input = e;
            else if (e instanceof StackFileError) throw new UsageError(e.message);
            else throw e;
        }
        if (values["fetch-charts"] && !(input instanceof StackFileProblems)) await fetchCharts(input, io);
        const { plan, policyConfig } =
            input instanceof StackFileProblems ? { plan: failedPlan(PROJECT, stackName, input.errors) } : await run(input);
        if (base) plan.changes = diffPlans(base, plan);
        const text = render(plan, format);
        if (out) writeFile("out", out, text);
        else io.out(text);
        if (policyFile && policyConfig) writeFile("policy-config", policyFile, JSON.stringify(policyConfig, null, 2) + "\n");
        // Facts from a config with errors would be guesses; the plan already says what to fix.
        else if (policyFile) io.err(`plan: ${values["policy-config"]} not written: the stack's config has errors\n`);
        return plan.ok ? 0 : 1;
    } catch (e) {
        if (e instanceof UsageError) {
            io.err(`plan: ${e.message}\n\n${USAGE}\n`);
            return 2;
        }
        io.err(internalError(e, debug));
        return INTERNAL_ERROR;
    }
}

if (require.main === module) {
    main(process.argv.slice(2), processIo()).then(
        (code) => (process.exitCode = code),
        // main reports its own errors; this is the last resort should reporting itself fail.
        (e: unknown) => {
            process.stderr.write(internalError(e, true));
            process.exitCode = INTERNAL_ERROR;
        },
    );
}
