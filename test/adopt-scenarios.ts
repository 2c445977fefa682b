import { gzipSync } from "node:zlib";
import type { PlatformConfig } from "../lib/config";
import type { Plan } from "../lib/plan/model";
import { deployment, NODES, nodesWithDomain } from "./cluster-scenarios";
import { FakeKube, pluralOf } from "./fake-kube";

// Running clusters for `npm run adopt`, built as their owners left them:
// Helm release Secrets written the way Helm 3 writes them, Cilium's
// ConfigMap, Talos' own objects, and Flux's objects with the labels and
// inventories kustomize-controller records.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

export interface ReleaseFixture {
    name: string;
    namespace: string;
    revision: number;
    /** deployed, failed, pending-upgrade, superseded… */
    status: string;
    chart: string;
    version: string;
    values?: Obj;
    /** Who wrote the Secret: helm (the CLI), helm-controller (Flux), pulumi-resource-kubernetes. */
    manager: string;
}

/**
 * A Helm 3 release Secret. Helm stores base64(gzip(JSON)) of the release
 * (pkg/storage/driver/util.go encodeRelease: json.Marshal, gzip at
 * BestCompression, base64.StdEncoding) as the bytes of data.release, which
 * the API then base64-encodes once more.
 */
export function helmSecret(r: ReleaseFixture): Obj {
    const release = {
        name: r.name,
        namespace: r.namespace,
        version: r.revision,
        info: { status: r.status, description: r.status === "deployed" ? "Install complete" : `${r.status}` },
        chart: { metadata: { name: r.chart, version: r.version, appVersion: r.version.replace(/^v/, "") } },
        config: r.values ?? {},
        manifest: "---\n# Source: (elided)\n",
    };
    const stored = gzipSync(Buffer.from(JSON.stringify(release)), { level: 9 }).toString("base64");
    return {
        apiVersion: "v1",
        kind: "Secret",
        type: "helm.sh/release.v1",
        metadata: {
            name: `sh.helm.release.v1.${r.name}.v${r.revision}`,
            namespace: r.namespace,
            labels: { owner: "helm", name: r.name, status: r.status, version: String(r.revision) },
            managedFields: [{ manager: r.manager, operation: "Update", apiVersion: "v1" }],
        },
        data: { release: Buffer.from(stored).toString("base64") },
    };
}

/** A CustomResourceDefinition serving `served` (the last one stored). */
export function crd(group: string, kind: string, served: string[], namespaced: boolean): Obj {
    const plural = pluralOf(kind);
    return {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: `${plural}.${group}` },
        spec: {
            group,
            names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
            scope: namespaced ? "Namespaced" : "Cluster",
            versions: served.map((name, i) => ({ name, served: true, storage: i === served.length - 1 })),
        },
    };
}

/** The labels kustomize-controller puts on what a Kustomization applies. */
export const appliedBy = (name: string, namespace = "flux-system") => ({
    "kustomize.toolkit.fluxcd.io/name": name,
    "kustomize.toolkit.fluxcd.io/namespace": namespace,
});

/** An object with managedFields, as the API server returns it. */
export function object(
    apiVersion: string,
    kind: string,
    name: string,
    namespace: string | undefined,
    rest: Obj = {},
    manager = "kubectl",
): Obj {
    const { labels, ...body } = rest;
    return {
        apiVersion,
        kind,
        metadata: {
            name,
            ...(namespace ? { namespace } : {}),
            ...(labels ? { labels } : {}),
            managedFields: [{ manager, operation: "Update", apiVersion }],
        },
        ...body,
    };
}

/** Flux's inventory id of an object: namespace_name_group_kind. */
export const entry = (namespace: string, name: string, group: string, kind: string, v: string) => ({
    id: `${namespace}_${name}_${group}_${kind}`,
    v,
});

function versionInfo(gitVersion: string): Obj {
    const [major, minor] = gitVersion.replace(/^v/, "").split(".");
    return {
        major,
        minor,
        gitVersion,
        gitCommit: "0000000000000000000000000000000000000000",
        gitTreeState: "clean",
        buildDate: "2026-01-01T00:00:00Z",
        goVersion: "go1.24.0",
        compiler: "gc",
        platform: "linux/amd64",
    };
}

