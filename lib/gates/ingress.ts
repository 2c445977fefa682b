import type * as k8s from "@kubernetes/client-node";
import { contains, parseCidr, parseRange, Range, urlHost } from "../net";
import { certificateReadyStep } from "./certificate-ready";
import { blockedAfter, Diagnosis, notFound } from "./diagnosis";
import { readOptional } from "./kube";
import { curlFailure } from "./network";
import type { IngressOptions } from "./options";
import type { ProbeCheck } from "./probe";
import { probeStuck } from "./probe-steps";
import type { Step, StepResult } from "./run";
import { workloadStep } from "./workloads";

/** The condition Cilium LB IPAM sets on every Service it handles. */
export const LB_IPAM_CONDITION = "cilium.io/IPAMRequestSatisfied";

export interface LbPool {
    name: string;
    ranges: Range[];
    disabled: boolean;
}

/** A CiliumLoadBalancerIPPool's blocks as ranges; malformed blocks are skipped. */
export function poolRanges(pool: {
    metadata?: { name?: string };
    spec?: { blocks?: { cidr?: string; start?: string; stop?: string }[]; disabled?: boolean };
}): LbPool {
    const ranges: Range[] = [];
    for (const b of pool.spec?.blocks ?? []) {
        const r = b.cidr ? parseCidr(b.cidr) : b.start ? parseRange(b.start, b.stop ?? b.start) : undefined;
        if (r) ranges.push(r);
    }
    return { name: pool.metadata?.name ?? "?", ranges, disabled: pool.spec?.disabled === true };
}

/** The LoadBalancer address and the pool it came from, or why there is none. */
export function lbAddress(
    svc: k8s.V1Service,
    pools: LbPool[],
    o: IngressOptions,
): { ip: string; pool: string } | { diagnosis: Diagnosis; waiting: string } {
    const id = `Service ${o.namespace}/${o.service}`;
    const blocks = blockedAfter("ingress", ["every Ingress"]);
    const cond = svc.status?.conditions?.find((c) => c.type === LB_IPAM_CONDITION);
    const ingress = svc.status?.loadBalancer?.ingress ?? [];
    const ip = ingress.map((i) => i.ip).find((x): x is string => typeof x === "string");
    const condLine = cond
        ? `${id}: ${LB_IPAM_CONDITION}=${cond.status} (${cond.reason}): ${cond.message}`
        : `${id}: no ${LB_IPAM_CONDITION} condition`;
    if (svc.spec?.type !== "LoadBalancer") {
        return {
            waiting: `${id} is of type ${svc.spec?.type}`,
            diagnosis: {
                link: `${id} type`,
                evidence: [`${id}: type ${svc.spec?.type}`, `the chart values render type ${o.serviceType}`],
                cause: "the live controller Service is not of the type the config renders: the release has not been upgraded yet, or something else changed the Service",
                fix: `check the ingress-nginx release (helm -n ${o.namespace} list) and talos-platform:ingressNginx.values controller.service.type`,
                blocks,
            },
        };
    }
    if (!ip) {
        const noPool = !pools.length;
        return {
            waiting: `${id} has no address yet${cond ? ` (${cond.reason})` : ""}`,
            diagnosis: {
                link: `Cilium LB IPAM → ${id}`,
                evidence: [
                    condLine,
                    `${id}: status.loadBalancer.ingress is empty`,
                    `CiliumLoadBalancerIPPools: ${pools.map((p) => p.name).join(", ") || "none"}`,
                ],
                cause: noPool
                    ? "no CiliumLoadBalancerIPPool exists, so LB IPAM stays dormant and hands out nothing"
                    : cond?.reason === "no_pool"
                      ? "no enabled pool's serviceSelector matches the controller Service's labels"
                      : cond?.reason === "out_of_ips"
                        ? "every pool that matches the Service is out of addresses"
                        : "Cilium has not assigned an address (is the Cilium operator running?)",
                fix: noPool
                    ? "add a pool under talos-platform:cilium.loadBalancerPools"
                    : "label the Service to match a pool (talos-platform:ingressNginx.values controller.service.labels), or widen a pool's serviceSelector or blocks",
                blocks,
            },
        };
    }
    const pool = pools.find((p) => !p.disabled && p.ranges.some((r) => contains(r, ip)));
    if (!pool) {
        return {
            waiting: `${ip} is in no Cilium pool`,
            diagnosis: {
                link: `Cilium LB IPAM → ${id}`,
                evidence: [`${id}: address ${ip}`, `CiliumLoadBalancerIPPools: ${pools.map((p) => p.name).join(", ") || "none"}`],
                cause: `${ip} does not come from any enabled CiliumLoadBalancerIPPool: another load-balancer implementation assigned it, or the pool was changed since`,
                fix: "let Cilium LB IPAM own LoadBalancer addresses; remove other LB controllers",
                blocks,
            },
        };
    }
    return { ip, pool: pool.name };
}

export function ingressChecks(ip: string, port: number): ProbeCheck[] {
    return [
        {
            id: "http",
            argv: ["curl", "-sS", "-o", "/dev/null", "--connect-timeout", "5", "--max-time", "10", `http://${urlHost(ip)}:${port}/`],
        },
    ];
}

/** Where the probe reaches the controller: its LoadBalancer address, or its ClusterIP for any other Service type. */
interface Target {
    ip?: string;
    via: "LoadBalancer address" | "ClusterIP";
}

function serviceMissing(o: IngressOptions): StepResult {
    const id = `Service ${o.namespace}/${o.service}`;
    return notFound(id, "ingress", "the ingress-nginx release has not created its controller Service");
}

