import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { validateConfig } from "../lib/config";
import { SEVERITY_RULES, severityTableRows } from "../lib/checks/severity";
import type { Problem } from "../lib/problems";
import { POLICIES } from "../policies/rules";
import { readDoc, section } from "./docs";
import { devSections, Json, planDev, raw, ROOT } from "./helpers";

// Severity from context (issue 14): a warning that guards something the
// platform relies on is an error; the same condition elsewhere stays a warning.

const INGRESS = "ingress-nginx/ingress-nginx-controller";

function problems(edit: (s: Record<string, Json>) => void): Problem[] {
    const s = devSections();
    edit(s);
    return validateConfig(raw(s)).problems;
}

const byRule = (ps: Problem[], rule: string) => ps.filter((p) => p.rule === rule).map((p) => `${p.severity} ${p.path}`);

/** No BGP: the pools listed are announced by ARP, and the nodes' network holds the pool segment unless told otherwise. */
function l2Only(pools: string[], nodeSubnets = ["172.29.51.0/24", "172.29.52.0/24"]) {
    return (s: Record<string, Json>) => {
        delete s.cilium.bgp;
        s.cilium.loadBalancerPools = s.cilium.loadBalancerPools.filter((p: Json) => p.name !== "bgp-default-ipv6");
        s.cilium.l2Announcements = [{ name: "lan", pools }];
        s.cluster.nodeSubnets = nodeSubnets;
    };
}

/** BGP announces only the pools listed (and the IPv6 pool, as in the dev stack, nothing). */
function bgpAnnounces(pools: string[]) {
    return (s: Record<string, Json>) => (s.cilium.bgp.advertisements = [{ name: "lb", pools }]);
}

describe("severity from context: lb-pool-not-announced", () => {
    it("is an error for the pool ingress-nginx's controller takes its address from, naming the Service", () => {
        const ps = problems(bgpAnnounces(["bgp-default", "bgp-reserved"]));
        expect(byRule(ps, "lb-pool-not-announced")).to.deep.equal([
            "error talos-platform:cilium.loadBalancerPools[1]",
            "warning talos-platform:cilium.loadBalancerPools[3]",
        ]);
        const e = ps.find((p) => p.rule === "lb-pool-not-announced")!;
        expect(e.message)
            .to.contain("'bgp-ingress'")
            .and.contain(`The platform relies on it (the Service ${INGRESS} takes its address from pool 'bgp-ingress')`);
    });

    it("stays a warning for a pool only users' Services take addresses from", () => {
        const ps = problems(bgpAnnounces(["bgp-ingress", "bgp-reserved"]));
        expect(byRule(ps, "lb-pool-not-announced")).to.deep.equal([
            "warning talos-platform:cilium.loadBalancerPools[0]",
            "warning talos-platform:cilium.loadBalancerPools[3]",
        ]);
        expect(ps.filter((p) => p.severity === "error")).to.deep.equal([]);
    });

    it("follows the Service when ingress-nginx is pointed at another pool", () => {
        const ps = problems((s) => {
            bgpAnnounces(["bgp-ingress", "bgp-reserved"])(s);
            s.ingressNginx.loadBalancer = { pool: "bgp-default", externalTrafficPolicy: "Cluster" };
        });
        expect(byRule(ps, "lb-pool-not-announced")).to.deep.equal([
            "error talos-platform:cilium.loadBalancerPools[0]",
            "warning talos-platform:cilium.loadBalancerPools[3]",
        ]);
    });

    it("stops the plan: the error keeps its rule in the plan JSON, and nothing is registered", async () => {
        const plan = await planDev(bgpAnnounces(["bgp-default", "bgp-reserved"]));
        expect(plan.ok).to.equal(false);
        expect(plan.resources).to.deep.equal([]);
        expect(plan.errors.map((e) => e.rule)).to.deep.equal(["lb-pool-not-announced"]);
        const advisory = await planDev(bgpAnnounces(["bgp-ingress", "bgp-reserved"]));
        expect(advisory.ok).to.equal(true);
        expect(advisory.findings.filter((f) => f.rule === "lb-pool-not-announced").map((f) => f.severity)).to.deep.equal([
            "advisory",
            "advisory",
        ]);
    });
});

