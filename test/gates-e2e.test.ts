import { expect } from "chai";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main as doctorMain } from "../cli/doctor";
import { main as gateMain } from "../cli/gate";
import { checkGate, CheckerIo } from "../lib/gates/checker";
import type { GateName, GateOptions } from "../lib/gates/options";
import {
    deployment,
    clusterLookup,
    crashingPod,
    devOptions,
    GIT_DNS_ERROR,
    healthy,
    incident,
    NSLOOKUP_TIMEOUT,
    TIMEOUT_LINE,
    WEBHOOK_CRASH,
} from "./cluster-scenarios";
import { FakeKube } from "./fake-kube";
import { ROOT } from "./helpers";

// The checker end to end: the real @kubernetes/client-node against a fake
// API server on 127.0.0.1, probe pods running their real script.

function io(signal = new AbortController().signal): CheckerIo & { text: () => string } {
    let text = "";
    return { out: (t) => (text += t), err: (t) => (text += t), cwd: ROOT, signal, text: () => text };
}

async function run<G extends GateName>(fake: FakeKube, gate: G, over: Partial<GateOptions[G]> = {}) {
    const options = { ...devOptions()[gate], timeoutMs: 2000, pollMs: 20, ...over } as GateOptions[G];
    options.kubeconfig ??= fake.kubeconfig();
    const sink = io();
    const started = Date.now();
    const result = await checkGate(gate, options, sink);
    return { result, out: sink.text(), ms: Date.now() - started };
}

