import { createHash } from "node:crypto";
import type { PlatformConfig } from "../config";
import { durationMs } from "../config/common";
import { helmFullname, truncName } from "../helm-names";
import { Values, valueAt } from "../merge";
import { nthAddress, parseCidr } from "../net";
import type { Phase } from "../phases";
import { certManagerWebhook } from "../values/cert-manager";
import { ciliumValues } from "../values/cilium";
import { COREDNS_RELEASE, corednsValues } from "../values/coredns";
import { ciliumObjects, requiredCrds } from "../values/cilium-objects";
import {
    FLUX_OPERATOR_RELEASE,
    fluxInstance,
    gitRepository,
    kustomizationDependencies,
    PHASE_LABEL,
    previousPhaseNames,
} from "../values/flux";
import { dns01FallthroughZones, dns01RecursiveNameservers } from "../values/dns01";
import { defaultCertificate, INGRESS_RELEASE, ingressNginxValues } from "../values/ingress-nginx";
import { CILIUM_REQUIRED_CRDS, gatewayApiCrdNames } from "../values/gateway-api";
import { REDIRECT_LISTENER, redirects, resolvedListeners } from "../values/gateway";
import { clusterFamilies } from "../config/cluster";
import { bgpAnnounces, l2Announces, poolFamilies } from "../checks/bgp";
import type { AnnouncementFields, GatewayFields, GateOptions } from "./options";

// What each gate looks at in the cluster, derived from the same config and
// values builders that deploy it, so a renamed release or a fullnameOverride
// in `values` moves the gate along with the workload.

/** Helm release names, as the components install them. A test ties these to the plan. */
export const RELEASES = {
    cilium: "cilium",
    coredns: COREDNS_RELEASE,
    certManager: "cert-manager",
    ingressNginx: INGRESS_RELEASE,
    flux: FLUX_OPERATOR_RELEASE,
} as const;

/** The label the Flux component puts on each Kustomization; the gitops gate lists each Flux phase by it. */
export const FLUX_PHASE_LABEL = PHASE_LABEL;

/** Names fixed by the Cilium chart (it has no fullnameOverride for them). */
export const CILIUM_AGENT = "cilium";
export const CILIUM_OPERATOR = "cilium-operator";
export const CILIUM_AGENT_CONTAINER = "cilium-agent";
export const CILIUM_AGENT_SELECTOR = "k8s-app=cilium";
export const CILIUM_CONFIG = "cilium-config";
/** The DaemonSet Talos runs unless cluster.proxy.disabled. */
export const KUBE_PROXY = "kube-proxy";

/** CRDs the Cilium operator registers at start-up; the agent cannot work without them. */
export const CILIUM_CORE_CRDS = [
    "ciliumendpoints.cilium.io",
    "ciliumidentities.cilium.io",
    "ciliumnetworkpolicies.cilium.io",
    "ciliumnodes.cilium.io",
];

/** The host of a Git URL: https://host/..., ssh://git@host/..., or git@host:org/repo. */
export function gitHost(url: string): string | undefined {
    const scp = /^[\w.-]+@([^:/]+):/.exec(url);
    if (scp && !url.includes("://")) return scp[1];
    try {
        const host = new URL(url).hostname;
        return host === "" ? undefined : host;
    } catch {
        return undefined;
    }
}

/** The kubernetes Service's ClusterIP: the first address of the first Service subnet. */
export function kubernetesServiceIp(config: PlatformConfig): string {
    const cidr = parseCidr(config.cluster.serviceSubnets[0]);
    return (cidr && nthAddress(cidr, 1)) ?? "10.96.0.1";
}

function isTrue(v: unknown): boolean {
    return v === true || v === "true";
}

function numberAt(values: Values, path: string, fallback: number): number {
    const v = valueAt(values, path);
    return typeof v === "number" ? v : fallback;
}

function stringAt(values: Values, path: string, fallback: string): string {
    const v = valueAt(values, path);
    return typeof v === "string" && v !== "" ? v : fallback;
}

/**
 * What the announcement steps check, from the same objects the Cilium
 * component deploys: the BGP cluster config, each pool family a BGP session
 * sends (as the lb-pool-announced check reckons it), and each pool L2 answers
 * ARP for. Empty lists are left unset: nothing to check.
 */
