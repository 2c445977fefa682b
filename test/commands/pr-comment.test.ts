import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { basePlan, main, PrIo } from "../../cli/pr-comment";
import { commentMarker, composeComment, GITHUB_COMMENT_LIMIT, markerOf } from "../../lib/plan/pr-comment";
import { ROOT } from "../helpers";

const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();

/**
 * A Git repository of its own holding this checkout's files (as they are on
 * disk), with node_modules linked from this checkout. Commits go into it,
 * never into the repository the tests run from.
 */
function scratchRepo(): string {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), "talos-platform-repo-"));
    const files = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
    for (const f of files) {
        if (!fs.existsSync(path.join(ROOT, f))) continue;
        fs.mkdirSync(path.dirname(path.join(repo, f)), { recursive: true });
        fs.copyFileSync(path.join(ROOT, f), path.join(repo, f));
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(repo, "node_modules"), "dir");
    git(repo, "init", "-q", "-b", "main");
    // The link is a file to Git, which .gitignore's "node_modules/" does not cover.
    fs.appendFileSync(path.join(repo, ".git", "info", "exclude"), "node_modules\n");
    git(repo, "config", "user.email", "test@example.invalid");
    git(repo, "config", "user.name", "test");
    git(repo, "config", "commit.gpgsign", "false");
    return repo;
}

function edit(repo: string, file: string, from: string, to: string): void {
    const p = path.join(repo, file);
    const text = fs.readFileSync(p, "utf8");
    expect(text, `${file} holds ${from}`).to.contain(from);
    fs.writeFileSync(p, text.replace(from, to));
}

async function prComment(args: string[], repo: string) {
    let out = "";
    let err = "";
    const io: PrIo = { out: (t) => (out += t), err: (t) => (err += t), cwd: repo, projectDir: repo };
    return { code: await main(args, io), out, err };
}

