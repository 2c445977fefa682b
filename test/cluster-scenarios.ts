import * as fs from "node:fs";
import * as path from "node:path";
import type { PlatformConfig } from "../lib/config";
import { stackFileConfig } from "../lib/gates/stack";
import type { GateOptions } from "../lib/gates/options";
import { announcementFields, FLUX_PHASE_LABEL, gateOptions } from "../lib/gates/targets";
import { BGP_CONDITIONS } from "../lib/gates/bgp";
import { configzPath } from "../lib/gates/kubelet";
import { l2LeaseName } from "../lib/gates/l2";
import { selects } from "../lib/config/selectors";
import { addressFamily } from "../lib/net";
import { bgpSecretsNamespace, ciliumValues } from "../lib/values/cilium";
import { ciliumObjects } from "../lib/values/cilium-objects";
import { ingressNginxServices } from "../lib/values/ingress-nginx";
import { gatewayApiCrdNames } from "../lib/values/gateway-api";
import {
    gatewayInfrastructure,
    gatewayObject,
    gatewayServiceName,
    resolvedListeners,
    redirects,
    REDIRECT_LISTENER,
} from "../lib/values/gateway";
import { FakeKube } from "./fake-kube";

// Cluster states for the fake API, built from the dev stack's own gate
// options so names cannot drift from what the gates look for.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

export const LB_IP = "172.29.52.200";
/** The Gateway's address: the dev stack's gateway.loadBalancer.ip, next to ingress-nginx's. */
export const GATEWAY_IP = "172.29.52.202";
/** The ingress controller Service's ClusterIP, which the gate probes when the Service is not a LoadBalancer. */
export const INGRESS_CLUSTER_IP = "10.96.120.7";
export const TIMEOUT_LINE = "curl: (28) Connection timed out after 5002 milliseconds";
export const NSLOOKUP_TIMEOUT = ";; connection timed out; no servers could be reached";
export const GIT_DNS_ERROR =
    "failed to checkout and determine revision: unable to clone 'https://github.com/geoffdavis/talos-gitops': Get \"https://github.com/geoffdavis/talos-gitops/info/refs?service=git-upload-pack\": dial tcp: lookup github.com: i/o timeout";
export const WEBHOOK_CRASH = 'error building admission chain: Get "https://10.96.0.1:443/api": dial tcp 10.96.0.1:443: i/o timeout';

/** The project root, from test/ under ts-node or dist/test/ when the bench runs compiled. */
const PROJECT = [path.resolve(__dirname, ".."), path.resolve(__dirname, "..", "..")].find((d) =>
    fs.existsSync(path.join(d, "Pulumi.dev.yaml")),
)!;

let devConfigRead: PlatformConfig | undefined;

/** The dev stack's validated config, read once (a read and a validation cost about 25 ms); each caller gets its own copy. */
export function devConfig(): PlatformConfig {
    devConfigRead ??= stackFileConfig(path.join(PROJECT, "Pulumi.dev.yaml"), "dev");
    return structuredClone(devConfigRead);
}

export function devOptions(): GateOptions {
    return gateOptions(devConfig());
}

const meta = (name: string, namespace?: string, labels?: Record<string, string>) => ({
    name,
    ...(namespace ? { namespace } : {}),
    ...(labels ? { labels } : {}),
    generation: 1,
});

export function deployment(namespace: string, name: string, ready = true, replicas = 1): Obj {
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: meta(name, namespace),
        spec: { replicas, selector: { matchLabels: { app: name } } },
        status: {
            observedGeneration: 1,
            replicas,
            readyReplicas: ready ? replicas : 0,
            updatedReplicas: replicas,
            availableReplicas: ready ? replicas : 0,
        },
    };
}

export function daemonSet(namespace: string, name: string, labels: Record<string, string>, ready = true): Obj {
    return {
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata: meta(name, namespace),
        spec: { selector: { matchLabels: labels } },
        status: {
            observedGeneration: 1,
            desiredNumberScheduled: 3,
            currentNumberScheduled: 3,
            numberMisscheduled: 0,
            numberReady: ready ? 3 : 1,
            updatedNumberScheduled: 3,
        },
    };
}