export function announcementFields(config: PlatformConfig): AnnouncementFields {
    const objects = ciliumObjects(config.cluster, config.cilium);
    const l2Policies = objects.l2Policies.map((o) => o.spec);
    const input = {
        pools: objects.pools,
        clusterConfigs: objects.bgp ? [objects.bgp.clusterConfig.spec] : [],
        peerConfigs: objects.bgp?.peerConfigs ?? [],
        advertisements: objects.bgp?.advertisements ?? [],
        l2Policies,
    };
    const run = clusterFamilies(config.cluster);
    const bgpPools = objects.bgp
        ? objects.pools.flatMap((p) =>
              poolFamilies(p.spec)
                  .filter((f) => run.has(f) && bgpAnnounces(p.spec, f, input))
                  .map((f) => `${p.metadata.name}/${f}`),
          )
        : [];
    const l2Pools = objects.pools.filter((p) => l2Policies.length && l2Announces(p.spec, l2Policies)).map((p) => p.metadata.name);
    // Keys stay present when unset, so that these options override others' (the doctor's, a test's) when spread.
    return {
        ciliumNamespace: config.cilium.namespace,
        bgpClusterConfig: objects.bgp?.clusterConfig.metadata.name,
        bgpPools: bgpPools.length ? bgpPools : undefined,
        l2Pools: l2Pools.length ? l2Pools : undefined,
    };
}

/**
 * The Gateway the ingress gate checks, from the same builders that deploy
 * it: each listener, with the TLS Secret an HTTPS one serves, and the
 * redirect listener. Keys stay present when unset, like the announcements'.
 */
export function gatewayFields(config: PlatformConfig): GatewayFields {
    const g = config.gateway;
    if (!g.enabled) return { gateway: undefined, gatewayClass: undefined, gatewayListeners: undefined };
    return {
        gateway: `${g.namespace}/${g.name}`,
        gatewayClass: g.className,
        gatewayListeners: [
            ...resolvedListeners(g).map((l) => (l.secret ? `${l.name}=${l.secret}` : l.name)),
            ...(redirects(g) ? [REDIRECT_LISTENER] : []),
        ],
    };
}

/** Every gate's options, from the validated stack config. Pure: index.ts and the doctor share it. */
export function gateOptions(config: PlatformConfig): GateOptions {
    const { cluster, gates } = config;
    const common = (timeout: string) => ({
        timeoutMs: durationMs(timeout),
        pollMs: durationMs(gates.pollInterval),
        probeImage: gates.probeImage,
        probeNamespace: gates.probeNamespace,
        context: cluster.kubeContext,
    });
    const serviceIp = kubernetesServiceIp(config);
    // Every phase gate reads crash messages, which name the kubernetes Service by this address.
    const phase = (timeout: string) => ({ ...common(timeout), serviceIp });

    const cilium = ciliumValues(cluster, config.cilium, config.gateway);
    // The operator's own CRDs, plus those of every kind the Cilium component emits (what its CrdWait waits for).
    const ciliumCrds = [...new Set([...CILIUM_CORE_CRDS, ...requiredCrds(ciliumObjects(cluster, config.cilium))])].sort();

    // Talos' own CoreDNS is also a Deployment named coredns in kube-system.
    const dnsNamespace = cluster.coreDnsDisabled ? config.coredns.namespace : "kube-system";
    const dnsDeployment = cluster.coreDnsDisabled
        ? helmFullname(RELEASES.coredns, "coredns", corednsValues(cluster, config.coredns))
        : "coredns";

    // The same name the cert-manager values put into the webhook's serving certificate.
    const webhook = certManagerWebhook(config.certManager);

    const ingress = ingressNginxValues(config.ingressNginx, config.cilium.loadBalancerPools);
    const controllerName = stringAt(ingress, "controller.name", "controller");
    const ingressController = truncName(`${helmFullname(RELEASES.ingressNginx, "ingress-nginx", ingress)}-${controllerName}`);

    const announce = announcementFields(config);
    const gateway = gatewayFields(config);
    const gatewayApi = config.gateway.gatewayApi;

    const instance = fluxInstance(cluster, config.flux);
    const components = Array.isArray(instance.spec.components) ? instance.spec.components.map(String) : [];

    return {
        crds: { ...common(gates.network.timeout), crds: ciliumCrds },
        "gateway-api-crds": {
            ...common(gates.network.timeout),
            mode: gatewayApi.crds,
            crds: gatewayApiCrdNames(gatewayApi.version),
            served: CILIUM_REQUIRED_CRDS.map((c) => `${c.name}=${c.version}`),
            bundleVersion: gatewayApi.version,
        },
        network: {
            ...phase(gates.network.timeout),
            namespace: config.cilium.namespace,
            agent: CILIUM_AGENT,
            operator: CILIUM_OPERATOR,
            crds: ciliumCrds,
            kubeProxyReplacement: isTrue(valueAt(cilium, "kubeProxyReplacement")),
        },
        dns: {
            ...phase(gates.dns.timeout),
            namespace: dnsNamespace,
            deployment: dnsDeployment,
            dnsDomain: cluster.dnsDomain,
            externalName: gates.dns.externalName ?? gitHost(config.flux.source.url) ?? "github.com",
        },
        certificates: {
            ...phase(gates.certificates.timeout),
            namespace: webhook.namespace,
            deployment: webhook.name,
        },
        ingress: {
            ...phase(gates.ingress.timeout),
            namespace: config.ingressNginx.namespace,
            service: ingressController,
            serviceType: stringAt(ingress, "controller.service.type", "LoadBalancer"),
            deployment: ingressController,
            port: numberAt(ingress, "controller.service.ports.http", 80),
            // ingress-nginx's default certificate, when ingress-nginx is there to serve it.
            certificate: config.ingressNginx.enabled ? defaultCertificate(config.ingressNginx)?.metadata.name : undefined,
            ingressNginx: config.ingressNginx.enabled,
            ...gateway,
            ...announce,
        },
        gitops: {
            ...phase(gates.gitops.timeout),
            namespace: config.flux.namespace,
            deployments: components,
            gitRepository: gitRepository(config.flux).metadata.name,
            fluxPhases: config.flux.phases.map((p) => p.name),
            kustomizations: config.flux.phases.flatMap((p) => p.kustomizations.map((k) => `${p.name}/${k.name}`)),
            ...nonCritical(config),
            ...(config.flux.sync
                ? {
                      rootKustomization: config.flux.source.name,
                      // The same dependencies the program would have generated: the previous phase, then the extras.
                      dependsOn: config.flux.phases.flatMap((p, i) =>
                          p.kustomizations.flatMap((k) =>
                              kustomizationDependencies(previousPhaseNames(config.flux.phases, i), k).map((d) => `${k.name}=${d}`),
                          ),
                      ),
                  }
                : {}),
        },
        gateway: { ...common(gates.ingress.timeout), ...gateway },
        announcements: { ...common(gates.ingress.timeout), ...announce },
    };
}

