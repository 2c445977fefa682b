import { spawnSync, SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { invocationDir } from "../lib/cwd";
import { DEBUG_ENV, debugRequested, INTERNAL_ERROR } from "../lib/exit";
import { composeComment } from "../lib/plan/pr-comment";
import { main as plan } from "./plan";

const USAGE = `usage: npm run -s pr-comment -- --base-ref REF [--stack NAME] [--out FILE] [--debug]

Writes the pull-request comment for this checkout: its offline plan compared
with the plan of the merge base with REF, each made by its own commit's code
(the base in a temporary git worktree). The same script runs in the preview
workflow and on your machine, e.g. --base-ref origin/main.

  --base-ref REF   the branch or commit the change goes into (origin/main; in
                   the workflow, the pull request's base commit)
  --stack NAME     the stack to plan (default: dev)
  --out FILE       write the comment to FILE instead of standard output
  --debug          print the stack trace of an internal error (or set ${DEBUG_ENV}=1)

Exit status: that of this checkout's plan (0 ok, 1 config errors or mandatory
findings; the comment is written either way); 2 usage errors, or no comment
could be made; 3 internal error, a bug in talos-platform.`;

class UsageError extends Error {}

export interface PrIo {
    out(text: string): void;
    err(text: string): void;
    /** Where a relative --out starts: the directory npm was run in. */
    cwd: string;
    /** The project: its Pulumi.yaml and package.json. */
    projectDir: string;
    debug?: boolean;
}

function exec(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
    // npm sets INIT_CWD once for the outermost `npm run`; a nested one must set its own.
    const env = { ...process.env };
    delete env.INIT_CWD;
    return spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
}

function git(args: string[], cwd: string): string {
    const r = exec("git", args, cwd);
    if (r.status !== 0) throw new UsageError(`git ${args.join(" ")}: ${(r.stderr || r.error?.message || "").trim().split("\n")[0]}`);
    return r.stdout.trim();
}

/** The base commit's dependencies: the checkout's own when the lockfiles agree, else a clean install. */
function installBase(projectDir: string, baseProject: string, sha: string, rel: string, io: PrIo): void {
    const lock = rel === "." ? "package-lock.json" : `${rel.split(path.sep).join("/")}/package-lock.json`;
    const baseLock = exec("git", ["show", `${sha}:${lock}`], projectDir);
    const ownLock = fs.readFileSync(path.join(projectDir, "package-lock.json"), "utf8");
    if (baseLock.status === 0 && baseLock.stdout === ownLock && fs.existsSync(path.join(projectDir, "node_modules"))) {
        fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(baseProject, "node_modules"), "dir");
        return;
    }
    io.err("pr-comment: the base commit has other dependencies; installing them (npm ci)\n");
    const r = exec("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], baseProject);
    if (r.status !== 0) throw new UsageError(`npm ci in the base commit failed: ${r.stderr.trim().split("\n").slice(-3).join(" ")}`);
}

/** What cli/run.cjs says before the command runs (a base checkout has no dist/ yet): not the command's reason. */
const LAUNCHER_NOTE = /^plan: compiling dist\/ first: /;

/** The base commit's plan as JSON, made by its own `npm run plan`; a reason instead when it has none. */
export function basePlan(baseProject: string, stack: string): { json: string } | { missing: string } {
    const r = exec("npm", ["run", "-s", "plan", "--", "--stack", stack, "--format", "json"], baseProject);
    // 0 and 1 are plans (1: with config errors or mandatory findings); anything else is no plan.
    if ((r.status === 0 || r.status === 1) && r.stdout.trimStart().startsWith("{")) return { json: r.stdout };
    const why =
        (r.stderr || r.stdout)
            .trim()
            .split("\n")
            .find((l) => l.trim() !== "" && !LAUNCHER_NOTE.test(l)) ?? `exit status ${r.status}`;
    return { missing: `its \`npm run plan -- --stack ${stack}\` ended with status ${r.status} (${why.slice(0, 300)})` };
}

export async function main(argv: string[], io: PrIo): Promise<number> {
    let debug = io.debug ?? false;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "talos-platform-pr-"));
    let worktree: string | undefined;
    try {
        let values;
        try {
            values = parseArgs({
                args: argv,
                options: {
                    "base-ref": { type: "string" },
                    stack: { type: "string", default: "dev" },
                    out: { type: "string" },
                    debug: { type: "boolean" },
                    help: { type: "boolean", short: "h" },
                },
                strict: true,
                allowPositionals: false,
            }).values;
        } catch (e) {
            throw new UsageError((e as Error).message);
        }
        debug ||= values.debug === true;
        if (values.help) {
            io.out(USAGE + "\n");
            return 0;
        }
        const ref = values["base-ref"];
        if (!ref) throw new UsageError("--base-ref is required, e.g. --base-ref origin/main");
        const stack = values.stack!;
        if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new UsageError(`'${stack}' is not a stack name`);

        const top = git(["rev-parse", "--show-toplevel"], io.projectDir);
        const rel = path.relative(fs.realpathSync(top), fs.realpathSync(io.projectDir)) || ".";
        const refSha = exec("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], top);
        if (refSha.status !== 0)
            throw new UsageError(`--base-ref ${ref} is not a commit in this clone; fetch it first (git fetch origin <branch>)`);
        const headSha = git(["rev-parse", "HEAD"], top);
        // The merge base is what the change was made on: a branch behind its base is not blamed for newer commits.
        const mergeBase = exec("git", ["merge-base", refSha.stdout.trim(), headSha], top);
        const baseSha = mergeBase.status === 0 ? mergeBase.stdout.trim() : refSha.stdout.trim();
        const dirty = git(["status", "--porcelain", "--untracked-files=no"], top) !== "";

        // A stack new in this change has no base plan: say so without checking out, installing and compiling the base.
        const stackFile = `${rel === "." ? "" : `${rel.split(path.sep).join("/")}/`}Pulumi.${stack}.yaml`;
        let base: { json: string } | { missing: string };
        if (exec("git", ["cat-file", "-e", `${baseSha}:${stackFile}`], top).status !== 0) {
            base = { missing: `it has no ${stackFile}, so stack ${stack} is new in this change` };
        } else {
            worktree = path.join(tmp, "base");
            git(["worktree", "add", "--detach", "--quiet", worktree, baseSha], top);
            const baseProject = path.join(worktree, rel);
            installBase(io.projectDir, baseProject, baseSha, rel, io);
            base = basePlan(baseProject, stack);
        }

        const args = ["--stack", stack, "--format", "markdown"];
        if ("json" in base) {
            fs.writeFileSync(path.join(tmp, "base.json"), base.json);
            args.push("--base", path.join(tmp, "base.json"));
        }
        let markdown = "";
        let planErr = "";
        const status = await plan(args, {
            out: (t) => (markdown += t),
            err: (t) => (planErr += t),
            cwd: io.projectDir,
            projectDir: io.projectDir,
            debug,
        });
        if (status !== 0 && status !== 1) {
            io.err(planErr);
            throw new UsageError(`the plan of this checkout failed (status ${status}), so there is no comment`);
        }
        const comment = composeComment({
            stack,
            markdown,
            head: { sha: headSha, dirty },
            base: { sha: baseSha, ref, ...("missing" in base ? { missing: base.missing } : {}) },
        });
        if (values.out) fs.writeFileSync(path.resolve(io.cwd, values.out), comment);
        else io.out(comment);
        return status;
    } catch (e) {
        if (e instanceof UsageError) {
            io.err(`pr-comment: ${e.message}\n`);
            return 2;
        }
        const message = e instanceof Error ? (debug ? (e.stack ?? e.message) : `${e.name}: ${e.message}`) : String(e);
        io.err(`pr-comment: internal error (a bug in talos-platform): ${message}\n`);
        return INTERNAL_ERROR;
    } finally {
        if (worktree) exec("git", ["worktree", "remove", "--force", worktree], io.projectDir);
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

/** Runs the command line in process.argv (cli/run.cjs calls this). */
export function run(): void {
    const io: PrIo = {
        out: (t) => process.stdout.write(t),
        err: (t) => process.stderr.write(t),
        cwd: invocationDir(),
        projectDir: process.cwd(),
        debug: debugRequested(),
    };
    main(process.argv.slice(2), io).then(
        (code) => (process.exitCode = code),
        (e: unknown) => {
            process.stderr.write(`pr-comment: internal error: ${String(e)}\n`);
            process.exitCode = INTERNAL_ERROR;
        },
    );
}

if (require.main === module) run();