export function crashingPod(namespace: string, name: string, app: string, message: string, restarts: number): Obj {
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: meta(name, namespace, { app }),
        spec: { containers: [{ name: app, image: "x" }] },
        status: {
            phase: "Running",
            containerStatuses: [
                {
                    name: app,
                    ready: false,
                    restartCount: restarts,
                    image: "x",
                    imageID: "x",
                    state: { waiting: { reason: "CrashLoopBackOff", message: `back-off 5m0s restarting failed container=${app}` } },
                    lastState: { terminated: { exitCode: 1, reason: "Error", message } },
                },
            ],
        },
    };
}

function crd(name: string): Obj {
    return {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name },
        spec: {},
        status: {
            conditions: [
                { type: "NamesAccepted", status: "True" },
                { type: "Established", status: "True" },
            ],
        },
    };
}

function fluxReady(obj: Obj): Obj {
    return {
        ...obj,
        status: {
            observedGeneration: obj.metadata.generation,
            conditions: [{ type: "Ready", status: "True", reason: "Succeeded", message: "ok" }],
            artifact: { revision: "main@sha1:4e9c1f0" },
        },
    };
}

/** The gitops gate's GitRepository, with a Ready condition when given one (and no artifact). */
export function gitRepository(
    g: GateOptions["gitops"],
    ready?: { type: string; status: string; reason: string; message: string },
    url = "https://github.com/geoffdavis/talos-gitops",
): Obj {
    return {
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "GitRepository",
        metadata: meta(g.gitRepository, g.namespace),
        spec: { url },
        ...(ready ? { status: { observedGeneration: 1, conditions: [ready] } } : {}),
    };
}

/** The ingress phase's default Certificate, Ready unless `ready` says otherwise. */
export function certificate(
    namespace: string,
    name: string,
    ready: { status: string; reason: string; message: string } = {
        status: "True",
        reason: "Ready",
        message: "Certificate is up to date and has not expired",
    },
    extra: { issuing?: { status: string; reason: string; message: string }; lastFailureTime?: string; generation?: number } = {},
): Obj {
    const generation = extra.generation ?? 1;
    return {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { ...meta(name, namespace), generation },
        spec: {
            secretName: name,
            dnsNames: ["k8s.home.geoffdavis.com", "*.k8s.home.geoffdavis.com"],
            issuerRef: { name: "letsencrypt-prod", kind: "ClusterIssuer" },
        },
        status: {
            conditions: [
                { type: "Ready", observedGeneration: 1, ...ready },
                ...(extra.issuing ? [{ type: "Issuing", observedGeneration: generation, ...extra.issuing }] : []),
            ],
            ...(ready.status === "True" ? { notAfter: "2027-02-24T10:00:00Z" } : {}),
            ...(extra.lastFailureTime ? { lastFailureTime: extra.lastFailureTime } : {}),
        },
    };
}

/** The seed cluster's three control-plane nodes (talconfig.yaml: mini01-03). */
export const NODES = ["mini01", "mini02", "mini03"];

/** A Node as the kubelet registers it, with the pod CIDRs kube-controller-manager assigned. */
export function node(name: string, kubeletVersion: string, podCIDRs: string[] = []): Obj {
    return {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name, labels: { "kubernetes.io/hostname": name, "node-role.kubernetes.io/control-plane": "" } },
        spec: podCIDRs.length ? { podCIDR: podCIDRs[0], podCIDRs } : {},
        status: { nodeInfo: { kubeletVersion } },
    };
}

/** Nodes whose kubelets answer /configz with `clusterDomain`. */
export function nodesWithDomain(
    fake: FakeKube,
    clusterDomain: string,
    kubeletVersion = "v1.34.2",
    podCIDRs: (i: number) => string[] = () => [],
): void {
    NODES.forEach((name, i) => {
        fake.put(node(name, kubeletVersion, podCIDRs(i)));
        fake.raw.set(configzPath(name), { kubeletconfig: { clusterDomain, clusterDNS: ["10.96.0.10"] } });
    });
}

