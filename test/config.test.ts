import { expect } from "chai";
import { validateConfig } from "../lib/config";
import { describeProblem } from "../lib/problems";
import { devSections, errorsOnly, raw, withoutDevFindings } from "./helpers";

/**
 * The errors of `sections` beyond the dev stack's own findings; a warning the
 * test did not name fails it (see errorsOnly). These tests are about schema
 * errors, which always skip the cross-checks that read their section: that
 * note is named here once, and "says which cross-checks a section with
 * errors kept from running" asserts its content.
 */
function errors(sections: Record<string, unknown>, otherKeys = {}, warnings: string[] = ["checks-skipped"]) {
    return errorsOnly(withoutDevFindings(validateConfig(raw(sections, otherKeys)).problems), warnings);
}

describe("stack config", () => {
    it("accepts the dev stack (the report's dual-stack cluster) without errors", () => {
        const result = validateConfig(raw(devSections()));
        expect(result.problems.filter((p) => p.severity === "error")).to.deep.equal([]);
        expect(result.config?.cluster.podSubnets).to.have.length(2);
        expect(result.config?.cluster.kubeProxyDisabled).to.equal(true);
    });

    it("applies documented defaults to omitted sections", () => {
        const s = devSections();
        // A pool without a selector: ingress-nginx's LoadBalancer Service needs exactly one.
        // Announced by the dev stack's BGP peer: ingress-nginx's pool must be (severity from context).
        const cilium = { loadBalancerPools: [{ name: "any", blocks: [{ cidr: "172.29.52.0/24" }] }], bgp: s.cilium.bgp };
        const flux = { source: { url: "https://git.example.com/ops/platform" } };
        const result = validateConfig(raw({ cluster: s.cluster, cilium, flux }));
        expect(result.config?.cilium.version).to.equal("1.19.4");
        expect(result.config?.cilium.repository).to.equal("https://helm.cilium.io");
        expect(result.config?.gates.network.timeout).to.equal("2m");
        expect(result.config?.flux.source.branch).to.equal(undefined);
        expect(result.config?.flux.source.name).to.equal("flux-system");
        expect(result.config?.flux.phases).to.deep.equal([]);
    });

    it("has no default Git source: without flux.source.url it says which key and gives an example", () => {
        const s = devSections();
        delete s.flux;
        const problems = errors(s);
        expect(problems.map((p) => p.path)).to.deep.equal(["talos-platform:flux.source.url"]);
        expect(problems[0].message).to.equal("is required");
        expect(problems[0].fix).to.contain("pulumi config set --path 'talos-platform:flux.source.url' 'https://github.com/<owner>/<repo>'");
    });

    it("reports a wrong kind once, with an example or the list it should be", () => {
        const s = devSections();
        s.cluster.podSubnets = "10.244.0.0/16";
        s.gates = { network: { timeout: 90 } };
        const problems = errors(s);
        expect(problems.map((p) => p.path)).to.deep.equal(["talos-platform:cluster.podSubnets", "talos-platform:gates.network.timeout"]);
        expect(problems[0].fix).to.equal("write it as a list: [10.244.0.0/16]");
        expect(problems[1].fix).to.equal("set it to a string, e.g. 90s (a number with a unit: ms, s, m, h)");
    });

    it("says which cross-checks a section with errors kept from running", () => {
        const s = devSections();
        s.cilium.version = "^1.19";
        const skipped = validateConfig(raw(s)).problems.filter((p) => p.rule === "checks-skipped");
        expect(skipped.map((p) => p.path)).to.deep.equal(["talos-platform:cilium"]);
        expect(skipped[0].severity).to.equal("warning");
        expect(skipped[0].message).to.match(
            /^has errors, so \d+ cross-checks reading it did not run \([a-z0-9-]+, [a-z0-9-]+, [a-z0-9-]+ and \d+ more\)/,
        );
        expect(validateConfig(raw(devSections())).problems.filter((p) => p.rule === "checks-skipped")).to.deep.equal([]);
    });

    it("reports every problem at once, each with key, value and fix", () => {
        const s = devSections();
        s.cluster.podSubnets = ["10.244.0.0/33"];
        s.cluster.kubeProxyDisabld = true;
        s.cilium.version = "^1.19";
        s.gates = { network: { timeout: "soon" } };
        const problems = errors(s);
        const paths = problems.map((p) => p.path);
        expect(paths).to.include.members([
            "talos-platform:cluster.podSubnets[0]",
            "talos-platform:cluster.kubeProxyDisabld",
            "talos-platform:cilium.version",
            "talos-platform:gates.network.timeout",
        ]);
        for (const p of problems) expect(p.fix, describeProblem(p)).to.be.a("string").and.not.empty;
        const version = problems.find((p) => p.path === "talos-platform:cilium.version")!;
        expect(describeProblem(version)).to.contain('"^1.19"').and.contain("exact version");
    });

    it("suggests the closest known key for a misspelled one", () => {
        const s = devSections();
        s.cluster.kubeProxyDisabld = true;
        const p = errors(s).find((x) => x.path === "talos-platform:cluster.kubeProxyDisabld")!;
        expect(p.fix).to.contain("did you mean 'kubeProxyDisabled'");
    });

    it("requires the Talos kube-proxy fact instead of guessing it", () => {
        const s = devSections();
        delete s.cluster.kubeProxyDisabled;
        const p = errors(s).find((x) => x.path === "talos-platform:cluster.kubeProxyDisabled");
        expect(p?.message).to.equal("is required");
        expect(p?.fix).to.contain("pulumi config set --path 'talos-platform:cluster.kubeProxyDisabled'");
    });

    it("rejects a plain-text key outside the sections, naming the section it resembles", () => {
        const problems = errors(devSections(), { cilum: { secret: false } });
        expect(problems).to.have.length(1);
        expect(problems[0].path).to.equal("talos-platform:cilum");
        expect(problems[0].fix).to.contain("'cilium'");
    });

    it("accepts extra keys stored as secrets: they are referenced by name", () => {
        expect(errors(devSections(), { cloudflareApiToken: { secret: true } })).to.deep.equal([]);
    });

    it("rejects a section stored as a secret, because it could not be checked", () => {
        const s = devSections();
        delete s.flux;
        const problems = errors(s, { flux: { secret: true } });
        expect(problems.map((p) => p.path)).to.deep.equal(["talos-platform:flux"]);
    });

    it("rejects two subnets of one family and pod/service families that differ", () => {
        const s = devSections();
        s.cluster.podSubnets = ["10.244.0.0/16", "10.245.0.0/16"];
        const paths = errors(s).map((p) => p.path);
        expect(paths).to.include("talos-platform:cluster.podSubnets");
        expect(paths).to.include("talos-platform:cluster.serviceSubnets");
    });

    it("still checks the other sections when one section is malformed", () => {
        const s = devSections();
        s.flux = "oops";
        s.cilium.version = "latest";
        const paths = errors(s).map((p) => p.path);
        expect(paths).to.include.members(["talos-platform:flux", "talos-platform:cilium.version"]);
    });

    it("rejects an API endpoint that is not an https URL", () => {
        const s = devSections();
        s.cluster.apiEndpoint = "172.29.51.10:6443";
        expect(errors(s).map((p) => p.path)).to.deep.equal(["talos-platform:cluster.apiEndpoint"]);
    });
});

describe("cross-checks and malformed sections", () => {
    it("skips a cross-check that reads a section which failed to parse, instead of crashing", () => {
        const s = devSections();
        s.ingressNginx.replicas = "two";
        expect(errors(s).map((p) => p.path)).to.deep.equal(["talos-platform:ingressNginx.replicas"]);
    });
});
