import type * as k8s from "@kubernetes/client-node";
import { contains, urlHost } from "../net";
import { blockedAfter, Diagnosis, notFound } from "./diagnosis";
import { LB_IPAM_CONDITION, LbPool, poolRanges } from "./ingress";
import { Kube, readOptional } from "./kube";
import { curlFailure } from "./network";
import type { GatewayOptions } from "./options";
import type { ProbeCheck } from "./probe";
import { probeStuck } from "./probe-steps";
import type { Step, StepResult } from "./run";

// The ingress gate's Gateway steps: the class is accepted by Cilium's
// controller, the Gateway is Accepted and Programmed on an address from a
// Cilium pool, every listener is Programmed with its certificate Secret, and
// a pod gets an HTTP answer from the address. The doctor shows them as a
// link of their own.

const GROUP = "gateway.networking.k8s.io";
const VERSION = "v1";
/** The name Cilium gives a Gateway's LoadBalancer Service. */
export const serviceOf = (gateway: string) => `cilium-gateway-${gateway}`;

interface Condition {
    type?: string;
    status?: string;
    reason?: string;
    message?: string;
    observedGeneration?: number;
}

/** A Gateway API object, read loosely: the gate reads what the cluster has. */
export interface GatewayApiObject {
    metadata?: { name?: string; namespace?: string; generation?: number };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    spec?: any;
    status?: {
        conditions?: Condition[];
        addresses?: { type?: string; value?: string }[];
        listeners?: { name?: string; attachedRoutes?: number; conditions?: Condition[] }[];
    };
}

/** "Accepted=True", or "Accepted=False (Reason): message", or "no Accepted condition". */
export function conditionText(conditions: Condition[] | undefined, type: string): string {
    const c = conditions?.find((x) => x.type === type);
    if (!c) return `no ${type} condition`;
    return `${type}=${c.status}${c.reason ? ` (${c.reason})` : ""}${c.message ? `: ${c.message}` : ""}`;
}

function conditionTrue(conditions: Condition[] | undefined, type: string, generation?: number): boolean {
    const c = conditions?.find((x) => x.type === type);
    // A condition of an older generation says nothing about the current spec.
    return c?.status === "True" && (generation === undefined || c.observedGeneration === undefined || c.observedGeneration >= generation);
}

/** The gateway's namespace and name from `--gateway NS/NAME`. */
export function gatewayRef(o: GatewayOptions): { namespace: string; name: string } {
    const [namespace, name] = o.gateway!.split("/");
    return { namespace, name };
}

/** `NAME` or `NAME=SECRET` from `--gateway-listener`. */
export function listenerRefs(o: GatewayOptions): { name: string; secret?: string }[] {
    return (o.gatewayListeners ?? []).map((l) => {
        const [name, secret] = l.split("=");
        return { name, ...(secret ? { secret } : {}) };
    });
}

const blocks = () => blockedAfter("ingress", ["every HTTPRoute attached to the Gateway"]);

async function readGateway(kube: Kube, o: GatewayOptions): Promise<GatewayApiObject | undefined> {
    const { namespace, name } = gatewayRef(o);
    return (await readOptional(
        kube.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: "gateways", name }),
    )) as GatewayApiObject | undefined;
}

