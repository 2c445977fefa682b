import * as path from "node:path";

// The Pulumi SDK takes a stack trace for its own bookkeeping: one for every
// promise it wraps (runtime/debuggable.js, for a leak report only
// PULUMI_DEBUG_PROMISE_LEAKS prints) and one for every resource
// (Resource.callsites, with no limit on the frames), which it parses and
// marshals frame by frame into the register request as the resource's
// source position. The offline plan's mock engine reads none of it; without
// the frames, `npm run plan` takes about 6 % less time (cli/bench.ts).

const SDK = `${path.sep}@pulumi${path.sep}pulumi${path.sep}`;
/** Where the SDK takes stacks only for itself. */
const BOOKKEEPING = [`${SDK}runtime${path.sep}debuggable.js`, `${SDK}resource.js`];

/** Whether a stack being formatted was taken by the SDK for itself (its top frame is in one of those files). */
export function sdkBookkeeping(frames: NodeJS.CallSite[]): boolean {
    const origin = frames[0]?.getFileName() ?? "";
    return BOOKKEEPING.some((b) => origin.endsWith(b));
}

/** V8's own format, for when nothing else has set Error.prepareStackTrace. */
export function v8Format(error: Error, frames: NodeJS.CallSite[]): string {
    return [String(error), ...frames.map((f) => `    at ${String(f)}`)].join("\n");
}

/**
 * Runs `f` with the SDK's bookkeeping stacks reduced to their first line.
 * Any other stack, an error of the program's included, is formatted as
 * before. Leak debugging (PULUMI_DEBUG_PROMISE_LEAKS) keeps every frame.
 */
export async function withoutSdkStacks<T>(f: () => Promise<T>): Promise<T> {
    if (process.env.PULUMI_DEBUG_PROMISE_LEAKS) return f();
    const previous = Error.prepareStackTrace;
    Error.prepareStackTrace = (error, frames) => (sdkBookkeeping(frames) ? String(error) : (previous ?? v8Format)(error, frames));
    try {
        return await f();
    } finally {
        Error.prepareStackTrace = previous;
    }
}