/** Every link works: the dev stack's cluster after a good `pulumi up`. */
export function healthy(fake: FakeKube, config: PlatformConfig = devConfig()): void {
    const o = gateOptions(config);
    const n = o.network;
    nodesWithDomain(fake, config.cluster.dnsDomain);
    fake.put(...n.crds.map(crd));
    fake.put(daemonSet(n.namespace, n.agent, { "k8s-app": "cilium" }), deployment(n.namespace, n.operator, true, 2));
    for (const name of NODES) setNodeReady(fake, name, true);
    fake.put({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: meta("cilium-config", n.namespace),
        data: ciliumConfigData(config),
    });
    fake.put({
        apiVersion: "v1",
        kind: "Pod",
        metadata: meta("cilium-x7k2p", n.namespace, { "k8s-app": "cilium" }),
        spec: { containers: [] },
        status: { phase: "Running" },
    });
    fake.exec = (_pod, container, command) =>
        container === "cilium-agent" && command.join(" ") === "cilium-dbg status"
            ? {
                  stdout: "KVStore:                 Disabled\nKubernetes:              Ok\nKubeProxyReplacement:    True   [eth0   172.29.51.11 (Direct Routing)]\n",
                  exitCode: 0,
              }
            : { stdout: "", exitCode: 127 };
    fake.certificateApi = () => ({ code: 201 });
    fake.put(deployment(o.dns.namespace, o.dns.deployment, true, 2));
    fake.put(deployment(o.certificates.namespace, o.certificates.deployment));
    fake.put(deployment(o.ingress.namespace, o.ingress.deployment, true, 2));
    const lb = o.ingress.serviceType === "LoadBalancer";
    // The labels and traffic policy the chart renders from the config: they decide its pool, its advertisement, its L2 policy.
    const rendered = ingressNginxServices(config.ingressNginx, config.cilium.loadBalancerPools).find(
        (svc) => svc.name === o.ingress.service,
    );
    fake.put({
        apiVersion: "v1",
        kind: "Service",
        metadata: { ...meta(o.ingress.service, o.ingress.namespace), labels: rendered?.labels ?? {} },
        spec: {
            type: o.ingress.serviceType,
            clusterIP: INGRESS_CLUSTER_IP,
            externalTrafficPolicy: rendered?.externalTrafficPolicy ?? "Cluster",
        },
        status: lb
            ? {
                  loadBalancer: { ingress: [{ ip: LB_IP }] },
                  conditions: [
                      {
                          type: "cilium.io/IPAMRequestSatisfied",
                          status: "True",
                          reason: "satisfied",
                          message: "",
                          lastTransitionTime: "2026-11-26T10:00:00Z",
                      },
                  ],
              }
            : {},
    });
    if (o.ingress.certificate) fake.put(certificate(o.ingress.namespace, o.ingress.certificate));
    for (const pool of config.cilium.loadBalancerPools) {
        fake.put({
            apiVersion: "cilium.io/v2",
            kind: "CiliumLoadBalancerIPPool",
            metadata: { name: pool.name },
            spec: { blocks: pool.blocks },
        });
    }
    const gatewayService = gatewayHealthy(fake, config);
    announced(fake, config, [
        ...(lb ? [{ namespace: o.ingress.namespace, name: o.ingress.service, labels: rendered?.labels ?? {}, ip: LB_IP }] : []),
        ...(gatewayService ? [gatewayService] : []),
    ]);
    const g = o.gitops;
    fake.put(...g.deployments.map((d) => deployment(g.namespace, d)));
    fake.put(fluxReady(gitRepository(g, undefined, config.flux.source.url)));
    for (const phase of config.flux.phases) {
        for (const k of phase.kustomizations) {
            fake.put(
                fluxReady({
                    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
                    kind: "Kustomization",
                    metadata: meta(k.name, g.namespace, { [FLUX_PHASE_LABEL]: phase.name }),
                    spec: {},
                }),
            );
        }
    }
    fake.net = {
        "curl https://10.96.0.1:443/version": { rc: 0, out: "" },
        "curl https://kubernetes.default.svc:443/version": { rc: 0, out: "" },
        [clusterLookup()]: {
            rc: 0,
            out: `Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nName:\tkubernetes.default.svc.${devOptions().dns.dnsDomain}\nAddress: 10.96.0.1`,
        },
        "nslookup github.com.": {
            rc: 0,
            out: "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nNon-authoritative answer:\nName:\tgithub.com\nAddress: 140.82.121.4",
        },
        [`curl http://${LB_IP}:80/`]: { rc: 0, out: "" },
        // Envoy on the redirect listener: every request gets a 301 to HTTPS.
        [`curl http://${GATEWAY_IP}:80/`]: { rc: 0, out: "HTTP 301" },
        [`curl http://${INGRESS_CLUSTER_IP}:${o.ingress.port}/`]: { rc: 0, out: "" },
    };
}

