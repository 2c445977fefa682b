import { checkGate, CheckerIo, configFrom, errorExit, optionsFor, renderResult, runCli, userPath } from "../lib/gates/checker";
import { FLAGS, GATE_NAMES, GateName, parseGateFlags, UsageError } from "../lib/gates/options";

const USAGE = `usage: cli/gate.ts <gate> [--stack NAME | --config FILE | --no-stack] [flags]

Runs one readiness gate against the cluster of the current kubeconfig
context (KUBECONFIG or ~/.kube/config), exactly as \`pulumi up\` runs it
between two phases. Gates: ${GATE_NAMES.join(", ")}.

  --stack NAME       take the gate's settings from Pulumi.NAME.yaml (default: dev, when Pulumi.dev.yaml exists)
  --config FILE      take them from FILE (same format)
  --no-stack         read no stack file: every setting comes from flags and defaults (how \`pulumi up\` runs it)
  --context NAME     kubeconfig context (default: the current one)
  --kubeconfig FILE  kubeconfig file (default: KUBECONFIG or ~/.kube/config)
  --timeout D        give up after D (e.g. 2m)
  --poll D           poll every D (at most 2s)
  -h, --help         this text
  plus the gate's own flags, which override the stack's settings:
${GATE_NAMES.map(
    (g) =>
        `    ${g}: ${Object.values(FLAGS[g])
            .map((f) => `--${f.flag}`)
            .join(" ")}`,
).join("\n")}

Exit status: 0 the gate passed, 1 it failed (with a diagnosis), 2 usage or
kubeconfig errors, 130 interrupted (probe pods are deleted first).`;

/** The default stack when the command names none: the stack `npm run gate:<phase>` checks. */
const DEFAULT_STACK = "dev";

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
        const own = {
            stack: { type: "string" },
            config: { type: "string" },
            "no-stack": { type: "boolean" },
            help: { type: "boolean", short: "h" },
        } as const;
        const { extra } = parseGateFlags(name, rest, {} as never, own);
        if (extra.help) {
            io.out(USAGE + "\n");
            return 0;
        }
        const { config } = configFrom(extra, io, DEFAULT_STACK);
        const { options } = parseGateFlags(name, rest, optionsFor(name, config), own);
        options.kubeconfig = userPath(io, options.kubeconfig);
        const result = await checkGate(name, options, io);
        if (result.ok) io.out(renderResult(result));
        else io.err(renderResult(result));
        return result.ok ? 0 : result.interrupted ? 130 : 1;
    } catch (e) {
        return errorExit(e, io, "gate", USAGE);
    }
}

if (require.main === module) runCli("gate", main);
