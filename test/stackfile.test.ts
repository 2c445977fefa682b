import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validateStack } from "../lib/config/stack";
import { readStackFile, StackFileProblems } from "../lib/plan/stackfile";
import { planDev, ROOT } from "./helpers";

function tmpFile(name: string, text: string): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "talos-platform-")), name);
    fs.writeFileSync(file, text);
    return file;
}

function problemsOf(text: string): StackFileProblems {
    try {
        readStackFile(tmpFile("Pulumi.x.yaml", text), "x", undefined, "Pulumi.x.yaml");
    } catch (e) {
        if (e instanceof StackFileProblems) return e;
        throw e;
    }
    throw new Error("readStackFile accepted it");
}

describe("stack file shape", () => {
    it("says to indent talos-platform keys under config: when the wrapper is missing, at each key's line", () => {
        const dev = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");
        // The dev stack with its `config:` line removed and its keys outdented.
        const unwrapped = dev.replace(/^config:\n/m, "").replace(/^ {2}(?=\S)/gm, "");
        const { errors } = problemsOf(unwrapped);
        expect(errors.map((e) => e.value)).to.include.members(["talos-platform:cluster", "talos-platform:cilium", "talos-platform:gates"]);
        const cluster = errors.find((e) => e.value === "talos-platform:cluster")!;
        const line = unwrapped.split("\n").findIndex((l) => l.startsWith("talos-platform:cluster:")) + 1;
        expect(cluster.path).to.equal(`Pulumi.x.yaml:${line}:1`);
        expect(cluster.message).to.contain("config:").and.contain("indent").and.not.contain("is required");
    });

    it("catches a bare section name at the top level too, next to a config: map", () => {
        const { errors } = problemsOf("config:\n  talos-platform:coredns: {}\ncluster:\n  name: x\n");
        expect(errors).to.have.length(1);
        expect(errors[0]).to.include({ path: "Pulumi.x.yaml:3:1", value: "cluster" });
    });

    it("refuses a file that is a list, or whose config: is not a map, naming where", () => {
        expect(problemsOf("- a\n- b\n").errors[0].path).to.equal("Pulumi.x.yaml:1:1");
        expect(problemsOf("config: [a, b]\n").errors[0]).to.include({ path: "Pulumi.x.yaml:1:9" });
        expect(problemsOf("config: [a, b]\n").errors[0].message).to.contain("must be a map of keys");
    });
});

describe("stack keys outside talos-platform", () => {
    it("refuses a near miss of the talos-platform namespace, naming the key and the one meant", async () => {
        const plan = await planDev(undefined, { config: { "talos-platfrom:cilium": { version: "1.19.4" } } });
        expect(plan.ok).to.equal(false);
        expect(plan.resources).to.deep.equal([]);
        expect(plan.errors[0].path).to.equal("talos-platfrom:cilium");
        expect(plan.errors[0].message).to.contain("did you mean talos-platform:cilium");
    });

    it("reports kubernetes: keys as an advisory provider-config-ignored finding pointing to cluster.kubeContext", async () => {
        const plan = await planDev(undefined, { config: { "kubernetes:context": "admin@home-ops", "kubernetes:namespace": "x" } });
        expect(plan.ok).to.equal(true);
        const ignored = plan.findings.filter((f) => f.rule === "provider-config-ignored");
        expect(ignored.map((f) => [f.resource, f.severity])).to.deep.equal([
            ["kubernetes:context", "advisory"],
            ["kubernetes:namespace", "advisory"],
        ]);
        expect(ignored[0].message).to.contain("pulumi config set --path talos-platform:cluster.kubeContext");
        // The program's own provider still has no context: the key really is ignored.
        expect(plan.resources.find((r) => r.type === "pulumi:providers:kubernetes")!.inputs.context).to.equal(undefined);
    });

    it("leaves other programs' namespaces alone", async () => {
        const plan = await planDev(undefined, { config: { "talos:version": "1.9", "pulumi:tags": "x" } });
        expect(plan.ok).to.equal(true);
        expect(plan.findings.map((f) => f.rule)).to.not.include("provider-config-ignored");
    });

    it("applies the same checks to the keys `pulumi up` gives the program", () => {
        pulumi.runtime.setAllConfig({ "talos-platfrom:cluster": "{}", "kubernetes:context": "admin", "aws:region": "x" });
        let validation;
        try {
            validation = validateStack();
        } finally {
            pulumi.runtime.setAllConfig({});
        }
        const { config, problems } = validation;
        expect(config).to.equal(undefined);
        expect(problems.filter((p) => p.path.includes(":") && !p.path.startsWith("talos-platform:")).map((p) => p.path)).to.deep.equal([
            "talos-platfrom:cluster",
            "kubernetes:context",
        ]);
    });
});
