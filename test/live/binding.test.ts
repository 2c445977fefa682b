import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { validateConfig } from "../../lib/config";
import { apiServers, checkBinding, LiveRead, Recorded, serverMatches } from "../../lib/lifecycle/binding";
import { ClusterSource, readLiveCluster, readRecordedOutputs, selfReferenceName } from "../../lib/lifecycle/source";
import { FakeKube } from "../fake-kube";
import { byName, devSections, Json, newErrors, planDev, raw } from "../helpers";

// One cluster per stack: the pure check, the program against a fake API
// server whose kube-system has another UID, and the read-back of the stack's
// own outputs through a StackReference under Pulumi's mocks.

const UID_A = "6f1c2a4e-3b5d-4c7e-9f8a-0b1c2d3e4f5a";
const UID_B = "0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d";

function config(edit?: (s: Record<string, Json>) => void) {
    const s = devSections();
    edit?.(s);
    const { config: c, problems } = validateConfig(raw(s));
    if (!c) throw new Error(problems.map((p) => p.message).join("; "));
    return c;
}

const live = (server: string, uid = UID_A): LiveRead => ({ kind: "live", context: "admin@home-ops", server, uid });

describe("the cluster binding check", () => {
    it("takes the Talos endpoint, KubePrism's localhost, the in-cluster address and the aliases as this cluster's API server", () => {
        const c = config();
        expect(apiServers(c)).to.deep.equal([
            "https://172.29.51.10:6443",
            "https://localhost:7445",
            "https://127.0.0.1:7445",
            "https://10.96.0.1:443",
        ]);
        for (const s of ["https://172.29.51.10:6443", "https://172.29.51.10:6443/", "https://LOCALHOST:7445", "https://10.96.0.1"]) {
            expect(serverMatches(s, c), s).to.equal(true);
        }
        for (const s of ["https://172.29.51.11:6443", "https://172.29.51.10:443", "https://localhost:6443", "not a url"]) {
            expect(serverMatches(s, c), s).to.equal(false);
        }
        const noPrism = config((s) => (s.cluster.kubePrism = { enabled: false }));
        expect(serverMatches("https://localhost:7445", noPrism)).to.equal(false);
        const aliased = config((s) => (s.cluster.apiServerAliases = ["https://172.29.51.11:6443"]));
        expect(serverMatches("https://172.29.51.11:6443", aliased)).to.equal(true);
        // An IPv6-first cluster's kubernetes Service, in brackets.
        const v6 = config((s) => {
            s.cluster.podSubnets = ["fd00:10:244::/56", "10.244.0.0/16"];
            s.cluster.serviceSubnets = ["fd00:10:96::/108", "10.96.0.0/12"];
        });
        expect(apiServers(v6)).to.include("https://[fd00:10:96::1]:443");
        expect(serverMatches("https://[FD00:10:96::1]:443", v6)).to.equal(true);
    });

    it("refuses an alias that is not an https URL", () => {
        // A schema error: the checks that read the cluster section wait for the fix, and say so.
        const errors = newErrors((s) => (s.cluster.apiServerAliases = ["172.29.51.11"]), { warnings: ["checks-skipped"] });
        expect(errors.map((p) => p.path)).to.deep.equal(["talos-platform:cluster.apiServerAliases[0]"]);
    });

    it("binds a first run to what it reads, and records it", () => {
        const { binding, problems } = checkBinding(config(), live("https://172.29.51.10:6443"), {}, false);
        expect(problems).to.deep.equal([]);
        expect(binding).to.deep.equal({
            context: "admin@home-ops",
            uid: UID_A,
            record: { uid: UID_A, server: "https://172.29.51.10:6443", context: "admin@home-ops" },
        });
    });

    it("refuses the UID of another cluster than the recorded or pinned one, in preview and in up alike", () => {
        const recorded: Recorded = { binding: { uid: UID_A, server: "https://172.29.51.10:6443", context: "old" } };
        for (const dryRun of [true, false]) {
            const { binding, problems } = checkBinding(config(), live("https://172.29.51.10:6443", UID_B), recorded, dryRun);
            expect(problems.map((p) => [p.severity, p.path])).to.deep.equal([["error", "talos-platform:cluster.identity"]]);
            expect(binding.record).to.equal(undefined);
        }
        const pinned = checkBinding(
            config((s) => (s.cluster.identity = UID_B)),
            live("https://172.29.51.10:6443", UID_A),
            {},
            false,
        );
        expect(pinned.problems[0].message).to.contain(`bound to the cluster with UID ${UID_B} (pinned in talos-platform:cluster.identity)`);
    });

    it("refuses, in up, a cluster it cannot read, and only warns in preview", () => {
        const unreachable: LiveRead = {
            kind: "unreachable",
            context: "admin@home-ops",
            server: "https://172.29.51.10:6443",
            reason: "connect ECONNREFUSED 172.29.51.10:6443",
        };
        const recorded: Recorded = { binding: { uid: UID_A, server: "https://172.29.51.10:6443", context: "admin@home-ops" } };
        const up = checkBinding(config(), unreachable, recorded, false);
        expect(up.problems.map((p) => p.severity)).to.deep.equal(["error"]);
        expect(up.problems[0].message).to.contain("ECONNREFUSED").and.contain("nothing was changed");
        expect(up.problems[0].fix).to.contain("kubectl --context admin@home-ops get namespace kube-system");
        const preview = checkBinding(config(), unreachable, recorded, true);
        expect(preview.problems.map((p) => [p.severity, p.rule])).to.deep.equal([["warning", "cluster-not-checked"]]);
        // The preview's gates keep the recorded identity: it shows no gate re-running for nothing.
        expect(preview.binding.uid).to.equal(UID_A);
        const noKubeconfig = checkBinding(config(), { kind: "unreachable", reason: "no kubeconfig" }, {}, false);
        expect(noKubeconfig.problems[0].fix).to.contain("`kubectl get namespace kube-system`");
    });
});

