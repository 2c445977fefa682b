import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { adopt, AdoptReport } from "../lib/adopt";
import { UnreachableError } from "../lib/adopt/discover";
import { renderReport } from "../lib/adopt/render";
import { CheckerIo, CLUSTER_FLAGS, errorExit, runCli, stackFileFrom, userPath } from "../lib/gates/checker";
import { connect } from "../lib/gates/kube";
import { durationFlag, UsageError } from "../lib/gates/options";
import { stackFileConfig } from "../lib/gates/stack";
import { runPlan } from "../lib/plan/run";
import { readStackFile } from "../lib/plan/stackfile";

const USAGE = `usage: npm run adopt -- [--stack NAME | --config FILE] [--context NAME] [--kubeconfig FILE]
                        [--timeout D] [--format text|json] [--import-file FILE]

Looks at a running cluster before the first pulumi up: finds the Helm releases
and objects the plan would create that already exist, matches them to the plan,
compares their live values with the planned ones, and checks the transitions
the plan asks for (Cilium upgrades, IPAM, IPv6, BGP v1, kube-proxy, Kubernetes
version support, Flux owning the same objects, stuck releases, the cluster
domain, pod and Service subnets). Read-only: it sends GET requests only.

  --stack NAME        the stack whose settings describe the cluster (default: the only
                      Pulumi.<stack>.yaml in the project; with several or none, say which)
  --config FILE       read FILE instead of Pulumi.<stack>.yaml
  --context NAME      kubeconfig context (default: cluster.kubeContext, else the current one)
  --kubeconfig FILE   kubeconfig file (default: KUBECONFIG or ~/.kube/config)
  --timeout D         give up reading the cluster after D (default: 1m)
  --format FORMAT     text (default) or json (the whole report, for tools)
  --import-file FILE  write the pulumi import --file JSON for what can be imported

Progress goes to standard error, the report to standard output.

Exit status: 0 nothing blocks the import and pulumi up; 1 at least one finding
blocks it (the report says which, and what to do first); 2 usage, config or
kubeconfig errors, or the API server cannot be reached; 3 internal error (a bug:
TALOS_PLATFORM_DEBUG=1 shows its stack trace); 130 interrupted.`;

const HELP = "npm run adopt -- --help";
const DEFAULT_TIMEOUT_MS = 60_000;
const FORMATS = ["text", "json"];

/** The --import-file target, checked before the cluster is read: a typo should not cost a discovery. */
function importTarget(io: CheckerIo, given: string): string {
    const file = path.resolve(io.cwd, given);
    const dir = path.dirname(file);
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory())
        throw new UsageError(`--import-file ${given}: the directory ${dir} does not exist; create it or write elsewhere`);
    if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory())
        throw new UsageError(`--import-file ${given} is a directory; give a file name`);
    return file;
}

/** The flags that select the same stack and cluster, for the commands the report prints. */
function selection(values: Record<string, unknown>): string {
    return ["stack", "config", "context", "kubeconfig"]
        .filter((k) => typeof values[k] === "string")
        .map((k) => `--${k} ${String(values[k])}`)
        .join(" ");
}

export async function main(argv: string[], io: CheckerIo): Promise<number> {
    try {
        let values;
        try {
            values = parseArgs({
                args: argv,
                options: {
                    ...CLUSTER_FLAGS,
                    format: { type: "string", default: "text" },
                    "import-file": { type: "string" },
                },
                strict: true,
                allowPositionals: false,
            }).values;
        } catch (e) {
            throw new UsageError((e as Error).message);
        }
        if (values.help) {
            io.out(USAGE + "\n");
            return 0;
        }
        if (!FORMATS.includes(values.format!)) throw new UsageError(`unknown format '${values.format}'; use text or json`);
        const timeoutMs = values.timeout === undefined ? DEFAULT_TIMEOUT_MS : durationFlag("timeout", values.timeout);
        const importFile = values["import-file"] === undefined ? undefined : importTarget(io, values["import-file"]);
        const choice = stackFileFrom(values, io, false)!;
        const config = stackFileConfig(choice.file, choice.stack);
        const kube = connect({
            kubeconfig: userPath(io, values.kubeconfig),
            context: values.context ?? config.cluster.kubeContext,
            contextFrom: values.context ? "flag" : "stack",
        });
        const progress = (line: string) => io.err(`adopt: ${line}\n`);
        progress(`planning ${choice.source} offline`);
        const plan = await runPlan(readStackFile(choice.file, choice.stack));
        // Nothing may outlive the timeout: every request is aborted at the deadline, or on interrupt.
        kube.limit(Date.now() + timeoutMs, io.signal);
        let report: AdoptReport;
        try {
            report = await adopt({
                plan,
                config,
                stack: choice.stack,
                source: choice.source,
                kube,
                progress,
                importFilePath: importFile ? (values["import-file"] as string) : undefined,
                adoptArgs: selection(values),
            });
        } catch (e) {
            if (io.signal.aborted) {
                io.err("adopt: interrupted\n");
                return 130;
            }
            if (e instanceof UnreachableError) {
                io.err(`adopt: ${e.message}\n`);
                return 2;
            }
            throw e;
        }
        if (importFile && report.importFile) fs.writeFileSync(importFile, JSON.stringify(report.importFile, null, 2) + "\n");
        else if (importFile) {
            report.importFilePath = undefined;
            progress(`nothing to import: ${values["import-file"]} not written`);
        }
        io.out(values.format === "json" ? JSON.stringify(report, null, 2) + "\n" : renderReport(report));
        return report.blocking ? 1 : 0;
    } catch (e) {
        return errorExit(e, io, "adopt", USAGE, HELP);
    }
}

/** Runs the command line in process.argv (cli/run.cjs calls this). */
export function run(): void {
    runCli("adopt", main);
}

if (require.main === module) run();
