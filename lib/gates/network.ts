import { legacyKprMessage, readKpr } from "../checks/cilium";
import { urlHost } from "../net";
import { crdsStep } from "./crds";
import { blockedAfter, Diagnosis } from "./diagnosis";
import { ExecError, execText, Kube, readOptional } from "./kube";
import type { NetworkOptions } from "./options";
import { PROBE_CA, ProbeCheck, ProbeOutcome, ProbeRun } from "./probe";
import { probeStuck } from "./probe-steps";
import type { Step, StepResult } from "./run";
import { CILIUM_AGENT_CONTAINER, CILIUM_AGENT_SELECTOR, CILIUM_CONFIG, KUBE_PROXY } from "./targets";
import { workloadStep } from "./workloads";

/** The kubernetes Service by address and by name; the name is pinned to the ClusterIP because DNS is the next phase. */
export const KUBERNETES_SVC = "kubernetes.default.svc";

const CURL_CODES: Record<number, string> = {
    6: "could not resolve the host",
    7: "connection refused or no route",
    28: "timed out",
    35: "TLS handshake failed",
    52: "empty reply",
    56: "connection reset",
    60: "certificate not signed by the cluster CA",
};

/** curl's exit code in words. */
export function curlFailure(rc: number): string {
    return CURL_CODES[rc] ?? `curl exit ${rc}`;
}

function hostPort(ip: string, port: number): string {
    return `${urlHost(ip)}:${port}`;
}

function curl(url: string, extra: string[] = []): string[] {
    return ["curl", "-sS", "-o", "/dev/null", "--connect-timeout", "5", "--max-time", "10", "--cacert", PROBE_CA, ...extra, url];
}

/** The probe's two connections: TCP+TLS to the ClusterIP, and to kubernetes.default.svc verified by name. */
export function servicePathChecks(serviceIp: string): ProbeCheck[] {
    const addr = hostPort(serviceIp, 443);
    return [
        { id: "clusterip", argv: curl(`https://${addr}/version`) },
        {
            id: "name",
            argv: curl(`https://${KUBERNETES_SVC}:443/version`, ["--resolve", `${KUBERNETES_SVC}:443:${urlHost(serviceIp)}`]),
        },
    ];
}

/** What the cluster shows about who programs Service ClusterIPs. */
export interface ServiceRouting {
    namespace: string;
    /** The kube-proxy DaemonSet in kube-system. */
    kubeProxy: "present" | "absent";
    /** cilium-config's kube-proxy-replacement, verbatim; undefined when the key or ConfigMap is missing. */
    kprConfig?: string;
    ciliumConfigFound: boolean;
    /** When cilium-config last changed, from its managedFields (the API keeps no modification time of its own). */
    configChangedAt?: Date;
}

/** A timestamp the client gives as a Date or leaves as a string. */
function asDate(v: unknown): Date | undefined {
    const d = v instanceof Date ? v : typeof v === "string" ? new Date(v) : undefined;
    return d && !Number.isNaN(d.getTime()) ? d : undefined;
}

/** The newest managedFields time of an object: when something last wrote it. */
export function lastWritten(obj: { metadata?: { managedFields?: { time?: unknown }[] } } | undefined): Date | undefined {
    const times = (obj?.metadata?.managedFields ?? []).map((m) => asDate(m.time)).filter((d): d is Date => d !== undefined);
    return times.length ? new Date(Math.max(...times.map((d) => d.getTime()))) : undefined;
}

/** The annotation rollOutCiliumPods puts on the agent's pod template (Cilium 1.19 chart, cilium-agent/daemonset.yaml). */
export const CONFIG_CHECKSUM = "cilium.io/cilium-configmap-checksum";

/** The agent that was asked, and what says whether it runs the current cilium-config. */
export interface AgentView {
    namespace: string;
    daemonSet: string;
    pod: string;
    /** The pod's cilium.io/cilium-configmap-checksum. */
    podChecksum?: string;
    /** The DaemonSet template's; undefined when rollOutCiliumPods is off (or the DaemonSet could not be read). */
    templateChecksum?: string;
    startedAt?: Date;
}

/**
 * cilium-config turns kube-proxy replacement on and the agent reports it
 * off: the agent runs a config from before the change, since it reads
 * cilium-config only when it starts. While the DaemonSet rolls its pods onto
 * the new config (rollOutCiliumPods puts the config's checksum on its pod
 * template), the gate waits for that rollout. With no rollout pending,
 * nothing will restart the agent, so the gate fails at once and says to
 * restart the agents itself: restarting every agent of a live cluster is the
 * operator's call, and the checker only reads (apart from its probe pods).
 */
