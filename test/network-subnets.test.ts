import { expect } from "chai";
import { nodeBlocks } from "../lib/checks/node-ipam";
import { parseCidr } from "../lib/net";
import { describeProblem, Problem } from "../lib/problems";
import { Json, newProblems, planDev, REPORT_IPV6_POD_SUBNET, reportPodSubnets, singleStack } from "./helpers";

const K = (path: string) => `talos-platform:${path}`;

/** Every problem the edit brings to the dev stack, whatever its key or severity (see newProblems). */
const problems = (edit: (s: Record<string, Json>) => void): Problem[] => newProblems(edit);
const subnetProblems = problems;

const cidr = (text: string) => parseCidr(text)!;

describe("node blocks", () => {
    it("counts the node blocks of a pod subnet and those its Service subnet takes", () => {
        expect(nodeBlocks(cidr("fd47:25e1:2f96:51::/64"), 64, [cidr("fd47:25e1:2f96:51:1000::/108")])).to.deep.equal({
            total: 1n,
            taken: 1n,
        });
        expect(nodeBlocks(cidr("10.244.0.0/20"), 24, [cidr("10.244.0.0/22")])).to.deep.equal({ total: 16n, taken: 4n });
        expect(nodeBlocks(cidr("10.0.0.0/8"), 24, [cidr("10.96.0.0/12")])).to.deep.equal({ total: 65536n, taken: 4096n });
        expect(nodeBlocks(cidr("fd47:25e1:2f96:100::/56"), 64, [cidr("fd47:25e1:2f96:51:1000::/108")])).to.deep.equal({
            total: 256n,
            taken: 0n,
        });
        // Service subnets in any order, one inside another: each block counts once.
        expect(nodeBlocks(cidr("10.244.0.0/16"), 24, [cidr("10.244.9.0/24"), cidr("10.244.1.0/24")])).to.deep.equal({
            total: 256n,
            taken: 2n,
        });
        expect(nodeBlocks(cidr("10.244.0.0/16"), 24, [cidr("10.244.5.0/24"), cidr("10.244.0.0/20")])).to.deep.equal({
            total: 256n,
            taken: 16n,
        });
        // A Service range smaller than a block still costs the whole block.
        expect(nodeBlocks(cidr("10.244.0.0/16"), 24, [cidr("10.244.7.128/25")])).to.deep.equal({ total: 256n, taken: 1n });
    });
});