function classStep(o: GatewayOptions): Step {
    const cls = o.gatewayClass!;
    return {
        name: `GatewayClass ${cls} accepted by Cilium's Gateway API controller`,
        async check({ kube }): Promise<StepResult> {
            const crd = await readOptional(kube.ext.readCustomResourceDefinition({ name: `gatewayclasses.${GROUP}` }));
            if (!crd) {
                return {
                    ok: false,
                    waiting: `the Gateway API CRDs are not installed (gatewayclasses.${GROUP} not found)`,
                    diagnosis: {
                        link: "Gateway API CRDs",
                        evidence: [`CustomResourceDefinition gatewayclasses.${GROUP}: not found`],
                        cause: "the Gateway API CRDs are not installed, so there is no GatewayClass and no Gateway; the network phase installs them (talos-platform:gateway.gatewayApi.crds: install) or waits for their installer (existing)",
                        fix: "run pulumi up again (the network phase installs them before Cilium), then restart Cilium's operator so that it starts its Gateway API controller: kubectl -n kube-system rollout restart deployment/cilium-operator",
                        blocks: blocks(),
                    },
                };
            }
            const obj = (await readOptional(
                kube.custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural: "gatewayclasses", name: cls }),
            )) as GatewayApiObject | undefined;
            if (!obj)
                return notFound(
                    `GatewayClass ${cls}`,
                    "ingress",
                    cls === "cilium"
                        ? "Cilium's chart creates GatewayClass cilium only with gatewayAPI.enabled and when the Gateway API CRDs existed when the release was rendered (gatewayAPI.gatewayClass.create: auto)"
                        : "the ingress phase creates it with the Gateway: it has not run yet",
                    { fix: "run pulumi up again: the Cilium release renders the class once the CRDs exist" },
                );
            const controller = obj.spec?.controllerName;
            if (controller !== "io.cilium/gateway-controller") {
                return {
                    ok: false,
                    final: true,
                    waiting: `GatewayClass ${cls} belongs to ${controller}`,
                    diagnosis: {
                        link: `GatewayClass ${cls}`,
                        evidence: [`GatewayClass ${cls}: controllerName ${controller}`],
                        cause: "the class names another Gateway controller, so Cilium ignores every Gateway of this class",
                        fix: "set talos-platform:gateway.className to a class of Cilium's controller (io.cilium/gateway-controller), e.g. cilium",
                        blocks: blocks(),
                    },
                };
            }
            const conditions = obj.status?.conditions;
            if (conditionTrue(conditions, "Accepted"))
                return { ok: true, detail: `${conditionText(conditions, "Accepted")}, controller ${controller}` };
            return {
                ok: false,
                waiting: `GatewayClass ${cls}: ${conditionText(conditions, "Accepted")}`,
                diagnosis: {
                    link: `Cilium's Gateway API controller → GatewayClass ${cls}`,
                    evidence: [`GatewayClass ${cls}: ${conditionText(conditions, "Accepted")}`],
                    cause: "no controller has accepted the class: Cilium's operator runs its Gateway API controller only with kube-proxy replacement and the L7 proxy, and only if the Gateway API CRDs existed when it started",
                    fix: "check the operator's log (kubectl -n kube-system logs deployment/cilium-operator | grep -i gateway); after installing the CRDs, restart it: kubectl -n kube-system rollout restart deployment/cilium-operator",
                    blocks: blocks(),
                },
            };
        },
    };
}

function gatewayStep(o: GatewayOptions): Step {
    const id = `Gateway ${o.gateway}`;
    return {
        name: `${id} Accepted and Programmed`,
        async check({ kube }): Promise<StepResult> {
            const gw = await readGateway(kube, o);
            if (!gw) return notFound(id, "ingress", "the ingress phase has not created the Gateway yet");
            const conditions = gw.status?.conditions;
            const generation = gw.metadata?.generation;
            const accepted = conditionTrue(conditions, "Accepted", generation);
            const programmed = conditionTrue(conditions, "Programmed", generation);
            const lines = [`${id}: ${conditionText(conditions, "Accepted")}`, `${id}: ${conditionText(conditions, "Programmed")}`];
            if (accepted && programmed) return { ok: true, detail: lines.map((l) => l.slice(id.length + 2)).join(", ") };
            const reason = conditions?.find((c) => c.type === (accepted ? "Programmed" : "Accepted"))?.reason;
            return {
                ok: false,
                waiting: accepted ? lines[1] : lines[0],
                diagnosis: {
                    link: `Cilium's Gateway API controller → ${id}`,
                    evidence: lines,
                    cause: !accepted
                        ? reason === "ListenersNotValid"
                            ? "Cilium refused the Gateway: one of its listeners is not valid (the listeners' conditions say which)"
                            : "Cilium has not accepted the Gateway: its class is not Cilium's, or the Gateway is not valid"
                        : reason === "AddressNotAssigned"
                          ? "the Gateway has no address yet: Cilium LB IPAM has not given its Service one"
                          : "Cilium has not programmed the Gateway into Envoy yet",
                    fix:
                        reason === "AddressNotAssigned"
                            ? "see the next link: the Gateway's Service and its pool"
                            : `kubectl -n ${gatewayRef(o).namespace} describe gateway ${gatewayRef(o).name}`,
                    blocks: blocks(),
                },
            };
        },
    };
}

/** Where the probe reaches the Gateway. */
interface Found {
    ip?: string;
    live?: GatewayApiObject;
}

