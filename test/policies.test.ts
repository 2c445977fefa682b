import { expect } from "chai";
import { evaluatePolicies, PolicyConfig } from "../lib/plan/policies";
import type { Finding } from "../lib/plan/model";

/** Runs the whole policy pack over one resource, keeping the findings of one rule; `config` as --policy-pack-config gives it. */
export async function violations(rule: string, type: string, props: Record<string, unknown>, config?: PolicyConfig): Promise<Finding[]> {
    const urn = `urn:pulumi:test::talos-platform::${type}::subject`;
    const findings = await evaluatePolicies(
        [{ urn, type, name: "subject", parent: null, dependsOn: [], phase: null, inputs: props, props }],
        config,
    );
    return findings.filter((f) => f.rule === rule);
}

const RELEASE = "kubernetes:helm.sh/v3:Release";

describe("policy helm-release-pinned", () => {
    it("passes a release with an exact version and a repository", async () => {
        expect(
            await violations("helm-release-pinned", RELEASE, {
                chart: "cilium",
                version: "1.19.4",
                repositoryOpts: { repo: "https://helm.cilium.io" },
            }),
        ).to.deep.equal([]);
    });

    it("passes an OCI chart reference without repositoryOpts", async () => {
        expect(await violations("helm-release-pinned", RELEASE, { chart: "oci://ghcr.io/x/charts/y", version: "0.58.1" })).to.deep.equal(
            [],
        );
    });

    it("fails a version range, as a mandatory finding naming the chart", async () => {
        const v = await violations("helm-release-pinned", RELEASE, {
            chart: "cilium",
            version: "~1.19",
            repositoryOpts: { repo: "https://helm.cilium.io" },
        });
        expect(v).to.have.length(1);
        expect(v[0].severity).to.equal("mandatory");
        expect(v[0].message).to.contain("cilium").and.contain('"~1.19"');
    });

    it("fails a release with no version and no repository at all", async () => {
        const v = await violations("helm-release-pinned", RELEASE, { chart: "cilium" });
        expect(v.map((f) => f.message)).to.have.length(2);
    });

    it("ignores other resource types", async () => {
        expect(await violations("helm-release-pinned", "kubernetes:core/v1:Namespace", { metadata: { name: "x" } })).to.deep.equal([]);
    });
});
