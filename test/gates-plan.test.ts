import { expect } from "chai";
import type { Plan } from "../lib/plan/model";
import { parseGateFlags } from "../lib/gates/options";
import { FLUX_PHASE_LABEL, gateOptions, RELEASES } from "../lib/gates/targets";
import { kustomization } from "../lib/values/flux";
import { PHASES } from "../lib/phases";
import { devConfig } from "./cluster-scenarios";
import { byName, CUSTOM_DOMAIN, customDomainConfig, ofType, planCustomDomain } from "./helpers";

const PREFIX = "node cli/run.cjs gate";
/** What follows the gate's name: no stack file on disk may change what the flags say. */
const NO_STACK = "--no-stack";

function gateCommand(plan: Plan, phase: string): { create: string; triggers: unknown[] } {
    return byName(plan, `${phase}-gate-check`).inputs as { create: string; triggers: unknown[] };
}

// The custom-domain test stack: its cluster domain must reach the dns gate, and its CoreDNS is this program's release.
describe("gates in the offline plan", () => {
    let plan: Plan;
    before(async () => {
        plan = await planCustomDomain();
    });

    it("runs the checker for each phase, after the phase, with the phase's options as flags", () => {
        const gateUrns = new Set(plan.resources.filter((r) => /^talos-platform:[a-z]+:Gate$/.test(r.type)).map((r) => r.urn));
        expect(ofType(plan, "command:local:Command").filter((c) => gateUrns.has(c.parent!))).to.have.length(5);
        const options = gateOptions(customDomainConfig());
        // The component each gate closes: the gate runs after it, and after nothing else.
        const component = {
            network: ["cilium"],
            dns: ["coredns"],
            certificates: ["cert-manager"],
            // ingress-nginx, and the Gateway next to it.
            ingress: ["ingress-nginx", "gateway"],
            gitops: ["flux"],
        };
        for (const phase of PHASES) {
            const check = byName(plan, `${phase}-gate-check`);
            const { create } = gateCommand(plan, phase);
            expect(create.startsWith(`${PREFIX} ${phase} ${NO_STACK} `), create).to.equal(true);
            // Every flag round-trips to the options the doctor would use.
            const argv = create.slice(`${PREFIX} ${phase} ${NO_STACK} `.length).split(" ");
            // Every option but those that by contract never reach a command line (see test/gates-units.test.ts).
            const never = [
                "kubeconfig",
                "contextFrom",
                ...(["network", "dns", "ingress"].includes(phase) ? [] : ["probeImage", "probeNamespace"]),
            ];
            expect(parseGateFlags(phase, argv, {} as never).options).to.deep.equal(
                Object.fromEntries(Object.entries(options[phase]).filter(([k, v]) => v !== undefined && !never.includes(k))),
            );
            expect(check.dependsOn, phase).to.deep.equal(component[phase].map((c) => byName(plan, c).urn));
            for (const c of component[phase]) expect(byName(plan, c).phase, c).to.equal(phase);
        }
        expect(gateCommand(plan, "network").create)
            .to.contain("--service-ip 10.96.0.1")
            .and.contain("--kube-proxy-replacement true")
            .and.contain("--timeout 2m --poll 2s");
        // The ingress gate checks the announcements its in-cluster probe cannot see.
        expect(gateCommand(plan, "ingress").create)
            .to.contain("--cilium-namespace kube-system --bgp-cluster-config cilium-bgp")
            .and.contain("--bgp-pool bgp-default/ipv4 --bgp-pool bgp-ingress/ipv4 --bgp-pool bgp-reserved/ipv4")
            .and.not.contain("bgp-default-ipv6")
            .and.not.contain("--l2-pool");
        expect(gateCommand(plan, "dns").create)
            .to.contain(`--dns-domain ${CUSTOM_DOMAIN}`)
            .and.contain("--resolve github.com")
            .and.contain("--timeout 3m");
    });

    it("gives every checker command in the plan, CRD waits included, --no-stack: no stack file on disk picks its settings", () => {
        const checks = ofType(plan, "command:local:Command")
            .map((c) => String(c.inputs.create))
            .filter((c) => c.startsWith(PREFIX));
        expect(checks.length).to.be.greaterThan(PHASES.length);
        for (const create of checks) expect(create, create).to.match(new RegExp(`^${PREFIX} [a-z-]+ ${NO_STACK} `));
    });

    it("re-runs a gate only when its own phase's inputs change", async () => {
        const again = await planCustomDomain();
        const changed = await planCustomDomain((s) => (s.cilium.values = { operator: { replicas: 1 } }));
        const gitops = await planCustomDomain((s) => (s.flux.source.branch = "release"));
        for (const phase of PHASES) {
            const t = gateCommand(plan, phase).triggers;
            // The phase's digest, then the cluster's identity (offline: not known until `pulumi up` reads it).
            expect(t).to.have.length(2);
            expect(String(t[0])).to.match(/^sha256:[0-9a-f]{16}$/);
            expect(t[1]).to.equal("kube-system-uid:read-at-pulumi-up");
            expect(gateCommand(again, phase).triggers, phase).to.deep.equal(t);
            expect(gateCommand(changed, phase).triggers[0] !== t[0], `cilium change re-runs ${phase}`).to.equal(phase === "network");
            expect(gateCommand(gitops, phase).triggers[0] !== t[0], `flux change re-runs ${phase}`).to.equal(phase === "gitops");
        }
    });

    it("re-runs the ingress gate, which checks them, when BGP or L2 announcements change", async () => {
        const peer = await planCustomDomain((s) => (s.cilium.bgp.peers[0].asn = 64514));
        const l2 = await planCustomDomain((s) => {
            s.cilium.l2Announcements = [{ name: "lan", pools: ["bgp-ingress"] }];
            // ARP reaches only the nodes' network, and ingress-nginx's pool must be reachable (severity from context).
            s.cilium.loadBalancerPools = s.cilium.loadBalancerPools.filter((p: { name: string }) => p.name === "bgp-ingress");
            s.cluster.nodeSubnets.push("172.29.52.0/24");
        });
        for (const changed of [peer, l2]) {
            expect(gateCommand(changed, "ingress").triggers[0]).to.not.equal(gateCommand(plan, "ingress").triggers[0]);
            expect(gateCommand(changed, "dns").triggers[0]).to.equal(gateCommand(plan, "dns").triggers[0]);
        }
        expect(gateCommand(l2, "ingress").create).to.contain("--l2-pool bgp-ingress");
    });

    it("follows the kube context into every gate", async () => {
        const withContext = await planCustomDomain((s) => (s.cluster.kubeContext = "admin@home-ops"));
        for (const phase of PHASES) expect(gateCommand(withContext, phase).create).to.contain("--context admin@home-ops");
        expect(gateCommand(plan, "network").create).to.not.contain("--context");
    });

    it("looks for the releases and labels the components actually create", () => {
        const releases = ofType(plan, "kubernetes:helm.sh/v3:Release").map((r) => r.inputs.name);
        expect(releases).to.include.members(Object.values(RELEASES));
        const config = devConfig();
        const k = kustomization(config.flux, 0, [], config.flux.phases[0].kustomizations[0]);
        expect(Object.keys(k.metadata.labels ?? {})).to.include(FLUX_PHASE_LABEL);
    });
});
