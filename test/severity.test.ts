import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { validateConfig } from "../lib/config";
import { SEVERITY_RULES, severityTableRows } from "../lib/checks/severity";
import type { Problem } from "../lib/problems";
import { POLICIES } from "../policies/rules";
import { readDoc, section } from "./docs";
import { customDomainStack, devSections, Json, planCustomDomain, planDev, raw, ROOT } from "./helpers";

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
            .and.contain(
                `The platform relies on it (the Services ${INGRESS}, gateway/cilium-gateway-platform take their addresses from pool 'bgp-ingress')`,
            );
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

describe("severity from context: DNS-01 under the cluster domain", () => {
    // The custom-domain test stack: cluster domain k8s.home.geoffdavis.com, which its ACME issuers' zones reach.
    const DOMAIN = "k8s.home.geoffdavis.com";
    const TALOS_RULE = "dns01-cluster-domain-talos-coredns";
    const custom = (...edits: Array<(s: Record<string, Json>) => void>) =>
        problems((s) => {
            customDomainStack(s);
            for (const e of edits) e(s);
        });
    const talosCoreDns = (s: Record<string, Json>) => (s.cluster.coreDnsDisabled = false);
    const gitAt = (host: string) => (s: Record<string, Json>) => (s.flux.source.url = `https://${host}/geoffdavis/talos-gitops`);
    const dnsRules = (ps: Problem[]) => ps.filter((p) => p.rule?.startsWith("dns01-cluster-domain")).map((p) => `${p.severity} ${p.rule}`);

    it("with Talos' CoreDNS, is an error when the Flux Git source is a public name in the domain: source-controller could not clone", () => {
        const ps = custom(talosCoreDns, gitAt(`git.${DOMAIN}`));
        expect(dnsRules(ps)).to.deep.equal(["warning dns01-cluster-domain", `error ${TALOS_RULE}`]);
        expect(ps.find((p) => p.rule === TALOS_RULE)!.message).to.contain(
            `The platform relies on it (source-controller clones the Flux Git source from git.${DOMAIN} (talos-platform:flux.source.url); CoreDNS would answer NXDOMAIN for git.${DOMAIN})`,
        );
    });

    it("says the dns gate's probe resolves the Git host too when gates.dns.externalName is left to its default", () => {
        const ps = custom(talosCoreDns, gitAt(`git.${DOMAIN}`), (s) => delete s.gates.dns.externalName);
        expect(ps.find((p) => p.rule === TALOS_RULE)!.message).to.contain(
            `from git.${DOMAIN} (talos-platform:flux.source.url), and the dns gate's probe resolves it; CoreDNS would answer NXDOMAIN for git.${DOMAIN}`,
        );
    });

    it("with Talos' CoreDNS, stays a warning while the platform's names are outside the domain (github.com)", () => {
        expect(dnsRules(custom(talosCoreDns))).to.deep.equal(["warning dns01-cluster-domain", `warning ${TALOS_RULE}`]);
    });

    it("is an error for the dns gate's probe name in the domain, and not for a Service's name there", () => {
        const probe = custom(talosCoreDns, (s) => (s.gates.dns.externalName = `status.${DOMAIN}`));
        expect(dnsRules(probe)).to.deep.equal(["warning dns01-cluster-domain", `error ${TALOS_RULE}`]);
        expect(probe.find((p) => p.rule === TALOS_RULE)!.message).to.contain(
            `the dns gate's probe resolves status.${DOMAIN} (talos-platform:gates.dns.externalName)`,
        );
        const service = custom(talosCoreDns, gitAt(`gitea-http.gitea.svc.${DOMAIN}`), (s) => (s.gates.dns.externalName = "github.com"));
        expect(dnsRules(service)).to.deep.equal(["warning dns01-cluster-domain", `warning ${TALOS_RULE}`]);
    });

    it("with this program's CoreDNS, is an error only when its fallthrough is off, and the fix says to turn it on", () => {
        const off = custom(gitAt(`git.${DOMAIN}`), (s) => (s.coredns.clusterDomainFallthrough = false));
        expect(dnsRules(off)).to.deep.equal(["error dns01-cluster-domain"]);
        expect(off.find((p) => p.rule === "dns01-cluster-domain")!.fix).to.contain(
            "set talos-platform:coredns.clusterDomainFallthrough to true so that CoreDNS passes the platform's names on",
        );
        const on = custom(gitAt(`git.${DOMAIN}`));
        expect(dnsRules(on)).to.deep.equal(["warning dns01-cluster-domain"]);
        expect(on.find((p) => p.rule === "dns01-cluster-domain")!.fix).to.not.contain("to true");
    });

    it("never escalates for the DNS-01 self-check itself, the default certificate's included: the program points it at outside resolvers", () => {
        // The default certificate's names are in the domain and signed by an ACME issuer in this stack.
        const ps = custom(talosCoreDns, (s) => (s.coredns.clusterDomainFallthrough = false));
        expect(ps.filter((p) => p.severity === "error")).to.deep.equal([]);
    });

    it("stops the plan when escalated, keeping the rule; the same stack with github.com plans OK", async () => {
        const plan = await planCustomDomain((s) => (talosCoreDns(s), gitAt(`git.${DOMAIN}`)(s)));
        expect(plan.ok).to.equal(false);
        expect(plan.resources).to.deep.equal([]);
        expect(plan.errors.map((e) => e.rule)).to.deep.equal([TALOS_RULE]);
        const advisory = await planCustomDomain(talosCoreDns);
        expect(advisory.ok).to.equal(true);
        expect(advisory.findings.filter((f) => f.rule === TALOS_RULE).map((f) => f.severity)).to.deep.equal(["advisory"]);
    });
});

describe("severity from context: the table in docs/policies.md", () => {
    it("is the code's, row for row", () => {
        const rows = section(readDoc("docs/policies.md"), "Severity from context")
            .split("\n")
            .filter((l) => l.startsWith("| `"));
        expect(rows, `the table:\n${severityTableRows().join("\n")}\n`).to.deep.equal(severityTableRows());
    });

    it("reviews every warning the config checks can raise and every advisory policy, and nothing else", function () {
        // It reads the rules from lib/'s source text, which `npm run mutation` has rewritten (instrumented) in its sandbox.
        if ("__stryker__" in globalThis) this.skip();
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
            "dns01-cluster-domain",
            "dns01-cluster-domain-talos-coredns",
            "unknown-chart-value",
        ]);
    });
});
