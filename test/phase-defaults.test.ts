import { expect } from "chai";
import type { Plan } from "../lib/plan/model";
import { byName, descendants, Json, planCustomDomain } from "./helpers";

const RELEASE = "kubernetes:helm.sh/v3:Release";

// The documented defaults of the DNS, certificates and ingress sections, as
// the plan registers them when the sections are left out of the custom-domain
// test stack, where this program installs CoreDNS.
describe("DNS, certificates and ingress phases from their defaults", () => {
    let plan: Plan;
    before(async () => {
        plan = await planCustomDomain((s) => {
            delete s.coredns;
            delete s.certManager;
            delete s.ingressNginx;
            // The Gateway's listeners name an issuer the default certManager section does not have.
            delete s.gateway;
            // Without ingressNginx.loadBalancer.pool the Service has no pool labels: a pool without a selector takes it.
            s.cilium.loadBalancerPools.push({ name: "ingress-default", blocks: [{ start: "172.29.52.230", stop: "172.29.52.240" }] });
        });
    });
    const values = (name: string): Json => byName(plan, name).inputs.values;

    it("plans without errors, registering the three releases and no issuers or certificates", () => {
        expect(plan.errors).to.deep.equal([]);
        const releases = plan.resources.filter((r) => r.type === RELEASE).map((r) => r.name);
        expect(releases).to.include.members(["coredns-release", "cert-manager-release", "ingress-nginx-release"]);
        expect(descendants(plan, "cluster-issuers")).to.deep.equal([]);
        expect(descendants(plan, "ingress-nginx").map((r) => r.name)).to.deep.equal(["ingress-nginx-release"]);
    });

    it("installs CoreDNS 1.46.2 into kube-system: two replicas, the tenth addresses, forwarding to /etc/resolv.conf", () => {
        expect(byName(plan, "coredns-release").inputs).to.include({ chart: "coredns", version: "1.46.2", namespace: "kube-system" });
        const v = values("coredns-release");
        expect(v.replicaCount).to.equal(2);
        expect(v.service).to.deep.equal({
            name: "kube-dns",
            clusterIP: "10.96.0.10",
            clusterIPs: ["10.96.0.10", "fd47:25e1:2f96:51:1000::a"],
            ipFamilyPolicy: "RequireDualStack",
        });
        const plugins = v.servers[0].plugins;
        expect(plugins.find((p: Json) => p.name === "forward").parameters).to.equal(". /etc/resolv.conf");
        expect(plugins.find((p: Json) => p.name === "kubernetes").parameters).to.equal("k8s.home.geoffdavis.com in-addr.arpa ip6.arpa");
    });

    it("installs cert-manager v1.21.1 into cert-manager with kept CRDs, two replicas of each part, and no ingress-shim default", () => {
        expect(byName(plan, "cert-manager-release").inputs).to.include({
            chart: "cert-manager",
            version: "v1.21.1",
            namespace: "cert-manager",
        });
        const v = values("cert-manager-release");
        expect(v.crds).to.deep.equal({ enabled: true, keep: true });
        expect([v.replicaCount, v.webhook.replicaCount, v.cainjector.replicaCount]).to.deep.equal([2, 2, 2]);
        expect(v).to.not.have.property("ingressShim");
    });

    it("installs ingress-nginx 4.15.1: two replicas, Cluster traffic policy, the default nginx class, metrics, no fixed address or default certificate", () => {
        expect(byName(plan, "ingress-nginx-release").inputs).to.include({
            chart: "ingress-nginx",
            version: "4.15.1",
            namespace: "ingress-nginx",
        });
        const { controller } = values("ingress-nginx-release");
        expect(controller.replicaCount).to.equal(2);
        expect(controller.service).to.deep.equal({ type: "LoadBalancer", externalTrafficPolicy: "Cluster", labels: {} });
        expect(controller.ingressClassResource).to.deep.equal({ name: "nginx", enabled: true, default: true });
        expect(controller.metrics.enabled).to.equal(true);
        expect(controller.admissionWebhooks).to.deep.equal({ enabled: true });
        expect(controller).to.not.have.property("extraArgs");
    });
});
