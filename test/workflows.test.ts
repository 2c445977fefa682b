import Ajv from "ajv";
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { commentMarker } from "../lib/plan/pr-comment";
import { Json, ROOT } from "./helpers";
import { SCHEMAS } from "./schemas";

const DIR = path.join(ROOT, ".github", "workflows");
const files = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
const text = (f: string) => fs.readFileSync(path.join(DIR, f), "utf8");
const workflow = (f: string): Json => parse(text(f));

const ajv = new Ajv({ strict: false, allErrors: true });
const validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(SCHEMAS, "github", "workflow.schema.json"), "utf8")));
const schemaErrors = (doc: unknown) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

describe("GitHub workflows (.github/workflows)", () => {
    it("has the CI, preview and preview-comment workflows", () => {
        expect(files.sort()).to.deep.equal(["ci.yml", "preview-comment.yml", "preview.yml"]);
    });

    for (const f of files) {
        it(`${f} is valid against SchemaStore's GitHub workflow schema`, () => {
            expect(schemaErrors(workflow(f))).to.deep.equal([]);
        });
    }

    it("the schema check fails a workflow that GitHub would refuse", () => {
        const noRunner = workflow("ci.yml");
        delete noRunner.jobs.test["runs-on"];
        expect(schemaErrors(noRunner)).to.not.deep.equal([]);
        const badEvent = { ...workflow("ci.yml"), on: { pull_requests: {} } };
        expect(schemaErrors(badEvent)).to.not.deep.equal([]);
    });

    it("pins every action to a full commit SHA with its version in a comment, the same SHA everywhere", () => {
        const pins = new Map<string, Set<string>>();
        for (const f of files) {
            for (const line of text(f)
                .split("\n")
                .filter((l) => /^\s*(- )?uses:/.test(l))) {
                const m = /uses: ([\w.-]+\/[\w.-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+$/.exec(line);
                expect(m, `${f}: ${line.trim()}`).to.not.equal(null);
                pins.set(m![1], new Set([...(pins.get(m![1]) ?? []), m![2]]));
            }
        }
        expect([...pins.keys()].sort()).to.deep.equal([
            "actions/checkout",
            "actions/download-artifact",
            "actions/github-script",
            "actions/setup-node",
            "actions/upload-artifact",
            "pulumi/actions",
        ]);
        for (const [action, shas] of pins) expect([...shas], action).to.have.length(1);
    });

    it("ci runs npm ci and npm test on Node 20 for every push and pull request", () => {
        const ci = workflow("ci.yml");
        expect(Object.keys(ci.on).sort()).to.deep.equal(["pull_request", "push"]);
        const steps = ci.jobs.test.steps as Json[];
        expect(steps.find((s) => s.uses?.startsWith("actions/setup-node@")).with["node-version"]).to.equal(20);
        expect(steps.filter((s) => s.run).map((s) => s.run)).to.deep.equal(["npm ci", "npm test"]);
        expect(ci.permissions).to.deep.equal({ contents: "read" });
    });

    it("preview plans with a read-only token and no secret, and runs pulumi preview only for this repository's branches", () => {
        const preview = workflow("preview.yml");
        expect(Object.keys(preview.on)).to.deep.equal(["pull_request"]);
        expect(preview.permissions).to.deep.equal({ contents: "read" });
        const plan = preview.jobs.plan;
        expect(plan.permissions).to.deep.equal({ contents: "read" });
        expect(JSON.stringify(plan)).to.not.contain("secrets.");
        const run = (plan.steps as Json[]).map((s) => s.run ?? "").join("\n");
        expect(run).to.contain('npm run -s pr-comment -- --base-ref "$BASE_SHA"');
        expect(plan.steps.find((s: Json) => s.env?.BASE_SHA).env.BASE_SHA).to.equal("${{ github.event.pull_request.base.sha }}");
        expect(plan.steps[0].with["fetch-depth"]).to.equal(0);

        const live = preview.jobs["pulumi-preview"];
        expect(live.if).to.equal("github.event.pull_request.head.repo.full_name == github.repository");
        expect(live.permissions).to.deep.equal({ contents: "read", "pull-requests": "write" });
        const pulumi = (live.steps as Json[]).find((s) => s.uses?.startsWith("pulumi/actions@"));
        expect(pulumi.with).to.include({ command: "preview", policyPacks: "policies", "comment-on-pr": true });
        expect(pulumi.if).to.equal("steps.secrets.outputs.present == 'true'");
    });

    it("preview-comment never checks out or runs the pull request's code", () => {
        const wf = workflow("preview-comment.yml");
        expect(wf.on.workflow_run).to.deep.equal({ workflows: ["preview"], types: ["completed"] });
        expect(wf.jobs.comment.permissions).to.deep.equal({ actions: "read", "pull-requests": "write" });
        const steps = wf.jobs.comment.steps as Json[];
        expect(steps.map((s) => s.uses.split("@")[0])).to.deep.equal(["actions/download-artifact", "actions/github-script"]);
        expect(steps.some((s) => s.run)).to.equal(false);
    });
});

/** A GitHub API as the comment script uses it, over an in-memory repository. */
interface Pull {
    number: number;
    state: "open" | "closed";
    head: { sha: string; ref: string; owner: string };
}
interface Comment {
    id: number;
    issue: number;
    login: string;
    body: string;
}

function fakeGitHub(pulls: Pull[], comments: Comment[]) {
    const writes: Array<{ op: "create" | "update"; issue?: number; id?: number; body: string }> = [];
    const rest = {
        pulls: {
            list: async (p: { head: string; state: string }) => ({
                data: pulls.filter((x) => `${x.head.owner}:${x.head.ref}` === p.head && x.state === p.state),
            }),
            get: async (p: { pull_number: number }) => ({ data: pulls.find((x) => x.number === p.pull_number)! }),
        },
        issues: {
            listComments: async (p: { issue_number: number }) => ({
                data: comments.filter((c) => c.issue === p.issue_number).map((c) => ({ id: c.id, user: { login: c.login }, body: c.body })),
            }),
            updateComment: async (p: { comment_id: number; body: string }) => {
                writes.push({ op: "update", id: p.comment_id, body: p.body });
                return { data: {} };
            },
            createComment: async (p: { issue_number: number; body: string }) => {
                writes.push({ op: "create", issue: p.issue_number, body: p.body });
                return { data: { id: 1000 } };
            },
        },
    };
    const paginate = async (fn: (p: Json) => Promise<{ data: unknown[] }>, params: Json) => (await fn(params)).data;
    return { github: { rest, paginate }, writes };
}

describe("preview-comment's script (run as actions/github-script runs it)", () => {
    const script = (workflow("preview-comment.yml").jobs.comment.steps as Json[]).find((s) => s.uses.startsWith("actions/github-script@"))
        .with.script as string;
    const HEAD = "c".repeat(40);
    const body = `${commentMarker("dev")}\n### plan\n`;

    /** Runs the step's script the way github-script does: an async function of require, github, context and core. */
    async function post(opts: { pulls: Pull[]; comments?: Comment[]; artifact?: string; fromFork?: boolean }) {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "talos-platform-artifact-")), "comment.md");
        fs.writeFileSync(file, opts.artifact ?? body);
        const { github, writes } = fakeGitHub(opts.pulls, opts.comments ?? []);
        const failed: string[] = [];
        const core = { setFailed: (m: string) => failed.push(m), info: () => undefined };
        const context = {
            repo: { owner: "org", repo: "talos-platform" },
            payload: {
                workflow_run: {
                    head_sha: HEAD,
                    head_branch: "feature",
                    head_repository: { owner: { login: opts.fromFork ? "someone" : "org" } },
                    // GitHub leaves this empty for a fork's pull request.
                    pull_requests: opts.fromFork ? [] : opts.pulls.map((p) => ({ number: p.number })),
                },
            },
        };
        const AsyncFunction = Object.getPrototypeOf(async () => null).constructor;
        const saved = process.env.COMMENT_FILE;
        process.env.COMMENT_FILE = file;
        try {
            await new AsyncFunction("require", "github", "context", "core", script)(require, github, context, core);
        } finally {
            if (saved === undefined) delete process.env.COMMENT_FILE;
            else process.env.COMMENT_FILE = saved;
        }
        return { writes, failed };
    }

    const pr = (number: number, over: Partial<Pull["head"]> = {}, state: Pull["state"] = "open"): Pull => ({
        number,
        state,
        head: { sha: HEAD, ref: "feature", owner: "org", ...over },
    });

    it("creates the comment when the pull request has none of ours", async () => {
        const { writes, failed } = await post({
            pulls: [pr(7)],
            comments: [{ id: 1, issue: 7, login: "alice", body: "LGTM" }],
        });
        expect(failed).to.deep.equal([]);
        expect(writes).to.deep.equal([{ op: "create", issue: 7, body }]);
    });

    it("updates its own comment for the same stack, not a user's copy of the marker nor another stack's", async () => {
        const { writes } = await post({
            pulls: [pr(7)],
            comments: [
                { id: 1, issue: 7, login: "mallory", body: `${commentMarker("dev")}\nfake` },
                { id: 2, issue: 7, login: "github-actions[bot]", body: `${commentMarker("prod")}\nold prod` },
                { id: 3, issue: 7, login: "github-actions[bot]", body: `${commentMarker("dev")}\nold dev` },
            ],
        });
        expect(writes).to.deep.equal([{ op: "update", id: 3, body }]);
    });

    it("finds a fork's pull request by its head, since GitHub does not name it", async () => {
        const { writes } = await post({ pulls: [pr(9, { owner: "someone" })], fromFork: true });
        expect(writes).to.deep.equal([{ op: "create", issue: 9, body }]);
    });

    it("posts nothing for a pull request that moved on to a newer commit, or was closed", async () => {
        expect((await post({ pulls: [pr(7, { sha: "d".repeat(40) })] })).writes).to.deep.equal([]);
        expect((await post({ pulls: [pr(7, {}, "closed")] })).writes).to.deep.equal([]);
    });

    it("refuses an artifact without the marker, and cuts one over GitHub's limit", async () => {
        const bad = await post({ pulls: [pr(7)], artifact: "<!-- something else -->\nhello" });
        expect(bad.writes).to.deep.equal([]);
        expect(bad.failed[0]).to.contain("does not start with the talos-platform marker");
        const big = await post({ pulls: [pr(7)], artifact: body + "x".repeat(70_000) });
        expect(big.writes[0].body.length).to.be.at.most(65_536);
        expect(big.writes[0].body).to.match(/Cut to fit a GitHub comment/);
    });
});