const conditions = (...types: string[]) =>
    types.map((type) => ({
        type,
        status: "True",
        reason: type,
        message: "",
        observedGeneration: 1,
        lastTransitionTime: "2026-11-26T10:00:00Z",
    }));

/**
 * The Gateway as Cilium serves it once everything works: the Gateway API
 * CRDs, Cilium's GatewayClass accepted, the Gateway accepted and programmed
 * on its address, every listener programmed, each certificate Secret issued,
 * and the Service Cilium created for it. Returns that Service, for the
 * announcements; nothing without a gateway.
 */
export function gatewayHealthy(fake: FakeKube, config: PlatformConfig): AnnouncedService | undefined {
    const g = config.gateway;
    if (!g.enabled) return undefined;
    fake.put(...gatewayApiCrdNames(g.gatewayApi.version).map(crd));
    fake.put({
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "GatewayClass",
        metadata: meta(g.className),
        spec: { controllerName: "io.cilium/gateway-controller" },
        status: { conditions: conditions("Accepted") },
    });
    const gw = gatewayObject(g, config.cilium.loadBalancerPools);
    const listeners = [...resolvedListeners(g).map((l) => l.name), ...(redirects(g) ? [REDIRECT_LISTENER] : [])];
    fake.put({
        ...gw,
        metadata: { ...gw.metadata, generation: 1 },
        status: {
            conditions: conditions("Accepted", "Programmed"),
            addresses: [{ type: "IPAddress", value: GATEWAY_IP }],
            listeners: listeners.map((name) => ({
                name,
                attachedRoutes: name === REDIRECT_LISTENER ? 1 : 0,
                conditions: conditions("Accepted", "Programmed", "ResolvedRefs"),
            })),
        },
    });
    for (const l of resolvedListeners(g).filter((x) => x.secret))
        fake.put({
            apiVersion: "v1",
            kind: "Secret",
            metadata: meta(l.secret!, g.namespace),
            type: "kubernetes.io/tls",
            data: { "tls.crt": "LS0tLS1CRUdJTg==", "tls.key": "LS0tLS1CRUdJTg==" },
        });
    const labels = gatewayInfrastructure(g, config.cilium.loadBalancerPools).labels;
    const name = gatewayServiceName(g);
    fake.put({
        apiVersion: "v1",
        kind: "Service",
        metadata: { ...meta(name, g.namespace), labels },
        spec: { type: "LoadBalancer", clusterIP: "10.96.140.9", externalTrafficPolicy: g.loadBalancer.externalTrafficPolicy },
        status: {
            loadBalancer: { ingress: [{ ip: GATEWAY_IP }] },
            conditions: [
                {
                    type: "cilium.io/IPAMRequestSatisfied",
                    status: "True",
                    reason: "satisfied",
                    message: "",
                    lastTransitionTime: "2026-11-26T10:00:00Z",
                },
            ],
        },
    });
    return { namespace: g.namespace, name, labels, ip: GATEWAY_IP };
}

/** The probe's lookup of the kubernetes Service by its fully qualified name, as the fake network keys it. */
export function clusterLookup(): string {
    return `nslookup kubernetes.default.svc.${devOptions().dns.dnsDomain}.`;
}

/** The Week 4 incident: Talos without kube-proxy, Cilium without kube-proxy replacement. */
export function incident(fake: FakeKube): void {
    healthy(fake);
    const o = devOptions();
    fake.put({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: meta("cilium-config", o.network.namespace),
        data: { "kube-proxy-replacement": "false" },
    });
    fake.exec = () => ({ stdout: "KubeProxyReplacement:    False\n", exitCode: 0 });
    fake.net["curl https://10.96.0.1:443/version"] = { rc: 28, out: TIMEOUT_LINE };
    fake.net["curl https://kubernetes.default.svc:443/version"] = { rc: 28, out: TIMEOUT_LINE };
    fake.net[clusterLookup()] = { rc: 1, out: NSLOOKUP_TIMEOUT };
    fake.net["nslookup github.com."] = { rc: 1, out: NSLOOKUP_TIMEOUT };
    fake.put(deployment(o.certificates.namespace, o.certificates.deployment, false));
    fake.put(crashingPod(o.certificates.namespace, "cert-manager-webhook-5d8f7-abcde", o.certificates.deployment, WEBHOOK_CRASH, 101));
}

