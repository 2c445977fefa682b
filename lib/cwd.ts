/**
 * The directory the user ran the command in. `npm run` starts scripts in the
 * package root and says in INIT_CWD where the user was, so a relative path
 * on the command line must start from there, not from process.cwd().
 */
export function invocationDir(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
    return env.INIT_CWD || cwd;
}

let configDir: string | undefined;

/**
 * Where a relative path in the stack config (cluster.talosConfig) starts:
 * the stack file's directory. Under `pulumi up` that is the project
 * directory, the program's working directory; the offline plan sets it to
 * the directory of the stack file it reads.
 */
export function configBaseDir(): string {
    return configDir ?? process.cwd();
}

/** Sets configBaseDir() for an in-process run of the program (the plan); undefined restores the default. */
export function setConfigBaseDir(dir: string | undefined): void {
    configDir = dir;
}
