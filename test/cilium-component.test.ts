import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { Cilium } from "../components/cilium";
import { resolveSection } from "../lib/config";
import type { Plan, PlanResource } from "../lib/plan/model";
import { byName, devSections, ingressWithoutLoadBalancer, Json, ofType, planDev, withoutGateway } from "./helpers";
import { unknownChartKeys } from "./chart-keys";
import { crdErrors, valuesErrors } from "./schemas";

const CRD_WAIT = "talos-platform:network:CrdWait";
const COMMAND = "command:local:Command";
const SECRET = "kubernetes:core/v1:Secret";
const cr = (kind: string, version = "v2") => `kubernetes:cilium.io/${version}:${kind}`;

/** The Cilium component's resources, itself excluded. */
function ciliumChildren(plan: Plan): PlanResource[] {
    const root = byName(plan, "cilium").urn;
    const under = (r: PlanResource): boolean => r.parent === root || plan.resources.some((p) => p.urn === r.parent && under(p));
    return plan.resources.filter(under);
}

function countByType(resources: PlanResource[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of resources) out[r.type] = (out[r.type] ?? 0) + 1;
    return out;
}

describe("Cilium component in the dev plan", () => {
    let plan: Plan;
    before(async () => {
        plan = await planDev();
    });

    it("registers the release, one CRD wait, four pools and the three BGP objects, and nothing else", () => {
        expect(plan.errors).to.deep.equal([]);
        expect(countByType(ciliumChildren(plan))).to.deep.equal({
            "kubernetes:helm.sh/v3:Release": 1,
            [CRD_WAIT]: 1,
            [COMMAND]: 1,
            [cr("CiliumLoadBalancerIPPool")]: 4,
            [cr("CiliumBGPClusterConfig")]: 1,
            [cr("CiliumBGPPeerConfig")]: 1,
            [cr("CiliumBGPAdvertisement")]: 1,
        });
        // No password configured, no Secret; no legacy BGP v1 policy, no L2.
        expect(ciliumChildren(plan).filter((r) => r.type === SECRET)).to.deep.equal([]);
        expect(
            plan.resources.some((r) => r.type.includes("CiliumBGPPeeringPolicy") || r.type.includes("CiliumL2AnnouncementPolicy")),
        ).to.equal(false);
    });

    it("makes every pool and BGP object wait for the CRDs, and the CRD wait for the release", () => {
        const wait = ofType(plan, CRD_WAIT)[0];
        const release = byName(plan, "cilium-release");
        const objects = ciliumChildren(plan).filter((r) => r.type.startsWith("kubernetes:cilium.io/"));
        expect(objects).to.have.length(7);
        for (const o of objects) {
            expect(o.dependsOn, o.name).to.deep.equal([wait.urn]);
            expect(o.parent).to.equal(byName(plan, "cilium").urn);
        }
        const check = plan.resources.find((r) => r.parent === wait.urn && r.type === COMMAND)!;
        expect(check.dependsOn).to.deep.equal([release.urn]);
        expect(release.dependsOn).to.deep.equal([]);
    });

    it("re-runs the CRD wait when the chart version changes, not otherwise", async () => {
        const triggers = (p: Plan) => byName(p, "cilium-crds-check").inputs.triggers as string[];
        expect(triggers(plan)).to.include("cilium@1.19.4");
        const upgraded = await planDev((s) => (s.cilium.version = "1.19.5"));
        expect(triggers(upgraded)).to.include("cilium@1.19.5").and.not.include("cilium@1.19.4");
        expect(triggers(await planDev())).to.deep.equal(triggers(plan));
    });

    it("waits for exactly the CRDs of the emitted kinds, through the gate checker's crds command", () => {
        const check = plan.resources.find((r) => r.parent === ofType(plan, CRD_WAIT)[0].urn)!;
        const create = String(check.inputs.create);
        expect(create).to.contain("cli/run.cjs gate crds");
        const crds = [...create.matchAll(/--crd (\S+)/g)].map((m) => m[1]);
        expect(crds).to.deep.equal([
            "ciliumbgpadvertisements.cilium.io",
            "ciliumbgpclusterconfigs.cilium.io",
            "ciliumbgppeerconfigs.cilium.io",
            "ciliumloadbalancerippools.cilium.io",
        ]);
    });

    it("installs the release with the Talos values: kube-proxy replacement, KubePrism, dual-stack, BGP", () => {
        const values = byName(plan, "cilium-release").inputs.values as Json;
        expect(values).to.deep.include({ kubeProxyReplacement: true, k8sServiceHost: "localhost", k8sServicePort: 7445 });
        expect(values.ipv6).to.deep.equal({ enabled: true });
        expect(values.bgpControlPlane).to.deep.equal({ enabled: true, secretsNamespace: { name: "kube-system" } });
    });

    it("registers objects and values that conform to the upstream schemas and the chart's keys", () => {
        const objects = ciliumChildren(plan).filter((r) => r.type.startsWith("kubernetes:cilium.io/"));
        for (const o of objects) expect(crdErrors(o.inputs as { apiVersion: string; kind: string }), o.name).to.deep.equal([]);
        const values = byName(plan, "cilium-release").inputs.values;
        expect(valuesErrors("cilium", "1.19.4", values)).to.deep.equal([]);
        expect(unknownChartKeys("cilium", "1.19.4", values)).to.deep.equal([]);
        // Cilium's cluster.name (32 characters at most) is not derived from the Talos cluster name.
        expect(values).to.not.have.any.keys("cluster", "externalIPs");
    });

    it("has the network gate wait for the whole component", () => {
        expect(byName(plan, "network-gate-check").dependsOn).to.deep.equal([byName(plan, "cilium").urn]);
    });
});

