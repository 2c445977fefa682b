import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { main } from "../cli/plan";
import { readDoc, section } from "./docs";
import { Json, ROOT } from "./helpers";

/** The pages that walk a user to a real cluster with `pulumi config set`, and the section that does. */
const WALKTHROUGHS = [
    { page: "docs/real-cluster.md", heading: "Set up a stack with `pulumi config set`", skeleton: true },
    { page: "README.md", heading: "Against a real cluster", skeleton: false },
];

/** The stack config its `pulumi config set` lines write, the way Pulumi stores --path values. */
function configFromCommands(text: string): Record<string, Json> {
    const config: Record<string, Json> = {};
    for (const m of text.matchAll(/^pulumi config set (--path|--secret) '?([^' \n]+)'?(?: (\S+))?/gm)) {
        const [, flag, key, raw] = m;
        if (flag === "--secret") {
            config[key] = { secure: "v1:from-the-cli" };
            continue;
        }
        const [, top, rest] = /^([^.[]+)(.*)$/.exec(key)!;
        const segments = [top, ...[...rest.matchAll(/\.([^.[]+)|\[(\d+)\]/g)].map((s) => (s[2] !== undefined ? Number(s[2]) : s[1]))];
        // --path stores true/false as booleans and whole numbers as numbers.
        const value = raw === "true" || raw === "false" ? raw === "true" : /^\d+$/.test(raw) ? Number(raw) : raw;
        let node: Json = config;
        segments.forEach((seg, i) => {
            if (i === segments.length - 1) node[seg] = value;
            else node = node[seg] ??= typeof segments[i + 1] === "number" ? [] : {};
        });
    }
    return config;
}

async function planFile(text: string): Promise<{ code: number; doc: Json; err: string }> {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "talos-platform-readme-")), "Pulumi.home-ops.yaml");
    fs.writeFileSync(file, text);
    let out = "";
    let err = "";
    const code = await main(["--config", file, "--format", "json"], { out: (t) => (out += t), err: (t) => (err += t), cwd: ROOT });
    return { code, doc: out ? JSON.parse(out) : undefined, err };
}

for (const w of WALKTHROUGHS) {
    describe(`${w.page}: ${w.heading}`, () => {
        const walkthrough = () => section(readDoc(w.page), w.heading);

        it("plans its pulumi config set commands without errors or mandatory findings", async () => {
            const config = configFromCommands(walkthrough());
            expect(Object.keys(config)).to.include.members(["talos-platform:cluster", "talos-platform:cilium", "talos-platform:flux"]);
            const { code, doc, err } = await planFile(JSON.stringify({ config }));
            expect(code, err || JSON.stringify(doc?.errors)).to.equal(0);
            expect(doc.ok).to.equal(true);
            expect(doc.cluster).to.include({ name: "home-ops", kubeProxyDisabled: true });
        });

        if (w.skeleton) {
            it("shows a stack-file skeleton that is what those commands write", () => {
                expect(configFromCommands(walkthrough())).to.have.property("talos-platform:cloudflareApiToken");
                const block = /```yaml\n([\s\S]*?)```/.exec(walkthrough())![1];
                const skeleton = parse(block);
                expect(Object.keys(skeleton)).to.deep.equal(["config"]);
                expect(skeleton.config).to.deep.equal({
                    ...configFromCommands(walkthrough()),
                    "talos-platform:cloudflareApiToken": { secure: "v1:..." },
                });
            });
        }

        it("writes its policy-config.json with the plan rather than by hand", () => {
            expect(walkthrough()).to.contain("npm run -s plan -- --stack home-ops --policy-config policy-config.json");
            expect(walkthrough()).to.contain("--policy-pack policies --policy-pack-config policy-config.json");
            expect(walkthrough()).to.not.contain("```json").and.not.contain('geoffdavis.com" }');
        });
    });
}
