import { checkGate, CheckerIo } from "../lib/gates/checker";
import type { GateOptions } from "../lib/gates/options";
import { PHASES, Phase } from "../lib/phases";
import {
    clusterLookup,
    daemonSet,
    deployment,
    devOptions,
    GIT_DNS_ERROR,
    gitRepository,
    healthy,
    incident,
    LB_IP,
    NSLOOKUP_TIMEOUT,
    TIMEOUT_LINE,
} from "../test/cluster-scenarios";
import { FakeKube } from "../test/fake-kube";
import { median, verdict } from "./bench-stats";

// Gate timings against the tests' fake API server, with the dev stack's real
// poll interval and timeouts. The fake's probe pods finish in 20 ms; on a
// cluster a probe pod adds its own start-up (seconds on a cached image).

const quiet = (): CheckerIo => ({ out: () => undefined, err: () => undefined, cwd: process.cwd(), signal: new AbortController().signal });

/** A way to break one link of a gate, and to repair it. */
interface Breakage {
    /** What is broken, for the report. */
    what: string;
    break(fake: FakeKube, o: GateOptions): void;
}

/**
 * Per gate: its first workload not ready, and a later step failing (a probe
 * for network, dns and ingress; the dry-run for certificates; the Git source
 * for gitops). `healthy` repairs both.
 */
const BREAKAGES: Record<Phase, Breakage[]> = {
    network: [
        {
            what: "agent DaemonSet",
            break: (f, o) => f.put(daemonSet(o.network.namespace, o.network.agent, { "k8s-app": "cilium" }, false)),
        },
        { what: "probe to the ClusterIP", break: (f) => (f.net["curl https://10.96.0.1:443/version"] = { rc: 28, out: TIMEOUT_LINE }) },
    ],
    dns: [
        { what: "CoreDNS Deployment", break: (f, o) => f.put(deployment(o.dns.namespace, o.dns.deployment, false, 2)) },
        { what: "probe's lookup", break: (f) => (f.net[clusterLookup()] = { rc: 1, out: NSLOOKUP_TIMEOUT }) },
    ],
    certificates: [
        { what: "webhook Deployment", break: (f, o) => f.put(deployment(o.certificates.namespace, o.certificates.deployment, false)) },
        {
            what: "dry-run Certificate",
            break: (f) => (f.certificateApi = () => ({ code: 500, message: "x509: certificate signed by unknown authority" })),
        },
    ],
    ingress: [
        { what: "controller Deployment", break: (f, o) => f.put(deployment(o.ingress.namespace, o.ingress.deployment, false, 2)) },
        {
            what: "probe to the LoadBalancer address",
            break: (f) => (f.net[`curl http://${LB_IP}:80/`] = { rc: 7, out: "curl: (7) Failed to connect" }),
        },
    ],
    gitops: [
        { what: "source-controller Deployment", break: (f, o) => f.put(deployment(o.gitops.namespace, o.gitops.deployments[0], false)) },
        {
            what: "GitRepository",
            break: (f, o) =>
                f.put(gitRepository(o.gitops, { type: "Ready", status: "False", reason: "GitOperationFailed", message: GIT_DNS_ERROR })),
        },
    ],
};

/**
 * Time from the fake cluster turning healthy to the gate passing, measured
 * from the repair (not from the gate's start); the repair lands at varying
 * points of the poll interval.
 */
async function healthyToPass(phase: Phase, breakage: Breakage, runs: number): Promise<number[]> {
    const samples: number[] = [];
    for (let r = 0; r < runs; r++) {
        const fake = await new FakeKube().start();
        try {
            healthy(fake);
            const o = devOptions();
            breakage.break(fake, o);
            const options = { ...o[phase], kubeconfig: fake.kubeconfig() };
            let healthyAt = 0;
            const delay = 500 + (r * options.pollMs) / runs;
            const timer = setTimeout(() => {
                healthy(fake);
                healthyAt = Date.now();
            }, delay);
            const result = await checkGate(phase, options, quiet());
            clearTimeout(timer);
            if (!result.ok || !healthyAt) throw new Error(`bench: ${phase} gate did not pass after its ${breakage.what} was repaired`);
            samples.push(Date.now() - healthyAt);
        } finally {
            await fake.stop();
        }
    }
    return samples;
}

async function incidentToFail(runs: number): Promise<{ samples: number[]; timeoutMs: number }> {
    const samples: number[] = [];
    const timeoutMs = devOptions().network.timeoutMs;
    for (let r = 0; r < runs; r++) {
        const fake = await new FakeKube().start();
        try {
            incident(fake);
            const start = Date.now();
            const result = await checkGate("network", { ...devOptions().network, kubeconfig: fake.kubeconfig() }, quiet());
            if (result.ok) throw new Error("bench: the network gate passed in the incident");
            samples.push(Date.now() - start);
        } finally {
            await fake.stop();
        }
    }
    return { samples, timeoutMs };
}

/** Markdown lines for the bench report. */
export async function benchGates(runs: number): Promise<string[]> {
    const pollMs = devOptions().network.pollMs;
    const goal = pollMs + 1000;
    const rows: string[] = [];
    let worst = 0;
    for (const phase of PHASES) {
        for (const breakage of BREAKAGES[phase]) {
            const xs = await healthyToPass(phase, breakage, runs);
            worst = Math.max(worst, ...xs);
            rows.push(
                `| ${phase} gate: ${breakage.what} repaired → passed | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)} | ${Math.max(...xs).toFixed(0)} |`,
            );
        }
    }
    const inc = await incidentToFail(runs);
    rows.push(
        `| network gate: Week 4 incident → failed | ${median(inc.samples).toFixed(0)} | ${Math.min(...inc.samples).toFixed(0)} | ${Math.max(...inc.samples).toFixed(0)} |`,
    );
    return [
        `gates against the fake API server: ${runs} runs per case, ms, poll interval ${pollMs} ms (dev stack)`,
        "",
        "| case | median | min | max |",
        "|---|---|---|---|",
        ...rows,
        "",
        `repaired → gate passed, worst case over every gate and link: ${worst.toFixed(0)} ms (goal ≤ poll + 1 s = ${goal} ms: ${verdict(worst <= goal)})`,
        `incident → network gate failed, worst case: ${Math.max(...inc.samples).toFixed(0)} ms (goal ≤ timeout ${inc.timeoutMs} ms: ${verdict(Math.max(...inc.samples) <= inc.timeoutMs)})`,
    ];
}