describe("pulumi up against a fake API server whose kube-system has another UID", function () {
    this.timeout(30_000);
    let fake: FakeKube;
    beforeEach(async () => {
        fake = await new FakeKube().start();
    });
    afterEach(async () => {
        await fake.stop();
    });

    const kubeSystem = (uid: string) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system", uid } });
    /** The fake server as a kubeconfig names it, made one of the stack's API server addresses. */
    const alias = (s: Record<string, Json>) => (s.cluster.apiServerAliases = [fake.url.replace(/^http:/, "https:")]);
    const source = (recorded: Recorded): ClusterSource => ({
        live: (c) => readLiveCluster(c, fake.kubeconfig("admin@home-ops")),
        recorded: async () => recorded,
    });
    const recordedA = (): Recorded => ({ binding: { uid: UID_A, server: fake.url, context: "admin@home-ops" } });

    it("stops before registering anything, naming both clusters, having only read kube-system", async () => {
        fake.put(kubeSystem(UID_B));
        const plan = await planDev(alias, { clusterSource: source(recordedA()) });
        expect(plan.resources).to.deep.equal([]);
        expect(plan.errors).to.have.length(1);
        expect(plan.errors[0].message)
            .to.contain(`the kubeconfig's context 'admin@home-ops' (server ${fake.url})`)
            .and.contain(`kube-system UID is ${UID_B}`)
            .and.contain(`bound to the cluster with UID ${UID_A}`);
        expect(fake.requests).to.deep.equal([{ method: "GET", path: "/api/v1/namespaces/kube-system" }]);
    });

    it("goes ahead on the recorded cluster, with the checked context for the provider and its UID in the gates' triggers", async () => {
        fake.put(kubeSystem(UID_A));
        const log = console.log;
        console.log = () => undefined;
        let plan;
        try {
            plan = await planDev(alias, { clusterSource: source(recordedA()) });
        } finally {
            console.log = log;
        }
        expect(plan.errors).to.deep.equal([]);
        expect(byName(plan, "kubernetes").inputs.context).to.equal("admin@home-ops");
        expect(byName(plan, "network-gate-check").inputs.triggers).to.include(`kube-system-uid:${UID_A}`);
    });

    it("refuses a kubeconfig that points at another API server than the stack's", async () => {
        fake.put(kubeSystem(UID_A));
        const plan = await planDev(undefined, { clusterSource: source({}) });
        expect(plan.resources).to.deep.equal([]);
        expect(plan.errors.map((e) => e.path)).to.deep.equal(["talos-platform:cluster.apiEndpoint"]);
        expect(plan.errors[0].message).to.contain(`server ${fake.url}`).and.contain("https://172.29.51.10:6443");
    });
});

describe("reading the stack's own recorded outputs", () => {
    async function withMocks(organization: string | undefined, outputs: Record<string, unknown>) {
        const seen: string[] = [];
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    if (args.type !== "pulumi:pulumi:Stack") seen.push(`${args.type} ${String(args.inputs.name)}`);
                    return { id: String(args.inputs.name), state: { ...args.inputs, outputs } };
                },
                call: () => ({}),
            },
            "talos-platform",
            "home-ops",
            true,
            organization,
        );
        let result: { name: string; recorded: Recorded } | undefined;
        await pulumi.runtime.runInPulumiStack(async () => {
            result = { name: selfReferenceName(), recorded: await readRecordedOutputs() };
            return {};
        });
        return { ...result!, seen };
    }

    it("reads clusterBinding, releaseNamespaces and gatesChecked through a StackReference to this very stack", async () => {
        const binding = { uid: UID_A, server: "https://172.29.51.10:6443", context: "admin@home-ops" };
        const r = await withMocks("acme", {
            clusterBinding: binding,
            releaseNamespaces: { cilium: "kube-system", flux: 3 },
            gatesChecked: "sha256:0123456789abcdef",
            ciliumStatus: "deployed",
        });
        expect(r.name).to.equal("acme/talos-platform/home-ops");
        expect(r.seen).to.deep.equal(["pulumi:pulumi:StackReference acme/talos-platform/home-ops"]);
        // What is not of the expected shape is left out.
        expect(r.recorded).to.deep.equal({
            binding,
            releaseNamespaces: { cilium: "kube-system" },
            gatesChecked: "sha256:0123456789abcdef",
        });
    });

    it("names a DIY backend's stack by its bare name, and reads nothing from a stack never deployed", async () => {
        const r = await withMocks("organization", {});
        expect(r.name).to.equal("home-ops");
        expect(r.recorded).to.deep.equal({});
        const old = await withMocks(undefined, { clusterBinding: { uid: UID_A } });
        expect(old.name).to.equal("home-ops");
        expect(old.recorded).to.deep.equal({});
    });
});