/** Talos' kube-controller-manager static pod, mirrored into the API: its command line carries the subnets Talos was given. */
export function controllerManager(kubernetes: string, podSubnets: string[], serviceSubnets: string[]): Obj {
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
            name: `kube-controller-manager-${NODES[0]}`,
            namespace: "kube-system",
            labels: { "k8s-app": "kube-controller-manager" },
        },
        spec: {
            containers: [
                {
                    name: "kube-controller-manager",
                    image: `registry.k8s.io/kube-controller-manager:${kubernetes}`,
                    command: [
                        "/usr/local/bin/kube-controller-manager",
                        "--allocate-node-cidrs=true",
                        `--cluster-cidr=${podSubnets.join(",")}`,
                        `--service-cluster-ip-range=${serviceSubnets.join(",")}`,
                    ],
                },
            ],
        },
        status: { phase: "Running" },
    };
}

/** What Talos brings up before any CNI: the API server, nodes, its own CoreDNS, the control plane's flags. */
export function talosCluster(
    fake: FakeKube,
    o: {
        kubernetes: string;
        clusterDomain: string;
        podSubnets: string[];
        serviceSubnets: string[];
        nodePodCidrs?: (i: number) => string[];
    },
): void {
    fake.raw.set("/version", versionInfo(o.kubernetes));
    nodesWithDomain(fake, o.clusterDomain, o.kubernetes, o.nodePodCidrs);
    fake.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system", uid: "5f0c0a52-7d36-4c1e-9a3b-2b8d61c0e4a1" } });
    fake.put(controllerManager(o.kubernetes, o.podSubnets, o.serviceSubnets));
    fake.put(
        object("v1", "Service", "kubernetes", "default", { spec: { clusterIP: "10.96.0.1", clusterIPs: ["10.96.0.1"] } }, "kube-apiserver"),
        object("v1", "Service", "kube-dns", "kube-system", { spec: { clusterIP: "10.96.0.10", clusterIPs: ["10.96.0.10"] } }, "talos"),
    );
    // Talos' CoreDNS: its bootstrap manifest, no Helm annotations.
    const dns = deployment("kube-system", "coredns", true, 2);
    dns.metadata.labels = { "k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS" };
    fake.put(dns);
}

/** A freshly bootstrapped Talos cluster with the facts of `config`: Kubernetes 1.34, no CNI yet, nothing to adopt. */
export function freshCluster(fake: FakeKube, config: PlatformConfig): void {
    const c = config.cluster;
    talosCluster(fake, {
        kubernetes: "v1.34.2",
        clusterDomain: c.dnsDomain,
        podSubnets: c.podSubnets,
        serviceSubnets: c.serviceSubnets,
        // kube-controller-manager's /24 blocks of the IPv4 subnet and /64s of the IPv6 /56.
        nodePodCidrs: (i) => [`10.244.${i}.0/24`, `fd47:25e1:2f96:10${i}::/64`],
    });
}

/** Cilium's ConfigMap, keys as the chart renders them. */
export function ciliumConfig(data: Record<string, string>, namespace = "kube-system"): Obj {
    return object("v1", "ConfigMap", "cilium-config", namespace, { data }, "helm");
}

/** The Taskfile's `helm upgrade --install cilium` of the seed repository, at Week 4: kube-proxy replacement still off. */
export const WEEK4_CILIUM_VALUES = {
    ipam: { mode: "cluster-pool", operator: { clusterPoolIPv4PodCIDRList: ["10.244.0.0/16"], clusterPoolIPv4MaskSize: 24 } },
    kubeProxyReplacement: false,
    securityContext: { privileged: true },
    cni: { install: true, exclusive: false },
    hubble: { enabled: true, relay: { enabled: true }, ui: { enabled: true } },
    bgpControlPlane: { enabled: true },
    l2announcements: { enabled: true },
    loadBalancer: { algorithm: "maglev", mode: "snat", l2: { enabled: false }, acceleration: "disabled" },
    operator: { replicas: 1, rollOutPods: true },
    k8sServiceHost: "172.29.51.10",
    k8sServicePort: 6443,
    tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
};

