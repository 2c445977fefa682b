import { expect } from "chai";
import type * as k8s from "@kubernetes/client-node";
import { checkGate } from "../../lib/gates/checker";
import { CONFIG_CHECKSUM } from "../../lib/gates/network";
import { deploymentReadiness } from "../../lib/gates/workloads";
import { devOptions, healthy } from "../cluster-scenarios";
import { FakeKube } from "../fake-kube";
import { Json, ROOT } from "../helpers";

// The network gate after a config change and on one surviving node: an agent
// that still runs the previous cilium-config, and a Cilium operator whose
// second replica has no node to go to.

const AGENT_POD = "/api/v1/namespaces/kube-system/pods/cilium-x7k2p";
const AGENT_DS = "/apis/apps/v1/namespaces/kube-system/daemonsets/cilium";
const CILIUM_CONFIG = "/api/v1/namespaces/kube-system/configmaps/cilium-config";
const KPR_STEP = "Cilium agent reports kube-proxy replacement active";
const OPERATOR_STEP = "Cilium operator ready (Deployment kube-system/cilium-operator)";
const ANTI_AFFINITY =
    "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.";

/** Long enough for the probe pod under a loaded machine; a gate that passes returns as soon as it does. */
async function network(fake: FakeKube, timeoutMs = 3000) {
    let out = "";
    const result = await checkGate(
        "network",
        { ...devOptions().network, timeoutMs, pollMs: 20, kubeconfig: fake.kubeconfig() },
        { out: (t) => (out += t), err: (t) => (out += t), cwd: ROOT, signal: new AbortController().signal },
    );
    return { result, out };
}

const agentSays = (value: string) => () => ({ stdout: `KubeProxyReplacement:    ${value}\n`, exitCode: 0 });

function operator(status: Json, replicas = 2): Json {
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "cilium-operator", namespace: "kube-system", generation: 1 },
        spec: { replicas, selector: { matchLabels: { "io.cilium/app": "operator" } } },
        status: { observedGeneration: 1, ...status },
    };
}

function pendingOperatorPod(name: string): Json {
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: "kube-system", labels: { "io.cilium/app": "operator" } },
        spec: { containers: [{ name: "cilium-operator", image: "x" }] },
        status: {
            phase: "Pending",
            conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: ANTI_AFFINITY }],
        },
    };
}

