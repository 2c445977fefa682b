/** Exit status of a bug in talos-platform itself, for every command: 1 always means the config or the cluster. */
export const INTERNAL_ERROR = 3;

/** Set to anything but 0 for the stack trace of an internal error. */
export const DEBUG_ENV = "TALOS_PLATFORM_DEBUG";

export function debugRequested(env: NodeJS.ProcessEnv = process.env): boolean {
    return !["", "0", undefined].includes(env[DEBUG_ENV]);
}
