import { expect } from "chai";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main as doctorMain } from "../../cli/doctor";
import { main as gateMain } from "../../cli/gate";
import { checkGate, CheckerIo } from "../../lib/gates/checker";
import { gateOptions } from "../../lib/gates/targets";
import { validateConfig } from "../../lib/config";
import { gateFlags, type GateName, type GateOptions } from "../../lib/gates/options";
import {
    deployment,
    clusterLookup,
    crashingPod,
    devOptions,
    GIT_DNS_ERROR,
    healthy,
    incident,
    INGRESS_CLUSTER_IP,
    NSLOOKUP_TIMEOUT,
    nodesWithDomain,
    TIMEOUT_LINE,
    WEBHOOK_CRASH,
} from "../cluster-scenarios";
import { FakeKube } from "../fake-kube";
import { devSections, ingressWithoutLoadBalancer, Json, raw, ROOT } from "../helpers";

// The checker end to end: the real @kubernetes/client-node against a fake
// API server on 127.0.0.1, probe pods running their real script.

/**
 * The timeout of a gate that should pass, or fail conclusively. A healthy
 * phase passes at its first poll and a conclusive failure ends the gate at
 * once, so this is never waited out: it only has to outlast any slowdown of a
 * loaded machine. Such tests assert what happened (passed; failed without
 * timing out, after one attempt), never how long it took. Tests of the
 * timeout itself give short ones of their own.
 */
const AMPLE_MS = 60_000;
const AMPLE = "1m";

function io(signal = new AbortController().signal, over: Partial<CheckerIo> = {}): CheckerIo & { text: () => string } {
    let text = "";
    return { out: (t) => (text += t), err: (t) => (text += t), cwd: ROOT, signal, text: () => text, ...over };
}

async function run<G extends GateName>(fake: FakeKube, gate: G, over: Partial<GateOptions[G]> = {}, ioOver: Partial<CheckerIo> = {}) {
    const options = { ...devOptions()[gate], timeoutMs: AMPLE_MS, pollMs: 20, ...over } as GateOptions[G];
    options.kubeconfig ??= fake.kubeconfig();
    const sink = io(undefined, ioOver);
    const started = Date.now();
    const result = await checkGate(gate, options, sink);
    return { result, out: sink.text(), ms: Date.now() - started };
}

/** Runs the gate checker as `pulumi up` does (cli/run.cjs), in a process of its own; resolves with its exit code, stderr, and when it exited. */
function spawnGate(args: string[]) {
    const child = spawn(process.execPath, ["cli/run.cjs", "gate", ...args], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; stderr: string; at: number }>((r) =>
        child.on("exit", (code) => r({ code, stderr, at: Date.now() })),
    );
    return { child, exited };
}

/** The dev stack's validated config after `edit`. */
function configWith(edit: (s: Record<string, Json>) => void) {
    const s = devSections();
    edit(s);
    const { config, problems } = validateConfig(raw(s));
    if (!config) throw new Error(problems.map((p) => p.message).join("; "));
    return config;
}

/** A kubeconfig for `fake` with the cluster and user fields replaced. */
function kubeconfigWith(fake: FakeKube, cluster: object, user: object): string {
    const doc = JSON.parse(fs.readFileSync(fake.kubeconfig(), "utf8"));
    doc.clusters[0].cluster = { ...cluster };
    doc.users[0].user = { ...user };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tp-kc-")), "kubeconfig");
    fs.writeFileSync(file, JSON.stringify(doc));
    return file;
}