describe("subnet cross-checks", () => {
    it("has no subnet or node-IPAM findings on the dev stack", () => {
        expect(subnetProblems(() => undefined)).to.deep.equal([]);
    });

    it("refuses the report's IPv6 pod subnet: the Service subnet takes its only /64 node block, so no node gets pod CIDRs", () => {
        const p = subnetProblems(reportPodSubnets);
        expect(
            p.map((x) => [x.severity, x.rule, x.path]),
            p.map(describeProblem).join("\n"),
        ).to.deep.equal([
            ["warning", "cidr-host-bits", K("cluster.podSubnets[1]")],
            ["error", undefined, K("cluster.podSubnets[1]")],
        ]);
        const err = p[1];
        expect(err.value).to.equal(REPORT_IPV6_POD_SUBNET);
        // The pod subnet as Kubernetes reads it, the Service subnet, the mask, and what follows.
        expect(err.message).to.contain("is read as fd47:25e1:2f96:51::/64 and leaves no /64 node block");
        expect(err.message).to.contain("takes its only /64 node block");
        expect(err.message).to.contain(K("cluster.serviceSubnets[1]")).and.contain("fd47:25e1:2f96:51:1000::/108");
        // Only the Service subnet inside it: the IPv4 one costs it nothing.
        expect(err.message).to.not.contain(K("cluster.serviceSubnets[0]"));
        expect(err.message).to.contain("no node gets any").and.contain("ipam.mode kubernetes");
        expect(err.fix)
            .to.contain("a /56 of their own")
            .and.contain(K("cluster.nodeCidrMaskSizeIPv6"))
            .and.contain("node-cidr-mask-size-ipv6");
    });

    it("registers nothing for the report's IPv6 pod subnet, and the dev stack's /56 deploys", async () => {
        const refused = await planDev(reportPodSubnets);
        expect(refused.ok).to.equal(false);
        expect(refused.resources).to.deep.equal([]);
        expect(refused.errors.map((e) => e.path)).to.deep.equal([K("cluster.podSubnets[1]")]);
        const dev = await planDev();
        expect(dev.ok).to.equal(true);
        expect(dev.errors).to.deep.equal([]);
    });

    it("accepts the report's subnets once node blocks are small enough, saying what the Service range costs", () => {
        const p = subnetProblems((s) => {
            reportPodSubnets(s);
            s.cluster.nodeCidrMaskSizeIPv6 = 80;
        });
        expect(p.map((x) => [x.severity, x.rule, x.path])).to.deep.equal([
            ["warning", "cidr-host-bits", K("cluster.podSubnets[1]")],
            ["warning", "service-subnet-inside-pod-subnet", K("cluster.podSubnets[1]")],
        ]);
        const inside = p[1];
        expect(inside.message).to.contain(K("cluster.serviceSubnets[1]")).and.contain("1 node block").and.contain("65535 of 65536 remain");
    });

    it("warns when only a few node blocks remain, saying how many nodes can get pod CIDRs", () => {
        const p = subnetProblems((s) => {
            singleStack(s);
            s.cluster.podSubnets = ["10.244.0.0/20"];
            s.cluster.serviceSubnets = ["10.244.0.0/22"];
        });
        expect(p.map((x) => [x.severity, x.rule, x.path])).to.deep.equal([["warning", "few-node-cidrs", K("cluster.podSubnets[0]")]]);
        expect(p[0].message).to.contain("12 /24 node blocks").and.contain("at most 12 nodes").and.contain("takes 4 of its 16");
    });

    it("warns below 16 free node blocks and not at 16, as documented, with or without a Service subnet inside", () => {
        // Single-stack, the default /24 node mask: a /20 pod subnet holds 16 node blocks, a /19 holds 32.
        const findings = (pod: string, service: string) =>
            problems((s) => {
                singleStack(s);
                s.cluster.podSubnets = [pod];
                s.cluster.serviceSubnets = [service];
            }).map((x) => `${x.rule} ${x.message.match(/at most \d+ nodes?|\d+ of \d+ remain/)?.[0] ?? ""}`);
        // 16 free of 16, nothing taken: no finding at all.
        expect(findings("10.244.0.0/20", "10.96.0.0/12")).to.deep.equal([]);
        // 16 free of 32, half taken by a /20 Service subnet: only what the Service subnet costs.
        expect(findings("10.244.0.0/19", "10.244.0.0/20")).to.deep.equal(["service-subnet-inside-pod-subnet 16 of 32 remain"]);
        // 15 free of 16, one taken by a /24 Service subnet: the warning, and only it.
        expect(findings("10.244.0.0/20", "10.244.15.0/24")).to.deep.equal(["few-node-cidrs at most 15 nodes"]);
        // One block left: singular.
        expect(findings("10.244.0.0/23", "10.244.1.0/24")).to.deep.equal(["few-node-cidrs at most 1 node"]);
    });

    it("says in words what the Service subnet costs and how many nodes remain, IPv4 single-stack", () => {
        const findings = (pod: string, service: string) =>
            problems((s) => {
                singleStack(s);
                s.cluster.podSubnets = [pod];
                s.cluster.serviceSubnets = [service];
            }).map((x) => [x.severity, x.rule, x.message]);
        const svc = (text: string) => `${K("cluster.serviceSubnets[0]")} (${text})`;
        expect(findings("10.244.0.0/20", "10.244.15.0/24")).to.deep.equal([
            [
                "warning",
                "few-node-cidrs",
                `has room for 15 /24 node blocks (${svc("10.244.15.0/24")} lies inside it and takes 1 of its 16 /24 node blocks, which kube-controller-manager never hands out): at most 15 nodes can get IPv4 pod CIDRs`,
            ],
        ]);
        expect(findings("10.244.0.0/19", "10.244.0.0/20")).to.deep.equal([
            [
                "warning",
                "service-subnet-inside-pod-subnet",
                `contains ${svc("10.244.0.0/20")}; kube-controller-manager's node IPAM (ipam.mode kubernetes) never hands out the 16 node blocks it overlaps, so 16 of 32 remain for nodes`,
            ],
        ]);
        // Every block taken, single-stack: no node gets a pod CIDR.
        expect(findings("10.244.0.0/22", "10.244.0.0/22")).to.deep.equal([
            [
                "error",
                undefined,
                `leaves no /24 node block: ${svc("10.244.0.0/22")} lies inside it and takes all 4 of its /24 node blocks, which kube-controller-manager never hands out. So no node gets a pod CIDR, and Cilium (ipam.mode kubernetes) has no pod addresses to give on any node`,
            ],
        ]);
        // The 2^16 limit is IPv6's alone: an IPv4 pod subnet of 2^17 /24 blocks is fine.
        expect(findings("10.0.0.0/7", "10.96.0.0/12")).to.deep.equal([
            [
                "warning",
                "service-subnet-inside-pod-subnet",
                `contains ${svc("10.96.0.0/12")}; kube-controller-manager's node IPAM (ipam.mode kubernetes) never hands out the 4096 node blocks it overlaps, so 126976 of 131072 remain for nodes`,
            ],
        ]);
    });

    it("refuses a pod subnet smaller than one node block, which kube-controller-manager refuses", () => {
        const p = subnetProblems((s) => {
            singleStack(s);
            s.cluster.podSubnets = ["10.244.0.0/25"];
        });
        expect(p.map((x) => [x.severity, x.path])).to.deep.equal([["error", K("cluster.podSubnets[0]")]]);
        expect(p[0].message).to.contain("/24 node block").and.contain(K("cluster.nodeCidrMaskSizeIPv4"));
        expect(p[0].fix).to.contain("node-cidr-mask-size-ipv4");
        // With matching node blocks it works, for two nodes.
        const fixed = subnetProblems((s) => {
            singleStack(s);
            s.cluster.podSubnets = ["10.244.0.0/25"];
            s.cluster.nodeCidrMaskSizeIPv4 = 26;
        });
        expect(fixed.map((x) => [x.severity, x.rule])).to.deep.equal([["warning", "few-node-cidrs"]]);
        expect(fixed[0].message).to.contain("at most 2 nodes");
    });

    it("reports what kube-controller-manager refuses even when the cilium section does not parse", () => {
        const p = problems((s) => {
            s.cluster.podSubnets = ["10.244.0.0/25", "fd47:25e1:2f96:100::/56"];
            s.cilium.version = "latest";
        });
        // The checks that need the cilium section say they did not run.
        expect(p.map((x) => [x.severity, x.rule, x.path])).to.have.deep.members([
            ["error", undefined, K("cilium.version")],
            ["error", undefined, K("cluster.podSubnets[0]")],
            ["warning", "checks-skipped", K("cilium")],
        ]);
        expect(p).to.have.length(3);
    });

    it("refuses an IPv6 pod subnet with more than 2^16 node blocks, which kube-controller-manager refuses", () => {
        const p = subnetProblems((s) => (s.cluster.podSubnets = ["10.244.0.0/16", "fd47:2500::/40"]));
        expect(p.map((x) => [x.severity, x.path])).to.deep.equal([["error", K("cluster.podSubnets[1]")]]);
        expect(p[0].message).to.contain("2^24").and.contain("2^16");
        expect(p[0].fix).to.contain("/48 or longer").and.contain("at most 56");
        expect(subnetProblems((s) => (s.cluster.podSubnets = ["10.244.0.0/16", "fd47:2500::/48"]))).to.deep.equal([]);
    });

    it("refuses node masks that are not prefix lengths", () => {
        const p = problems((s) => {
            s.cluster.nodeCidrMaskSizeIPv4 = 33;
            s.cluster.nodeCidrMaskSizeIPv6 = "64";
        });
        expect(p.map((x) => [x.severity, x.rule, x.path])).to.deep.equal([
            ["error", undefined, K("cluster.nodeCidrMaskSizeIPv4")],
            ["error", undefined, K("cluster.nodeCidrMaskSizeIPv6")],
            ["warning", "checks-skipped", K("cluster")],
        ]);
    });

    it("rejects a Service subnet inside the pod subnet once Cilium runs its own cluster-pool IPAM", () => {
        const p = problems((s) => {
            reportPodSubnets(s);
            s.cilium.values = { ipam: { mode: "cluster-pool" } };
        });
        expect(p.map((x) => [x.severity, x.rule, x.path])).to.deep.equal([
            ["warning", "cidr-host-bits", K("cluster.podSubnets[1]")],
            ["error", undefined, K("cluster.podSubnets[1]")],
        ]);
        expect(p[1].message).to.contain("overlaps talos-platform:cluster.serviceSubnets[1]");
    });

    it("rejects pod and node subnets that overlap, naming both keys", () => {
        const p = problems((s) => (s.cluster.nodeSubnets = ["10.244.1.0/24"]));
        // Moving the node network away from the BGP peer also leaves the peer off it; the ingress pool is
        // announced by BGP alone, so that is an error too (severity from context).
        expect(p.map((x) => [x.severity, x.rule])).to.deep.equal([
            ["error", undefined],
            ["error", "bgp-peer-outside-node-subnets"],
        ]);
        const err = p[0];
        expect(err.path).to.equal(K("cluster.podSubnets[0]"));
        expect(err.message).to.contain(K("cluster.nodeSubnets[0]"));
        expect(err.fix).to.contain("podSubnets[0]").and.contain("nodeSubnets[0]");
    });

    it("rejects a pod subnet inside the Service subnet even under ipam.mode kubernetes", () => {
        const p = problems((s) => (s.cluster.podSubnets[0] = "10.96.0.0/16"));
        expect(p.map((x) => [x.severity, x.path, x.message.split(";")[0]])).to.deep.equal([
            ["error", K("cluster.podSubnets[0]"), `overlaps ${K("cluster.serviceSubnets[0]")} (10.96.0.0/12)`],
        ]);
    });

    it("accepts disjoint single-stack subnets without findings", () => {
        expect(problems(singleStack)).to.deep.equal([]);
    });
});