describe("network gate: recovery after a config change and on one node", function () {
    this.timeout(20_000);
    let fake: FakeKube;
    beforeEach(async () => {
        fake = await new FakeKube().start();
        healthy(fake);
    });
    afterEach(async () => {
        expect(fake.livePods(), "probe pods left behind").to.deep.equal([]);
        await fake.stop();
    });

    describe("cilium-config says true, the agent says False", () => {
        beforeEach(() => {
            fake.exec = agentSays("False");
            fake.objects.get(AGENT_POD).status.startTime = "2026-11-26T09:00:00Z";
            fake.objects.get(CILIUM_CONFIG).metadata.managedFields = [
                { manager: "helm", operation: "Update", time: "2026-11-20T08:00:00Z" },
                { manager: "helm", operation: "Update", time: "2026-11-26T10:00:00Z" },
            ];
        });

        it("with no rollout pending: fails at once, and says to restart the agents, not to set what is set", async () => {
            const { result } = await network(fake, 5000);
            expect(result.ok).to.equal(false);
            expect(result.timedOut, "conclusive: nothing will restart the agents").to.equal(undefined);
            expect(result.failedStep).to.equal(KPR_STEP);
            const d = result.diagnosis!;
            expect(d.link).to.equal("Cilium kube-proxy replacement (configured, not running)");
            expect(d.cause)
                .to.contain("already turns kube-proxy replacement on")
                .and.contain("started at 2026-11-26T09:00:00.000Z, before cilium-config was last written at 2026-11-26T10:00:00.000Z")
                .and.contain("rollOutCiliumPods is off");
            expect(d.fix).to.contain("kubectl -n kube-system rollout restart daemonset/cilium").and.not.contain("deploy Cilium with");
            expect(d.evidence).to.include(
                `DaemonSet kube-system/cilium pod template: ${CONFIG_CHECKSUM}: (none: rollOutCiliumPods is off)`,
            );
        });

        it("while the DaemonSet rolls its pods onto the new config: waits for the rollout, and passes once the agent runs it", async () => {
            fake.objects.get(AGENT_DS).spec.template = { metadata: { annotations: { [CONFIG_CHECKSUM]: "new-checksum" } } };
            fake.objects.get(AGENT_POD).metadata.annotations = { [CONFIG_CHECKSUM]: "old-checksum" };
            const waiting = await network(fake);
            expect(waiting.result.timedOut).to.equal(true);
            expect(waiting.result.diagnosis!.cause).to.contain("rolls its agents onto it (rollOutCiliumPods)");
            expect(waiting.out).to.contain("still runs the previous cilium-config");

            // The rollout reaches the pod right after the gate first asks it.
            let asked = 0;
            fake.exec = () => {
                if (++asked > 1) return agentSays("True")();
                fake.objects.get(AGENT_POD).metadata.annotations = { [CONFIG_CHECKSUM]: "new-checksum" };
                return agentSays("False")();
            };
            const { result, out } = await network(fake, 5000);
            expect(result.ok, out).to.equal(true);
            expect(out).to.contain("still runs the previous cilium-config");
        });

        it("with the new checksum on the pod and the agent still off: fails at once too", async () => {
            fake.objects.get(AGENT_DS).spec.template = { metadata: { annotations: { [CONFIG_CHECKSUM]: "same" } } };
            fake.objects.get(AGENT_POD).metadata.annotations = { [CONFIG_CHECKSUM]: "same" };
            const { result } = await network(fake, 5000);
            expect(result.timedOut).to.equal(undefined);
            expect(result.diagnosis!.cause).to.not.contain("rollOutCiliumPods is off");
            expect(result.diagnosis!.fix).to.contain("rollout restart");
        });

        it("when cilium-config does not turn it on, still says to deploy the setting", async () => {
            fake.objects.get(CILIUM_CONFIG).data["kube-proxy-replacement"] = "false";
            const { result } = await network(fake, 5000);
            expect(result.diagnosis!.fix).to.contain("deploy Cilium with kubeProxyReplacement: true");
        });
    });

    describe("the Cilium operator on one node", () => {
        it("passes with one of two replicas ready, and says the second waits for a node", async () => {
            fake.put(operator({ replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 }));
            fake.put(pendingOperatorPod("cilium-operator-5d8f7-b2x9q"));
            const { result, out } = await network(fake);
            expect(result.ok, out).to.equal(true);
            const step = result.passed.find((p) => p.name === OPERATOR_STEP)!;
            expect(step.detail).to.equal(
                `1/2 ready, 2 updated: enough to go on; the rest pending for lack of a node (pod cilium-operator-5d8f7-b2x9q: ${ANTI_AFFINITY})`,
            );
        });

        it("fails with none ready, and names cilium.operatorReplicas when a pod has no node", async () => {
            fake.put(operator({ replicas: 2, updatedReplicas: 2, readyReplicas: 0 }));
            fake.put(pendingOperatorPod("cilium-operator-5d8f7-b2x9q"));
            const { result } = await network(fake);
            expect(result.failedStep).to.equal(OPERATOR_STEP);
            expect(result.diagnosis!.fix).to.contain("talos-platform:cilium.operatorReplicas");
        });

        it("fails while an old pod holds the only node and the new one waits (a rollout that cannot finish)", async () => {
            // 1 old ready, 2 new pending: status.replicas counts every pod of every ReplicaSet.
            fake.put(operator({ replicas: 3, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 }));
            fake.put(pendingOperatorPod("cilium-operator-7c9d4-k1m2n"));
            const { result } = await network(fake);
            expect(result.failedStep).to.equal(OPERATOR_STEP);
            expect(result.diagnosis!.cause).to.contain("the old pod holds the node the new one needs");
            expect(result.diagnosis!.fix).to.contain("(1 on one node)");
        });
    });
});

describe("Deployment readiness with a minimum of ready replicas", () => {
    const d = (status: k8s.V1DeploymentStatus, replicas = 2): k8s.V1Deployment => ({
        metadata: { generation: 2 },
        spec: { replicas, selector: {}, template: {} },
        status: { observedGeneration: 2, ...status },
    });

    it("takes one ready of two once no pod of an older template is left, and not zero", () => {
        expect(deploymentReadiness(d({ replicas: 2, updatedReplicas: 2, readyReplicas: 1 }), 1)).to.deep.include({
            ready: true,
            partial: true,
        });
        expect(deploymentReadiness(d({ replicas: 2, updatedReplicas: 2, readyReplicas: 0 }), 1).ready).to.equal(false);
        expect(deploymentReadiness(d({ replicas: 3, updatedReplicas: 2, readyReplicas: 1 }), 1).ready).to.equal(false);
        expect(deploymentReadiness(d({ replicas: 2, updatedReplicas: 2, readyReplicas: 1, observedGeneration: 1 }), 1).ready).to.equal(
            false,
        );
    });

    it("without a minimum, or with all ready, needs every replica", () => {
        expect(deploymentReadiness(d({ replicas: 2, updatedReplicas: 2, readyReplicas: 1 })).ready).to.equal(false);
        expect(deploymentReadiness(d({ replicas: 2, updatedReplicas: 2, readyReplicas: 2 }), 1)).to.deep.equal({
            ready: true,
            summary: "2/2 ready, 2 updated",
        });
        expect(deploymentReadiness(d({ replicas: 1, updatedReplicas: 1, readyReplicas: 0 }, 1), 1).ready).to.equal(false);
    });
});
