import { parseArgs } from "node:util";
import { CheckerIo, CLUSTER_FLAGS, configFrom, errorExit, runCli, userPath } from "../lib/gates/checker";
import { doctor, doctorExit, renderChain } from "../lib/gates/doctor";
import { connect } from "../lib/gates/kube";
import { durationFlag, GATE_NAMES, GateName, GateOptions, UsageError } from "../lib/gates/options";
import { recoveryTargets } from "../lib/gates/recovery";
import { gateOptions } from "../lib/gates/targets";

const USAGE = `usage: npm run doctor -- [--stack NAME | --config FILE] [--context NAME] [--kubeconfig FILE] [--timeout D] [--poll D]

Looks first for what an interrupted operation left behind (Helm releases
pending or failed, Kustomizations stuck deleting, probe pods of a killed
gate), then checks a running cluster link by link in recovery order
(network → dns → certificates → ingress → gitops), stops at the first
broken link, and prints the chain with the diagnosis and each fix. BGP and
L2 announcements, when configured, are a side link after ingress: only
clients outside the cluster need them, so the chain goes on past them.
Read-only, apart from short-lived probe pods that it always deletes.

  --stack NAME       the stack whose settings describe the cluster (default: the only
                     Pulumi.<stack>.yaml in the project; with several or none, say which)
  --config FILE      read FILE instead of Pulumi.<stack>.yaml
  --context NAME     kubeconfig context (default: cluster.kubeContext, else the current one)
  --kubeconfig FILE  kubeconfig file (default: KUBECONFIG or ~/.kube/config)
  --timeout D        how long each link may take (default: the gate's timeout, at most 1m:
                     the doctor looks at the cluster as it is, it does not wait for a rollout)
  --poll D           poll interval, at most 2s (default: gates.pollInterval)

Exit status: 0 every link works, 1 a link is broken or something left behind blocks the next
\`pulumi up\`, 2 usage, config or kubeconfig errors, or this machine cannot reach the API
server, 3 internal error (a bug: TALOS_PLATFORM_DEBUG=1 shows its stack trace), 130
interrupted (probe pods are deleted first).`;

const HELP = "npm run doctor -- --help";

const DOCTOR_MAX_TIMEOUT_MS = 60_000;

export async function main(argv: string[], io: CheckerIo): Promise<number> {
    try {
        let values;
        try {
            values = parseArgs({
                args: argv,
                options: { ...CLUSTER_FLAGS, poll: { type: "string" } },
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
        const timeout = values.timeout === undefined ? undefined : durationFlag("timeout", values.timeout);
        const poll = values.poll === undefined ? undefined : durationFlag("poll", values.poll);
        const { config, source } = configFrom(values, io, false);
        const kubeconfig = userPath(io, values.kubeconfig);
        const options = gateOptions(config);
        for (const gate of GATE_NAMES as GateName[]) {
            const o = options[gate] as GateOptions[GateName];
            o.timeoutMs = timeout ?? Math.min(o.timeoutMs, DOCTOR_MAX_TIMEOUT_MS);
            if (poll !== undefined) o.pollMs = poll;
            if (values.context) {
                o.context = values.context;
                o.contextFrom = "flag";
            }
            if (kubeconfig) o.kubeconfig = kubeconfig;
        }
        const { kubeconfig: file, context, contextFrom } = options.network;
        const kube = connect({ kubeconfig: file, context, contextFrom });
        io.out(`talos-platform doctor · ${source} · context ${kube.context} (${kube.server})\n`);
        const result = await doctor(options, io, kube, recoveryTargets(config));
        io.out(renderChain(result));
        return doctorExit(result);
    } catch (e) {
        return errorExit(e, io, "doctor", USAGE, HELP);
    }
}

/** Runs the command line in process.argv (cli/run.cjs calls this). */
export function run(): void {
    runCli("doctor", main);
}

if (require.main === module) run();
