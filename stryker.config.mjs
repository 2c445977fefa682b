// Mutation testing of the preflight checks and the chart values: `npm run
// mutation`. Not part of `npm test` or CI: a whole run takes hours on two
// cores. Run a part with `npm run mutation -- --mutate lib/checks/dns.ts`,
// and with MUTATION_TESTS=test/dns.test.ts,test/net-properties.test.ts to
// load only the tests that part needs (a mutant only those would kill is
// then reported as surviving, never the other way round). MUTATION_PART=name
// gives a part its own sandbox and reports/mutation/<name>.{html,json}, so
// two parts can run side by side.
import fs from "node:fs";
import path from "node:path";

const shim = path.join(import.meta.dirname, "test", "mutation", "mocha12-cjs.cjs");
const part = process.env.MUTATION_PART ?? "mutation";

// Tests that ask Git for the repository's files (git ls-files), which the
// sandbox under node_modules/ is not: they check docs, vendored files and the
// pull-request script, none of which is mutated, so a whole run leaves them out.
const NEEDS_GIT = ["test/docs-links.test.ts", "test/upstream.test.ts", "test/commands/pr-comment.test.ts"];
const allTests = () =>
    fs
        .readdirSync(path.join(import.meta.dirname, "test"), { recursive: true })
        .map((f) => path.posix.join("test", f.split(path.sep).join("/")))
        .filter((f) => f.endsWith(".test.ts") && !NEEDS_GIT.includes(f))
        .sort();

export default {
    testRunner: "mocha",
    // The repository's mocha settings (ts-node, timeouts), and its test files.
    mochaOptions: {
        config: ".mocharc.json",
        spec: process.env.MUTATION_TESTS ? process.env.MUTATION_TESTS.split(",") : allTests(),
    },
    testRunnerNodeArgs: ["--require", shim],
    mutate: ["lib/checks/**/*.ts", "lib/values/**/*.ts"],
    // Each mutant runs only the tests that reached its code. Tests therefore
    // compute what they check inside the test (or a beforeEach), not when the
    // file loads: code run at load time belongs to no test, and Stryker would
    // have to run the whole suite for every mutant in it.
    coverageAnalysis: "perTest",
    // Mutants in module-level code (tables, constants) run once at load time:
    // each would need a fresh process and the whole suite. They are counted
    // as ignored, not as killed or surviving.
    ignoreStatic: true,
    // Stryker puts `// @ts-nocheck` at the top of the files this matches (its default takes every
    // .js file under lib/ too), and test/chart-data.test.ts compares the generated validators in
    // lib/charts/data byte for byte: only the TypeScript sources get the line.
    disableTypeChecks: "{lib,test,components,policies,cli}/**/*.ts",
    // Two cores, shared: one test process.
    concurrency: 1,
    reporters: ["clear-text", "progress-append-only", "html", "json"],
    htmlReporter: { fileName: `reports/mutation/${part}.html` },
    jsonReporter: { fileName: `reports/mutation/${part}.json` },
    // Inside node_modules, so that neither git, ESLint nor Prettier sees the sandbox.
    tempDirName: `node_modules/.stryker-tmp-${part}`,
    thresholds: { high: 90, low: 80, break: null },
};
