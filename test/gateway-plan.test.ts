import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { createHash } from "node:crypto";
import { GatewayApiCrds } from "../components/gateway-api-crds";
import { validateConfig } from "../lib/config";
import { parseGateFlags } from "../lib/gates/options";
import { gateOptions, phaseDigest } from "../lib/gates/targets";
import type { Plan, PlanResource } from "../lib/plan/model";
import { mockState } from "../lib/plan/run";
import { byName, descendants, devSections, Json, ofType, planDev, raw } from "./helpers";
import { crdErrors } from "./schemas";
import { dns01RecursiveNameservers } from "../lib/values/dns01";

// The Gateway in the plan: its CRDs in the network phase before Cilium, the
// Gateway in the ingress phase after the certificates gate, and what the
// gates are told to check.

const CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";
const GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway";
const ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";
const CLASS = "kubernetes:gateway.networking.k8s.io/v1:GatewayClass";
const PLURALS = ["gatewayclasses", "gateways", "httproutes", "grpcroutes", "referencegrants", "backendtlspolicies"];

const create = (plan: Plan, name: string) => String(byName(plan, name).inputs.create);
/** A gate command's flags after its gate name and --no-stack. */
const flagsOf = (command: string, gate: string) => command.split(" ").slice(command.split(" ").indexOf(gate) + 2);

describe("gateway in the dev plan", () => {
    let plan: Plan;
    before(async () => {
        plan = await planDev();
    });

    it("installs the standard-channel CRDs in the network phase, each after the pre-check, labelled and force-applied", () => {
        const crds = ofType(plan, CRD);
        expect(crds.map((c) => c.name)).to.deep.equal(PLURALS.map((p) => `gateway-api-${p}`));
        const check = byName(plan, "gateway-api-precheck");
        for (const c of crds) {
            expect(c.phase).to.equal("network");
            expect(c.parent).to.equal(byName(plan, "gateway-api").urn);
            expect(c.dependsOn, c.name).to.deep.equal([check.urn]);
            const meta = c.inputs.metadata as Json;
            expect(meta.annotations).to.include({
                "gateway.networking.k8s.io/bundle-version": "v1.4.1",
                "gateway.networking.k8s.io/channel": "standard",
            });
            expect(meta.labels).to.include({ "app.kubernetes.io/managed-by": "talos-platform" });
            expect(meta.annotations).to.include({ "pulumi.com/patchForce": "true" });
            // The whole CRD, as pulumi up sends it; only the mock engine's answer leaves the schemas out.
            expect(
                (c.inputs.spec as Json).versions.every((v: Json) => typeof v.schema.openAPIV3Schema === "object"),
                c.name,
            ).to.equal(true);
        }
        expect(descendants(plan, "gateway-api").map((r) => r.name)).to.deep.equal(["gateway-api-precheck", ...crds.map((c) => c.name)]);
    });

    it("runs the pre-check with the CRD names, the versions Cilium needs, and the release; again only for another release or owner", () => {
        const c = create(plan, "gateway-api-precheck");
        expect(c).to.match(/^node cli\/run\.cjs gate gateway-api-crds --no-stack /);
        const config = validateConfig(raw(devSections())).config!;
        const { options } = parseGateFlags("gateway-api-crds", flagsOf(c, "gateway-api-crds"), {} as never);
        expect(options).to.deep.include({
            mode: "install",
            bundleVersion: "v1.4.1",
            crds: PLURALS.map((p) => `${p}.gateway.networking.k8s.io`),
            served: [
                "gatewayclasses.gateway.networking.k8s.io=v1",
                "gateways.gateway.networking.k8s.io=v1",
                "httproutes.gateway.networking.k8s.io=v1",
                "grpcroutes.gateway.networking.k8s.io=v1",
                "referencegrants.gateway.networking.k8s.io=v1beta1",
            ],
            timeoutMs: gateOptions(config).network.timeoutMs,
        });
        // Only creating the CRDs can collide: the check runs with them, and again only for another owner.
        // Again on another cluster, which may hold another installer's CRDs.
        expect(byName(plan, "gateway-api-precheck").inputs.triggers).to.deep.equal(["install", "kube-system-uid:read-at-pulumi-up"]);
        expect(byName(plan, "gateway-api-precheck").inputs.update).to.equal("true");
    });

    it("makes Cilium wait for the CRDs, and turns on Gateway API in Cilium's and cert-manager's values", () => {
        expect(byName(plan, "cilium").dependsOn).to.deep.equal([byName(plan, "gateway-api").urn]);
        const cilium = byName(plan, "cilium-release").inputs.values as Json;
        expect(cilium.gatewayAPI).to.deep.equal({ enabled: true, externalTrafficPolicy: "Cluster" });
        const cm = byName(plan, "cert-manager-release").inputs.values as Json;
        expect(cm.config).to.deep.equal({ gatewayAPI: { enabled: true } });
    });

    it("creates the Gateway and its redirect route in the ingress phase, after the certificates gate and the issuers, as the strict schemas accept them", () => {
        const gw = byName(plan, "gateway-platform");
        expect(gw.type).to.equal(GATEWAY);
        expect(gw.phase).to.equal("ingress");
        expect(gw.dependsOn).to.deep.equal([byName(plan, "gateway-namespace").urn]);
        expect(byName(plan, "gateway").dependsOn).to.deep.equal([
            byName(plan, "certificates-gate").urn,
            byName(plan, "cluster-issuers").urn,
        ]);
        const route = byName(plan, "gateway-platform-https-redirect");
        expect(route.type).to.equal(ROUTE);
        expect(route.dependsOn).to.deep.equal([gw.urn]);
        expect((byName(plan, "gateway-namespace").inputs.metadata as Json).name).to.equal("gateway");
        for (const r of [gw, route]) expect(crdErrors(r.inputs as { apiVersion: string; kind: string }), r.name).to.deep.equal([]);
        expect(ofType(plan, CLASS)).to.deep.equal([]);
    });

    it("has the ingress gate wait for the Gateway and check it: class, Gateway, listeners with their Secrets", () => {
        const gate = byName(plan, "ingress-gate-check");
        expect(gate.dependsOn).to.deep.equal([byName(plan, "ingress-nginx").urn, byName(plan, "gateway").urn]);
        const { options } = parseGateFlags("ingress", flagsOf(create(plan, "ingress-gate-check"), "ingress"), {} as never);
        expect(options).to.deep.include({
            ingressNginx: true,
            gateway: "gateway/platform",
            gatewayClass: "cilium",
            gatewayListeners: ["https-apex=platform-https-apex-tls", "https-wildcard=platform-https-wildcard-tls", "http-redirect"],
        });
    });

    it("raises no finding about the Gateway", () => {
        expect(plan.ok).to.equal(true);
        expect(plan.findings.filter((f) => f.rule.startsWith("gateway"))).to.deep.equal([]);
    });
});