describe("npm run pr-comment on two commits of a Git repository", function () {
    this.timeout(600_000);
    let repo: string;
    let baseSha: string;
    let headSha: string;

    before(() => {
        repo = scratchRepo();
        // The base commit's code differs from the head's: the head must not plan the base with its own code.
        edit(repo, "lib/helm.ts", "timeout: 600,", "timeout: 300,");
        git(repo, "add", "-A");
        git(repo, "commit", "-q", "-m", "base");
        baseSha = git(repo, "rev-parse", "HEAD");
        git(repo, "checkout", "-q", "-b", "change");
        fs.copyFileSync(path.join(ROOT, "lib/helm.ts"), path.join(repo, "lib/helm.ts"));
        edit(repo, "Pulumi.dev.yaml", "version: 1.19.4", "version: 1.19.5");
        git(repo, "commit", "-q", "-am", "bump cilium");
        headSha = git(repo, "rev-parse", "HEAD");
    });

    after(() => fs.rmSync(repo, { recursive: true, force: true }));

    it("compares the head with the merge base, each planned with its own commit's code, in one marked comment", async () => {
        const { code, out, err } = await prComment(["--base-ref", "main"], repo);
        expect(code, err).to.equal(0);
        expect(out.split("\n")[0]).to.equal(commentMarker("dev"));
        expect(out).to.match(/^### ✅ talos-platform plan for `dev`: \d+ resources · \d+ changed, 0 added, 0 removed$/m);
        // The stack file's change, and the code's: the base's Helm timeout came from the base's code.
        expect(out).to.contain("- talos-platform:cilium.version: 1.19.4\n+ talos-platform:cilium.version: 1.19.5");
        expect(out).to.contain("- version: 1.19.4\n+ version: 1.19.5");
        expect(out).to.contain("- timeout: 300\n+ timeout: 600");
        expect(out).to.contain(`head \`${headSha.slice(0, 12)}\` against base \`${baseSha.slice(0, 12)}\` (the merge base with \`main\`)`);
        expect(out.length).to.be.below(GITHUB_COMMENT_LIMIT);
        // The base's worktree is gone.
        expect(git(repo, "worktree", "list").split("\n")).to.have.length(1);
    });

    it("posts the head's whole plan when the base has no plan of the stack, and says why", async () => {
        fs.copyFileSync(path.join(repo, "Pulumi.dev.yaml"), path.join(repo, "Pulumi.lab.yaml"));
        git(repo, "add", "Pulumi.lab.yaml");
        git(repo, "commit", "-q", "-m", "a new stack");
        const { code, out, err } = await prComment(["--base-ref", "main", "--stack", "lab", "--out", "comment.md"], repo);
        expect(code, err).to.equal(0);
        expect(out).to.equal("");
        const comment = fs.readFileSync(path.join(repo, "comment.md"), "utf8");
        expect(comment.split("\n")[0]).to.equal(commentMarker("lab"));
        expect(comment).to.contain(
            "The base commit has no plan to compare with: it has no Pulumi.lab.yaml, so stack lab is new in this change",
        );
        expect(comment).to.contain("Pulumi.lab.yaml").and.not.contain("#### Changes");
    });

    it("refuses a base ref the clone does not have, naming it", async () => {
        const { code, err } = await prComment(["--base-ref", "origin/no-such-branch"], repo);
        expect(code).to.equal(2);
        expect(err).to.contain("--base-ref origin/no-such-branch is not a commit in this clone");
        expect((await prComment([], repo)).err).to.contain("--base-ref is required");
    });
});

describe("the base commit's plan, made by its own npm run plan", () => {
    /** A project whose `npm run plan` runs `code`: the base's own launcher and code, whatever they print. */
    function project(code: string): string {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-platform-base-"));
        fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "base", scripts: { plan: "node plan.js" } }));
        fs.writeFileSync(path.join(dir, "plan.js"), code);
        return dir;
    }

    it("takes a plan with config errors (status 1) as a plan, and passes --stack and --format json", () => {
        const dir = project(`console.log(JSON.stringify({ argv: process.argv.slice(2) })); process.exit(1)`);
        const r = basePlan(dir, "lab");
        expect(r).to.have.property("json");
        expect(JSON.parse((r as { json: string }).json).argv).to.deep.equal(["--stack", "lab", "--format", "json"]);
    });

    it("gives the base's own first error line, past the launcher's compile note, when it ends otherwise", () => {
        const dir = project(
            `console.error("plan: compiling dist/ first: lib/helm.ts changed since the last build"); console.error(""); console.error("plan: cannot read Pulumi.lab.yaml: no such file"); console.error("second line"); process.exit(2)`,
        );
        expect(basePlan(dir, "lab")).to.deep.equal({
            missing: "its `npm run plan -- --stack lab` ended with status 2 (plan: cannot read Pulumi.lab.yaml: no such file)",
        });
    });

    it("is no plan when status 0 comes without JSON, and names the status when nothing was said", () => {
        expect(basePlan(project(`console.log("a plan in markdown")`), "dev")).to.deep.equal({
            missing: "its `npm run plan -- --stack dev` ended with status 0 (a plan in markdown)",
        });
        expect(basePlan(project(`process.exit(3)`), "dev")).to.deep.equal({
            missing: "its `npm run plan -- --stack dev` ended with status 3 (exit status 3)",
        });
    });
});

describe("the comment's marker and size", () => {
    it("reads back the marker of a comment of ours and of nobody else's", () => {
        expect(markerOf(commentMarker("dev") + "\nbody")).to.equal(commentMarker("dev"));
        expect(markerOf("<!-- talos-platform-plan-preview stack=dev --> trailing\nbody")).to.equal(undefined);
        expect(markerOf("LGTM")).to.equal(undefined);
        expect(() => commentMarker("dev -->")).to.throw("not a stack name");
    });

    it("refuses to compose a comment GitHub would refuse", () => {
        const c = { stack: "dev", head: { sha: "a".repeat(40), dirty: false }, base: { sha: "b".repeat(40), ref: "main" } };
        expect(composeComment({ ...c, markdown: "x" }).length).to.be.below(1000);
        expect(() => composeComment({ ...c, markdown: "x".repeat(GITHUB_COMMENT_LIMIT) })).to.throw("over GitHub's 65536");
    });
});