function addressStep(o: IngressOptions, found: Target): Step {
    const id = `Service ${o.namespace}/${o.service}`;
    return {
        name: `controller Service has an address from a Cilium pool (${id})`,
        async check({ kube }): Promise<StepResult> {
            const svc = await readOptional(kube.core.readNamespacedService({ name: o.service, namespace: o.namespace }));
            if (!svc) return serviceMissing(o);
            // No CRD (404) means no pools: the diagnosis says so.
            const list = ((await readOptional(
                kube.custom.listClusterCustomObject({ group: "cilium.io", version: "v2", plural: "ciliumloadbalancerippools" }),
            )) ?? {}) as {
                items?: unknown[];
            };
            const pools = (list.items ?? []).map((p) => poolRanges(p as Parameters<typeof poolRanges>[0]));
            const r = lbAddress(svc, pools, o);
            if ("diagnosis" in r) return { ok: false, waiting: r.waiting, diagnosis: r.diagnosis };
            found.ip = r.ip;
            return { ok: true, detail: `${r.ip} from pool ${r.pool}` };
        },
    };
}

/** For a NodePort or ClusterIP controller Service: no pool is involved, so the probe goes to the ClusterIP. */
function clusterIpStep(o: IngressOptions, found: Target): Step {
    const id = `Service ${o.namespace}/${o.service}`;
    return {
        name: `controller Service has a ClusterIP (${id}, type ${o.serviceType}: no LoadBalancer address to check)`,
        async check({ kube }): Promise<StepResult> {
            const svc = await readOptional(kube.core.readNamespacedService({ name: o.service, namespace: o.namespace }));
            if (!svc) return serviceMissing(o);
            const ip = svc.spec?.clusterIP;
            if (ip && ip !== "None") {
                found.ip = ip;
                return { ok: true, detail: `${ip} (type ${svc.spec?.type})` };
            }
            return {
                ok: false,
                final: ip === "None",
                waiting: `${id} has no ClusterIP`,
                diagnosis: {
                    link: `${id} ClusterIP`,
                    evidence: [`${id}: clusterIP ${ip ?? "(not set)"}, type ${svc.spec?.type}`],
                    cause: "the controller Service is headless or has no ClusterIP, so nothing inside the cluster can reach the controller through it",
                    fix: "drop clusterIP: None from talos-platform:ingressNginx.values controller.service",
                    blocks: blockedAfter("ingress", ["every Ingress"]),
                },
            };
        },
    };
}

function answersStep(o: IngressOptions, found: Target): Step {
    return {
        name: `the controller answers on its ${found.via} from inside the cluster`,
        async check({ probes, deadline, signal }): Promise<StepResult> {
            const ip = found.ip!;
            const run = await probes.run("ingress", ingressChecks(ip, o.port), false, deadline, signal);
            if (run.kind !== "done") return probeStuck(run, "ingress", o);
            const r = run.results[0];
            if (r && r.rc === 0) {
                // Cilium's socket load balancer answers a LoadBalancer address on the probe's own node: inside only.
                const inside = found.via === "LoadBalancer address" ? " (from inside the cluster: it says nothing about BGP or L2)" : "";
                return { ok: true, detail: `HTTP answer from ${ip}:${o.port} in pod ${run.pod}${inside}` };
            }
            const rc = r?.rc ?? -1;
            const lb = found.via === "LoadBalancer address";
            return {
                ok: false,
                waiting: `probe: ${r?.output || curlFailure(rc)}`,
                diagnosis: {
                    link: `pods → ingress-nginx on ${ip}:${o.port}`,
                    evidence: [`probe pod → http://${ip}:${o.port}/: ${r?.output || "no result"} [curl exit ${rc}: ${curlFailure(rc)}]`],
                    cause:
                        rc === 7
                            ? "the address is routed, but nothing accepts connections: the controller pods are not behind the Service, or the port is wrong"
                            : lb
                              ? "pods cannot reach the LoadBalancer address: Cilium's kube-proxy replacement serves LoadBalancer addresses inside the cluster on each node itself (BGP and L2 only announce them outside, and do not matter here)"
                              : "pods cannot reach the ClusterIP: whatever programs Services (Cilium's kube-proxy replacement or kube-proxy) does not route it",
                    fix:
                        rc === 7
                            ? `check Deployment ${o.namespace}/${o.deployment} and the Service's endpoints`
                            : lb
                              ? "check Cilium's kube-proxy replacement: run the network gate (npm run gate:network)"
                              : "run the network gate (npm run gate:network): it checks Service routing",
                    blocks: blockedAfter("ingress", ["every Ingress"]),
                },
            };
        },
    };
}

export function ingressSteps(o: IngressOptions): Step[] {
    const lb = o.serviceType === "LoadBalancer";
    const found: Target = { via: lb ? "LoadBalancer address" : "ClusterIP" };
    return [
        workloadStep({
            kind: "Deployment",
            namespace: o.namespace,
            name: o.deployment,
            phase: "ingress",
            role: "ingress-nginx controller",
            serviceIp: o.serviceIp,
        }),
        lb ? addressStep(o, found) : clusterIpStep(o, found),
        answersStep(o, found),
    ];
}

/** The default TLS certificate's step, when there is one: last in the ingress gate, as issuance is its slowest part. */
export function defaultCertificateSteps(o: IngressOptions): Step[] {
    return o.certificate ? [certificateReadyStep({ namespace: o.namespace, certificate: o.certificate })] : [];
}
