import { expect } from "chai";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { Io, main, processIo } from "../cli/plan";
import { DEBUG_ENV } from "../lib/exit";
import { readStackFile } from "../lib/plan/stackfile";
import { Json, ROOT } from "./helpers";

async function plan(args: string[], cwd = ROOT, over: Partial<Io> = {}, run?: Parameters<typeof main>[2]) {
    let out = "";
    let err = "";
    const io: Io = { out: (t) => (out += t), err: (t) => (err += t), cwd, ...over };
    const code = await main(args, io, run);
    return { code, out, err };
}

/** The plan JSON's original keys, in order; everything after them is an extension. */
const CONTRACT = ["project", "stack", "ok", "errors", "findings", "phases", "resources"];

function tmpDir(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "talos-platform-"));
}

function tmpFile(name: string, text: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-platform-"));
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
}

describe("plan command", () => {
    it("prints the five phases in order, with resources and gates, and exits 0", async () => {
        const { code, out } = await plan([]);
        expect(code).to.equal(0);
        const at = ["1. network", "2. dns", "3. certificates", "4. ingress", "5. gitops"].map((h) => out.indexOf(h));
        expect(at.every((i) => i >= 0)).to.equal(true);
        expect([...at].sort((a, b) => a - b)).to.deep.equal(at);
        expect(out).to.contain("◆ gate network-gate").and.contain("cilium-release").and.contain("[waits for ingress-gate]");
    });

    it("follows the JSON contract with --format json", async () => {
        const { code, out } = await plan(["--format", "json"]);
        expect(code).to.equal(0);
        const doc = JSON.parse(out);
        // The contract's keys in order, then extensions.
        expect(Object.keys(doc)).to.deep.equal([...CONTRACT, "config", "secrets", "cluster", "binding"]);
        expect(doc).to.include({ project: "talos-platform", stack: "dev", ok: true });
        expect(doc.cluster).to.include({ name: "home-ops", dnsDomain: "cluster.local", kubeProxyDisabled: true, coreDnsDisabled: false });
        for (const p of doc.phases) expect(Object.keys(p)).to.deep.equal(["name", "gate", "resources", "subphases"]);
        for (const r of doc.resources) {
            expect(Object.keys(r)).to.deep.equal(["urn", "type", "name", "parent", "dependsOn", "phase", "inputs", "options"]);
            expect(r.dependsOn).to.be.an("array");
        }
        for (const f of doc.findings) expect(Object.keys(f)).to.deep.equal(["rule", "severity", "resource", "message"]);
    });

    it("follows the JSON contract for config errors: ok false, errors[] of {path, message}, nothing registered, exit 1", async () => {
        const versionLatest = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8").replace("version: 1.19.4", "version: latest");
        for (const file of [tmpFile("Pulumi.cfg.yaml", versionLatest), tmpFile("Pulumi.yml.yaml", "config: [unclosed")]) {
            const { code, out } = await plan(["--config", file, "--format", "json"]);
            expect(code, file).to.equal(1);
            const doc = JSON.parse(out);
            expect(Object.keys(doc).slice(0, CONTRACT.length), file).to.deep.equal(CONTRACT);
            // A file the program read records its config (secrets hidden); one it could not parse has none.
            expect(Object.keys(doc).slice(CONTRACT.length), file).to.deep.equal(file.endsWith("cfg.yaml") ? ["config", "secrets"] : []);
            expect(doc.ok).to.equal(false);
            expect(doc.errors).to.have.length.greaterThan(0);
            for (const e of doc.errors) {
                // path and message first, then only the documented extensions.
                expect(Object.keys(e).slice(0, 2), file).to.deep.equal(["path", "message"]);
                expect(
                    Object.keys(e)
                        .slice(2)
                        .every((k) => ["value", "fix"].includes(k)),
                    file,
                ).to.equal(true);
                expect(e.path).to.be.a("string").and.not.equal("");
                expect(e.message).to.be.a("string").and.not.equal("");
            }
            expect(doc.resources).to.deep.equal([]);
            for (const p of doc.phases) expect(p).to.deep.include({ gate: null, resources: [], subphases: [] });
        }
    });

    it("exits 1 naming the key when the config is wrong, and registers nothing", async () => {
        const text = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8").replace("version: 1.19.4", "version: latest");
        const file = tmpFile("Pulumi.broken.yaml", text);
        const { code, out } = await plan(["--config", file, "--format", "json"]);
        expect(code).to.equal(1);
        const doc = JSON.parse(out);
        expect(doc.ok).to.equal(false);
        expect(doc.stack).to.equal("broken");
        expect(doc.resources).to.deep.equal([]);
        expect(doc.errors[0].path).to.equal("talos-platform:cilium.version");
        expect(doc.errors[0].message).to.contain("latest");
    });

    it("exits 2 on usage errors: unknown flag, unknown format, missing stack file, both sources", async () => {
        for (const args of [["--frobnicate"], ["--format", "yaml"], ["--stack", "nope"], ["--stack", "dev", "--config", "x.yaml"]]) {
            const { code, err } = await plan(args);
            expect(code, args.join(" ")).to.equal(2);
            expect(err).to.contain("usage:");
        }
    });

    it("reports a stack file that is not YAML as a config error at file:line:col with the offending line, in every format", async () => {
        const file = tmpFile("Pulumi.bad.yaml", "config:\n  talos-platform:cluster: {}\n  talos-platform:cluster: {}\n");
        const json = await plan(["--config", file, "--format", "json"]);
        expect(json.code, json.err).to.equal(1);
        const doc = JSON.parse(json.out);
        expect(doc).to.include({ ok: false, stack: "bad" });
        expect(doc.resources).to.deep.equal([]);
        expect(doc.phases.map((p: { name: string }) => p.name)).to.deep.equal(["network", "dns", "certificates", "ingress", "gitops"]);
        expect(doc.errors).to.have.length(1);
        expect(doc.errors[0].path).to.equal(`${file}:3:3`);
        // The whole parser message: what is wrong, and the line with a caret under the spot.
        expect(doc.errors[0].message).to.contain("Map keys must be unique").and.contain("  talos-platform:cluster: {}\n  ^");
        for (const format of ["text", "markdown"]) {
            const { code, out } = await plan(["--config", file, "--format", format]);
            expect(code, format).to.equal(1);
            expect(out, format)
                .to.contain("Map keys must be unique")
                .and.contain("  talos-platform:cluster: {}")
                .and.match(/\n\s*\^/);
        }
    });

    it("names a relative stack file as the user gave it in a YAML error's path", async () => {
        const user = tmpDir();
        fs.writeFileSync(path.join(user, "Pulumi.rel.yaml"), "config: [unclosed\n");
        const { code, out } = await plan(["--config", "Pulumi.rel.yaml", "--format", "json"], user);
        expect(code).to.equal(1);
        expect(JSON.parse(out).errors[0].path).to.match(/^Pulumi\.rel\.yaml:\d+:\d+$/);
    });

    it("treats secure: values as secrets whose value is unknown, in the stack file and in every resource built from one", async () => {
        const text =
            fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8") +
            "  talos-platform:otherApiToken:\n    secure: v1:abc\n" +
            "  talos-platform:gitCredentials:\n    username: flux\n    password:\n      secure: v1:def\n";
        const file = tmpFile("Pulumi.sec.yaml", text);
        const input = readStackFile(file, "sec");
        expect(input.config["talos-platform:otherApiToken"]).to.equal("[secret]");
        expect(input.config["talos-platform:cloudflareApiToken"]).to.equal("[secret]");
        // A structured key holding a secure value is secret as a whole, as it is for Pulumi.
        expect(input.config["talos-platform:gitCredentials"]).to.deep.equal({ username: "flux", password: "[secret]" });
        expect(input.secretKeys).to.have.members([
            "talos-platform:cloudflareApiToken",
            "talos-platform:otherApiToken",
            "talos-platform:gitCredentials",
        ]);

        const { code, out } = await plan(["--config", file, "--format", "json"]);
        expect(code).to.equal(0);
        expect(out).to.not.contain("v1:abc").and.not.contain("v1:def").and.not.contain("v1:placeholder");
        // The dev stack's Cloudflare token reaches cert-manager only through these Secrets.
        const tokens = JSON.parse(out).resources.filter((r: Json) => r.type === "kubernetes:core/v1:Secret");
        expect(tokens.map((r: Json) => r.name)).to.deep.equal([
            "cluster-issuers-letsencrypt-staging-token",
            "cluster-issuers-letsencrypt-prod-token",
        ]);
        for (const t of tokens) expect(t.inputs.stringData, t.name).to.equal("[secret]");
    });

    it("refuses an --out in a missing directory or naming a directory as a usage error, before planning", async () => {
        const dir = tmpDir();
        let ran = false;
        const spy = async () => {
            ran = true;
            throw new Error("the plan ran");
        };
        for (const out of [path.join(dir, "no-such-dir", "plan.md"), dir]) {
            const { code, err } = await plan(["--out", out], ROOT, {}, spy);
            expect(code, out).to.equal(2);
            expect(err, out).to.contain(`--out ${out}`).and.contain("usage:").and.not.contain("    at ");
        }
        expect(ran).to.equal(false);
    });

    it("exits 3 on an internal error with one line and no stack trace, unless --debug asks for it", async () => {
        const bug = async () => {
            throw new TypeError("cannot read properties of undefined\n(second line)");
        };
        const quiet = await plan([], ROOT, {}, bug);
        expect(quiet.code).to.equal(3);
        expect(quiet.out).to.equal("");
        expect(quiet.err.trimEnd().split("\n")).to.have.length(1);
        expect(quiet.err).to.contain("internal error").and.contain("TypeError: cannot read properties of undefined").and.contain("--debug");
        for (const loud of [await plan(["--debug"], ROOT, {}, bug), await plan([], ROOT, { debug: true }, bug)]) {
            expect(loud.code).to.equal(3);
            expect(loud.err).to.match(/\n\s+at /);
        }
    });

    it(`takes --debug from ${DEBUG_ENV} and the user's directory from npm's INIT_CWD`, () => {
        const io = processIo({ INIT_CWD: "/somewhere/else", [DEBUG_ENV]: "1" });
        expect(io).to.include({ cwd: "/somewhere/else", projectDir: process.cwd(), debug: true });
        expect(processIo({ [DEBUG_ENV]: "0" })).to.include({ cwd: process.cwd(), debug: false });
    });

    it("resolves relative --config and --out from the user's directory, and --stack from the project", async () => {
        const user = tmpDir();
        fs.copyFileSync(path.join(ROOT, "Pulumi.dev.yaml"), path.join(user, "Pulumi.mine.yaml"));
        const mine = await plan(["--config", "Pulumi.mine.yaml", "--format", "json", "--out", "plan.json"], user, { projectDir: ROOT });
        expect(mine.code, mine.err).to.equal(0);
        expect(JSON.parse(fs.readFileSync(path.join(user, "plan.json"), "utf8")).stack).to.equal("mine");
        const dev = await plan(["--stack", "dev", "--format", "json", "--out", "dev.json"], user, { projectDir: ROOT });
        expect(dev.code, dev.err).to.equal(0);
        expect(fs.existsSync(path.join(user, "dev.json"))).to.equal(true);
    });

    it("writes the stack's policy pack config to --policy-config, from the user's directory", async () => {
        const user = tmpDir();
        const text = fs
            .readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")
            .replace("dnsDomain: cluster.local", "dnsDomain: lab.example")
            .replace("coreDnsDisabled: false", "coreDnsDisabled: true");
        fs.writeFileSync(path.join(user, "Pulumi.lab.yaml"), text);
        const { code, err } = await plan(
            ["--config", "Pulumi.lab.yaml", "--policy-config", "policy-config.json", "--format", "json"],
            user,
            {
                projectDir: ROOT,
            },
        );
        expect(code, err).to.equal(0);
        expect(JSON.parse(fs.readFileSync(path.join(user, "policy-config.json"), "utf8"))).to.deep.equal({
            "flux-instance-cluster-domain": { dnsDomain: "lab.example" },
            "flux-single-owner": { coreDnsDisabled: true, ingressNginx: true, gatewayApiCrds: true },
        });
    });

    it("writes no --policy-config for a config with errors, and says so", async () => {
        const user = tmpDir();
        const text = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8").replace("version: 1.19.4", "version: latest");
        fs.writeFileSync(path.join(user, "Pulumi.bad.yaml"), text);
        const { code, err } = await plan(["--config", "Pulumi.bad.yaml", "--policy-config", "pc.json"], user);
        expect(code).to.equal(1);
        expect(err).to.contain("pc.json not written: the stack's config has errors");
        expect(fs.existsSync(path.join(user, "pc.json"))).to.equal(false);
    });

    it("checks --policy-config's directory before planning, like --out's", async () => {
        const { code, err } = await plan(["--policy-config", "/nonexistent/dir/pc.json"], ROOT, {}, async () => {
            throw new Error("the plan ran");
        });
        expect(code).to.equal(2);
        expect(err).to.contain("--policy-config /nonexistent/dir/pc.json: the directory /nonexistent/dir does not exist");
    });

    it("writes the markdown plan, with its Mermaid graph, to --out", async () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tp-")), "plan.md");
        const { code, out } = await plan(["--format", "markdown", "--out", file]);
        expect(code).to.equal(0);
        expect(out).to.equal("");
        expect(fs.readFileSync(file, "utf8")).to.contain("```mermaid");
    });

    it("runs as a command: npm run plan's entry point prints JSON on stdout", async function () {
        // Like npm run plan, it compiles dist/ first when a source changed since the last build.
        this.timeout(300_000);
        const { stdout } = await promisify(execFile)(process.execPath, ["cli/run.cjs", "plan", "--format", "json"], {
            cwd: ROOT,
        });
        expect(JSON.parse(stdout).ok).to.equal(true);
    });

    it("runs as a command: the compiled plan reads the chart data the repository carries (lib/charts/data)", async function () {
        this.timeout(300_000);
        // A value only the carried cilium 1.19.4 values.schema.json refuses: without the data, the plan could only warn that it is unchecked.
        const text = fs
            .readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")
            .replace("    version: 1.19.4\n", "    version: 1.19.4\n    values: { hubble: { relay: { replicas: two } } }\n");
        const file = tmpFile("Pulumi.chart.yaml", text);
        const r = await promisify(execFile)(process.execPath, ["cli/run.cjs", "plan", "--config", file, "--format", "json"], {
            cwd: ROOT,
        }).then(
            () => expect.fail("the plan passed"),
            (e: { code: number; stdout: string }) => e,
        );
        expect(r.code).to.equal(1);
        const errors = JSON.parse(r.stdout).errors.filter((e: Json) => e.path === "talos-platform:cilium.values.hubble.relay.replicas");
        expect(errors).to.have.length(1);
        expect(errors[0].message).to.contain("cilium 1.19.4 chart's values.schema.json");
    });

    it("runs as a command: a relative --out lands where npm was run (INIT_CWD), not in the package", async function () {
        this.timeout(300_000);
        const user = tmpDir();
        await promisify(execFile)(process.execPath, ["cli/run.cjs", "plan", "--format", "json", "--out", "plan.json"], {
            cwd: ROOT,
            env: { ...process.env, INIT_CWD: user },
        });
        expect(JSON.parse(fs.readFileSync(path.join(user, "plan.json"), "utf8")).ok).to.equal(true);
        expect(fs.existsSync(path.join(ROOT, "plan.json"))).to.equal(false);
    });
});
