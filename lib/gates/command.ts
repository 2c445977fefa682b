/**
 * The shell command that runs the gate checker (cli/gate.ts) from a
 * @pulumi/command resource: `gate` and its flags. It goes through
 * cli/run.cjs, which runs the compiled checker in dist/ when that matches the
 * sources and the sources otherwise, so the command is the same either way.
 * The path is relative: Pulumi runs commands in the project directory, and an
 * absolute path would make every machine's `up` see a changed command.
 * `--no-stack`: the flags carry every setting, and no stack file on disk may change them.
 */
export function checkerCommand([gate, ...flags]: string[]): string {
    return ["node", "cli/run.cjs", "gate", gate, "--no-stack", ...flags].map(shellQuote).join(" ");
}

export function shellQuote(arg: string): string {
    return /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Common flags: which kubeconfig context, how long, how often. */
export function checkerFlags(opts: { context?: string; timeout: string; pollInterval: string }): string[] {
    const flags = ["--timeout", opts.timeout, "--poll", opts.pollInterval];
    if (opts.context) flags.push("--context", opts.context);
    return flags;
}