function addressStep(o: GatewayOptions, found: Found): Step {
    const { namespace, name } = gatewayRef(o);
    const svcId = `Service ${namespace}/${serviceOf(name)}`;
    return {
        name: `Gateway ${o.gateway} has an address from a Cilium pool`,
        async check({ kube }): Promise<StepResult> {
            const [gw, svc, list] = await Promise.all([
                readGateway(kube, o),
                readOptional(kube.core.readNamespacedService({ name: serviceOf(name), namespace })),
                readOptional(
                    kube.custom.listClusterCustomObject({ group: "cilium.io", version: "v2", plural: "ciliumloadbalancerippools" }),
                ),
            ]);
            const pools: LbPool[] = (((list ?? {}) as { items?: unknown[] }).items ?? []).map((p) =>
                poolRanges(p as Parameters<typeof poolRanges>[0]),
            );
            const addresses = (gw?.status?.addresses ?? []).map((a) => a.value).filter((v): v is string => typeof v === "string");
            const ip = addresses[0];
            const cond = (svc as k8s.V1Service | undefined)?.status?.conditions?.find((c) => c.type === LB_IPAM_CONDITION);
            const condLine = cond
                ? `${svcId}: ${LB_IPAM_CONDITION}=${cond.status} (${cond.reason}): ${cond.message}`
                : `${svcId}: ${svc ? `no ${LB_IPAM_CONDITION} condition` : "not found"}`;
            const poolLine = `CiliumLoadBalancerIPPools: ${pools.map((p) => p.name).join(", ") || "none"}`;
            if (!ip) {
                return {
                    ok: false,
                    waiting: `Gateway ${o.gateway} has no address yet${cond ? ` (${cond.reason})` : ""}`,
                    diagnosis: {
                        link: `Cilium LB IPAM → ${svcId}`,
                        evidence: [`Gateway ${o.gateway}: status.addresses is empty`, condLine, poolLine],
                        cause: !svc
                            ? "Cilium has not created the Gateway's LoadBalancer Service: its Gateway API controller has not programmed the Gateway"
                            : !pools.length
                              ? "no CiliumLoadBalancerIPPool exists, so LB IPAM hands out nothing"
                              : cond?.reason === "no_pool"
                                ? "no enabled pool's serviceSelector matches the Gateway's Service labels (they come from spec.infrastructure.labels)"
                                : cond?.reason === "out_of_ips"
                                  ? "every pool that matches the Gateway's Service is out of addresses"
                                  : "Cilium has not assigned an address (is the Cilium operator running?)",
                        fix: "name a pool whose serviceSelector the Service's labels satisfy in talos-platform:gateway.loadBalancer.pool, and a free address of it in gateway.loadBalancer.ip",
                        blocks: blocks(),
                    },
                };
            }
            const pool = pools.find((p) => !p.disabled && p.ranges.some((r) => contains(r, ip)));
            if (!pool) {
                return {
                    ok: false,
                    waiting: `${ip} is in no Cilium pool`,
                    diagnosis: {
                        link: `Cilium LB IPAM → ${svcId}`,
                        evidence: [`Gateway ${o.gateway}: address ${ip}`, poolLine],
                        cause: `${ip} does not come from any enabled CiliumLoadBalancerIPPool: another load-balancer implementation assigned it, or the pool was changed since`,
                        fix: "let Cilium LB IPAM own LoadBalancer addresses; remove other LB controllers",
                        blocks: blocks(),
                    },
                };
            }
            found.ip = ip;
            found.live = gw;
            return { ok: true, detail: `${ip} from pool ${pool.name}` };
        },
    };
}

function listenersStep(o: GatewayOptions): Step {
    const { namespace } = gatewayRef(o);
    const wanted = listenerRefs(o);
    return {
        name: `Gateway ${o.gateway}: every listener Programmed, with its certificate Secret (${wanted.length})`,
        async check({ kube }): Promise<StepResult> {
            const gw = await readGateway(kube, o);
            if (!gw) return notFound(`Gateway ${o.gateway}`, "ingress", "the Gateway was deleted");
            const status = new Map((gw.status?.listeners ?? []).map((l) => [l.name, l]));
            const problems: { line: string; cause: string; fix: string }[] = [];
            for (const l of wanted) {
                const s = status.get(l.name);
                if (l.secret) {
                    const secret = await readOptional(kube.core.readNamespacedSecret({ name: l.secret, namespace }));
                    if (!secret?.data?.["tls.crt"]) {
                        problems.push({
                            line: `listener ${l.name}: Secret ${namespace}/${l.secret} ${secret ? "has no tls.crt" : "not found"}`,
                            cause: `the listener's certificate is not there yet: cert-manager's gateway-shim issues it into Secret ${l.secret} (Certificate ${namespace}/${l.secret}), and an ACME DNS-01 order takes a minute or more`,
                            fix: `kubectl -n ${namespace} describe certificate ${l.secret}; a certificate of its own (certificateSecret without issuer) must be created in ${namespace} before the Gateway serves it`,
                        });
                        continue;
                    }
                }
                if (!s) {
                    problems.push({
                        line: `listener ${l.name}: no status`,
                        cause: "Cilium has not reported on the listener: the Gateway is not programmed yet, or the listener is not in its spec",
                        fix: `kubectl -n ${namespace} get gateway ${gatewayRef(o).name} -o yaml`,
                    });
                    continue;
                }
                if (!conditionTrue(s.conditions, "Programmed")) {
                    const refs = s.conditions?.find((c) => c.type === "ResolvedRefs");
                    problems.push({
                        line: `listener ${l.name}: ${conditionText(s.conditions, "Programmed")}; ${conditionText(s.conditions, "ResolvedRefs")}`,
                        cause:
                            refs?.status === "False"
                                ? "the listener refers to something Cilium cannot use: its certificate Secret is missing or not a TLS Secret"
                                : "Cilium has not programmed the listener",
                        fix: `kubectl -n ${namespace} describe gateway ${gatewayRef(o).name}`,
                    });
                }
            }
            if (!problems.length) {
                const attached = wanted.map((l) => `${l.name} (${status.get(l.name)?.attachedRoutes ?? 0} routes)`);
                return { ok: true, detail: attached.join(", ") };
            }
            const d: Diagnosis = {
                link: `Gateway ${o.gateway} listener ${problems[0].line.split(":")[0].slice("listener ".length)}`,
                evidence: problems.map((p) => p.line),
                cause: problems[0].cause,
                fix: problems[0].fix,
                blocks: blocks(),
            };
            return { ok: false, waiting: problems[0].line, diagnosis: d };
        },
    };
}