/** The Kustomizations `flux bootstrap` and clusters/home-ops gave the Week 4 cluster, by name and path. */
export const WEEK4_KUSTOMIZATIONS: [string, string][] = [
    ["infrastructure-sources", "./infrastructure/sources"],
    ["infrastructure-external-secrets", "./infrastructure/external-secrets"],
    ["infrastructure-onepassword", "./infrastructure/onepassword-connect"],
    ["infrastructure-longhorn", "./infrastructure/longhorn"],
    ["infrastructure-monitoring", "./infrastructure/monitoring"],
    ["infrastructure-external-dns", "./infrastructure/external-dns"],
    ["infrastructure-cloudflare-tunnel", "./infrastructure/cloudflare-tunnel"],
    ["apps-dashboard", "./apps/dashboard"],
    ["apps-monitoring", "./apps/monitoring"],
    ["infrastructure-cert-manager", "./infrastructure/cert-manager"],
    ["infrastructure-ingress-nginx", "./infrastructure/ingress-nginx"],
    ["infrastructure-cilium-pools", "./infrastructure/cilium-pools"],
    ["infrastructure-cilium-bgp", "./infrastructure/cilium-bgp"],
];

const FLUX_CONTROLLERS = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"];
const POOLS = ["bgp-default", "bgp-ingress", "bgp-reserved", "bgp-default-ipv6"];

function kustomization(name: string, path: string, inventory: Obj[], labels?: Obj): Obj {
    return object(
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        name,
        "flux-system",
        {
            labels,
            spec: { interval: "10m0s", path, prune: true, sourceRef: { kind: "GitRepository", name: "flux-system" }, wait: true },
            status: { inventory: { entries: inventory } },
        },
        "kustomize-controller",
    );
}

/**
 * The Week 4 cluster: Talos 1.10 with Kubernetes v1.31.1 and cluster.local
 * (talconfig.yaml), kube-proxy off; Cilium 1.17.6 from the Taskfile's helm
 * install without kube-proxy replacement, on cluster-pool IPAM, peering by
 * BGP v1; cert-manager and ingress-nginx as Flux HelmReleases (ingress-nginx's
 * install failed while DNS was down); `flux bootstrap`'s root Kustomization
 * applying ./clusters/home-ops.
 */
