import { checkGate, CheckerIo, configFrom, errorExit, optionsFor, processIo, renderResult } from "../lib/gates/checker";
import { FLAGS, GATE_NAMES, GateName, parseGateFlags, UsageError } from "../lib/gates/options";

const USAGE = `usage: cli/gate.ts <gate> [--stack NAME | --config FILE] [flags]

Runs one readiness gate against the cluster of the current kubeconfig
context (KUBECONFIG or ~/.kube/config), exactly as \`pulumi up\` runs it
between two phases. Gates: ${GATE_NAMES.join(", ")}.

  --stack NAME       take the gate's settings from Pulumi.NAME.yaml
  --config FILE      take them from FILE (same format)
  --context NAME     kubeconfig context (default: the current one)
  --kubeconfig FILE  kubeconfig file (default: KUBECONFIG or ~/.kube/config)
  --timeout D        give up after D (e.g. 2m)
  --poll D           poll every D (at most 2s)
  plus the gate's own flags, which override the stack's settings:
${GATE_NAMES.map(
    (g) =>
        `    ${g}: ${Object.values(FLAGS[g])
            .map((f) => `--${f.flag}`)
            .join(" ")}`,
).join("\n")}

Exit status: 0 the gate passed, 1 it failed (with a diagnosis), 2 usage or
kubeconfig errors, 130 interrupted (probe pods are deleted first).`;

/** The gate command. Returns the exit status. */
export async function main(argv: string[], io: CheckerIo): Promise<number> {
    try {
        const [gate, ...rest] = argv;
        if (gate === undefined || gate === "--help" || gate === "-h") {
            io.out(USAGE + "\n");
            return gate === undefined ? 2 : 0;
        }
        if (!(GATE_NAMES as readonly string[]).includes(gate))
            throw new UsageError(`unknown gate '${gate}'; use one of ${GATE_NAMES.join(", ")}`);
        const name = gate as GateName;
        // Parse once for --stack/--config, then again over the options they give.
        const stackFlags = { stack: { type: "string" }, config: { type: "string" } } as const;
        const { config } = configFrom(parseGateFlags(name, rest, {} as never, stackFlags).extra, io.cwd);
        const { options } = parseGateFlags(name, rest, optionsFor(name, config), stackFlags);
        const result = await checkGate(name, options, io);
        if (result.ok) io.out(renderResult(result));
        else io.err(renderResult(result));
        return result.ok ? 0 : result.interrupted ? 130 : 1;
    } catch (e) {
        return errorExit(e, io, "gate", USAGE);
    }
}

if (require.main === module) {
    main(process.argv.slice(2), processIo()).then(
        (code) => (process.exitCode = code),
        (e: unknown) => {
            process.stderr.write(`gate: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
            process.exitCode = 1;
        },
    );
}
