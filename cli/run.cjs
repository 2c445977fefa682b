"use strict";
// The entry point of every command (npm run plan/gate/doctor/adopt/bench/
// pr-comment, and the gates and CRD waits that `pulumi up` runs): `node cli/run.cjs <command> [args]`.
//
// It runs cli/<command>.ts from its compiled JavaScript in dist/ when dist/
// was built from the sources as they are now, because loading TypeScript
// costs a gate about three times its own start-up, and `pulumi up` starts
// eight of them. It knows that by hashing the sources against the list the
// last build left in dist/.sources.json: reading a hundred small files costs
// milliseconds, where `tsc -b`'s own up-to-date check loads TypeScript.
// When dist/ is missing or older than a source:
//   - plan and bench compile it first (tsc -b, which also type-checks);
//   - gate, doctor, adopt and pr-comment run from the sources under ts-node,
//     and say so. They never compile: `pulumi up` may run two gates at once,
//     and a half-written dist/ must not run.
// `npm ci` builds dist/ (the prepare script), so a fresh clone starts fast.
//
// Plain CommonJS without dependencies: it must run before anything is built.

const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const DIST = "dist";
const MANIFEST = path.join(DIST, ".sources.json");
const TSCONFIG = "tsconfig.build.json";
/** Files whose change changes what tsc emits, besides the sources. */
const BUILD_CONFIG = ["tsconfig.json", TSCONFIG];

/** What each command does when dist/ is stale. */
const COMMANDS = { plan: "build", bench: "build", gate: "source", doctor: "source", adopt: "source", "pr-comment": "source" };

// The same as lib/exit.ts (a test compares them).
const INTERNAL_ERROR = 3;
const USAGE_ERROR = 2;
const DEBUG_ENV = "TALOS_PLATFORM_DEBUG";

const USAGE = `usage: node cli/run.cjs plan|bench|gate|doctor|adopt|pr-comment [args]
       node cli/run.cjs build|prepare

Runs cli/<command>.ts from dist/ when dist/ was compiled from the sources as
they are. Otherwise plan and bench compile dist/ first, and gate, doctor,
adopt and pr-comment run from the TypeScript sources (slower to start).
  build    compile dist/ (tsc -b ${TSCONFIG}) and record its sources
  prepare  the same, for npm ci and npm install: a failed compile only warns`;

const posix = (p) => p.split(path.sep).join("/");

function digest(file) {
    return crypto.createHash("sha1").update(fs.readFileSync(file)).digest("hex");
}

/** What tsc writes to dist/ for a recorded file; undefined for the build's own configuration. */
function emittedFile(file) {
    return BUILD_CONFIG.includes(file) ? undefined : path.join(DIST, file.replace(/\.ts$/, ".js"));
}

function readManifest(root) {
    try {
        return JSON.parse(fs.readFileSync(path.join(root, MANIFEST), "utf8"));
    } catch {
        return undefined;
    }
}

/**
 * Why dist/ under `root` does not match the sources, or undefined when it
 * does. Only content counts: a checkout or a `touch` does not make it stale.
 */
function staleness(root = ROOT) {
    const manifest = readManifest(root);
    if (manifest === undefined) return `${DIST}/ has not been built (no ${posix(MANIFEST)})`;
    if (!manifest || typeof manifest.files !== "object") return `${posix(MANIFEST)} is not a build record`;
    for (const [file, hash] of Object.entries(manifest.files)) {
        const abs = path.join(root, file);
        if (!fs.existsSync(abs)) return `${file} was deleted since the last build`;
        if (digest(abs) !== hash) return `${file} changed since the last build`;
        const emitted = emittedFile(file);
        if (emitted && !fs.existsSync(path.join(root, emitted))) return `${posix(emitted)} is missing`;
    }
    return undefined;
}

/** The files tsconfig.build.json compiles: its `include` entries, each a file or `dir/**\/*.ts`. */
function buildInputs(root = ROOT) {
    const config = JSON.parse(fs.readFileSync(path.join(root, TSCONFIG), "utf8"));
    const files = new Set(BUILD_CONFIG.filter((f) => fs.existsSync(path.join(root, f))));
    for (const pattern of config.include ?? []) {
        const tree = /^([\w./-]+)\/\*\*\/\*\.ts$/.exec(pattern);
        if (tree) for (const f of tsFilesUnder(root, tree[1])) files.add(f);
        else if (/^[\w./-]+\.ts$/.test(pattern)) files.add(pattern);
        else throw new Error(`${TSCONFIG}: include entry "${pattern}" is neither a file nor dir/**/*.ts, which cli/run.cjs can list`);
    }
    return [...files].sort();
}

function tsFilesUnder(root, dir) {
    if (!fs.existsSync(path.join(root, dir))) return [];
    return fs
        .readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
        .map((e) => posix(path.relative(root, path.join(e.parentPath ?? e.path, e.name))));
}

/**
 * Sources of what tsc put in dist/ besides `include`: the JavaScript of a
 * .ts file outside it (an import), and the copy of a JSON file a source
 * imports (resolveJsonModule), which the compiled code reads instead of the
 * original. Data the code reads from the repository at run time
 * (lib/charts/data, found from dist/ too) is not in dist/, and needs no build.
 */
