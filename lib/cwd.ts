/**
 * The directory the user ran the command in. `npm run` starts scripts in the
 * package root and says in INIT_CWD where the user was, so a relative path
 * on the command line must start from there, not from process.cwd().
 */
export function invocationDir(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
    return env.INIT_CWD || cwd;
}
