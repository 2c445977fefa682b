import { checkGate, CheckerIo, configFrom, errorExit, optionsFor, renderResult, runCli, userPath } from "../lib/gates/checker";
import { COMMON_FLAGS, Flag, FLAGS, flagLines, GATE_NAMES, GateName, parseGateFlags, UsageError } from "../lib/gates/options";
import { exitStatus } from "../lib/gates/run";

/** The flags that choose where settings come from; the gates' own flags are in FLAGS. */
const SOURCE_FLAGS: (Pick<Flag, "flag" | "arg" | "help" | "kind"> & { type: "string" | "boolean" })[] = [
    {
        flag: "stack",
        arg: "NAME",
        type: "string",
        kind: "string",
        help: "take the gate's settings from Pulumi.NAME.yaml (default: the only Pulumi.<stack>.yaml in the project, if there is one)",
    },
    { flag: "config", arg: "FILE", type: "string", kind: "string", help: "take them from FILE (same format)" },
    {
        flag: "no-stack",
        arg: "",
        type: "boolean",
        kind: "bool",
        help: "read no stack file: every setting comes from flags and defaults, as pulumi up runs it",
    },
];

const HELP_FLAG = {
    flag: "help",
    arg: "",
    kind: "bool",
    help: "(or -h) this text; after a gate's name, that gate's flags and what they mean",
} as const;

const EXIT = `Exit status: 0 the gate passed, 1 it failed (with a diagnosis), 2 usage, config or
kubeconfig errors, or this machine cannot reach the API server, 3 internal error (a bug:
TALOS_PLATFORM_DEBUG=1 shows its stack trace), 130 interrupted (probe pods are deleted first).`;

const USAGE = `usage: cli/gate.ts <gate> [--stack NAME | --config FILE | --no-stack] [flags]

Runs one readiness gate against the cluster of the current kubeconfig
context (KUBECONFIG or ~/.kube/config), exactly as \`pulumi up\` runs it
between two phases. Gates: ${GATE_NAMES.join(", ")}.

${flagLines([...SOURCE_FLAGS, ...COMMON_FLAGS, HELP_FLAG]).join("\n")}
  plus the gate's own flags, which override the stack's settings
  (\`npm run gate -- <gate> --help\` says what each means):
${GATE_NAMES.map(
    (g) =>
        `    ${g}: ${Object.values(FLAGS[g])
            .filter((f) => !COMMON_FLAGS.some((c) => c.flag === f.flag))
            .map((f) => `--${f.flag}`)
            .join(" ")}`,
).join("\n")}

${EXIT}`;

/** One gate's usage: every flag it takes, from the same table its parser reads. */
function gateUsage(gate: GateName): string {
    return `usage: cli/gate.ts ${gate} [--stack NAME | --config FILE | --no-stack] [flags]

Runs the ${gate} gate against the cluster of the current kubeconfig context,
exactly as \`pulumi up\` runs it. Flags override the stack's settings.

${flagLines([...SOURCE_FLAGS, ...Object.values(FLAGS[gate]), HELP_FLAG]).join("\n")}

${EXIT}`;
}

/** The gate command. Returns the exit status. */
export async function main(argv: string[], io: CheckerIo): Promise<number> {
    let usage = USAGE;
    let help = "npm run gate -- --help";
    try {
        const [gate, ...rest] = argv;
        if (gate === undefined || gate === "--help" || gate === "-h") {
            io.out(USAGE + "\n");
            return gate === undefined ? 2 : 0;
        }
        if (!(GATE_NAMES as readonly string[]).includes(gate))
            throw new UsageError(`unknown gate '${gate}'; use one of ${GATE_NAMES.join(", ")}`);
        const name = gate as GateName;
        usage = gateUsage(name);
        help = `npm run gate -- ${name} --help`;
        const own = {
            ...Object.fromEntries(SOURCE_FLAGS.map((f) => [f.flag, { type: f.type }])),
            help: { type: "boolean", short: "h" },
        } as const;
        // Parse once for --stack/--config, then again over the options they give.
        const { extra } = parseGateFlags(name, rest, {} as never, own);
        if (extra.help) {
            io.out(usage + "\n");
            return 0;
        }
        const { config, source } = configFrom(extra, io, true);
        const { options } = parseGateFlags(name, rest, optionsFor(name, config), own);
        options.kubeconfig = userPath(io, options.kubeconfig);
        if (source !== "flags") io.out(`talos-platform gate ${name} · ${source}\n`);
        const result = await checkGate(name, options, io);
        if (result.ok) io.out(renderResult(result));
        else io.err(renderResult(result));
        return exitStatus(result);
    } catch (e) {
        return errorExit(e, io, "gate", usage, help);
    }
}

/** Runs the command line in process.argv (cli/run.cjs calls this). */
export function run(): void {
    runCli("gate", main);
}

if (require.main === module) run();
