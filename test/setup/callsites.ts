// Loaded by mocha (.mocharc.json) right after ts-node.
//
// The Pulumi SDK takes `new Error().stack` for bookkeeping no test reads:
// every promise it wraps keeps one for its leak report (runtime/debuggable.js)
// and every resource records where it was created (Resource.callsites, with
// no limit on the frames), then marshals each frame of that stack into its
// register request. Under ts-node, source-map-support formatted each of those
// stacks, mapping every frame through its file's source map: about 24 s of
// mocha's CPU across the suite (a --cpu-prof; docs/development.md). Stacks
// taken there are now the error's first line alone: no frames to format, none
// to marshal; a dev plan takes about a fifth less CPU than with V8's own
// format. The mocks ignore source positions. Every other stack, a failing
// test's included, is still mapped to the TypeScript sources.
import { sdkBookkeeping, v8Format } from "../../lib/plan/sdk-stacks";

const mapped = Error.prepareStackTrace;
Error.prepareStackTrace = function prepareStackTrace(error, frames) {
    // No frames: the mocks ignore source positions, and the SDK marshals every frame it finds into each request.
    if (sdkBookkeeping(frames)) return String(error);
    return (mapped ?? v8Format)(error, frames);
};