describe("gateway variants in the plan", () => {
    it("with crds: existing, installs no CRD and has the pre-check wait for the owner's", async () => {
        const plan = await planDev((s) => (s.gateway.gatewayApi = { crds: "existing" }));
        expect(ofType(plan, CRD)).to.deep.equal([]);
        expect(create(plan, "gateway-api-precheck")).to.contain("--mode existing");
        expect(byName(plan, "cilium").dependsOn).to.deep.equal([byName(plan, "gateway-api").urn]);
    });

    it("off, leaves no trace: no CRDs, no Gateway, Cilium first, values and digests as before", async () => {
        const plan = await planDev((s) => (s.gateway.enabled = false));
        expect(plan.errors).to.deep.equal([]);
        expect(plan.resources.filter((r) => /gateway/i.test(r.type) || r.type === CRD || r.name.startsWith("gateway"))).to.deep.equal([]);
        expect(byName(plan, "cilium").dependsOn).to.deep.equal([]);
        expect(byName(plan, "cilium-release").inputs.values).to.not.have.property("gatewayAPI");
        expect(byName(plan, "cert-manager-release").inputs.values).to.not.have.property("config");
        expect(create(plan, "ingress-gate-check")).to.not.contain("--gateway");
        // The digests a stack without the gateway had before the section existed.
        const s = devSections();
        s.gateway = { enabled: false };
        const c = validateConfig(raw(s)).config!;
        const digest = (inputs: unknown) => "sha256:" + createHash("sha256").update(JSON.stringify(inputs)).digest("hex").slice(0, 16);
        // eslint-disable-next-line @typescript-eslint/no-unused-vars
        const { identity, apiServerAliases, ...cluster } = c.cluster;
        expect(phaseDigest(c, "network")).to.equal(digest([cluster, c.cilium]));
        expect(phaseDigest(c, "certificates")).to.equal(digest([c.certManager, dns01RecursiveNameservers(c) ?? null]));
        expect(phaseDigest(c, "ingress")).to.equal(
            digest([c.ingressNginx, c.cilium.loadBalancerPools, c.cilium.bgp, c.cilium.l2Announcements]),
        );
        // On, each phase it touches re-checks.
        const on = validateConfig(raw(devSections())).config!;
        for (const phase of ["network", "certificates", "ingress"] as const)
            expect(phaseDigest(on, phase), phase).to.not.equal(phaseDigest(c, phase));
        expect(phaseDigest(on, "dns")).to.equal(phaseDigest(c, "dns"));
    });

    it("with ingress-nginx off, has the Gateway alone in the ingress phase, and the gate check it alone", async () => {
        const plan = await planDev((s) => (s.ingressNginx.enabled = false));
        expect(plan.errors).to.deep.equal([]);
        expect(plan.resources.filter((r) => r.name.startsWith("ingress-nginx"))).to.deep.equal([]);
        expect(plan.findings.map((f) => f.rule)).to.not.include("ingress-nginx-retired");
        expect(byName(plan, "ingress-gate-check").dependsOn).to.deep.equal([byName(plan, "gateway").urn]);
        expect(create(plan, "ingress-gate-check")).to.contain("--ingress-nginx false").and.contain("--gateway gateway/platform");
        expect(plan.ok).to.equal(true);
    });

    it("creates a GatewayClass for a class of its own before the Gateway, which the class policy then accepts", async () => {
        const plan = await planDev((s) => (s.gateway.className = "edge"));
        const cls = byName(plan, "gateway-class");
        expect(cls.type).to.equal(CLASS);
        expect(byName(plan, "gateway-platform").dependsOn).to.include(cls.urn);
        expect(plan.findings.filter((f) => f.rule === "gateway-class-exists")).to.deep.equal([]);
    });

    it("creates no namespace that ingress-nginx's release creates", async () => {
        const plan = await planDev((s) => (s.gateway.namespace = "ingress-nginx"));
        expect(descendants(plan, "gateway").map((r: PlanResource) => r.name)).to.deep.equal([
            "gateway-platform",
            "gateway-platform-https-redirect",
        ]);
        expect(byName(plan, "gateway-platform").dependsOn).to.deep.equal([]);
    });
});