describe("gate checker against a fake API server", function () {
    // A safety net for a hung test, far above any gate timeout here.
    this.timeout(3 * AMPLE_MS);
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
            const ns = devOptions().certificates.namespace;
            expect([...fake.objects.keys()].some((k) => k.includes(`/namespaces/${ns}/certificates/`))).to.equal(false);
        });

        /**
         * Runs the dns gate and repairs the cluster once `seen()` says the gate
         * has observed the failure; resolves with the result and `seen()` at
         * the repair. The gate passes at its first poll after the repair
         * exactly when the count has grown by one since then.
         */
        async function repairedWhile(seen: () => number, failures: number, repair: () => void) {
            let atRepair = -1;
            const watch = setInterval(() => {
                if (atRepair < 0 && seen() >= failures) {
                    repair();
                    atRepair = seen();
                }
            }, 5);
            try {
                const { result, out } = await run(fake, "dns", { pollMs: 50 });
                return { result, out, atRepair };
            } finally {
                clearInterval(watch);
            }
        }

        it("passes at the first poll after a workload becomes ready", async () => {
            const dns = devOptions().dns;
            const path = `/apis/apps/v1/namespaces/${dns.namespace}/deployments/${dns.deployment}`;
            const reads = () => fake.requests.filter((r) => r.method === "GET" && r.path === path).length;
            fake.put(deployment(dns.namespace, dns.deployment, false, 2));
            const r = await repairedWhile(reads, 2, () => fake.put(deployment(dns.namespace, dns.deployment, true, 2)));
            expect(r.result.ok, r.out).to.equal(true);
            expect(r.atRepair, "repaired after two unready reads").to.be.at.least(2);
            expect(r.out).to.contain("waiting for CoreDNS ready");
            expect(reads() - r.atRepair, "reads of the Deployment after the repair").to.equal(1);
        });

        it("passes with the first probe pod started after the probe's lookups begin to work", async () => {
            const failing = { rc: 1, out: NSLOOKUP_TIMEOUT };
            const working = fake.net[clusterLookup()];
            fake.net[clusterLookup()] = failing;
            // A pod takes the network as it is when created: repair once a second pod was needed.
            const pods = () => fake.createdPods.length;
            const r = await repairedWhile(pods, 2, () => (fake.net[clusterLookup()] = working));
            expect(r.result.ok, r.out).to.equal(true);
            expect(r.out).to.contain("waiting for pods resolve");
            expect(r.atRepair).to.be.at.least(2);
            expect(pods() - r.atRepair, "probe pods created after the repair").to.equal(1);
        });

        it("doctor prints a chain of five ✓ and exits 0", async () => {
            const sink = io();
            const code = await doctorMain(["--kubeconfig", fake.kubeconfig(), "--timeout", AMPLE, "--poll", "20ms"], sink);
            expect(code, sink.text()).to.equal(0);
            for (const p of ["network", "dns", "certificates", "ingress", "gitops"])
                expect(sink.text()).to.match(new RegExp(`✓ ${p} +\\d+ checks passed`));
            expect(sink.text()).to.contain("every link works");
            // network, dns, ingress-nginx and the Gateway each send one probe pod.
            expect(fake.createdPods).to.have.length(4);
        });
    });

    describe("the Week 4 incident", () => {
        beforeEach(() => incident(fake));

        it("fails the network gate at once with the probe's error, the live settings, the cause and what it blocks", async () => {
            const { result } = await run(fake, "network");
            expect(result.ok).to.equal(false);
            // At once: a conclusive failure, not the timeout, after one probe (asserted below).
            expect(result.timedOut).to.equal(undefined);
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
            const code = await doctorMain(["--kubeconfig", fake.kubeconfig(), "--timeout", AMPLE, "--poll", "20ms"], sink);
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
                ["network", "--stack", "dev", "--kubeconfig", fake.kubeconfig(), "--timeout", AMPLE, "--poll", "20ms"],
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

        it("kubelets on another cluster domain: fails at once, before any probe pod, although CoreDNS answers for the configured one", async () => {
            // The probe's lookup of the configured domain would succeed (healthy answers it); the kubelets say otherwise.
            nodesWithDomain(fake, "home.arpa");
            const { result } = await run(fake, "dns", { timeoutMs: 5000 });
            expect(result.ok).to.equal(false);
            expect(result.timedOut, "a wrong domain does not fix itself: no waiting").to.not.equal(true);
            expect(result.failedStep).to.equal(`kubelets give pods the cluster domain ${devOptions().dns.dnsDomain}`);
            const d = result.diagnosis!;
            expect(d.link).to.contain("home.arpa");
            expect(d.evidence).to.deep.equal(
                ["mini01", "mini02", "mini03"].map(
                    (n) => `node ${n}: kubelet clusterDomain home.arpa (GET /api/v1/nodes/${n}/proxy/configz)`,
                ),
            );
            expect(d.fix).to.contain("set talos-platform:cluster.dnsDomain to home.arpa");
            expect(fake.createdPods).to.deep.equal([]);
            expect(fake.requests.filter((r) => r.path.endsWith("/proxy/configz")).map((r) => r.method)).to.deep.equal([
                "GET",
                "GET",
                "GET",
            ]);
        });

        it("kubelets on the configured domain: the step passes and says how many kubelets it read", async () => {
            const { result } = await run(fake, "dns");
            expect(result.ok).to.equal(true);
            const step = result.passed.find((p) => p.name.startsWith("kubelets give pods"));
            expect(step?.detail).to.equal("3 of 3 kubelets read");
        });

        it("kubelet configuration not readable (RBAC on nodes/proxy): the domain is not checked, and the gate goes on to probe", async () => {
            nodesWithDomain(fake, "home.arpa");
            fake.forbid = /\/proxy\/configz$/;
            const { result } = await run(fake, "dns");
            expect(result.ok).to.equal(true);
            const step = result.passed.find((p) => p.name.startsWith("kubelets give pods"));
            expect(step?.detail).to.match(/^not checked: the kubeconfig's user may not get nodes\/proxy/);
            expect(fake.createdPods).to.have.length(1);
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

        it("a NodePort controller Service: skips the pool check and probes the ClusterIP", async () => {
            // Without BGP and the Gateway, too: their steps would read the pools for their Services' addresses.
            const config = configWith((s) => {
                ingressWithoutLoadBalancer(s);
                delete s.cilium.bgp;
                delete s.gateway;
            });
            healthy(fake, config);
            const o = gateOptions(config).ingress;
            expect(o.serviceType).to.equal("NodePort");
            const { result, out } = await run(fake, "ingress", { ...o, timeoutMs: AMPLE_MS, pollMs: 20 });
            expect(result.ok, out).to.equal(true);
            expect(result.passed.map((p) => p.name)).to.deep.equal([
                "ingress-nginx controller ready (Deployment ingress-nginx/ingress-nginx-controller)",
                "controller Service has a ClusterIP (Service ingress-nginx/ingress-nginx-controller, type NodePort: no LoadBalancer address to check)",
                "the controller answers on its ClusterIP from inside the cluster",
                "default TLS certificate issued (Certificate ingress-nginx/default-tls Ready)",
            ]);
            expect(result.passed[2].detail).to.contain(`${INGRESS_CLUSTER_IP}:80`);
            expect(fake.requests.some((r) => r.path.includes("ciliumloadbalancerippools"))).to.equal(false);
        });

        it("a Kustomization whose Ready predates its latest spec does not pass its Flux phase", async () => {
            const g = devOptions().gitops;
            const path = `/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/${g.namespace}/kustomizations/infrastructure-sources`;
            const k = fake.objects.get(path);
            fake.put({ ...k, metadata: { ...k.metadata, generation: 2 } });
            const { result } = await run(fake, "gitops", { timeoutMs: 400 });
            expect(result.ok).to.equal(false);
            expect(result.failedStep).to.equal("Flux phase core: Kustomizations Ready");
            expect(result.diagnosis!.evidence.join("\n")).to.contain("observed generation 1 < generation 2");
        });

        it("a configured Kustomization that does not exist holds its Flux phase, by name", async () => {
            const g = devOptions().gitops;
            fake.remove({
                apiVersion: "kustomize.toolkit.fluxcd.io/v1",
                kind: "Kustomization",
                metadata: { name: "apps-monitoring", namespace: g.namespace },
            });
            const { result, out } = await run(fake, "gitops", { timeoutMs: 400 });
            expect(result.failedStep).to.equal("Flux phase applications: Kustomizations Ready");
            expect(out).to.contain("missing: apps-monitoring");
            expect(result.diagnosis!.evidence[0]).to.equal(
                "Kustomization flux-system/apps-monitoring: not found with the label talos-platform/flux-phase=applications",
            );
            expect(result.diagnosis!.cause).to.contain("configured Kustomizations do not exist");
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
            // Not before the timeout; how long after depends on the machine's load, and is not asserted.
            expect(ms).to.be.at.least(700);
            expect(out).to.match(
                /dns: waiting for CoreDNS ready \(Deployment kube-system\/coredns\): Deployment kube-system\/coredns 0\/2 ready, 2 updated \(\d+\.\ds of 0\.7s\)/,
            );
            const gaveUp = /^gave up after (\d+\.\d)s \(timeout 0\.7s\)$/.exec(result.diagnosis!.evidence.at(-1)!);
            expect(gaveUp, result.diagnosis!.evidence.at(-1)).to.not.equal(null);
            expect(Number(gaveUp![1])).to.be.at.least(0.7);
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
            const { result } = await run(fake, "ingress");
            // At once: conclusive, not the timeout, after one attempt to create the pod.
            expect(result.timedOut).to.equal(undefined);
            expect(fake.requests.filter((r) => r.method === "POST" && r.path.endsWith("/pods"))).to.have.length(1);
            expect(result.diagnosis!.evidence[0]).to.contain("violates PodSecurity");
        });

        it("fails once the API server has stayed unreachable, not at its first refusal", async () => {
            const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tp-")), "kubeconfig");
            fs.copyFileSync(fake.kubeconfig(), kubeconfig);
            await fake.stop();
            const { result, ms, out } = await run(fake, "crds", { kubeconfig, pollMs: 50 } as never, {
                unreachableForMs: 600,
            });
            fake = await new FakeKube().start();
            // Concluded from the window, not the timeout, and not before the window was over.
            expect(result.timedOut).to.equal(undefined);
            expect(ms).to.be.at.least(600);
            expect(out).to.match(/waiting for CRDs established \(\d+\): the API server http:\/\/127\.0\.0\.1/);
            expect(result.diagnosis!.link).to.match(/^checker → API server http:\/\/127\.0\.0\.1:\d+ \(context fake\)$/);
            expect(result.diagnosis!.evidence.join("\n"))
                .to.contain("ECONNREFUSED")
                .and.match(/unreachable for \d+\.\ds/);
            expect(Number(/unreachable for (\d+\.\d)s/.exec(result.diagnosis!.evidence.join("\n"))![1])).to.be.at.least(0.6);
        });

        it("polls through dropped connections (an API server restarting) and passes", async () => {
            fake.dropConnections = 3;
            const { result, out } = await run(fake, "certificates", { pollMs: 20 });
            expect(result.ok, out).to.equal(true);
            expect(fake.dropConnections).to.equal(0);
            expect(out).to.contain("waiting for cert-manager webhook ready").and.contain("the API server http://127.0.0.1");
        });

        it("gives up at its timeout on an API server that accepts connections and never answers", async () => {
            fake.silent = /./;
            const { result, ms } = await run(fake, "network", { timeoutMs: 700, pollMs: 50 });
            expect(result.timedOut).to.equal(true);
            expect(ms).to.be.at.least(700);
            expect(result.diagnosis!.link).to.match(/^checker → API server/);
            expect(result.diagnosis!.cause).to.contain("does not answer");
        });

        it("the command exits within its timeout when the API server never answers (it used to run forever)", async function () {
            this.timeout(60_000);
            fake.silent = /./;
            const { child, exited } = spawnGate([
                "crds",
                "--no-stack",
                "--crd",
                "ciliumnodes.cilium.io",
                "--kubeconfig",
                fake.kubeconfig(),
                "--timeout",
                "3s",
            ]);
            // The clock starts at the checker's first request: start-up (TypeScript's, when dist/ is stale) is not the gate's.
            while (!fake.requests.length && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
            const firstRequest = Date.now();
            const { code, stderr, at } = await exited;
            expect(code, stderr).to.equal(1);
            expect(stderr).to.contain("✗ crds gate timed out").and.contain("does not answer");
            // Its requests end at the deadline: without that, each would run to the 15 s request limit (README) or forever.
            expect(at - firstRequest).to.be.lessThan(3000 + 15_000);
        });

        it("fails at once when RBAC forbids what the gate reads", async () => {
            fake.forbid = /\/deployments\/coredns$/;
            const { result } = await run(fake, "dns");
            // At once: conclusive, not the timeout, after one refused read.
            expect(result.timedOut).to.equal(undefined);
            expect(fake.requests.filter((r) => fake.forbid!.test(r.path))).to.have.length(1);
            expect(result.diagnosis!.evidence[0]).to.match(/^HTTP 403: .*forbidden/);
            expect(result.diagnosis!.cause).to.contain("may not read");
        });

        it("fails at once when RBAC forbids the dry-run Certificate, instead of waiting out the timeout", async () => {
            fake.forbid = /\/certificates$/;
            const { result } = await run(fake, "certificates");
            expect(result.timedOut).to.equal(undefined);
            expect(fake.requests.filter((r) => fake.forbid!.test(r.path))).to.have.length(1);
            expect(result.diagnosis!.evidence[0]).to.match(/^HTTP 403: .*cannot create resource "certificates"/);
            expect(result.diagnosis!.cause).to.contain("may not read");
        });

        it("deletes its probe pod when interrupted, and exits 130", async function () {
            this.timeout(30_000);
            fake.podStuck = { reason: "ContainerCreating", message: "" };
            const child = spawn(
                process.execPath,
                ["cli/run.cjs", "gate", "dns", "--kubeconfig", fake.kubeconfig(), "--timeout", "20s", "--poll", "50ms"],
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

    describe("kube-proxy replacement: asking the agent", () => {
        beforeEach(() => healthy(fake));

        it("falls back to cilium-config only when exec is forbidden, and says the agent was not asked", async () => {
            fake.forbid = /\/exec$/;
            const { result, out } = await run(fake, "network");
            expect(result.ok, out).to.equal(true);
            const kpr = result.passed.at(-1)!;
            expect(kpr.name).to.equal("Cilium agent reports kube-proxy replacement active");
            expect(kpr.detail)
                .to.match(
                    /^configured, not verified: the agent was not asked: exec into kube-system\/cilium-x7k2p is forbidden \(HTTP 403\)/,
                )
                .and.contain('kube-proxy-replacement: "true"');
        });

        it("fails at once when exec is forbidden and cilium-config does not turn the replacement on", async () => {
            fake.forbid = /\/exec$/;
            fake.put({
                apiVersion: "v1",
                kind: "ConfigMap",
                metadata: { name: "cilium-config", namespace: "kube-system" },
                data: { "kube-proxy-replacement": "strict" },
            });
            const { result } = await run(fake, "network");
            expect(result.ok).to.equal(false);
            expect(result.timedOut).to.equal(undefined);
            expect(result.failedStep).to.equal("Cilium agent reports kube-proxy replacement active");
            expect(result.diagnosis!.evidence[0]).to.contain("the agent was not asked").and.contain("legacy string");
        });

        it("keeps asking, without falling back, when exec fails for another reason", async () => {
            fake.exec = () => ({ stdout: "", exitCode: 1 });
            const { result, out } = await run(fake, "network", { timeoutMs: 600, pollMs: 50 });
            expect(result.ok).to.equal(false);
            expect(result.timedOut).to.equal(true);
            expect(result.failedStep).to.equal("Cilium agent reports kube-proxy replacement active");
            expect(result.diagnosis!.evidence[0])
                .to.contain("cilium-dbg status in kube-system/cilium-x7k2p")
                .and.contain("non-zero exit code");
            expect(out).to.not.contain("not verified");
            expect(fake.requests.filter((r) => r.method === "EXEC").length).to.be.greaterThan(1);
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

        it("exits 2, without a stack trace, on a kubeconfig whose files or server cannot work", async () => {
            const cases: [string, string, RegExp][] = [
                [
                    "missing client certificate",
                    kubeconfigWith(
                        fake,
                        { server: fake.url, "insecure-skip-tls-verify": true },
                        { "client-certificate": "/nonexistent/admin.crt", "client-key": "/nonexistent/admin.key" },
                    ),
                    /cannot read \/nonexistent\/admin\.crt, the kubeconfig's client-certificate \(context fake\)/,
                ],
                ["plain-HTTP server", kubeconfigWith(fake, { server: fake.url }, { token: "x" }), /is plain HTTP; .*use https:\/\//],
                [
                    "kubeconfig file missing",
                    "/nonexistent/kubeconfig",
                    /cannot read the kubeconfig \(--kubeconfig \/nonexistent\/kubeconfig\): ENOENT.*`talosctl kubeconfig`/,
                ],
            ];
            for (const [what, kubeconfig, message] of cases) {
                const sink = io();
                expect(await gateMain(["crds", "--crd", "a.b", "--kubeconfig", kubeconfig, "--timeout", "2s"], sink), what).to.equal(2);
                expect(sink.text(), what).to.match(message).and.not.contain("    at ");
            }
            expect(fake.requests, "nothing was sent").to.deep.equal([]);
        });

        it("prints help for any gate, and refuses --poll over 2s like the config does", async () => {
            const help = io();
            expect(await gateMain(["network", "--help"], help)).to.equal(0);
            expect(help.text()).to.contain("usage: cli/gate.ts network");
            const poll = io();
            expect(await gateMain(["network", "--no-stack", "--poll", "10s"], poll)).to.equal(2);
            expect(poll.text()).to.contain("--poll 10s is not between 1ms and 2s");
        });

        it("reads the project's only stack file unless told otherwise, and takes relative paths from where npm was run", async () => {
            healthy(fake);
            const sub = path.join(ROOT, "test");
            const kubeconfig = path.relative(sub, fake.kubeconfig());
            // No --stack: the only stack file's settings (the dev stack's CRDs); --config relative to the user's directory.
            for (const args of [[], ["--config", "../Pulumi.dev.yaml"]]) {
                const sink = io(undefined, { cwd: sub, projectDir: ROOT });
                const code = await gateMain(["crds", ...args, "--kubeconfig", kubeconfig, "--timeout", AMPLE, "--poll", "20ms"], sink);
                expect(code, `${args.join(" ")}: ${sink.text()}`).to.equal(0);
                expect(sink.text()).to.contain("ciliumloadbalancerippools.cilium.io");
            }
            // --no-stack: nothing but flags and defaults.
            const bare = io(undefined, { cwd: sub, projectDir: ROOT });
            expect(
                await gateMain(
                    ["crds", "--no-stack", "--crd", "ciliumnodes.cilium.io", "--kubeconfig", kubeconfig, "--timeout", AMPLE],
                    bare,
                ),
            ).to.equal(0);
            expect(bare.text()).to.not.contain("ciliumloadbalancerippools");
        });
    });

    describe("which settings, and errors that are not usage errors", () => {
        const DEV = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");

        /** A project directory holding these Pulumi.<stack>.yaml files (and the project's own Pulumi.yaml, which is no stack). */
        function project(stacks: Record<string, string>): string {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tp-project-"));
            fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
            for (const [name, text] of Object.entries(stacks)) fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), text);
            return dir;
        }

        const at = (dir: string) => io(undefined, { cwd: dir, projectDir: dir });

        it("without --stack or --config, takes the one Pulumi.<stack>.yaml there is and names it on the first line", async () => {
            healthy(fake);
            const dir = project({ home: DEV });
            const doctorOut = at(dir);
            // A healthy cluster: the doctor and the gate pass at their first polls, whatever the machine's load.
            expect(
                await doctorMain(["--kubeconfig", fake.kubeconfig(), "--timeout", AMPLE, "--poll", "20ms"], doctorOut),
                doctorOut.text(),
            ).to.equal(0);
            expect(doctorOut.text().split("\n")[0]).to.contain("· stack home (the only Pulumi.<stack>.yaml here) ·");
            const gateOut = at(dir);
            expect(
                await gateMain(["crds", "--kubeconfig", fake.kubeconfig(), "--timeout", AMPLE, "--poll", "20ms"], gateOut),
                gateOut.text(),
            ).to.equal(0);
            expect(gateOut.text().split("\n")[0]).to.equal("talos-platform gate crds · stack home (the only Pulumi.<stack>.yaml here)");
            // The stack's own CRDs were checked: its settings were read, not the defaults.
            expect(gateOut.text()).to.contain("ciliumloadbalancerippools.cilium.io");
        });

        it("with several stack files and none named, exits 2 listing them and asking for --stack or --config", async () => {
            const dir = project({ dev: DEV, prod: DEV });
            for (const [command, main] of [
                ["doctor", doctorMain],
                ["gate", (argv: string[], sink: CheckerIo) => gateMain(["dns", ...argv], sink)],
            ] as const) {
                const sink = at(dir);
                expect(await main(["--kubeconfig", fake.kubeconfig()], sink), command).to.equal(2);
                expect(sink.text(), command)
                    .to.contain(`${dir} has Pulumi.dev.yaml, Pulumi.prod.yaml`)
                    .and.contain("pass --stack NAME (one of dev, prod) or --config FILE")
                    .and.not.contain("usage:");
            }
            expect(fake.requests, "no cluster was checked").to.deep.equal([]);
        });

        it("with no stack file and none named, exits 2 saying so and what to pass instead", async () => {
            const dir = project({});
            const doctorOut = at(dir);
            expect(await doctorMain(["--kubeconfig", fake.kubeconfig()], doctorOut)).to.equal(2);
            expect(doctorOut.text())
                .to.contain(`no Pulumi.<stack>.yaml in ${dir}`)
                .and.contain("pass --config FILE")
                .and.not.contain("--no-stack");
            const gateOut = at(dir);
            expect(await gateMain(["dns", "--kubeconfig", fake.kubeconfig()], gateOut)).to.equal(2);
            expect(gateOut.text()).to.contain(`no Pulumi.<stack>.yaml in ${dir}`).and.contain("or --no-stack");
            expect(fake.requests).to.deep.equal([]);
        });

        it("a gate as pulumi up runs it reads no stack file, however many there are", async () => {
            healthy(fake);
            const dir = project({ dev: DEV, prod: DEV });
            const options = gateOptions(configWith(() => undefined)).crds;
            const argv = ["crds", "--no-stack", ...gateFlags("crds", { ...options, timeoutMs: AMPLE_MS, pollMs: 20 })];
            const sink = at(dir);
            expect(await gateMain([...argv, "--kubeconfig", fake.kubeconfig()], sink), sink.text()).to.equal(0);
            expect(sink.text()).to.not.contain("talos-platform gate crds ·");
        });

        it("an unknown --context: the fix names the flag when the flag set it, and the config key when the stack did", async () => {
            const viaGate = io();
            expect(
                await gateMain(["crds", "--no-stack", "--crd", "a.b", "--kubeconfig", fake.kubeconfig(), "--context", "nope"], viaGate),
            ).to.equal(2);
            expect(viaGate.text()).to.contain("the kubeconfig has no context 'nope' (it has: fake); pass --context with one of them");
            const viaDoctor = io();
            expect(await doctorMain(["--kubeconfig", fake.kubeconfig(), "--context", "nope"], viaDoctor)).to.equal(2);
            expect(viaDoctor.text()).to.contain("(it has: fake); pass --context with one of them");

            const dir = project({ home: DEV.replace("    name: home-ops\n", "    name: home-ops\n    kubeContext: nope\n") });
            for (const [command, run] of [
                ["doctor", (sink: CheckerIo) => doctorMain(["--kubeconfig", fake.kubeconfig()], sink)],
                ["gate", (sink: CheckerIo) => gateMain(["dns", "--kubeconfig", fake.kubeconfig()], sink)],
            ] as const) {
                const sink = at(dir);
                expect(await run(sink), command).to.equal(2);
                expect(sink.text(), command)
                    .to.contain(
                        "the kubeconfig has no context 'nope' (it has: fake); set talos-platform:cluster.kubeContext to one of them",
                    )
                    .and.not.contain("--context");
            }
        });

        it("config errors and missing files print the problem and a pointer to --help, not the usage text", async () => {
            const broken = project({ broken: DEV.replace("version: 1.19.4", "version: latest") });
            const cases: [string, string[], RegExp][] = [
                [
                    "config error",
                    ["--config", path.join(broken, "Pulumi.broken.yaml")],
                    /has config errors; fix them first[^]*cilium\.version/,
                ],
                ["missing --config file", ["--config", "/nonexistent/Pulumi.x.yaml"], /cannot read \/nonexistent\/Pulumi\.x\.yaml: ENOENT/],
                [
                    "missing --stack file",
                    ["--stack", "nope"],
                    /--stack nope: there is no Pulumi\.nope\.yaml in .*; pass --stack with one of dev, or --config FILE/,
                ],
            ];
            for (const [what, args, message] of cases) {
                const doctorOut = io();
                expect(await doctorMain([...args, "--kubeconfig", fake.kubeconfig()], doctorOut), what).to.equal(2);
                expect(doctorOut.text(), what).to.match(message).and.contain("(see npm run doctor -- --help)").and.not.contain("usage:");
                const gateOut = io();
                expect(await gateMain(["dns", ...args, "--kubeconfig", fake.kubeconfig()], gateOut), what).to.equal(2);
                expect(gateOut.text(), what).to.match(message).and.contain("(see npm run gate -- dns --help)").and.not.contain("usage:");
            }
            // A real usage error still gets the usage text.
            const usage = io();
            expect(await doctorMain(["--frobnicate"], usage)).to.equal(2);
            expect(usage.text()).to.contain("usage: npm run doctor");
        });
    });

    describe("an API server this machine cannot reach", () => {
        /** A kubeconfig for an API server that is gone: the fake's, after it stops. */
        async function goneServer(): Promise<string> {
            const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tp-")), "kubeconfig");
            fs.copyFileSync(fake.kubeconfig(), kubeconfig);
            await fake.stop();
            return kubeconfig;
        }

        it("doctor blames the checker's own link, not the network phase, marks every phase not checked, and exits 2", async () => {
            const server = fake.url;
            const kubeconfig = await goneServer();
            const sink = io(undefined, { unreachableForMs: 300 });
            const code = await doctorMain(["--kubeconfig", kubeconfig, "--timeout", AMPLE, "--poll", "50ms"], sink);
            fake = await new FakeKube().start();
            const text = sink.text();
            expect(code, text).to.equal(2);
            expect(text).to.contain(`✗ API server ${server} unreachable from this machine`);
            for (const p of ["network", "dns", "certificates", "ingress", "gitops"])
                expect(text).to.match(new RegExp(`· ${p} +not checked`));
            expect(text)
                .to.not.contain("first broken link")
                .and.not.match(/✗ network/);
            expect(text)
                .to.contain("the checker's own link to the API server is broken")
                .and.contain("ECONNREFUSED")
                .and.contain("VPN")
                .and.contain("KubePrism");
        });

        it("doctor: an API server that accepts connections and never answers is the control plane, exit status 1", async () => {
            fake.silent = /./;
            const sink = io();
            const started = Date.now();
            const code = await doctorMain(["--kubeconfig", fake.kubeconfig(), "--timeout", "700ms", "--poll", "50ms"], sink);
            const text = sink.text();
            expect(code, text).to.equal(1);
            // The check for what interrupted operations left behind is bounded by --timeout too, like the network gate
            // after it: two 700 ms bounds and their grace, where one unbounded request to a silent server waits 15 s.
            expect(Date.now() - started, "the doctor waited past its --timeout").to.be.below(5_000);
            expect(text).to.contain(`✗ API server ${fake.url} accepts connections but does not answer`);
            expect(text)
                .to.match(/· network +not checked/)
                .and.contain("the API server is the first broken link");
            expect(text).to.not.contain("network is the first broken link");
        });

        it("a gate run as pulumi up runs it fails with the same diagnosis, exit status 2", async () => {
            const server = fake.url;
            const kubeconfig = await goneServer();
            const sink = io(undefined, { unreachableForMs: 300 });
            const code = await gateMain(
                ["crds", "--no-stack", "--crd", "ciliumnodes.cilium.io", "--kubeconfig", kubeconfig, "--timeout", AMPLE, "--poll", "50ms"],
                sink,
            );
            fake = await new FakeKube().start();
            expect(code, sink.text()).to.equal(2);
            expect(sink.text())
                .to.match(
                    new RegExp(
                        `✗ crds gate failed after \\d\\.\\ds: API server ${server.replace(/\./g, "\\.")} unreachable from this machine`,
                    ),
                )
                .and.contain("KubePrism");
        });
    });
});