describe("gate checker against a fake API server", function () {
    this.timeout(20_000);
    let fake: FakeKube;
    beforeEach(async () => {
        fake = await new FakeKube().start();
    });
    afterEach(async () => {
        // Every scenario: no probe pod outlives its gate.
        expect(fake.livePods(), "probe pods left behind").to.deep.equal([]);
        await fake.stop();
    });

    describe("healthy cluster", () => {
        beforeEach(() => healthy(fake));

        for (const gate of ["network", "dns", "certificates", "ingress", "gitops"] as const) {
            it(`passes the ${gate} gate`, async () => {
                const { result, out } = await run(fake, gate);
                expect(result.ok, out).to.equal(true);
                expect(result.diagnosis).to.equal(undefined);
                expect(out).to.contain(`${gate}: ✓`);
            });
        }

        it("probes the network from a restricted pod, checks the agent over exec, and deletes the pod", async () => {
            const { result } = await run(fake, "network");
            expect(result.passed.map((p) => p.name)).to.have.length(5);
            expect(fake.createdPods).to.have.length(1);
            const pod = fake.createdPods[0];
            expect(pod.metadata.namespace).to.equal("default");
            expect(pod.spec.automountServiceAccountToken).to.equal(false);
            expect(pod.spec.containers[0].securityContext.readOnlyRootFilesystem).to.equal(true);
            expect(fake.deletedPods).to.deep.equal([pod.metadata.name]);
            expect(fake.requests.some((r) => r.method === "EXEC" && r.path.endsWith("/pods/cilium-x7k2p/exec"))).to.equal(true);
            expect(result.passed[4].detail).to.contain("KubeProxyReplacement: True");
        });

        it("reads the probe's results from its log when the termination message is empty", async () => {
            fake.dropTerminationMessage = true;
            const { result } = await run(fake, "dns");
            expect(result.ok).to.equal(true);
            expect(fake.requests.some((r) => r.method === "GET" && r.path.endsWith("/log"))).to.equal(true);
        });

        it("deletes finished probe pods an earlier, killed checker left behind, and only those", async () => {
            const leftover = (name: string, phase: string, created: string) => ({
                apiVersion: "v1",
                kind: "Pod",
                metadata: {
                    name,
                    namespace: "default",
                    creationTimestamp: created,
                    labels: { "app.kubernetes.io/managed-by": "talos-platform", "talos-platform/probe": "dns" },
                },
                spec: { containers: [] },
                status: { phase },
            });
            fake.put(
                leftover("talos-platform-probe-dns-old", "Failed", "2026-01-01T00:00:00Z"),
                leftover("talos-platform-probe-dns-young", "Succeeded", new Date().toISOString()),
            );
            const { result } = await run(fake, "dns");
            expect(result.ok).to.equal(true);
            expect(fake.deletedPods).to.include("talos-platform-probe-dns-old").and.not.include("talos-platform-probe-dns-young");
        });

        it("checks certificates with a dry-run create that stores nothing", async () => {
            await run(fake, "certificates");
            expect(fake.dryRuns).to.have.length(1);
            expect(fake.dryRuns[0].kind).to.equal("Certificate");
            expect([...fake.objects.keys()].some((k) => k.includes("/certificates/"))).to.equal(false);
        });

        it("passes within a poll of the cluster becoming healthy", async () => {
            const dns = devOptions().dns;
            fake.put(deployment(dns.namespace, dns.deployment, false, 2));
            setTimeout(() => fake.put(deployment(dns.namespace, dns.deployment, true, 2)), 300);
            const { result, ms, out } = await run(fake, "dns", { pollMs: 100 });
            expect(result.ok).to.equal(true);
            expect(out).to.contain("waiting for CoreDNS ready");
            expect(ms).to.be.within(300, 300 + 100 + 400);
        });

        it("doctor prints a chain of five ✓ and exits 0", async () => {
            const sink = io();
            const code = await doctorMain(["--kubeconfig", fake.kubeconfig(), "--timeout", "2s", "--poll", "20ms"], sink);
            expect(code, sink.text()).to.equal(0);
            for (const p of ["network", "dns", "certificates", "ingress", "gitops"])
                expect(sink.text()).to.match(new RegExp(`✓ ${p} +\\d+ checks passed`));
            expect(sink.text()).to.contain("every link works");
            expect(fake.createdPods).to.have.length(3);
        });
    });

    describe("the Week 4 incident", () => {
        beforeEach(() => incident(fake));

        it("fails the network gate at once with the probe's error, the live settings, the cause and what it blocks", async () => {
            const { result, ms } = await run(fake, "network", { timeoutMs: 5000 });
            expect(result.ok).to.equal(false);
            expect(result.timedOut).to.equal(undefined);
            expect(ms).to.be.lessThan(2000);
            const d = result.diagnosis!;
            expect(d.link).to.equal("pods → kubernetes Service 10.96.0.1:443");
            expect(d.evidence.join("\n"))
                .to.contain(TIMEOUT_LINE)
                .and.contain("DaemonSet kube-system/kube-proxy: not found")
                .and.contain('kube-proxy-replacement: "false"');
            expect(d.cause).to.contain("nothing programs Service ClusterIPs");
            expect(d.blocks.join("; ")).to.contain("CoreDNS (dns)").and.contain("Flux");
            expect(fake.createdPods).to.have.length(1);
        });

        it("doctor stops at network, marks the rest blocked, and exits 1", async () => {
            const sink = io();
            const code = await doctorMain(["--kubeconfig", fake.kubeconfig(), "--timeout", "3s", "--poll", "20ms"], sink);
            const text = sink.text();
            expect(code).to.equal(1);
            expect(text).to.match(/✗ network +pods → kubernetes Service 10\.96\.0\.1:443/);
            for (const p of ["dns", "certificates", "ingress", "gitops"]) expect(text).to.match(new RegExp(`· ${p} +blocked by network`));
            expect(text).to.contain("network is the first broken link").and.contain(TIMEOUT_LINE);
            // Nothing after the broken link was probed.
            expect(fake.createdPods.map((p) => p.metadata.labels["talos-platform/probe"])).to.deep.equal(["network"]);
            expect(fake.dryRuns).to.deep.equal([]);
        });

        it("the gate command prints the diagnosis and exits 1", async () => {
            const sink = io();
            const code = await gateMain(
                ["network", "--stack", "dev", "--kubeconfig", fake.kubeconfig(), "--timeout", "3s", "--poll", "20ms"],
                sink,
            );
            expect(code).to.equal(1);
            expect(sink.text()).to.contain("✗ network gate failed").and.contain("likely cause: nothing programs Service ClusterIPs");
        });
    });

    describe("broken links after the network", () => {
        beforeEach(() => healthy(fake));

        it("DNS failing: retries the probe until the timeout and quotes nslookup", async () => {
            fake.net[clusterLookup()] = { rc: 1, out: NSLOOKUP_TIMEOUT };
            const { result, out } = await run(fake, "dns", { timeoutMs: 800, pollMs: 50 });
            expect(result.ok).to.equal(false);
            expect(result.timedOut).to.equal(true);
            expect(result.diagnosis!.link).to.equal("pods → cluster DNS (Deployment kube-system/coredns)");
            expect(result.diagnosis!.evidence[0]).to.contain(NSLOOKUP_TIMEOUT);
            expect(out).to.contain("waiting for pods resolve");
            expect(fake.createdPods.length).to.be.greaterThan(1);
            expect(fake.deletedPods).to.have.length(fake.createdPods.length);
        });

        it("webhook not ready: names the crash-looping webhook and the network behind it", async () => {
            const c = devOptions().certificates;
            fake.put(deployment(c.namespace, c.deployment, false));
            fake.put(crashingPod(c.namespace, "cert-manager-webhook-5d8f7-abcde", c.deployment, WEBHOOK_CRASH, 101));
            const { result } = await run(fake, "certificates", { timeoutMs: 500 });
            expect(result.timedOut).to.equal(true);
            const d = result.diagnosis!;
            expect(d.link).to.equal("cert-manager webhook (Deployment cert-manager/cert-manager-webhook)");
            expect(d.evidence.join("\n"))
                .to.contain("0/1 ready")
                .and.contain("(101 restarts)")
                .and.contain("dial tcp 10.96.0.1:443: i/o timeout");
            expect(d.cause).to.contain("network link is broken");
        });

        it("webhook ready but CA not injected: the dry-run's x509 error names the cainjector", async () => {
            fake.certificateApi = () => ({
                code: 500,
                message:
                    'Internal error occurred: failed calling webhook "webhook.cert-manager.io": failed to call webhook: Post "https://cert-manager-webhook.cert-manager.svc:443/validate?timeout=30s": tls: failed to verify certificate: x509: certificate signed by unknown authority',
            });
            const { result } = await run(fake, "certificates", { timeoutMs: 300 });
            expect(result.diagnosis!.link).to.equal("cainjector → webhook CA bundle");
            expect(result.diagnosis!.evidence[0]).to.contain("x509: certificate signed by unknown authority");
            expect(fake.dryRuns.length).to.be.greaterThan(1);
        });

        it("the Git source failing DNS: quotes source-controller and blames name resolution", async () => {
            const g = devOptions().gitops;
            fake.put({
                apiVersion: "source.toolkit.fluxcd.io/v1",
                kind: "GitRepository",
                metadata: { name: g.gitRepository, namespace: g.namespace },
                spec: { url: "https://github.com/geoffdavis/talos-gitops" },
                status: { conditions: [{ type: "Ready", status: "False", reason: "GitOperationFailed", message: GIT_DNS_ERROR }] },
            });
            const { result } = await run(fake, "gitops", { timeoutMs: 300 });
            expect(result.ok).to.equal(false);
            expect(result.failedStep).to.equal(`GitRepository flux-system/${g.gitRepository} Ready with an artifact`);
            expect(result.diagnosis!.link).to.equal("source-controller → DNS (github.com)");
            expect(result.diagnosis!.evidence[0]).to.contain("dial tcp: lookup github.com: i/o timeout");
            expect(result.diagnosis!.blocks).to.include("Flux phase core");
        });

        it("an ingress Service without an address: reports Cilium's no_pool condition", async () => {
            const i = devOptions().ingress;
            fake.put({
                apiVersion: "v1",
                kind: "Service",
                metadata: { name: i.service, namespace: i.namespace },
                spec: { type: "LoadBalancer" },
                status: {
                    conditions: [
                        {
                            type: "cilium.io/IPAMRequestSatisfied",
                            status: "False",
                            reason: "no_pool",
                            message: "There are no enabled CiliumLoadBalancerIPPools that match this service",
                        },
                    ],
                },
            });
            const { result } = await run(fake, "ingress", { timeoutMs: 300 });
            expect(result.diagnosis!.evidence[0]).to.contain("no_pool");
            expect(fake.createdPods).to.deep.equal([]);
        });
    });

    describe("timeouts, stuck probes and interrupts", () => {
        beforeEach(() => healthy(fake));

        it("times out within the configured timeout, printing progress while it waits", async () => {
            const dns = devOptions().dns;
            fake.put(deployment(dns.namespace, dns.deployment, false, 2));
            const { result, out, ms } = await run(fake, "dns", { timeoutMs: 700, pollMs: 50 });
            expect(result.timedOut).to.equal(true);
            expect(ms).to.be.within(650, 700 + 500);
            expect(out).to.match(
                /dns: waiting for CoreDNS ready \(Deployment kube-system\/coredns\): Deployment kube-system\/coredns 0\/2 ready, 2 updated \(0\.\ds of 0\.7s\)/,
            );
            expect(result.diagnosis!.evidence.at(-1)).to.match(/^gave up after 0\.\ds \(timeout 0\.7s\)$/);
        });

        it("deletes a probe pod stuck pulling its image when the gate times out", async () => {
            fake.podStuck = { reason: "ImagePullBackOff", message: 'Back-off pulling image "curlimages/curl:8.11.1"' };
            const { result } = await run(fake, "dns", { timeoutMs: 500 });
            expect(result.timedOut).to.equal(true);
            expect(result.diagnosis!.cause).to.equal("the nodes cannot pull the probe image");
            expect(fake.createdPods).to.have.length(1);
            expect(fake.deletedPods).to.have.length(1);
        });

        it("fails at once when the API server refuses the probe pod", async () => {
            fake.refusePods = { code: 403, message: 'pods "x" is forbidden: violates PodSecurity "restricted:latest"' };
            const { result, ms } = await run(fake, "ingress", { timeoutMs: 5000 });
            expect(result.timedOut).to.equal(undefined);
            expect(ms).to.be.lessThan(2000);
            expect(result.diagnosis!.evidence[0]).to.contain("violates PodSecurity");
        });

        it("fails at once when the API server cannot be reached", async () => {
            const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tp-")), "kubeconfig");
            fs.copyFileSync(fake.kubeconfig(), kubeconfig);
            await fake.stop();
            const { result, ms } = await run(fake, "crds", { kubeconfig, timeoutMs: 5000 } as never);
            fake = await new FakeKube().start();
            expect(ms).to.be.lessThan(2000);
            expect(result.diagnosis!.link).to.match(/^checker → API server http:\/\/127\.0\.0\.1:\d+ \(context fake\)$/);
        });

        it("fails at once when RBAC forbids what the gate reads", async () => {
            fake.forbid = /\/deployments\/coredns$/;
            const { result, ms } = await run(fake, "dns", { timeoutMs: 5000 });
            expect(ms).to.be.lessThan(2000);
            expect(result.diagnosis!.evidence[0]).to.match(/^HTTP 403: .*forbidden/);
            expect(result.diagnosis!.cause).to.contain("may not read");
        });

        it("deletes its probe pod when interrupted, and exits 130", async function () {
            this.timeout(30_000);
            fake.podStuck = { reason: "ContainerCreating", message: "" };
            const child = spawn(
                process.execPath,
                [
                    "-r",
                    "ts-node/register/transpile-only",
                    "cli/gate.ts",
                    "dns",
                    "--kubeconfig",
                    fake.kubeconfig(),
                    "--timeout",
                    "20s",
                    "--poll",
                    "50ms",
                ],
                {
                    cwd: ROOT,
                    stdio: ["ignore", "pipe", "pipe"],
                },
            );
            let stderr = "";
            child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
            const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
            while (!fake.createdPods.length) await new Promise((r) => setTimeout(r, 50));
            child.kill("SIGINT");
            expect(await exited, stderr).to.equal(130);
            expect(stderr).to.contain("SIGINT: deleting probe pods");
            expect(fake.deletedPods).to.deep.equal([fake.createdPods[0].metadata.name]);
        });
    });

    describe("the crds command (CrdWait's contract)", () => {
        it("passes when every CRD is Established and names the missing ones otherwise", async () => {
            healthy(fake);
            const ok = await run(fake, "crds", { crds: ["ciliumnodes.cilium.io"] } as never);
            expect(ok.result.ok).to.equal(true);
            const sink = io();
            const code = await gateMain(
                [
                    "crds",
                    "--crd",
                    "ciliumnodes.cilium.io",
                    "--crd",
                    "gitrepositories.source.toolkit.fluxcd.io",
                    "--timeout",
                    "300ms",
                    "--poll",
                    "20ms",
                    "--kubeconfig",
                    fake.kubeconfig(),
                ],
                sink,
            );
            expect(code).to.equal(1);
            expect(sink.text()).to.contain("CustomResourceDefinition gitrepositories.source.toolkit.fluxcd.io: not found");
        });

        it("exits 2 on usage and kubeconfig errors", async () => {
            for (const args of [
                ["nope"],
                ["dns", "--frobnicate"],
                ["dns", "--timeout", "soon"],
                ["dns", "--stack", "dev", "--config", "x.yaml"],
            ]) {
                const sink = io();
                expect(await gateMain(args, sink), args.join(" ")).to.equal(2);
                expect(sink.text()).to.contain("usage:");
            }
            const sink = io();
            expect(await gateMain(["crds", "--crd", "a.b", "--kubeconfig", fake.kubeconfig(), "--context", "elsewhere"], sink)).to.equal(2);
            expect(sink.text()).to.contain("the kubeconfig has no context 'elsewhere' (it has: fake)");
        });
    });
});