describe("GatewayApiCrds component", () => {
    it("keeps every CRD on delete, and creates them through the provider it is given", async () => {
        const providers = new Map<string, string | undefined>();
        await pulumi.runtime.setMocks(
            {
                newResource: (a) => {
                    providers.set(a.name, a.provider);
                    return { id: `${a.name}-id`, state: a.inputs };
                },
                call: () => ({}),
            },
            "talos-platform",
            "unit",
            true,
        );
        const config = validateConfig(raw(devSections())).config!;
        const seen: { name: string; type: string; opts: pulumi.ResourceOptions }[] = [];
        await pulumi.runtime.runInPulumiStack(async () => {
            pulumi.runtime.registerStackTransformation((a) => {
                seen.push({ name: a.name, type: a.type, opts: a.opts });
                return undefined;
            });
            const provider = new k8s.Provider("crd-provider", {});
            const crds = new GatewayApiCrds(
                "gateway-api",
                { config: config.gateway, check: gateOptions(config)["gateway-api-crds"] },
                { provider },
            );
            // Registered once each CRD has its id from the mock engine.
            await new Promise((resolve) => pulumi.all(crds.crds.map((c) => c.id)).apply(resolve));
        });
        const crds = seen.filter((r) => r.type === CRD);
        expect(crds).to.have.length(6);
        for (const c of crds) {
            expect(c.opts.retainOnDelete, c.name).to.equal(true);
            expect(providers.get(c.name), c.name).to.contain("::crd-provider::");
        }
        // The pre-check is a Command: not the Kubernetes provider's.
        expect(providers.get("gateway-api-precheck") ?? "").to.not.contain("crd-provider");
        expect(seen.find((r) => r.name === "gateway-api-precheck")!.opts.retainOnDelete).to.not.equal(true);
    });
});

describe("the mock engine's answer", () => {
    const crd = {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: "gateways.gateway.networking.k8s.io" },
        spec: { group: "gateway.networking.k8s.io" },
    };

    it("gives a CRD back its name, not its schemas, and any other resource its inputs", () => {
        expect(mockState(CRD, crd)).to.deep.equal({ apiVersion: crd.apiVersion, kind: crd.kind, metadata: crd.metadata });
        const release = { chart: "cilium", values: { kubeProxyReplacement: true } };
        expect(mockState("kubernetes:helm.sh/v3:Release", release)).to.deep.equal(release);
        expect(mockState("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinitionPatch", crd)).to.deep.equal(crd);
        expect(mockState("pulumi:pulumi:StackReference", { name: "org/p/dev" })).to.deep.equal({ name: "org/p/dev", outputs: {} });
    });
});