/** The request the probe makes: the first HTTP listener on its port, else the first HTTPS one by its host name. */
export function gatewayProbe(ip: string, gw: GatewayApiObject | undefined): { check: ProbeCheck; url: string } {
    const listeners: { protocol?: string; port?: number; hostname?: string }[] = gw?.spec?.listeners ?? [];
    const http = listeners.find((l) => l.protocol === "HTTP");
    const base = ["curl", "-sS", "-o", "/dev/null", "-w", "HTTP %{http_code}", "--connect-timeout", "5", "--max-time", "10"];
    if (http || !listeners.length) {
        const url = `http://${urlHost(ip)}:${http?.port ?? 80}/`;
        return { url, check: { id: "gateway", argv: [...base, url] } };
    }
    const https = listeners.find((l) => l.protocol === "HTTPS") ?? listeners[0];
    // SNI picks the listener: a name it matches, a wildcard's with a label of our own.
    const host = (https.hostname ?? "gateway.invalid").replace(/^\*\./, "talos-platform-probe.");
    const url = `https://${host}:${https.port ?? 443}/`;
    return { url, check: { id: "gateway", argv: [...base, "-k", "--resolve", `${host}:${https.port ?? 443}:${urlHost(ip)}`, url] } };
}

function answersStep(o: GatewayOptions, found: Found): Step {
    return {
        name: `Gateway ${o.gateway} answers HTTP on its address from inside the cluster`,
        async check({ probes, deadline, signal }): Promise<StepResult> {
            const ip = found.ip!;
            const { check, url } = gatewayProbe(ip, found.live);
            const run = await probes.run("ingress", [check], false, deadline, signal);
            if (run.kind !== "done") return probeStuck(run, "ingress", o);
            const r = run.results[0];
            if (r && r.rc === 0) {
                // Any status is Envoy answering: a 404 only says no route matches the probe's host yet.
                return {
                    ok: true,
                    detail: `${r.output || "an HTTP answer"} from ${url} in pod ${run.pod} (any status counts: Envoy answered)`,
                };
            }
            const rc = r?.rc ?? -1;
            return {
                ok: false,
                waiting: `probe: ${r?.output || curlFailure(rc)}`,
                diagnosis: {
                    link: `pods → Gateway ${o.gateway} on ${url}`,
                    evidence: [`probe pod → ${url}: ${r?.output || "no result"} [curl exit ${rc}: ${curlFailure(rc)}]`],
                    cause:
                        rc === 7
                            ? "the address is routed, but nothing accepts connections on the listener's port: Cilium has not programmed Envoy for the listener"
                            : rc === 35
                              ? "the TLS handshake failed: the listener's certificate is not loaded"
                              : "pods cannot reach the Gateway's address: Cilium's kube-proxy replacement serves LoadBalancer addresses inside the cluster on each node, and Envoy takes the Gateway's traffic",
                    fix:
                        rc === 7 || rc === 35
                            ? `kubectl -n ${gatewayRef(o).namespace} describe gateway ${gatewayRef(o).name}; kubectl -n kube-system logs daemonset/cilium-envoy`
                            : "check Cilium's kube-proxy replacement: run the network gate (npm run gate:network)",
                    blocks: blocks(),
                },
            };
        },
    };
}

/** The Gateway's steps, when the options name one. */
export function gatewaySteps(o: GatewayOptions): Step[] {
    if (!o.gateway) return [];
    const found: Found = {};
    return [classStep(o), gatewayStep(o), addressStep(o, found), listenersStep(o), answersStep(o, found)];
}