describe("Cilium component with other configs", () => {
    it("registers nothing when the incident's configuration is given, naming both keys", async () => {
        const plan = await planDev((s) => (s.cilium.values = { kubeProxyReplacement: false }));
        expect(plan.resources).to.deep.equal([]);
        expect(plan.ok).to.equal(false);
        expect(plan.errors).to.have.length(1);
        expect(plan.errors[0].path).to.equal("talos-platform:cilium.values.kubeProxyReplacement");
        expect(plan.errors[0].message).to.contain("talos-platform:cluster.kubeProxyDisabled");
    });

    it("keeps the BGP password a secret end to end: a Secret referenced by name, never in the plan", async () => {
        const password = "hunter2-bgp-md5";
        const plan = await planDev((s) => (s.cilium.bgp.peerConfigs[0].authSecret = "bgpPassword"), {
            config: { bgpPassword: password },
            secretKeys: ["bgpPassword"],
        });
        expect(plan.errors).to.deep.equal([]);
        expect(JSON.stringify(plan)).to.not.contain(password);
        const secrets = ciliumChildren(plan).filter((r) => r.type === SECRET);
        expect(secrets).to.have.length(1);
        const [secret] = secrets;
        expect(secret.inputs.metadata).to.deep.equal({ name: "bgp-auth-default", namespace: "kube-system" });
        expect(secret.inputs.stringData).to.equal("[secret]");
        const peerConfig = ofType(plan, cr("CiliumBGPPeerConfig"))[0];
        expect((peerConfig.inputs.spec as Json).authSecretRef).to.equal("bgp-auth-default");
        // Cilium would otherwise peer with an empty password until the Secret appears.
        expect(peerConfig.dependsOn).to.include(secret.urn);
        expect(secret.dependsOn).to.deep.equal([byName(plan, "cilium-release").urn]);
    });

    it("registers L2 policies behind the same CRD wait, which then also waits for their CRD", async () => {
        const plan = await planDev((s) => {
            s.cilium.loadBalancerPools.push({
                name: "lan",
                blocks: [{ start: "172.29.51.200", stop: "172.29.51.220" }],
                serviceSelector: { matchLabels: { lan: "yes" } },
            });
            s.cilium.l2Announcements = [{ name: "lan", pools: ["lan"] }];
            s.cilium.bgp.advertisements = [{ name: "bgp", pools: ["bgp-default", "bgp-ingress", "bgp-reserved", "bgp-default-ipv6"] }];
        });
        expect(plan.errors).to.deep.equal([]);
        const wait = ofType(plan, CRD_WAIT)[0];
        const [l2] = ofType(plan, cr("CiliumL2AnnouncementPolicy", "v2alpha1"));
        expect(l2.dependsOn).to.deep.equal([wait.urn]);
        expect(String(plan.resources.find((r) => r.parent === wait.urn)!.inputs.create)).to.contain(
            "ciliuml2announcementpolicies.cilium.io",
        );
        expect((byName(plan, "cilium-release").inputs.values as Json).l2announcements).to.deep.equal({ enabled: true });
    });

    it("waits for no CRD when it emits no custom resource", async () => {
        const plan = await planDev((s) => {
            s.cilium = { version: "1.19.4" };
            ingressWithoutLoadBalancer(s);
            withoutGateway(s);
        });
        expect(plan.errors).to.deep.equal([]);
        expect(ofType(plan, CRD_WAIT)).to.deep.equal([]);
        expect(ciliumChildren(plan).map((r) => r.type)).to.deep.equal(["kubernetes:helm.sh/v3:Release"]);
    });
});

describe("Cilium component outputs", () => {
    const outputOf = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

    it("reports the release status, the pools with their blocks, and the BGP peers", async () => {
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => ({
                    id: `${args.name}-id`,
                    state: args.type === "kubernetes:helm.sh/v3:Release" ? { ...args.inputs, status: { status: "deployed" } } : args.inputs,
                }),
                call: () => ({}),
            },
            "talos-platform",
            "test",
            false,
        );
        const s = devSections();
        const cilium = new Cilium("cilium", { cluster: resolveSection("cluster", s.cluster), config: s.cilium });
        expect(await outputOf(cilium.releaseStatus)).to.equal("deployed");
        expect(await outputOf(cilium.pools)).to.deep.equal([
            { name: "bgp-default", blocks: ["172.29.52.100-172.29.52.199"] },
            { name: "bgp-ingress", blocks: ["172.29.52.200-172.29.52.220"] },
            { name: "bgp-reserved", blocks: ["172.29.52.50-172.29.52.99"] },
            { name: "bgp-default-ipv6", blocks: ["fd47:25e1:2f96:52:100::/120"] },
        ]);
        expect(await outputOf(cilium.bgpPeers)).to.deep.equal([
            { name: "gateway", address: "172.29.51.1", asn: 64513, localASN: 64512, peerConfig: "default" },
        ]);
    });
});