function emittedSources(root) {
    const dist = path.join(root, DIST);
    if (!fs.existsSync(dist)) return [];
    return fs
        .readdirSync(dist, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && (e.name.endsWith(".js") || e.name.endsWith(".json")))
        .map((e) => posix(path.relative(dist, path.join(e.parentPath ?? e.path, e.name))).replace(/\.js$/, ".ts"))
        .filter((f) => f !== path.basename(MANIFEST) && fs.existsSync(path.join(root, f)));
}

/**
 * Compiles dist/ and records what it was compiled from. The sources are
 * hashed before compiling, so an edit during the build leaves dist/ stale,
 * never falsely current; the record is removed first, so a failed build does too.
 * Returns tsc's exit status.
 */
function build(root = ROOT) {
    const { spawnSync } = require("node:child_process");
    const previous = readManifest(root)?.files;
    fs.rmSync(path.join(root, MANIFEST), { force: true });
    const files = Object.fromEntries(buildInputs(root).map((f) => [f, digest(path.join(root, f))]));
    const tsc = require.resolve("typescript/bin/tsc", { paths: [root] });
    const exists = (f) => fs.existsSync(path.join(root, f));
    // tsc -b trusts its own record of what it wrote, and misses some changes: only --force writes everything again.
    const force =
        // no record of ours (the first build, one after a failed build, a dist/ another tool wrote);
        typeof previous !== "object" ||
        previous === null ||
        // a dist/ that lost a file tsc -b believes it wrote;
        [...Object.keys(files), ...Object.keys(previous)].some((f) => emittedFile(f) && exists(f) && !exists(emittedFile(f))) ||
        // an imported JSON file that changed: tsc -b copies it again only when a .ts file changed too.
        Object.entries(previous).some(
            ([f, hash]) => f.endsWith(".json") && emittedFile(f) && exists(f) && digest(path.join(root, f)) !== hash,
        );
    // tsc reports on stdout; stdout belongs to the command's own output (plan --format json).
    const r = spawnSync(process.execPath, [tsc, "-b", TSCONFIG, ...(force ? ["--force"] : [])], { cwd: root, stdio: ["ignore", 2, 2] });
    if (r.status !== 0) return r.status ?? 1;
    for (const f of emittedSources(root)) if (!(f in files)) files[f] = digest(path.join(root, f));
    const tmp = path.join(root, `${MANIFEST}.${process.pid}`);
    fs.writeFileSync(tmp, JSON.stringify({ built: "tsc -b " + TSCONFIG, files }, null, 1) + "\n");
    fs.renameSync(tmp, path.join(root, MANIFEST));
    return 0;
}

/** Loads cli/<command> from dist/ or, under ts-node, from the sources, and starts it. */
function launch(command, args, root = ROOT) {
    const stale = staleness(root);
    const compiled = path.join(root, DIST, "cli", `${command}.js`);
    let entry = compiled;
    if (stale || !fs.existsSync(compiled)) {
        const why = stale ?? `${posix(path.relative(root, compiled))} is missing`;
        if (COMMANDS[command] === "build") {
            process.stderr.write(`${command}: compiling ${DIST}/ first: ${why}\n`);
            if (build(root) !== 0) {
                process.stderr.write(`${command}: ${DIST}/ did not compile (tsc's errors are above); nothing was run\n`);
                return INTERNAL_ERROR;
            }
        } else {
            process.stderr.write(
                `${command}: running from the TypeScript sources, which starts slower: ${why}. \`npm run build\` compiles ${DIST}/.\n`,
            );
            require(require.resolve("ts-node", { paths: [root] })).register({
                transpileOnly: true,
                project: path.join(root, "tsconfig.json"),
            });
            entry = path.join(root, "cli", `${command}.ts`);
        }
    }
    // The command reads its arguments from process.argv, as when run directly.
    process.argv.splice(1, process.argv.length - 1, entry, ...args);
    const mod = require(entry);
    if (typeof mod.run !== "function") throw new Error(`${posix(path.relative(root, entry))} exports no run()`);
    mod.run();
    return undefined;
}

function main(argv) {
    const [command, ...args] = argv;
    if (command === "build" || command === "prepare") {
        const status = build();
        if (status === 0 || command === "build") return status;
        process.stderr.write(
            `prepare: ${DIST}/ did not compile (tsc's errors are above); plan compiles it when run, and gates run from the sources until it does\n`,
        );
        return 0;
    }
    if (command === "--help" || command === "-h") {
        process.stdout.write(USAGE + "\n");
        return 0;
    }
    if (!Object.hasOwn(COMMANDS, command ?? "")) {
        process.stderr.write(`run: ${command ? `unknown command "${command}"` : "no command"}\n\n${USAGE}\n`);
        return USAGE_ERROR;
    }
    return launch(command, args);
}

module.exports = { staleness, buildInputs, build, COMMANDS, INTERNAL_ERROR, USAGE_ERROR, DEBUG_ENV, MANIFEST };

if (require.main === module) {
    try {
        const status = main(process.argv.slice(2));
        if (status !== undefined) process.exitCode = status;
    } catch (e) {
        const debug = !!process.env[DEBUG_ENV] && process.env[DEBUG_ENV] !== "0";
        const what = e instanceof Error ? (debug ? (e.stack ?? e.message) : e.message) : String(e);
        process.stderr.write(`run: internal error: ${what}${debug ? "" : ` (set ${DEBUG_ENV}=1 for the stack trace, and report it)`}\n`);
        process.exitCode = INTERNAL_ERROR;
    }
}