// --- BGP and L2 announcements

/** cilium-config as the chart renders the keys the gates read. */
function ciliumConfigData(config: PlatformConfig): Record<string, string> {
    const data: Record<string, string> = { "kube-proxy-replacement": "true" };
    if (config.cilium.bgp) {
        data["enable-bgp-control-plane"] = "true";
        data["bgp-secrets-namespace"] = bgpSecretsNamespace(ciliumValues(config.cluster, config.cilium));
        data["enable-bgp-control-plane-status-report"] = "true";
    }
    if (config.cilium.l2Announcements.length) data["enable-l2-announcements"] = "true";
    return data;
}

/** Conditions the Cilium operator keeps on an object, every one False: nothing is wrong. */
function quiet(types: string[]): Obj[] {
    return types.map((type) => ({
        type,
        status: "False",
        reason: type.split("/")[1],
        message: "",
        observedGeneration: 1,
        lastTransitionTime: "2026-11-26T10:00:00Z",
    }));
}

interface AnnouncedService {
    namespace: string;
    name: string;
    labels: Record<string, string>;
    ip: string;
}

/**
 * What Cilium's operator and agents report once BGP and L2 work: the
 * objects the network phase creates, with quiet conditions; one
 * CiliumBGPNodeConfig per node whose sessions are established and advertise
 * one route per selected Service address; a fresh lease for each Service of
 * an L2-announced pool.
 */
function announced(fake: FakeKube, config: PlatformConfig, services: AnnouncedService[]): void {
    const objects = ciliumObjects(config.cluster, config.cilium);
    const fields = announcementFields(config);
    const bgp = objects.bgp;
    if (bgp) {
        const cc = bgp.clusterConfig;
        fake.put({
            ...cc,
            status: {
                conditions: quiet([
                    BGP_CONDITIONS.noMatchingNode,
                    BGP_CONDITIONS.missingPeerConfigs,
                    BGP_CONDITIONS.conflictingClusterConfig,
                ]),
            },
        });
        for (const pc of bgp.peerConfigs) fake.put({ ...pc, status: { conditions: quiet([BGP_CONDITIONS.missingAuthSecret]) } });
        for (const adv of bgp.advertisements) fake.put(adv);
        const instances = cc.spec.bgpInstances ?? [];
        const routes = (peerConfig: string | undefined, afi: string) => {
            const families = bgp.peerConfigs.find((p) => p.metadata.name === peerConfig)?.spec.families ?? [];
            const family = families.find((f) => f.afi === afi);
            const entries = bgp.advertisements
                .filter((a) => family?.advertisements && selects(family.advertisements, a.metadata.labels ?? {}))
                .flatMap((a) => a.spec.advertisements ?? []);
            const all = (s: AnnouncedService) => ({
                ...s.labels,
                "io.kubernetes.service.namespace": s.namespace,
                "io.kubernetes.service.name": s.name,
            });
            return services.filter((s) => addressFamily(s.ip) === afi && entries.some((e) => e.selector && selects(e.selector, all(s))))
                .length;
        };
        for (const name of NODES) {
            fake.put({
                apiVersion: "cilium.io/v2",
                kind: "CiliumBGPNodeConfig",
                metadata: {
                    name,
                    generation: 1,
                    ownerReferences: [
                        { apiVersion: "cilium.io/v2", kind: "CiliumBGPClusterConfig", name: cc.metadata.name, uid: "uid-cc" },
                    ],
                },
                spec: { bgpInstances: instances.map((i) => ({ name: i.name, localASN: i.localASN, peers: i.peers })) },
                status: {
                    bgpInstances: instances.map((i) => ({
                        name: i.name,
                        localASN: i.localASN,
                        peers: (i.peers ?? []).map((p) => ({
                            name: p.name,
                            peerAddress: p.peerAddress,
                            peerASN: p.peerASN,
                            peeringState: "established",
                            establishedTime: "2026-11-26T10:00:00Z",
                            timers: { appliedHoldTimeSeconds: 90, appliedKeepaliveSeconds: 30 },
                            routeCount: (bgp.peerConfigs.find((pc) => pc.metadata.name === p.peerConfigRef?.name)?.spec.families ?? []).map(
                                (f) => ({
                                    afi: f.afi,
                                    safi: "unicast",
                                    received: 1,
                                    advertised: routes(p.peerConfigRef?.name, f.afi ?? ""),
                                }),
                            ),
                        })),
                    })),
                },
            });
        }
    }
    for (const policy of objects.l2Policies) fake.put(policy);
    if (fields.l2Pools?.length) {
        const pools = config.cilium.loadBalancerPools.filter((p) => fields.l2Pools!.includes(p.name));
        for (const s of services.filter((svc) => pools.some((p) => selects(p.serviceSelector, svc.labels)))) {
            fake.put({
                apiVersion: "coordination.k8s.io/v1",
                kind: "Lease",
                metadata: { name: l2LeaseName(s.namespace, s.name), namespace: config.cilium.namespace },
                spec: {
                    holderIdentity: NODES[0],
                    leaseDurationSeconds: 15,
                    acquireTime: new Date().toISOString(),
                    renewTime: new Date().toISOString(),
                    leaseTransitions: 0,
                },
            });
        }
    }
}