export function week4Cluster(fake: FakeKube): void {
    talosCluster(fake, {
        kubernetes: "v1.31.1",
        clusterDomain: "cluster.local",
        podSubnets: ["10.244.0.0/16", "fd47:25e1:2f96:51:2000::/64"],
        serviceSubnets: ["10.96.0.0/12", "fd47:25e1:2f96:51:1000::/108"],
    });
    fake.put(
        helmSecret({
            name: "cilium",
            namespace: "kube-system",
            revision: 1,
            status: "deployed",
            chart: "cilium",
            version: "1.17.6",
            values: WEEK4_CILIUM_VALUES,
            manager: "helm",
        }),
        helmSecret({
            name: "cert-manager",
            namespace: "cert-manager",
            revision: 1,
            status: "deployed",
            chart: "cert-manager",
            version: "v1.19.1",
            values: { installCRDs: true, prometheus: { enabled: true, servicemonitor: { enabled: true } } },
            manager: "helm-controller",
        }),
        helmSecret({
            name: "ingress-nginx",
            namespace: "ingress-nginx",
            revision: 1,
            status: "failed",
            chart: "ingress-nginx",
            version: "4.14.0",
            values: { controller: { replicaCount: 1, service: { annotations: { "io.cilium/lb-ipam-pool": "bgp-ingress" } } } },
            manager: "helm-controller",
        }),
    );
    fake.put(
        ciliumConfig({
            ipam: "cluster-pool",
            "kube-proxy-replacement": "false",
            "routing-mode": "tunnel",
            "tunnel-protocol": "vxlan",
            "enable-bgp-control-plane": "true",
            "cluster-pool-ipv4-cidr": "10.244.0.0/16",
            "cluster-pool-ipv4-mask-size": "24",
            "enable-ipv4": "true",
            "enable-ipv6": "false",
        }),
    );
    // Cilium 1.17's CRDs serve its LB IPAM and BGP kinds as v2alpha1 only.
    fake.put(
        ...[
            "CiliumLoadBalancerIPPool",
            "CiliumBGPPeeringPolicy",
            "CiliumBGPClusterConfig",
            "CiliumBGPPeerConfig",
            "CiliumBGPAdvertisement",
        ].map((k) => crd("cilium.io", k, ["v2alpha1"], false)),
        crd("kustomize.toolkit.fluxcd.io", "Kustomization", ["v1"], true),
        crd("source.toolkit.fluxcd.io", "GitRepository", ["v1"], true),
        crd("helm.toolkit.fluxcd.io", "HelmRelease", ["v2"], true),
        crd("cert-manager.io", "ClusterIssuer", ["v1"], false),
        crd("cert-manager.io", "Certificate", ["v1"], true),
    );
    for (const pool of POOLS)
        fake.put(
            object(
                "cilium.io/v2alpha1",
                "CiliumLoadBalancerIPPool",
                pool,
                undefined,
                {
                    labels: appliedBy("infrastructure-cilium-pools"),
                    spec: { serviceSelector: { matchLabels: { "io.cilium/lb-ipam-pool": pool } } },
                },
                "kustomize-controller",
            ),
        );
    // infrastructure/cilium-bgp/bgp-policy-legacy.yaml
    fake.put(
        object(
            "cilium.io/v2alpha1",
            "CiliumBGPPeeringPolicy",
            "bgp-peering-policy",
            undefined,
            {
                labels: appliedBy("infrastructure-cilium-bgp"),
                spec: {
                    nodeSelector: { matchLabels: { "kubernetes.io/os": "linux" } },
                    virtualRouters: [
                        {
                            localASN: 64512,
                            exportPodCIDR: true,
                            serviceAdvertisements: ["LoadBalancerIP"],
                            neighbors: [
                                {
                                    peerAddress: "172.29.51.1/32",
                                    peerASN: 64513,
                                    gracefulRestart: { enabled: true, restartTimeSeconds: 120 },
                                },
                            ],
                        },
                    ],
                },
            },
            "kustomize-controller",
        ),
    );
    // clusters/home-ops/flux-system/gotk-sync.yaml, applied by the root Kustomization itself.
    const root = appliedBy("flux-system");
    fake.put(
        object(
            "source.toolkit.fluxcd.io/v1",
            "GitRepository",
            "flux-system",
            "flux-system",
            { labels: root, spec: { url: "https://github.com/geoffdavis/talos-gitops", ref: { branch: "main" }, interval: "1m0s" } },
            "kustomize-controller",
        ),
    );
    fake.put(
        kustomization(
            "flux-system",
            "./clusters/home-ops",
            [
                entry("flux-system", "flux-system", "source.toolkit.fluxcd.io", "GitRepository", "v1"),
                entry("flux-system", "flux-system", "kustomize.toolkit.fluxcd.io", "Kustomization", "v1"),
                ...FLUX_CONTROLLERS.map((c) => entry("flux-system", c, "apps", "Deployment", "v1")),
                ...WEEK4_KUSTOMIZATIONS.map(([name]) => entry("flux-system", name, "kustomize.toolkit.fluxcd.io", "Kustomization", "v1")),
            ],
            root,
        ),
    );
    const inventories: Record<string, Obj[]> = {
        "infrastructure-cert-manager": [entry("cert-manager", "cert-manager", "helm.toolkit.fluxcd.io", "HelmRelease", "v2")],
        "infrastructure-ingress-nginx": [entry("ingress-nginx", "ingress-nginx", "helm.toolkit.fluxcd.io", "HelmRelease", "v2")],
        "infrastructure-cilium-pools": POOLS.map((p) => entry("", p, "cilium.io", "CiliumLoadBalancerIPPool", "v2alpha1")),
        "infrastructure-cilium-bgp": [entry("", "bgp-peering-policy", "cilium.io", "CiliumBGPPeeringPolicy", "v2alpha1")],
    };
    for (const [name, path] of WEEK4_KUSTOMIZATIONS) fake.put(kustomization(name, path, inventories[name] ?? [], root));
    for (const [name, ks, version] of [
        ["cert-manager", "infrastructure-cert-manager", "v1.19.1"],
        ["ingress-nginx", "infrastructure-ingress-nginx", "4.14.0"],
    ])
        fake.put(
            object(
                "helm.toolkit.fluxcd.io/v2",
                "HelmRelease",
                name,
                name,
                { labels: appliedBy(ks), spec: { interval: "30m", chart: { spec: { chart: name, version } } } },
                "kustomize-controller",
            ),
        );
}

/**
 * The cluster after a good `pulumi up` of `plan`: every release and object
 * it creates, written by the Pulumi Kubernetes provider, with Cilium's
 * settings as the planned values render them.
 */
