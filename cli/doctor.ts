import { parseArgs } from "node:util";
import { CheckerIo, configFrom, errorExit, runCli, userPath } from "../lib/gates/checker";
import { doctor, renderChain } from "../lib/gates/doctor";
import { connect } from "../lib/gates/kube";
import { durationFlag, GATE_NAMES, GateName, GateOptions, UsageError } from "../lib/gates/options";
import { gateOptions } from "../lib/gates/targets";

const USAGE = `usage: npm run doctor -- [--stack NAME | --config FILE] [--context NAME] [--kubeconfig FILE] [--timeout D] [--poll D]

Checks a running cluster link by link in recovery order (network → dns →
certificates → ingress → gitops), stops at the first broken link, and
prints the chain with the diagnosis. Read-only, apart from short-lived
probe pods that it always deletes.

  --stack NAME       the stack whose settings describe the cluster (default: dev, when Pulumi.dev.yaml exists)
  --config FILE      read FILE instead of Pulumi.<stack>.yaml
  --context NAME     kubeconfig context (default: cluster.kubeContext, else the current one)
  --kubeconfig FILE  kubeconfig file (default: KUBECONFIG or ~/.kube/config)
  --timeout D        how long each link may take (default: the gate's timeout, at most 1m:
                     the doctor looks at the cluster as it is, it does not wait for a rollout)
  --poll D           poll interval, at most 2s (default: gates.pollInterval)

Exit status: 0 every link works, 1 a link is broken, 2 usage, config or kubeconfig errors,
130 interrupted (probe pods are deleted first).`;

const DOCTOR_MAX_TIMEOUT_MS = 60_000;

export async function main(argv: string[], io: CheckerIo): Promise<number> {
    try {
        let values;
        try {
            values = parseArgs({
                args: argv,
                options: {
                    stack: { type: "string" },
                    config: { type: "string" },
                    context: { type: "string" },
                    kubeconfig: { type: "string" },
                    timeout: { type: "string" },
                    poll: { type: "string" },
                    help: { type: "boolean", short: "h" },
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
        const timeout = values.timeout === undefined ? undefined : durationFlag("timeout", values.timeout);
        const poll = values.poll === undefined ? undefined : durationFlag("poll", values.poll);
        const { config, source } = configFrom(values, io, "dev");
        const kubeconfig = userPath(io, values.kubeconfig);
        const options = gateOptions(config);
        for (const gate of GATE_NAMES as GateName[]) {
            const o = options[gate] as GateOptions[GateName];
            o.timeoutMs = timeout ?? Math.min(o.timeoutMs, DOCTOR_MAX_TIMEOUT_MS);
            if (poll !== undefined) o.pollMs = poll;
            if (values.context) o.context = values.context;
            if (kubeconfig) o.kubeconfig = kubeconfig;
        }
        const kube = connect({ kubeconfig: options.network.kubeconfig, context: options.network.context });
        io.out(`talos-platform doctor · ${source} · context ${kube.context} (${kube.server})\n`);
        const result = await doctor(options, io, kube);
        io.out(renderChain(result));
        if (result.links.some((l) => l.result?.interrupted)) return 130;
        return result.ok ? 0 : 1;
    } catch (e) {
        return errorExit(e, io, "doctor", USAGE);
    }
}

if (require.main === module) runCli("doctor", main);
