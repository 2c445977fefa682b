import type { CorednsConfig } from "../config/coredns";
import type { ClusterConfig } from "../config/cluster";
import { mergeValues, Values } from "../merge";
import { addressFamily, Family, nthAddress, parseCidr } from "../net";
import { KIND, readValue, ValueKeys } from "./read";
import { EmittedService, mergedMaps } from "./services";

/** Release and chart name: the chart's app.kubernetes.io labels derive from both. */
export const COREDNS_RELEASE = "coredns";
/** Pods and NetworkPolicies look for kube-dns by this name and k8s-app label. */
export const KUBE_DNS = "kube-dns";

/** Where Talos points kubelet's clusterDNS by default: the tenth address of each service subnet. */
export function defaultDnsIPs(cluster: ClusterConfig): string[] {
    return cluster.serviceSubnets.map((s) => {
        const c = parseCidr(s);
        return (c && nthAddress(c, 10)) ?? "";
    });
}

/** The kube-dns ClusterIPs: configured, or Talos' clusterDNS default. */
export function corednsClusterIPs(cluster: ClusterConfig, coredns: CorednsConfig): string[] {
    return coredns.clusterIPs ?? defaultDnsIPs(cluster).filter((ip) => ip !== "");
}

/** The CoreDNS chart's values keys that the builders and checks read. */
export const COREDNS_VALUE_KEYS = {
    replicaCount: KIND.count,
    "autoscaler.enabled": KIND.switch,
    "autoscaler.min": KIND.count,
    "autoscaler.preventSinglePointFailure": KIND.switch,
    "hpa.enabled": KIND.switch,
    "hpa.minReplicas": KIND.count,
    serviceType: KIND.string,
    "service.name": KIND.string,
    "service.clusterIP": KIND.string,
    "service.clusterIPs": KIND.strings,
    "service.annotations": KIND.stringMap,
    k8sAppLabelOverride: KIND.string,
    customLabels: KIND.stringMap,
    customAnnotations: KIND.stringMap,
    servers: KIND.maps,
} satisfies ValueKeys;

export const CONTROL_PLANE_TOLERATIONS = [
    { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
    { key: "CriticalAddonsOnly", operator: "Exists" },
];

/** Prefer one replica per node; a single-node cluster still gets DNS. */
export function spreadAcrossNodes(matchLabels: Record<string, string>): Values {
    return {
        podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { labelSelector: { matchLabels }, topologyKey: "kubernetes.io/hostname" } },
            ],
        },
    };
}

/** The Corefile's one server block: the cluster domain, then everything else to the upstreams. */
export function corednsServer(cluster: ClusterConfig, coredns: CorednsConfig): Values {
    return {
        // use_tcp: answers over 512 bytes are retried over TCP, which the Service must carry.
        zones: [{ zone: ".", use_tcp: true }],
        port: 53,
        plugins: [
            { name: "errors" },
            { name: "health", configBlock: "lameduck 5s" },
            { name: "ready" },
            {
                name: "kubernetes",
                parameters: `${cluster.dnsDomain} in-addr.arpa ip6.arpa`,
                configBlock: "pods insecure\nfallthrough in-addr.arpa ip6.arpa\nttl 30",
            },
            { name: "prometheus", parameters: "0.0.0.0:9153" },
            { name: "forward", parameters: `. ${coredns.upstreams.join(" ")}` },
            { name: "cache", parameters: 30 },
            { name: "loop" },
            { name: "reload" },
            { name: "loadbalance" },
        ],
    };
}

/** CoreDNS chart values; `coredns.values` merged last. */
export function corednsValues(cluster: ClusterConfig, coredns: CorednsConfig): Values {
    // Kubernetes requires clusterIP = clusterIPs[0]: when the escape hatch lists
    // the ClusterIPs, clusterIP and the family policy follow that list.
    const ips = readValue(coredns.values, "service.clusterIPs", KIND.strings) ?? corednsClusterIPs(cluster, coredns);
    const computed: Values = {
        fullnameOverride: COREDNS_RELEASE,
        k8sAppLabelOverride: KUBE_DNS,
        replicaCount: coredns.replicas,
        priorityClassName: "system-cluster-critical",
        service: {
            name: KUBE_DNS,
            clusterIP: ips[0],
            clusterIPs: ips,
            ipFamilyPolicy: ips.length > 1 ? "RequireDualStack" : "SingleStack",
        },
        tolerations: CONTROL_PLANE_TOLERATIONS,
        affinity: spreadAcrossNodes({ "app.kubernetes.io/name": COREDNS_RELEASE, "app.kubernetes.io/instance": COREDNS_RELEASE }),
        podDisruptionBudget: { maxUnavailable: 1 },
        // The ServiceMonitor CRD arrives with Flux, after this phase.
        prometheus: { monitor: { enabled: false } },
        servers: [corednsServer(cluster, coredns)],
    };
    return mergeValues(computed, coredns.values);
}

/** The Services the CoreDNS chart renders (one: kube-dns). */
export function corednsServices(cluster: ClusterConfig, coredns: CorednsConfig): EmittedService[] {
    if (!cluster.coreDnsDisabled) return [];
    const v = corednsValues(cluster, coredns);
    const custom = mergedMaps(v, ["customLabels"]);
    const annotations = mergedMaps(v, ["service.annotations", "customAnnotations"]);
    const families = (readValue(v, "service.clusterIPs", KIND.strings) ?? []).map(addressFamily).filter((f): f is Family => !!f);
    return [
        {
            section: "coredns",
            labelsKey: "customLabels",
            annotationsKey: "service.annotations",
            typeKey: "serviceType",
            namespace: coredns.namespace,
            name: readValue(v, "service.name", KIND.string) || COREDNS_RELEASE,
            type: readValue(v, "serviceType", KIND.string) ?? "ClusterIP",
            labels: {
                "app.kubernetes.io/managed-by": "Helm",
                "app.kubernetes.io/instance": COREDNS_RELEASE,
                "app.kubernetes.io/name": COREDNS_RELEASE,
                "k8s-app": readValue(v, "k8sAppLabelOverride", KIND.string) ?? COREDNS_RELEASE,
                "kubernetes.io/cluster-service": "true",
                "kubernetes.io/name": "CoreDNS",
                ...custom.map,
            },
            annotations: annotations.map,
            families: families.length ? families : undefined,
            wellTyped: custom.ok && annotations.ok,
        },
    ];
}
