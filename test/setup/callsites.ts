// Loaded by mocha (.mocharc.json) right after ts-node.
//
// The Pulumi SDK takes `new Error().stack` for bookkeeping no test reads:
// every promise it wraps keeps one for its leak report (runtime/debuggable.js)
// and every resource records where it was created (Resource.callsites). Under
// ts-node, source-map-support formats each of those stacks, mapping every
// frame through its file's source map; across the thousands of resources the
// plan tests register, that mapping cost about 24 s of mocha's CPU (a
// --cpu-prof of the suite; docs/development.md). For stacks taken there,
// V8's own format is used instead: the same frames, with the line numbers of
// the transpiled JavaScript. Every other stack, a failing test's included,
// is still mapped to the TypeScript sources.
import * as path from "node:path";

const SDK = `${path.sep}@pulumi${path.sep}pulumi${path.sep}`;
/** Where the SDK takes stacks only for itself. */
const BOOKKEEPING = [`${SDK}runtime${path.sep}debuggable.js`, `${SDK}resource.js`];

const mapped = Error.prepareStackTrace;
if (mapped) {
    Error.prepareStackTrace = function prepareStackTrace(error, frames) {
        const origin = frames[0]?.getFileName() ?? "";
        if (BOOKKEEPING.some((f) => origin.endsWith(f))) {
            // What V8 prints when no prepareStackTrace is set.
            return [String(error), ...frames.map((f) => `    at ${String(f)}`)].join("\n");
        }
        return mapped(error, frames);
    };
}
