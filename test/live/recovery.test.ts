import { expect } from "chai";
import { main as doctorMain } from "../../cli/doctor";
import type { CheckerIo } from "../../lib/gates/checker";
import { connect } from "../../lib/gates/kube";
import { recoveryCheck, RecoveryResult, recoveryTargets } from "../../lib/gates/recovery";
import { helmSecret } from "../adopt-scenarios";
import { deployment, devConfig, healthy } from "../cluster-scenarios";
import { FakeKube } from "../fake-kube";
import { customDomainConfig, Json, ROOT } from "../helpers";

// The doctor's recovery findings against a fake API server: what an
// interrupted `pulumi up`, a killed gate or a delete without its controller
// leaves behind, each reported with its fix, and nothing reported when
// nothing is left.

const NOW = Date.parse("2026-12-06T12:00:00Z");
const minutesAgo = (m: number) => new Date(NOW - m * 60_000).toISOString();

function release(name: string, namespace: string, revision: number, status: string, chart = name, version = "1.0.0"): Json {
    return helmSecret({ name, namespace, revision, status, chart, version, manager: "pulumi-resource-kubernetes" });
}

function kustomization(name: string, deleting: boolean, policy = "Orphan"): Json {
    return {
        apiVersion: "kustomize.toolkit.fluxcd.io/v1",
        kind: "Kustomization",
        metadata: {
            name,
            namespace: "flux-system",
            finalizers: ["finalizers.fluxcd.io"],
            ...(deleting ? { deletionTimestamp: minutesAgo(7) } : {}),
        },
        spec: { deletionPolicy: policy, prune: true },
    };
}

function probePod(name: string, gate: string, phase: string, ageMinutes: number, deadlineSeconds = 150): Json {
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
            name,
            namespace: "default",
            labels: { "app.kubernetes.io/managed-by": "talos-platform", "talos-platform/probe": gate },
            creationTimestamp: minutesAgo(ageMinutes),
        },
        spec: { activeDeadlineSeconds: deadlineSeconds, containers: [] },
        status: { phase, ...(phase === "Failed" ? { reason: "DeadlineExceeded" } : {}) },
    };
}

