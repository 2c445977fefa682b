import { expect } from "chai";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { Io, main } from "../cli/plan";
import { ROOT } from "./helpers";

async function plan(args: string[], cwd = ROOT) {
    let out = "";
    let err = "";
    const io: Io = { out: (t) => (out += t), err: (t) => (err += t), cwd };
    const code = await main(args, io);
    return { code, out, err };
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
        expect(Object.keys(doc)).to.deep.equal(["project", "stack", "ok", "errors", "findings", "phases", "resources"]);
        expect(doc).to.include({ project: "talos-platform", stack: "dev", ok: true });
        for (const p of doc.phases) expect(Object.keys(p)).to.deep.equal(["name", "gate", "resources", "subphases"]);
        for (const r of doc.resources) {
            expect(Object.keys(r)).to.deep.equal(["urn", "type", "name", "parent", "dependsOn", "phase", "inputs"]);
            expect(r.dependsOn).to.be.an("array");
        }
        for (const f of doc.findings) expect(Object.keys(f)).to.deep.equal(["rule", "severity", "resource", "message"]);
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

    it("exits 2 when the stack file is not YAML", async () => {
        const { code, err } = await plan(["--config", tmpFile("Pulumi.bad.yaml", "config: [unclosed")]);
        expect(code).to.equal(2);
        expect(err).to.contain("is not valid YAML");
    });

    it("treats secure: values as secrets whose value is unknown", async () => {
        const text = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8") + "  talos-platform:otherApiToken:\n    secure: v1:abc\n";
        const { code, out } = await plan(["--config", tmpFile("Pulumi.sec.yaml", text), "--format", "json"]);
        expect(code).to.equal(0);
        expect(out).to.not.contain("v1:abc");
    });

    it("writes the markdown plan, with its Mermaid graph, to --out", async () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tp-")), "plan.md");
        const { code, out } = await plan(["--format", "markdown", "--out", file]);
        expect(code).to.equal(0);
        expect(out).to.equal("");
        expect(fs.readFileSync(file, "utf8")).to.contain("```mermaid");
    });

    it("runs as a command: npm run plan's entry point prints JSON on stdout", async function () {
        this.timeout(60_000);
        const { stdout } = await promisify(execFile)(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", "cli/plan.ts", "--format", "json"],
            {
                cwd: ROOT,
            },
        );
        expect(JSON.parse(stdout).ok).to.equal(true);
    });
});