/** A node whose kubelet reports Ready, or has stopped reporting (Unknown, as for a node that is gone). */
export function setNodeReady(fake: FakeKube, name: string, ready: boolean): void {
    const path = FakeKube.pathOf({ apiVersion: "v1", kind: "Node", metadata: { name } });
    if (!fake.objects.has(path)) fake.put(node(name, "v1.34.2"));
    const obj = fake.objects.get(path);
    obj.status = {
        ...obj.status,
        conditions: [
            ready
                ? { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" }
                : { type: "Ready", status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." },
        ],
    };
}

/** Edits a stored object in place. */
function edit(
    fake: FakeKube,
    ref: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } },
    change: (o: Obj) => void,
): void {
    const obj = fake.objects.get(FakeKube.pathOf(ref));
    if (!obj) throw new Error(`no ${ref.kind} ${ref.metadata.name} in the fake cluster`);
    change(obj);
}

const nodeConfig = (node: string) => ({ apiVersion: "cilium.io/v2", kind: "CiliumBGPNodeConfig", metadata: { name: node } });

/** The session from `node` to its first peer is down in GoBGP state `state` ("active": it keeps trying, the router does not answer). */
export function bgpSessionDown(fake: FakeKube, node: string, state = "active"): void {
    edit(fake, nodeConfig(node), (o) => {
        const peer = o.status.bgpInstances[0].peers[0];
        peer.peeringState = state;
        delete peer.establishedTime;
        delete peer.routeCount;
    });
}

/** The agent on `node` advertises none of its routes: the session is up, the routes are not sent. */
export function routesNotAdvertised(fake: FakeKube, node: string): void {
    edit(fake, nodeConfig(node), (o) => {
        for (const c of o.status.bgpInstances[0].peers[0].routeCount) c.advertised = 0;
    });
}

/** Every advertisement loses the entry that selects `pool`'s Services: edited in the cluster, the pool is advertised nowhere. */
export function poolNotAdvertised(fake: FakeKube, config: PlatformConfig, pool: string): void {
    const selector = config.cilium.loadBalancerPools.find((p) => p.name === pool)!.serviceSelector;
    for (const adv of ciliumObjects(config.cluster, config.cilium).bgp?.advertisements ?? []) {
        edit(fake, adv, (o) => {
            o.spec.advertisements = o.spec.advertisements.filter((e: Obj) => JSON.stringify(e.selector) !== JSON.stringify(selector));
        });
    }
}

/** The Cilium operator's verdict when a peer config's password Secret is gone. */
export function authSecretMissing(fake: FakeKube, peerConfig: string): void {
    edit(fake, { apiVersion: "cilium.io/v2", kind: "CiliumBGPPeerConfig", metadata: { name: peerConfig } }, (o) => {
        const c = o.status.conditions.find((x: Obj) => x.type === BGP_CONDITIONS.missingAuthSecret);
        c.status = "True";
        c.message = `Referenced Auth Secret "${o.spec.authSecretRef}" is missing`;
    });
}

/** No agent holds the lease of the ingress controller's Service: nothing answers ARP for its address. */
export function l2LeaseMissing(fake: FakeKube, config: PlatformConfig): void {
    const o = gateOptions(config).ingress;
    fake.remove({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: l2LeaseName(o.namespace, o.service), namespace: config.cilium.namespace },
    });
}