describe("severity from context: l2-pool-outside-node-subnets", () => {
    it("is an error for the ingress controller's pool outside the nodes' network, and a warning for a user pool", () => {
        const ps = problems(l2Only(["bgp-default", "bgp-ingress", "bgp-reserved"], ["172.29.51.0/24"]));
        expect(byRule(ps, "l2-pool-outside-node-subnets")).to.deep.equal([
            "warning talos-platform:cilium.loadBalancerPools[0].blocks[0]",
            "error talos-platform:cilium.loadBalancerPools[1].blocks[0]",
            "warning talos-platform:cilium.loadBalancerPools[2].blocks[0]",
        ]);
    });

    it("is no problem at all inside the nodes' network", () => {
        expect(byRule(problems(l2Only(["bgp-default", "bgp-ingress", "bgp-reserved"])), "l2-pool-outside-node-subnets")).to.deep.equal([]);
    });
});

describe("severity from context: bgp-peer-outside-node-subnets", () => {
    const peerOutside = (s: Record<string, Json>) => (s.cilium.bgp.peers[0].address = "10.20.0.1");

    it("is an error when no peer can be reached and the ingress controller's pool is announced by BGP alone", () => {
        const ps = problems(peerOutside);
        expect(byRule(ps, "bgp-peer-outside-node-subnets")).to.deep.equal(["error talos-platform:cilium.bgp.peers[0].address"]);
        expect(ps.find((p) => p.rule === "bgp-peer-outside-node-subnets")!.message).to.contain(
            "which only BGP announces, and no peer can be reached",
        );
    });

    it("stays a warning while another peer can be reached", () => {
        const ps = problems((s) => {
            peerOutside(s);
            s.cilium.bgp.peers.push({ name: "gateway-2", address: "172.29.51.2", asn: 64513 });
        });
        expect(byRule(ps, "bgp-peer-outside-node-subnets")).to.deep.equal(["warning talos-platform:cilium.bgp.peers[0].address"]);
    });

    it("stays a warning when ARP announces the ingress controller's pool anyway", () => {
        const ps = problems((s) => {
            peerOutside(s);
            s.cilium.l2Announcements = [{ name: "lan", pools: ["bgp-ingress"] }];
            s.cluster.nodeSubnets = ["172.29.51.0/24", "172.29.52.0/24"];
        });
        expect(byRule(ps, "bgp-peer-outside-node-subnets")).to.deep.equal(["warning talos-platform:cilium.bgp.peers[0].address"]);
    });
});

describe("severity from context: the table in docs/policies.md", () => {
    it("is the code's, row for row", () => {
        const rows = section(readDoc("docs/policies.md"), "Severity from context")
            .split("\n")
            .filter((l) => l.startsWith("| `"));
        expect(rows, `the table:\n${severityTableRows().join("\n")}\n`).to.deep.equal(severityTableRows());
    });

    it("reviews every warning the config checks can raise and every advisory policy, and nothing else", () => {
        const warnings = new Set<string>();
        const walk = (dir: string): string[] =>
            fs
                .readdirSync(dir, { withFileTypes: true })
                .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
        for (const file of walk(path.join(ROOT, "lib")).filter((f) => f.endsWith(".ts"))) {
            for (const m of fs.readFileSync(file, "utf8").matchAll(/\bwarning\(\s*"([a-z0-9-]+)"/g)) warnings.add(m[1]);
        }
        const advisoryPolicies = POLICIES.filter((p) => p.enforcementLevel === "advisory").map((p) => p.name);
        expect(warnings.size).to.be.greaterThan(10);
        expect(
            SEVERITY_RULES.filter((r) => r.kind === "check")
                .map((r) => r.rule)
                .sort(),
        ).to.deep.equal([...warnings].sort());
        expect(
            SEVERITY_RULES.filter((r) => r.kind === "policy")
                .map((r) => r.rule)
                .sort(),
        ).to.deep.equal(advisoryPolicies.sort());
    });

    it("names exactly the rules the code escalates", () => {
        expect(SEVERITY_RULES.filter((r) => r.escalates).map((r) => r.rule)).to.deep.equal([
            "lb-pool-not-announced",
            "l2-pool-outside-node-subnets",
            "bgp-peer-outside-node-subnets",
        ]);
    });
});
