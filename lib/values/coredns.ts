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

// CoreDNS as Talos runs it, v1.13: siderolabs/talos
// internal/app/machined/pkg/controllers/k8s/internal/k8stemplates/coredns.go
// (CoreDNSDeployment, CoreDNSConfigMap, CoreDNSService; unchanged from
// v1.13.0 to v1.13.9). The tests compare these values with that file's
// golden outputs, vendored under test/upstream/talos/v1.13.9.

export const CONTROL_PLANE_TOLERATIONS = [
    // Talos CoreDNSDeployment: tolerations.
    { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
    // Talos CoreDNSDeployment: a node a cloud provider has not initialized yet still gets DNS.
    { key: "node.cloudprovider.kubernetes.io/uninitialized", operator: "Exists", effect: "NoSchedule" },
    // Not in Talos' manifest; kubeadm's CoreDNS tolerates it, and the chart keeps it as an annotation.
    { key: "CriticalAddonsOnly", operator: "Exists" },
];

/**
 * Talos CoreDNSDeployment: requests 100m CPU and 70Mi, a 170Mi memory limit
 * and no CPU limit (a CPU limit throttles DNS under load). The chart's own
 * default has a 100m CPU limit; Helm deletes a default key set to null
 * ("Deleting a default key" in Helm's values-files guide), and
 * @pulumi/kubernetes passes a null in a Release's values through since 4.30.
 */
export const COREDNS_RESOURCES = {
    limits: { cpu: null, memory: "170Mi" },
    requests: { cpu: "100m", memory: "70Mi" },
};

/** Talos CoreDNSDeployment: Go's soft memory limit, below the container's 170Mi, so the GC works harder before the OOM killer would. */
export const COREDNS_ENV = [{ name: "GOMEMLIMIT", value: "161MiB" }];

/** Talos CoreDNSService: the scrape annotations, on the Service that carries port 9153. */
export const COREDNS_SCRAPE_ANNOTATIONS = { "prometheus.io/scrape": "true", "prometheus.io/port": "9153" };

/** Talos CoreDNSDeployment: priorityClassName. */
export const COREDNS_PRIORITY_CLASS = "system-cluster-critical";

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

/**
 * The Corefile's one server block, plugin for plugin Talos' Corefile
 * (CoreDNSConfigMap): the cluster domain, then everything else to the
 * upstreams. `fallthrough` lists zones inside the cluster domain whose names
 * CoreDNS has no record for go on to the upstreams instead of NXDOMAIN
 * (public records under a cluster domain that is part of a public zone).
 */
export function corednsServer(cluster: ClusterConfig, coredns: CorednsConfig, fallthrough: string[] = []): Values {
    const domain = cluster.dnsDomain;
    return {
        // use_tcp: answers over 512 bytes are retried over TCP, which the Service must carry.
        zones: [{ zone: ".", use_tcp: true }],
        port: 53,
        plugins: [
            { name: "errors" },
            { name: "health", configBlock: "lameduck 5s" },
            { name: "ready" },
            // Talos: log only responses of class error (SERVFAIL, REFUSED, ...), not every query.
            { name: "log", parameters: ".", configBlock: "class error" },
            // Talos: ":9153", every address family, where the chart's default listens on IPv4 only.
            { name: "prometheus", parameters: ":9153" },
            {
                name: "kubernetes",
                parameters: `${domain} in-addr.arpa ip6.arpa`,
                configBlock: `pods insecure\nfallthrough ${["in-addr.arpa", "ip6.arpa", ...fallthrough].join(" ")}\nttl 30`,
            },
            // Talos: at most 1000 queries in flight to the upstreams; beyond that CoreDNS answers REFUSED instead of queueing.
            { name: "forward", parameters: `. ${coredns.upstreams.join(" ")}`, configBlock: "max_concurrent 1000" },
            // Talos: nothing in the cluster domain is cached, so a new or deleted Service is seen at once.
            { name: "cache", parameters: 30, configBlock: `disable success ${domain}\ndisable denial ${domain}` },
            { name: "loop" },
            { name: "reload" },
            { name: "loadbalance" },
        ],
    };
}

/** Optional inputs of the CoreDNS values that come from other sections. */
export interface CorednsValuesOptions {
    /** Zones inside the cluster domain that fall through to the upstreams (dns01FallthroughZones). @default [] */
    fallthrough?: string[];
}

/** CoreDNS chart values; `coredns.values` merged last. */
export function corednsValues(cluster: ClusterConfig, coredns: CorednsConfig, options: CorednsValuesOptions = {}): Values {
    // Kubernetes requires clusterIP = clusterIPs[0]: when the escape hatch lists
    // the ClusterIPs, clusterIP and the family policy follow that list.
    const ips = readValue(coredns.values, "service.clusterIPs", KIND.strings) ?? corednsClusterIPs(cluster, coredns);
    const computed: Values = {
        fullnameOverride: COREDNS_RELEASE,
        k8sAppLabelOverride: KUBE_DNS,
        // Talos runs 2 (CoreDNSDeployment: replicas); coredns.replicas defaults to the same.
        replicaCount: coredns.replicas,
        priorityClassName: COREDNS_PRIORITY_CLASS,
        resources: COREDNS_RESOURCES,
        env: COREDNS_ENV,
        service: {
            name: KUBE_DNS,
            clusterIP: ips[0],
            clusterIPs: ips,
            ipFamilyPolicy: ips.length > 1 ? "RequireDualStack" : "SingleStack",
        },
        tolerations: CONTROL_PLANE_TOLERATIONS,
        affinity: spreadAcrossNodes({ "app.kubernetes.io/name": COREDNS_RELEASE, "app.kubernetes.io/instance": COREDNS_RELEASE }),
        podDisruptionBudget: { maxUnavailable: 1 },
        // Talos puts port 9153 and the scrape annotations on kube-dns; the chart
        // derives kube-dns' ports from the DNS servers alone, so they go on its
        // metrics Service (coredns-metrics) instead. The ServiceMonitor CRD
        // arrives with Flux, after this phase.
        prometheus: { service: { enabled: true, annotations: COREDNS_SCRAPE_ANNOTATIONS }, monitor: { enabled: false } },
        servers: [corednsServer(cluster, coredns, options.fallthrough)],
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