describe("the doctor's recovery findings on a fake API server", function () {
    this.timeout(20_000);
    let fake: FakeKube;
    beforeEach(async () => {
        fake = await new FakeKube().start();
    });
    afterEach(async () => {
        await fake.stop();
    });

    const check = (): Promise<RecoveryResult> =>
        recoveryCheck(connect({ kubeconfig: fake.kubeconfig() }), recoveryTargets(devConfig()), NOW);

    it("finds nothing on a cluster where nothing was interrupted, and says what it looked for", async () => {
        fake.put(release("cilium", "kube-system", 1, "superseded"), release("cilium", "kube-system", 2, "deployed"));
        fake.put(kustomization("apps-dashboard", false), deployment("flux-system", "kustomize-controller", false));
        const r = await check();
        expect(r).to.deep.equal({ findings: [], notes: [] });
        // Each release of the dev stack was looked for in its own namespace, by name (Talos runs its CoreDNS).
        const secretLists = fake.requests.filter((q) => q.path.endsWith("/secrets")).map((q) => q.path);
        expect(secretLists.sort()).to.deep.equal(
            [
                "/api/v1/namespaces/cert-manager/secrets",
                "/api/v1/namespaces/flux-system/secrets",
                "/api/v1/namespaces/ingress-nginx/secrets",
                "/api/v1/namespaces/kube-system/secrets",
            ].sort(),
        );
    });

    it("looks for CoreDNS's release only when this program runs CoreDNS", () => {
        const names = (c: ReturnType<typeof devConfig>) => recoveryTargets(c).releases.map((r) => `${r.namespace}/${r.name}`);
        expect(names(devConfig())).to.not.include("kube-system/coredns");
        expect(names(customDomainConfig())).to.include("kube-system/coredns");
    });

    it("reports a release an interrupted upgrade left pending, with the rollback to the deployed revision", async () => {
        fake.put(
            release("cilium", "kube-system", 2, "deployed", "cilium", "1.19.3"),
            release("cilium", "kube-system", 3, "pending-upgrade", "cilium", "1.19.4"),
        );
        const { findings } = await check();
        expect(findings).to.have.length(1);
        const [f] = findings;
        expect(f.subject).to.equal("Helm release kube-system/cilium");
        expect(f.blocking).to.equal(true);
        expect(f.evidence).to.deep.equal([
            "revision 3 is pending-upgrade (chart cilium 1.19.4, Secret sh.helm.release.v1.cilium.v3)",
            "revision 2 is deployed",
        ]);
        expect(f.cause).to.contain("another operation (install/upgrade/rollback) is in progress");
        expect(f.fix).to.contain("helm -n kube-system rollback cilium 2").and.contain("pulumi up --refresh");
    });

    it("reports an interrupted first install, whose fix drops the pending revision", async () => {
        fake.put(release("cert-manager", "cert-manager", 1, "pending-install"));
        const [f] = (await check()).findings;
        expect(f.blocking).to.equal(true);
        expect(f.evidence[1]).to.equal("no earlier revision is deployed");
        expect(f.fix).to.contain("kubectl -n cert-manager delete secret sh.helm.release.v1.cert-manager.v1");
    });

    it("tells a failed first install (blocks the next up) from a failed upgrade (the cluster runs the last good revision)", async () => {
        fake.put(release("ingress-nginx", "ingress-nginx", 1, "failed"));
        fake.put(release("flux-operator", "flux-system", 4, "deployed"), release("flux-operator", "flux-system", 5, "failed"));
        const findings = (await check()).findings;
        const ingress = findings.find((f) => f.subject === "Helm release ingress-nginx/ingress-nginx")!;
        expect(ingress.blocking).to.equal(true);
        expect(ingress.fix).to.contain("helm -n ingress-nginx uninstall ingress-nginx");
        const flux = findings.find((f) => f.subject === "Helm release flux-system/flux-operator")!;
        expect(flux.blocking).to.equal(false);
        expect(flux.cause).to.contain("runs revision 4");
        expect(findings).to.have.length(2);
    });

    it("ignores releases this program does not install, and older revisions of its own", async () => {
        fake.put(release("longhorn", "longhorn-system", 1, "pending-install"));
        fake.put(release("cilium", "kube-system", 1, "failed"), release("cilium", "kube-system", 2, "deployed"));
        // Another cilium release, in a namespace the stack does not name.
        fake.put(release("cilium", "cilium-test", 1, "pending-install"));
        expect((await check()).findings).to.deep.equal([]);
    });

    it("reports a Kustomization stuck deleting while kustomize-controller is down, and not while it runs", async () => {
        fake.put(kustomization("infrastructure-longhorn", true), kustomization("apps-dashboard", false));
        fake.put(deployment("flux-system", "kustomize-controller", false));
        const { findings } = await check();
        expect(findings).to.have.length(1);
        const [f] = findings;
        expect(f.subject).to.equal("Kustomization flux-system/infrastructure-longhorn");
        expect(f.blocking).to.equal(true);
        expect(f.evidence).to.deep.equal([
            `deleting for 420s (deletionTimestamp ${minutesAgo(7)}), finalizers finalizers.fluxcd.io`,
            "Deployment flux-system/kustomize-controller: 0 of 1 replicas ready",
        ]);
        expect(f.fix).to.contain("deletionPolicy Orphan");
        expect(f.fix).to.contain(
            `kubectl -n flux-system patch kustomization infrastructure-longhorn --type merge -p '{"metadata":{"finalizers":null}}'`,
        );

        fake.remove(deployment("flux-system", "kustomize-controller"));
        expect((await check()).findings[0].evidence[1]).to.equal("Deployment flux-system/kustomize-controller: not found");

        fake.put(deployment("flux-system", "kustomize-controller", true));
        expect((await check()).findings).to.deep.equal([]);
    });

    it("reports probe pods a killed gate left, finished or past their deadline, and not one a running gate is reading", async () => {
        fake.put(
            probePod("talos-platform-probe-network-a1b2c3", "network", "Failed", 20),
            probePod("talos-platform-probe-dns-d4e5f6", "dns", "Pending", 10, 150),
            // Young and running: some gate is reading it right now.
            probePod("talos-platform-probe-ingress-0a0b0c", "ingress", "Running", 1),
        );
        // Managed by this program but not a probe.
        fake.put({
            apiVersion: "v1",
            kind: "Pod",
            metadata: {
                name: "other",
                namespace: "default",
                labels: { "app.kubernetes.io/managed-by": "talos-platform" },
                creationTimestamp: minutesAgo(60),
            },
            spec: { containers: [] },
            status: { phase: "Succeeded" },
        });
        const { findings } = await check();
        expect(findings.map((f) => f.subject)).to.deep.equal([
            "probe pod default/talos-platform-probe-network-a1b2c3",
            "probe pod default/talos-platform-probe-dns-d4e5f6",
        ]);
        expect(findings.every((f) => !f.blocking)).to.equal(true);
        expect(findings[0].evidence).to.deep.equal(["gate network, Failed (DeadlineExceeded), created 1200s ago"]);
        expect(findings[0].fix).to.contain("kubectl -n default delete pod talos-platform-probe-network-a1b2c3");
    });

    it("notes what RBAC hides instead of failing, and what an unreachable API server keeps from being checked", async () => {
        fake.forbid = /\/secrets$/;
        const r = await check();
        expect(r.findings).to.deep.equal([]);
        expect(r.notes).to.have.length(4);
        expect(r.notes[0]).to.match(/^not checked: Helm release Secrets of kube-system\/cilium: HTTP 403: secrets is forbidden/);
        fake.forbid = undefined;
        fake.silent = /./;
        const kube = connect({ kubeconfig: fake.kubeconfig() });
        kube.limit(Date.now() + 300);
        const silent = await recoveryCheck(kube, recoveryTargets(devConfig()), NOW);
        expect(silent.findings).to.deep.equal([]);
        expect(silent.notes).to.have.length(1);
        expect(silent.notes[0]).to.match(
            /^not checked: Helm release Secrets of kube-system\/cilium: no answer from the API server in time/,
        );
    });

    describe("npm run doctor", () => {
        const io = (): CheckerIo & { text: () => string } => {
            let text = "";
            return { out: (t) => (text += t), err: (t) => (text += t), cwd: ROOT, signal: new AbortController().signal, text: () => text };
        };

        it("passes the chain, prints what was left behind with its fix, and exits 1 while it blocks the next up", async () => {
            healthy(fake);
            fake.put(release("cilium", "kube-system", 1, "deployed"), release("cilium", "kube-system", 2, "pending-upgrade"));
            const sink = io();
            const code = await doctorMain(["--kubeconfig", fake.kubeconfig(), "--timeout", "2s", "--poll", "20ms"], sink);
            const text = sink.text();
            expect(code, text).to.equal(1);
            expect(text).to.contain("every link works.");
            expect(text).to.contain("left behind by an interrupted operation (1; 1 to fix before the next `pulumi up`):");
            expect(text).to.contain("✗ Helm release kube-system/cilium").and.contain("helm -n kube-system rollback cilium 1");
            // Looked for before any probe pod of its own existed.
            const firstPod = fake.requests.findIndex((q) => q.method === "POST" && q.path.endsWith("/pods"));
            const lastSecretList = fake.requests.map((q) => q.path).lastIndexOf("/api/v1/namespaces/flux-system/secrets");
            expect(lastSecretList).to.be.greaterThan(-1).and.lessThan(firstPod);
        });

        it("exits 0 when what was left behind does not block the next up", async () => {
            healthy(fake);
            fake.put(probePod("talos-platform-probe-network-a1b2c3", "network", "Failed", 30));
            const sink = io();
            const code = await doctorMain(["--kubeconfig", fake.kubeconfig(), "--timeout", "2s", "--poll", "20ms"], sink);
            expect(code, sink.text()).to.equal(0);
            expect(sink.text())
                .to.contain("left behind by an interrupted operation (1):")
                .and.contain("! probe pod default/talos-platform-probe-network-a1b2c3");
        });
    });
});