export function staleAgent(agent: AgentView, live: ServiceRouting, source: string): StepResult {
    const ds = `${agent.namespace}/${agent.daemonSet}`;
    const short = (c?: string) => (c ? c.replace(/^"|"$/g, "").slice(0, 12) : "(none)");
    const evidence = [
        source,
        ...routingEvidence(live),
        `DaemonSet ${ds} pod template: ${CONFIG_CHECKSUM}: ${agent.templateChecksum ? short(agent.templateChecksum) : "(none: rollOutCiliumPods is off)"}`,
        `pod ${agent.namespace}/${agent.pod}: ${CONFIG_CHECKSUM}: ${short(agent.podChecksum)}${agent.startedAt ? `, started ${agent.startedAt.toISOString()}` : ""}`,
        ...(live.configChangedAt
            ? [`ConfigMap ${live.namespace}/${CILIUM_CONFIG}: last written ${live.configChangedAt.toISOString()}`]
            : []),
    ];
    const link = "Cilium kube-proxy replacement (configured, not running)";
    const blocks = blockedAfter("network");
    if (agent.templateChecksum && agent.podChecksum !== agent.templateChecksum) {
        return {
            ok: false,
            waiting: `pod ${agent.pod} still runs the previous cilium-config; DaemonSet ${ds} is rolling its pods onto the new one`,
            diagnosis: {
                link,
                evidence,
                cause: `cilium-config turns kube-proxy replacement on, and DaemonSet ${ds} rolls its agents onto it (rollOutCiliumPods), but pod ${agent.pod} still runs the previous config: the rollout has not reached it`,
                fix: `watch the rollout: kubectl -n ${agent.namespace} rollout status daemonset/${agent.daemonSet}`,
                blocks,
            },
        };
    }
    const before =
        agent.startedAt && live.configChangedAt && agent.startedAt < live.configChangedAt
            ? `; pod ${agent.pod} started at ${agent.startedAt.toISOString()}, before cilium-config was last written at ${live.configChangedAt.toISOString()}`
            : "";
    const noRollout = agent.templateChecksum
        ? ""
        : `; nothing restarts the agents when the config changes: DaemonSet ${ds} carries no ${CONFIG_CHECKSUM} (rollOutCiliumPods is off)`;
    return {
        ok: false,
        final: true,
        waiting: source,
        diagnosis: {
            link,
            evidence,
            cause: `cilium-config already turns kube-proxy replacement on, but the agent in pod ${agent.pod} runs without it: an agent reads cilium-config only when it starts${before}${noRollout}. Setting the value again changes nothing`,
            fix: `restart the agents: kubectl -n ${agent.namespace} rollout restart daemonset/${agent.daemonSet}, then kubectl -n ${agent.namespace} rollout status daemonset/${agent.daemonSet}; and keep rollOutCiliumPods on (drop it from talos-platform:cilium.values) so the next config change rolls them by itself`,
            blocks,
        },
    };
}

/**
 * Whether cilium-config's kube-proxy-replacement turns the replacement on,
 * by the rule the config check applies to the chart value (readKpr): only
 * true does; a legacy string such as "strict" is one Cilium no longer reads.
 */
export function kprConfigured(value: string | undefined): boolean {
    const kpr = readKpr({ kubeProxyReplacement: value });
    return kpr.kind === "boolean" && kpr.value;
}

export function routingEvidence(live: ServiceRouting): string[] {
    const kpr = readKpr({ kubeProxyReplacement: live.kprConfig });
    return [
        `DaemonSet kube-system/${KUBE_PROXY}: ${live.kubeProxy === "present" ? "present" : "not found"}`,
        live.ciliumConfigFound
            ? `ConfigMap ${live.namespace}/${CILIUM_CONFIG}: kube-proxy-replacement: ${live.kprConfig === undefined ? "(not set)" : JSON.stringify(live.kprConfig)}${kpr.kind === "legacy" ? ` (${legacyKprMessage(kpr.text)})` : ""}`
            : `ConfigMap ${live.namespace}/${CILIUM_CONFIG}: not found`,
    ];
}

/** What to do about a live cluster where nothing, or the wrong thing, programs Services: redeploy what the config check accepts. */
const NETWORK_FIX_KPR =
    "deploy Cilium with kubeProxyReplacement: true (talos-platform:cluster.kubeProxyDisabled: true does this; drop any kubeProxyReplacement override from talos-platform:cilium.values), or let Talos run kube-proxy again (cluster.proxy.disabled: false) and set talos-platform:cluster.kubeProxyDisabled: false";

/**
 * Why pods cannot reach the kubernetes Service, from the probe's errors and
 * the live settings. Conclusive (final) when nothing programs ClusterIPs at
 * all: no amount of waiting fixes that.
 */
