import { expect } from "chai";
import type { Plan } from "../lib/plan/model";
import { PHASES } from "../lib/phases";
import { byName, lineage, ofType, planDev } from "./helpers";

const RELEASE = "kubernetes:helm.sh/v3:Release";

describe("offline plan of the dev stack", () => {
    let plan: Plan;
    before(async () => {
        plan = await planDev();
    });
    const byUrn = (urn: string) => plan.resources.find((x) => x.urn === urn)!;
    /** Does `urn` (or a child of it) wait, transitively, for `target`? */
    const waitsFor = (urn: string, target: string, seen = new Set<string>()): boolean => {
        if (urn === target) return true;
        if (seen.has(urn)) return false;
        seen.add(urn);
        const next = [...byUrn(urn).dependsOn, ...plan.resources.filter((x) => x.parent === urn).map((x) => x.urn)];
        return next.some((n) => waitsFor(n, target, seen));
    };

    it("registers the expected resources and nothing else", () => {
        expect(plan.errors).to.deep.equal([]);
        const counts: Record<string, number> = {};
        for (const r of plan.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
        expect(counts).to.deep.equal({
            "pulumi:providers:kubernetes": 1,
            // network: the Gateway API CRDs (standard channel v1.4.1) and their pre-check, then
            // Cilium, its CRD wait, one LoadBalancer pool per stack pool, and BGP
            "talos-platform:network:GatewayApiCrds": 1,
            "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": 6,
            "talos-platform:network:Cilium": 1,
            "talos-platform:network:CrdWait": 1,
            "kubernetes:cilium.io/v2:CiliumLoadBalancerIPPool": 4,
            "kubernetes:cilium.io/v2:CiliumBGPClusterConfig": 1,
            "kubernetes:cilium.io/v2:CiliumBGPPeerConfig": 1,
            "kubernetes:cilium.io/v2:CiliumBGPAdvertisement": 1,
            "talos-platform:dns:CoreDns": 1,
            "talos-platform:certificates:CertManager": 1,
            // Four issuers; the two ACME ones each with a token Secret.
            "talos-platform:certificates:ClusterIssuers": 1,
            "kubernetes:cert-manager.io/v1:ClusterIssuer": 4,
            "kubernetes:core/v1:Secret": 2,
            // The private CA's certificate and ingress-nginx's default certificate.
            "kubernetes:cert-manager.io/v1:Certificate": 2,
            "talos-platform:ingress:IngressNginx": 1,
            // The Gateway next to it: its namespace, the Gateway and the HTTP-to-HTTPS redirect route.
            "talos-platform:ingress:Gateway": 1,
            "kubernetes:core/v1:Namespace": 1,
            "kubernetes:gateway.networking.k8s.io/v1:Gateway": 1,
            "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute": 1,
            // Flux: the operator's and the distribution's CRD waits, the instance, its source, four phases.
            "talos-platform:gitops:Flux": 1,
            "talos-platform:gitops:CrdWait": 2,
            "kubernetes:fluxcd.controlplane.io/v1:FluxInstance": 1,
            "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository": 1,
            "talos-platform:gitops:FluxPhase": 4,
            "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization": 9,
            // Cilium, cert-manager, ingress-nginx and the Flux operator (Talos runs CoreDNS). No Helm- or
            // Talos-managed object is also emitted as a raw resource.
            [RELEASE]: 4,
            "talos-platform:network:Gate": 1,
            "talos-platform:dns:Gate": 1,
            "talos-platform:certificates:Gate": 1,
            "talos-platform:ingress:Gate": 1,
            "talos-platform:gitops:Gate": 1,
            // One check per gate, one per CRD wait, the Gateway API CRDs' pre-check, and the destroy guard's.
            "command:local:Command": 10,
            "talos-platform:lifecycle:DestroyGuard": 1,
        });
    });

    it("puts every resource in a phase but the provider and the destroy guard", () => {
        expect(plan.resources.filter((r) => r.phase === null).map((r) => r.type)).to.deep.equal([
            "pulumi:providers:kubernetes",
            "talos-platform:lifecycle:DestroyGuard",
            "command:local:Command",
        ]);
    });

    it("lists the five phases in recovery order, each with its gate", () => {
        expect(plan.phases.map((p) => p.name)).to.deep.equal([...PHASES]);
        for (const p of plan.phases) {
            expect(p.gate, p.name).to.be.a("string");
            expect(byName(plan, `${p.name}-gate`).urn).to.equal(p.gate);
            expect(p.resources).to.include(p.gate);
        }
    });

    it("makes every resource of a phase wait for the previous phase's gate, directly, through its parent, or through its own gate", () => {
        for (let i = 1; i < plan.phases.length; i++) {
            const previousGate = plan.phases[i - 1].gate!;
            const ownGate = plan.phases[i].gate!;
            expect(byUrn(ownGate).dependsOn, `${plan.phases[i].name}-gate`).to.include(previousGate);
            for (const urn of plan.phases[i].resources) {
                const r = byUrn(urn);
                const waits = lineage(plan, r).some((a) => a.dependsOn.includes(previousGate) || a.dependsOn.includes(ownGate));
                expect(waits, `${r.name} waits for ${plan.phases[i - 1].name}-gate`).to.equal(true);
            }
        }
    });

    it("lets a resource depend on its own phase's gate only when the gate does not wait for it, and never on a later gate", () => {
        const gateIndex = new Map(plan.phases.map((p, i) => [p.gate!, i]));
        let afterOwnGate = 0;
        for (const r of plan.resources) {
            // The destroy guard, in no phase, depends on everything so that `pulumi destroy` deletes it first.
            if (r.phase === null) continue;
            const own = PHASES.indexOf(r.phase);
            for (const d of r.dependsOn) {
                if (!gateIndex.has(d)) continue;
                expect(gateIndex.get(d)!, `${r.name} → ${d}`).to.be.at.most(own);
                if (gateIndex.get(d) === own) {
                    afterOwnGate++;
                    expect(waitsFor(d, r.urn), `${r.name} depends on ${d}, which waits for it`).to.equal(false);
                }
            }
        }
        // The ClusterIssuers come after the certificates gate.
        expect(afterOwnGate).to.equal(1);
    });

    it("serializes nothing inside a phase but the component's own order", () => {
        // Each phase component depends on exactly the previous gate: no hidden chain through other phases.
        for (const [name, gate] of [
            ["coredns", "network-gate"],
            ["cert-manager", "dns-gate"],
            ["cluster-issuers", "certificates-gate"],
            ["flux", "ingress-gate"],
        ]) {
            expect(byName(plan, name).dependsOn, name).to.deep.equal([byName(plan, gate).urn]);
        }
        // Ingress waits for the issuers as well: its default certificate, and the Gateway's listeners, name one.
        for (const name of ["ingress-nginx", "gateway"])
            expect(byName(plan, name).dependsOn, name).to.deep.equal([
                byName(plan, "certificates-gate").urn,
                byName(plan, "cluster-issuers").urn,
            ]);
        expect(byName(plan, "cilium").dependsOn).to.deep.equal([byName(plan, "gateway-api").urn]);
        expect(byName(plan, "gateway-api").dependsOn).to.deep.equal([]);

        // Below the components, every edge between two resources of one phase, with its reason.
        // Anything else would be a hidden serialization.
        const allowed: Array<[from: RegExp, to: RegExp, why: string]> = [
            [/^cilium$/, /^gateway-api$/, "Cilium's operator starts its Gateway API controller only if the CRDs exist when it starts"],
            [
                /^gateway-api-(?!precheck$)/,
                /^gateway-api-precheck$/,
                "no CRD is created before the pre-check has refused another installer's",
            ],
            [/^cilium-crds-check$/, /^cilium-release$/, "the CRD wait polls for the CRDs Cilium's operator registers once running"],
            [/^cilium-(pool|bgp)-/, /^cilium-crds$/, "Cilium's custom resources need their CRDs"],
            [
                /^(network|dns|certificates|ingress|gitops)-gate-check$/,
                /^(cilium|coredns|cert-manager|ingress-nginx|gateway|flux)$/,
                "a gate checks what its phase deployed",
            ],
            [/^cluster-issuers$/, /^certificates-gate$/, "cert-manager's webhook admits ClusterIssuers only once it answers"],
            [
                /^cluster-issuers-letsencrypt-(staging|prod)$/,
                /^cluster-issuers-letsencrypt-(staging|prod)-token$/,
                "an ACME issuer names its token Secret",
            ],
            [
                /^cluster-issuers-home-ops-ca-certificate$/,
                /^cluster-issuers-selfsigned-issuer$/,
                "the CA certificate is signed by its issuer",
            ],
            [/^cluster-issuers-home-ops-ca$/, /^cluster-issuers-home-ops-ca-certificate$/, "a CA issuer reads its certificate's Secret"],
            [/^ingress-nginx-default-certificate$/, /^ingress-nginx-release$/, "the release creates the certificate's namespace"],
            [/^gateway-platform$/, /^gateway-namespace$/, "the Gateway lives in the namespace the component creates"],
            [/^gateway-platform-https-redirect$/, /^gateway-platform$/, "the redirect route attaches to the Gateway's redirect listener"],
            [/^flux-operator-crds-check$/, /^flux-operator$/, "the CRD wait polls for the CRD the Flux operator registers"],
            [/^flux-instance$/, /^flux-operator-crds$/, "a FluxInstance needs the operator's CRD"],
            [/^flux-crds-check$/, /^flux-instance$/, "the CRD wait polls for the CRDs the instance's distribution installs"],
            [/^flux-source$/, /^flux-crds$/, "the GitRepository needs the distribution's CRDs"],
            [/^flux-phase-core$/, /^flux-source$/, "the first Flux phase needs its Git source"],
            [/^flux-phase-/, /^flux-phase-/, "each Flux phase waits for the previous one"],
            [/^flux-ks-/, /^flux-ks-/, "a Kustomization's own dependsOn from the stack's flux.phases"],
        ];
        const name = (urn: string) => byUrn(urn).name;
        const used = new Set<number>();
        const edges: string[] = [];
        for (const r of plan.resources) {
            for (const d of r.dependsOn.filter((u) => byUrn(u).phase === r.phase)) {
                edges.push(`${r.name} → ${name(d)}`);
                const rule = allowed.findIndex(([from, to]) => from.test(r.name) && to.test(name(d)));
                expect(rule, `${r.name} → ${name(d)} (${r.phase}) has no documented reason`).to.be.at.least(0);
                used.add(rule);
            }
        }
        expect(edges).to.have.length(39);
        // A reason no edge needs any more is stale.
        expect(allowed.filter((_, i) => !used.has(i)).map(([, , why]) => why)).to.deep.equal([]);
    });

    it("pins every Helm release: chart, repository, version and namespace", () => {
        const releases = Object.fromEntries(ofType(plan, RELEASE).map((r) => [r.name, r.inputs]));
        expect(releases["cilium-release"]).to.include({ chart: "cilium", version: "1.19.4", namespace: "kube-system", name: "cilium" });
        expect(releases["cilium-release"].repositoryOpts).to.deep.equal({ repo: "https://helm.cilium.io" });
        expect(releases["cert-manager-release"]).to.include({ chart: "cert-manager", version: "v1.21.1", namespace: "cert-manager" });
        expect(releases["cert-manager-release"].repositoryOpts).to.deep.equal({ repo: "https://charts.jetstack.io" });
        expect(releases["ingress-nginx-release"]).to.include({ chart: "ingress-nginx", version: "4.15.1", namespace: "ingress-nginx" });
        expect(releases["ingress-nginx-release"].repositoryOpts).to.deep.equal({ repo: "https://kubernetes.github.io/ingress-nginx" });
        expect(releases["flux-operator"]).to.include({
            chart: "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator",
            version: "0.58.1",
            namespace: "flux-system",
        });
        expect(releases["flux-operator"]).to.not.have.property("repositoryOpts");
    });

    it("assigns each resource the phase of its component, and the provider none", () => {
        expect(byName(plan, "cilium-release").phase).to.equal("network");
        expect(byName(plan, "flux-ks-apps-dashboard").phase).to.equal("gitops");
        expect(byName(plan, "kubernetes").phase).to.equal(null);
    });

    it("is ok, with only the advisory findings that its IPv6 pool is not announced and ingress-nginx is retired", () => {
        expect(plan.ok).to.equal(true);
        expect(plan.findings.map((f) => f.rule)).to.deep.equal(["lb-pool-not-announced", "ingress-nginx-retired"]);
        expect(plan.findings.every((f) => f.severity === "advisory")).to.equal(true);
    });

    it("reports config warnings as advisory findings at the config key", async () => {
        const withHostBits = await planDev((s) => (s.cluster.podSubnets = ["10.244.0.0/16", "fd47:25e1:2f96:100:1::/56"]));
        expect(withHostBits.ok).to.equal(true);
        const hostBits = withHostBits.findings.find((f) => f.rule === "cidr-host-bits");
        expect(hostBits).to.include({ severity: "advisory", resource: "talos-platform:cluster.podSubnets[1]" });
    });
});

describe("offline plan with a broken config", () => {
    it("registers no resource at all and reports every error", async () => {
        const plan = await planDev((s) => {
            s.cluster.kubeProxyDisabled = "yes";
            s.cilium.version = "latest";
        });
        expect(plan.ok).to.equal(false);
        expect(plan.resources).to.deep.equal([]);
        expect(plan.errors.map((e) => e.path)).to.deep.equal(["talos-platform:cluster.kubeProxyDisabled", "talos-platform:cilium.version"]);
        expect(plan.errors[0].message).to.contain('"yes"').and.contain("true or false");
    });

    it("can run again in the same process after a failed run", async () => {
        await planDev((s) => (s.cilium.version = "latest"));
        const plan = await planDev();
        expect(plan.ok).to.equal(true);
        expect(plan.resources.length).to.be.greaterThan(20);
    });
});

describe("CRD waits follow the gates settings", () => {
    it("gives Cilium's and Flux's CRD waits their phase gate's timeout and the poll interval", async () => {
        const plan = await planDev((s) => {
            s.gates.network = { timeout: "90s" };
            s.gates.gitops = { timeout: "150s" };
            s.gates.pollInterval = "1s";
        });
        const create = (name: string) => String(byName(plan, name).inputs.create);
        expect(create("cilium-crds-check")).to.contain("--timeout 90s --poll 1s");
        for (const wait of ["flux-operator-crds-check", "flux-crds-check"]) expect(create(wait)).to.contain("--timeout 150s --poll 1s");
    });
});