/** The Kustomizations marked critical: false, as `<flux phase>/<name>`; left out when there are none, as the flag is. */
function nonCritical(config: PlatformConfig): { nonCritical?: string[] } {
    const list = config.flux.phases.flatMap((p) => p.kustomizations.filter((k) => !k.critical).map((k) => `${p.name}/${k.name}`));
    return list.length ? { nonCritical: list } : {};
}

/**
 * A digest of what a phase deploys: its gate re-runs when this changes
 * (a new chart version, new values, a new pool), not on every `up`.
 */
export function phaseDigest(config: PlatformConfig, phase: Phase): string {
    // Which cluster the stack is bound to is not what the network phase deploys: the gates carry the identity as a trigger of its own.
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { identity, apiServerAliases, ...cluster } = config.cluster;
    const inputs: Record<Phase, unknown> = {
        // Where the facts were read from is not what the network runs: the same facts, the same digest.
        // The Gateway API switch changes Cilium's values; off, it leaves the digest as it was.
        network: [
            { ...cluster, talosConfig: undefined },
            config.cilium,
            ...(config.gateway.enabled ? [config.gateway.gatewayApi, config.gateway.loadBalancer] : []),
        ],
        // CoreDNS's fallthrough and cert-manager's self-check resolvers follow the ACME issuers and the default certificate.
        dns: [cluster.dnsDomain, cluster.coreDnsDisabled, cluster.forwardKubeDNSToHost, config.coredns, dns01FallthroughZones(config)],
        certificates: [config.certManager, dns01RecursiveNameservers(config) ?? null, ...(config.gateway.enabled ? ["gatewayAPI"] : [])],
        // The ingress gate also checks that BGP or L2 announce the addresses.
        ingress: [
            config.ingressNginx,
            config.cilium.loadBalancerPools,
            config.cilium.bgp,
            config.cilium.l2Announcements,
            ...(config.gateway.enabled ? [config.gateway] : []),
        ],
        gitops: [config.flux],
    };
    return "sha256:" + createHash("sha256").update(JSON.stringify(inputs[phase])).digest("hex").slice(0, 16);
}
