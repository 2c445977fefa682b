import { expect } from "chai";
import { validateConfig } from "../lib/config";
import { devSections, Json, raw, reportPodSubnets } from "./helpers";

function problems(edit: (s: Record<string, Json>) => void) {
    const s = devSections();
    edit(s);
    return validateConfig(raw(s)).problems;
}

describe("subnet cross-checks", () => {
    it("has no subnet findings on the dev stack", () => {
        expect(problems(() => undefined)).to.deep.equal([]);
    });

    it("says the report's IPv6 pod subnet has host bits and contains the Service subnet", () => {
        const p = problems(reportPodSubnets);
        expect(p.map((x) => x.rule)).to.include.members(["cidr-host-bits", "service-subnet-inside-pod-subnet"]);
        const inside = p.find((x) => x.rule === "service-subnet-inside-pod-subnet")!;
        expect(inside.path).to.equal("talos-platform:cluster.podSubnets[1]");
        expect(inside.message).to.contain("fd47:25e1:2f96:51::/64").and.contain("serviceSubnets[1]");
    });

    it("rejects a Service subnet inside the pod subnet once Cilium runs its own cluster-pool IPAM", () => {
        const p = problems((s) => {
            reportPodSubnets(s);
            s.cilium.values = { ipam: { mode: "cluster-pool" } };
        });
        const err = p.find((x) => x.severity === "error" && x.path === "talos-platform:cluster.podSubnets[1]");
        expect(err?.message).to.contain("overlaps talos-platform:cluster.serviceSubnets[1]");
    });

    it("rejects pod and node subnets that overlap, naming both keys", () => {
        const p = problems((s) => (s.cluster.nodeSubnets = ["10.244.1.0/24"]));
        const err = p.find((x) => x.severity === "error")!;
        expect(err.path).to.equal("talos-platform:cluster.podSubnets[0]");
        expect(err.message).to.contain("talos-platform:cluster.nodeSubnets[0]");
        expect(err.fix).to.contain("podSubnets[0]").and.contain("nodeSubnets[0]");
    });

    it("rejects a pod subnet inside the Service subnet even under ipam.mode kubernetes", () => {
        const p = problems((s) => (s.cluster.podSubnets = ["10.96.0.0/16", "fd47:25e1:2f96:52::/64"]));
        expect(p.some((x) => x.severity === "error" && x.message.includes("overlaps"))).to.equal(true);
    });

    it("accepts disjoint single-stack subnets without findings", () => {
        const p = problems((s) => {
            s.cluster.podSubnets = ["10.244.0.0/16"];
            s.cluster.serviceSubnets = ["10.96.0.0/12"];
            // An IPv6 pool in an IPv4-only cluster is an error of its own (see network-checks.test.ts).
            s.cilium.loadBalancerPools = s.cilium.loadBalancerPools.filter((p: Json) => p.name !== "bgp-default-ipv6");
        });
        expect(p).to.deep.equal([]);
    });
});