export function diagnoseServicePath(
    results: ProbeOutcome[],
    live: ServiceRouting,
    serviceIp: string,
): { diagnosis: Diagnosis; final: boolean } {
    const failed = results.filter((r) => r.rc !== 0);
    const target = hostPort(serviceIp, 443);
    const evidence = [
        ...failed.map(
            (r) =>
                `probe ${r.id === "clusterip" ? `pod → https://${target}` : `pod → https://${KUBERNETES_SVC} (pinned to ${serviceIp})`}: ${r.output || curlFailure(r.rc)} [curl exit ${r.rc}: ${curlFailure(r.rc)}]`,
        ),
        ...routingEvidence(live),
    ];
    const link = `pods → kubernetes Service ${target}`;
    const blocks = blockedAfter("network", ["every pod that talks to the API server through the kubernetes Service"]);
    const kpr = kprConfigured(live.kprConfig);
    const tls = failed.find((r) => r.rc === 60 || r.rc === 35);

    if (live.kubeProxy === "absent" && !kpr) {
        return {
            final: true,
            diagnosis: {
                link,
                evidence,
                cause: `nothing programs Service ClusterIPs: kube-proxy is not running (Talos cluster.proxy.disabled) and Cilium runs without kube-proxy replacement (kube-proxy-replacement: ${JSON.stringify(live.kprConfig ?? "unset")}), so traffic to ${serviceIp} goes nowhere. This is the Week 4 incident`,
                fix: NETWORK_FIX_KPR,
                blocks,
            },
        };
    }
    if (tls && failed.length) {
        return {
            final: false,
            diagnosis: {
                link,
                evidence,
                cause: `something answers on ${target}, but not with a certificate the cluster CA signed for ${KUBERNETES_SVC} and ${serviceIp}; the Service subnet in talos-platform:cluster.serviceSubnets may not be the cluster's`,
                fix: "set talos-platform:cluster.serviceSubnets to Talos' cluster.network.serviceSubnets",
                blocks,
            },
        };
    }
    if (live.kubeProxy === "present" && kpr) {
        return {
            final: false,
            diagnosis: {
                link,
                evidence,
                cause: "kube-proxy and Cilium's kube-proxy replacement both program Services; their rules conflict",
                fix: "run exactly one: disable kube-proxy in Talos (cluster.proxy.disabled: true) with talos-platform:cluster.kubeProxyDisabled: true, or turn kube-proxy replacement off",
                blocks,
            },
        };
    }
    const who = kpr ? "Cilium's kube-proxy replacement" : "kube-proxy";
    return {
        final: false,
        diagnosis: {
            link,
            evidence,
            cause: `${who} should route ${serviceIp} to the API server, but pods get no connection: check the Cilium agents' logs, and that they reach the API server directly (k8sServiceHost/k8sServicePort, KubePrism on Talos)`,
            blocks,
        },
    };
}

/** The KubeProxyReplacement line of `cilium-dbg status`: "True", "False", "Disabled", or undefined. */
export function parseKprStatus(text: string): string | undefined {
    const m = /^KubeProxyReplacement:\s+(\S+)/m.exec(text);
    return m?.[1];
}

export async function serviceRouting(kube: Kube, namespace: string): Promise<ServiceRouting> {
    const [proxy, config] = await Promise.all([
        readOptional(kube.apps.readNamespacedDaemonSet({ name: KUBE_PROXY, namespace: "kube-system" })),
        readOptional(kube.core.readNamespacedConfigMap({ name: CILIUM_CONFIG, namespace })),
    ]);
    const changed = lastWritten(config);
    return {
        namespace,
        kubeProxy: proxy ? "present" : "absent",
        kprConfig: config?.data?.["kube-proxy-replacement"],
        ciliumConfigFound: config !== undefined,
        ...(changed ? { configChangedAt: changed } : {}),
    };
}

function servicePathStep(o: NetworkOptions): Step {
    const target = hostPort(o.serviceIp, 443);
    return {
        name: `pods reach the kubernetes Service (${target}, ${KUBERNETES_SVC})`,
        async check({ kube, probes, deadline, signal }): Promise<StepResult> {
            const run: ProbeRun = await probes.run("network", servicePathChecks(o.serviceIp), true, deadline, signal);
            if (run.kind !== "done") return probeStuck(run, "network", o);
            const failed = run.results.filter((r) => r.rc !== 0);
            if (run.results.length === 2 && !failed.length)
                return { ok: true, detail: `TCP+TLS to ${target} and ${KUBERNETES_SVC} from pod ${run.pod}` };
            const { diagnosis, final } = diagnoseServicePath(run.results, await serviceRouting(kube, o.namespace), o.serviceIp);
            const first = failed[0] ?? { rc: -1, output: "no result" };
            return { ok: false, final, waiting: `probe: ${first.output || curlFailure(first.rc)}`, diagnosis };
        },
    };
}