export function managedCluster(fake: FakeKube, config: PlatformConfig, plan: Plan): void {
    freshCluster(fake, config);
    const crds = new Map<string, Obj>();
    for (const r of plan.resources) {
        if (r.type === "kubernetes:helm.sh/v3:Release") {
            const chart = String(r.inputs.chart).split("/").pop()!;
            fake.put(
                helmSecret({
                    name: String(r.inputs.name),
                    namespace: String(r.inputs.namespace),
                    revision: 1,
                    status: "deployed",
                    chart,
                    version: String(r.inputs.version),
                    values: r.inputs.values,
                    manager: "pulumi-resource-kubernetes",
                }),
            );
            continue;
        }
        const m = /^kubernetes:([^:]+)\/(\w+):(\w+)$/.exec(r.type);
        if (!m) continue;
        const [, group, version, kind] = m;
        const inputs = r.inputs as Obj;
        if (group !== "core") {
            const namespaced = inputs.metadata.namespace !== undefined;
            crds.set(`${group}/${kind}`, crd(group, kind, [version], namespaced));
        }
        const apiVersion = group === "core" ? version : `${group}/${version}`;
        const { metadata, stringData, ...body } = inputs;
        fake.put(
            object(
                apiVersion,
                kind,
                metadata.name,
                metadata.namespace,
                { ...body, labels: metadata.labels, ...(stringData ? { data: {} } : {}) },
                "pulumi-kubernetes-7f3a9c1e",
            ),
        );
    }
    // The CRDs the plan installs itself (Gateway API's) are among the objects above, written by Pulumi.
    const installed = new Set(
        plan.resources
            .filter((r) => r.type === "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition")
            .map((r) => (r.inputs as Obj).metadata.name),
    );
    fake.put(...[...crds.values()].filter((c) => !installed.has(c.metadata.name)));
    fake.put(
        ciliumConfig({
            ipam: "kubernetes",
            "kube-proxy-replacement": "true",
            "routing-mode": "tunnel",
            "tunnel-protocol": "vxlan",
            "enable-bgp-control-plane": "true",
            "enable-ipv4": "true",
            "enable-ipv6": "true",
        }),
    );
}

/**
 * The Week 4 cluster after the first steps of docs/adopting.md: Flux handed
 * over (the root Kustomization, the HelmReleases and the Kustomizations of
 * what this program deploys deleted with pruning off, their objects left in
 * place with Flux's labels), the failed ingress-nginx release uninstalled,
 * Talos' IPv6 pod subnet moved to the stack's /56, and Cilium upgraded by hand
 * to 1.18, which also serves its pools and BGP kinds as cilium.io/v2.
 */
export function week4Prepared(fake: FakeKube): void {
    week4Cluster(fake);
    const ks = (name: string) => ({
        apiVersion: "kustomize.toolkit.fluxcd.io/v1",
        kind: "Kustomization",
        metadata: { name, namespace: "flux-system" },
    });
    for (const name of [
        "flux-system",
        "infrastructure-cert-manager",
        "infrastructure-ingress-nginx",
        "infrastructure-cilium-pools",
        "infrastructure-cilium-bgp",
    ])
        fake.remove(ks(name));
    for (const name of ["cert-manager", "ingress-nginx"])
        fake.remove({ apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", metadata: { name, namespace: name } });
    fake.remove({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "sh.helm.release.v1.ingress-nginx.v1", namespace: "ingress-nginx" },
    });
    fake.put(controllerManager("v1.31.1", ["10.244.0.0/16", "fd47:25e1:2f96:100::/56"], ["10.96.0.0/12", "fd47:25e1:2f96:51:1000::/108"]));
    const cilium = { name: "cilium", namespace: "kube-system", chart: "cilium", values: WEEK4_CILIUM_VALUES, manager: "helm" };
    fake.put(
        helmSecret({ ...cilium, revision: 1, status: "superseded", version: "1.17.6" }),
        helmSecret({ ...cilium, revision: 2, status: "deployed", version: "1.18.6" }),
        ...["CiliumLoadBalancerIPPool", "CiliumBGPClusterConfig", "CiliumBGPPeerConfig", "CiliumBGPAdvertisement"].map((k) =>
            crd("cilium.io", k, ["v2alpha1", "v2"], false),
        ),
    );
}