function kprStep(o: NetworkOptions): Step {
    return {
        name: "Cilium agent reports kube-proxy replacement active",
        async check({ kube, deadline, signal }): Promise<StepResult> {
            const [pods, ds, live] = await Promise.all([
                kube.core.listNamespacedPod({ namespace: o.namespace, labelSelector: CILIUM_AGENT_SELECTOR }),
                readOptional(kube.apps.readNamespacedDaemonSet({ name: o.agent, namespace: o.namespace })),
                serviceRouting(kube, o.namespace),
            ]);
            const templateChecksum = ds?.spec?.template?.metadata?.annotations?.[CONFIG_CHECKSUM];
            // A running agent, not one on its way out; one already on the DaemonSet's current config when there is one.
            const running = pods.items.filter((p) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp);
            const agentPod =
                running.find((p) => templateChecksum !== undefined && p.metadata?.annotations?.[CONFIG_CHECKSUM] === templateChecksum) ??
                running[0];
            const agent = agentPod?.metadata?.name;
            const evidence = routingEvidence(live);
            const fail = (source: string, final: boolean, cause: string): StepResult => ({
                ok: false,
                final,
                waiting: source,
                diagnosis: {
                    link: "Cilium kube-proxy replacement",
                    evidence: [source, ...evidence],
                    cause,
                    fix: NETWORK_FIX_KPR,
                    blocks: blockedAfter("network"),
                },
            });
            const notReplaced =
                live.kubeProxy === "present"
                    ? "talos-platform:cluster.kubeProxyDisabled says Talos runs without kube-proxy, but kube-proxy is running and Cilium does not replace it: the config does not describe this cluster"
                    : "Talos runs without kube-proxy, and Cilium does not replace it: Service ClusterIPs work nowhere";
            if (!agent)
                return fail(
                    `no running Cilium agent pod in ${o.namespace} (${CILIUM_AGENT_SELECTOR})`,
                    false,
                    "no agent is running to ask",
                );
            let text: string;
            try {
                text = await execText(
                    kube,
                    o.namespace,
                    agent,
                    CILIUM_AGENT_CONTAINER,
                    ["cilium-dbg", "status"],
                    Math.max(1000, Math.min(15_000, deadline - Date.now())),
                    signal,
                );
            } catch (e) {
                const message = (e as Error).message;
                if (e instanceof ExecError && e.status === 403) {
                    // Without exec rights the configured value is all there is; the result says the agent was not asked.
                    const source = `the agent was not asked: exec into ${o.namespace}/${agent} is forbidden (HTTP 403); ${evidence[1]}`;
                    if (kprConfigured(live.kprConfig)) return { ok: true, detail: `configured, not verified: ${source}` };
                    return fail(source, true, notReplaced);
                }
                // The agent may be restarting, or the API server's exec path briefly down: ask again at the next poll.
                return fail(
                    `cilium-dbg status in ${o.namespace}/${agent}: ${message}`,
                    false,
                    "the checker could not ask the agent; it asks again until the timeout",
                );
            }
            const reported = parseKprStatus(text);
            const source = `cilium-dbg status in ${o.namespace}/${agent}: KubeProxyReplacement: ${reported ?? "(line missing)"}`;
            if (reported === "True") return { ok: true, detail: source };
            if (reported !== undefined && kprConfigured(live.kprConfig)) {
                return staleAgent(
                    {
                        namespace: o.namespace,
                        daemonSet: o.agent,
                        pod: agent,
                        podChecksum: agentPod?.metadata?.annotations?.[CONFIG_CHECKSUM],
                        templateChecksum,
                        startedAt: asDate(agentPod?.status?.startTime),
                    },
                    live,
                    source,
                );
            }
            return fail(source, reported !== undefined, notReplaced);
        },
    };
}

/** The network gate: Cilium up, its CRDs in place, and pods reaching the API server through the kubernetes Service. */
export function networkSteps(o: NetworkOptions): Step[] {
    return [
        crdsStep(o.crds, "network", "the Cilium operator"),
        workloadStep({
            kind: "DaemonSet",
            namespace: o.namespace,
            name: o.agent,
            phase: "network",
            role: "Cilium agent",
            serviceIp: o.serviceIp,
        }),
        workloadStep({
            kind: "Deployment",
            namespace: o.namespace,
            name: o.operator,
            phase: "network",
            role: "Cilium operator",
            serviceIp: o.serviceIp,
            // One operator runs the cluster; the chart keeps replicas on distinct nodes, so on one surviving node the second waits.
            minReady: { count: 1, replicasKey: "talos-platform:cilium.operatorReplicas" },
        }),
        servicePathStep(o),
        ...(o.kubeProxyReplacement ? [kprStep(o)] : []),
    ];
}
