import * as semver from "semver";

// Rules that hold only for some versions of a chart or of the controller it
// ships: settings a release removed, renamed or constrained, and defaults a
// release changed. One table, each entry with the version range it holds for
// and the upstream change it comes from; checked against the version the
// stack pins (lib/checks/chart-values.ts, lib/checks/ingress-annotations.ts).

/** Where a rule comes from: the upstream change, and the release that first shipped it. */
export interface RuleSource {
    /** e.g. "cert-manager/cert-manager#6760". */
    change: string;
    /** The first release with it, and its commit where known. */
    release: string;
    url: string;
}

/**
 * A condition on the merged values: a key Helm's `if` takes as true ("on")
 * or false ("off"), the key's chart default deciding when it is unset; or
 * any value at all ("set", for a template that tests `toString` of it).
 */
export type Condition = [key: string, state: "on" | "off" | "set", chartDefault?: boolean];

/** The chart refuses these values (its template calls `fail`): an error naming `key`. */
export interface RefusalRule {
    kind: "refused";
    id: string;
    chart: string;
    /** A semver range over the chart version, e.g. ">=1.15.0-0". */
    versions: string;
    /** All must hold. */
    when: Condition[];
    /** The values key the error names. */
    key: string;
    /** The chart's own message, quoted in the error. */
    chartSays: string;
    /** Why, in this program's words, when a key of the program is involved. */
    why?: string;
    fix: string;
    source: RuleSource;
}

/** The chart's values no longer do what this program's computed values rely on: an error naming the version. */
export interface VersionRule {
    kind: "version";
    id: string;
    chart: string;
    versions: string;
    when: Condition[];
    message: string;
    fix: string;
    source: RuleSource;
}

/** A default that changed between releases, which a check reads when the values leave it unset. */
export interface DefaultRule {
    kind: "default";
    id: string;
    chart: string;
    versions: string;
    /** What the default is of, e.g. the controller's ConfigMap key "annotations-risk-level". */
    setting: string;
    /** The default in this range; null: the setting does not exist in this range. */
    value: string | boolean | null;
    source: RuleSource;
}

/** Annotation risks an ingress controller grades, which its annotations-risk-level admits or refuses. */
export interface RiskRule {
    kind: "risk";
    id: string;
    chart: string;
    versions: string;
    /** Annotation name (after `nginx.ingress.kubernetes.io/`) to its risk; only High and Critical are listed. */
    risks: Record<string, RiskLevel>;
    source: RuleSource;
}

export const RISK_LEVELS = ["Low", "Medium", "High", "Critical"] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export type ChartRule = RefusalRule | VersionRule | DefaultRule | RiskRule;

const cilium = (release: string, commit: string): RuleSource => ({
    change: `its templates/validate.yaml, cilium/cilium ${commit.slice(0, 12)}`,
    release: `cilium ${release}`,
    url: `https://docs.cilium.io/en/v${release.split(".").slice(0, 2).join(".")}/operations/upgrade/#helm-options`,
});
const CILIUM_1_17 = cilium("1.17.0", "c2bbf787eab9b7f728fcc861904d9bcf17e4ba9b");
const CILIUM_1_18 = cilium("1.18.0", "274205f001bb24b89d19f0fe7c3fb3aca20030c2");

/** Cilium keys that the chart refuses outright from 1.17 on, with the release they were removed in. */
const CILIUM_REMOVED: Array<[key: string, removedIn: string, chartSays: string, fix: string]> = [
    [
        "tunnel",
        "1.15",
        "tunnel was deprecated in v1.14 and has been removed in v1.15",
        "use routingMode (tunnel or native) and tunnelProtocol (vxlan or geneve)",
    ],
    ["enableK8sEventHandover", "1.15", "enableK8sEventHandover was deprecated in v1.14 and has been removed in v1.15", "remove it"],
    ["enableCnpStatusUpdates", "1.15", "enableCnpStatusUpdates was deprecated in v1.14 and has been removed in v1.15", "remove it"],
    [
        "clustermesh.apiserver.tls.ca.cert",
        "1.15",
        "clustermesh.apiserver.tls.ca.cert and clustermesh.apiserver.tls.ca.key were deprecated in v1.14 and has been removed in v1.15",
        "put the CA in tls.ca.cert and tls.ca.key",
    ],
    [
        "clustermesh.apiserver.tls.ca.key",
        "1.15",
        "clustermesh.apiserver.tls.ca.cert and clustermesh.apiserver.tls.ca.key were deprecated in v1.14 and has been removed in v1.15",
        "put the CA in tls.ca.cert and tls.ca.key",
    ],
    [
        "encryption.keyFile",
        "1.16",
        "encryption.{keyFile,mountPath,secretName,interface} were deprecated in v1.14 and has been removed in v1.16",
        "use encryption.ipsec.keyFile",
    ],
    [
        "encryption.mountPath",
        "1.16",
        "encryption.{keyFile,mountPath,secretName,interface} were deprecated in v1.14 and has been removed in v1.16",
        "use encryption.ipsec.mountPath",
    ],
    [
        "encryption.secretName",
        "1.16",
        "encryption.{keyFile,mountPath,secretName,interface} were deprecated in v1.14 and has been removed in v1.16",
        "use encryption.ipsec.secretName",
    ],
    [
        "encryption.interface",
        "1.16",
        "encryption.{keyFile,mountPath,secretName,interface} were deprecated in v1.14 and has been removed in v1.16",
        "use encryption.ipsec.interface",
    ],
    [
        "proxy.prometheus.enabled",
        "1.16",
        "proxy.prometheus.enabled and proxy.prometheus.port were deprecated in v1.14 and has been removed in v1.16",
        "use envoy.prometheus.enabled",
    ],
    [
        "proxy.prometheus.port",
        "1.16",
        "proxy.prometheus.enabled and proxy.prometheus.port were deprecated in v1.14 and has been removed in v1.16",
        "use envoy.prometheus.port",
    ],
    ["endpointStatus", "1.16", "endpointStatus has been removed in v1.16", "remove it"],
    ["remoteNodeIdentity", "1.16", "remoteNodeIdentity was deprecated in v1.15 and has been removed in v1.16", "remove it"],
    [
        "containerRuntime.integration",
        "1.16",
        "containerRuntime.integration was deprecated in v1.14 and has been removed in v1.16",
        "remove it",
    ],
    ["etcd.managed", "1.16", "etcd.managed was deprecated in v1.10 has been removed in v1.16", "remove it"],
];

const CERT_MANAGER_6760: RuleSource = {
    change: "cert-manager/cert-manager#6760, crds.enabled and crds.keep replace installCRDs",
    release: "cert-manager v1.15.0",
    url: "https://github.com/cert-manager/cert-manager/pull/6760",
};

const INGRESS_NGINX_10393: RuleSource = {
    change: "kubernetes/ingress-nginx#10393, user snippets disabled by default",
    release: "ingress-nginx chart 4.8.0 (controller v1.9.0)",
    url: "https://github.com/kubernetes/ingress-nginx/pull/10393",
};
const INGRESS_NGINX_9673: RuleSource = {
    change: "kubernetes/ingress-nginx#9673, annotation validation and annotations-risk-level",
    release: "ingress-nginx chart 4.8.1 (controller v1.9.1)",
    url: "https://github.com/kubernetes/ingress-nginx/pull/9673",
};
const INGRESS_NGINX_11819: RuleSource = {
    change: "kubernetes/ingress-nginx#11819, annotations-risk-level High by default",
    release: "ingress-nginx chart 4.12.0 (controller v1.12.0)",
    url: "https://github.com/kubernetes/ingress-nginx/pull/11819",
};

const INGRESS_NGINX_RISKS: RuleSource = {
    change: "docs/user-guide/nginx-configuration/annotations-risk.md of controller-v1.15.1 (kubernetes/ingress-nginx 0a5901f3c64f)",
    release: "ingress-nginx chart 4.15.1 (controller v1.15.1)",
    url: "https://github.com/kubernetes/ingress-nginx/blob/controller-v1.15.1/docs/user-guide/nginx-configuration/annotations-risk.md",
};

/** Every version-ranged rule, by chart. */
export const CHART_RULES: ChartRule[] = [
    ...CILIUM_REMOVED.map(([key, removedIn, chartSays, fix]): RefusalRule => ({
        kind: "refused",
        id: `cilium-removed-${key}`,
        chart: "cilium",
        versions: ">=1.17.0-0",
        // The template tests `toString` of this one, so false is refused too.
        when: [[key, key === "proxy.prometheus.enabled" ? "set" : "on"]],
        key,
        chartSays: `${chartSays}. For details please refer to https://docs.cilium.io/en/v${removedIn}/operations/upgrade/#helm-options`,
        fix,
        source: CILIUM_1_17,
    })),
    {
        kind: "refused",
        id: "cilium-removed-enableCiliumEndpointSlice",
        chart: "cilium",
        versions: ">=1.18.0-0",
        when: [["enableCiliumEndpointSlice", "on"]],
        key: "enableCiliumEndpointSlice",
        chartSays: "enableCiliumEndpointSlice was deprecated in v1.16 and has been removed in v1.18",
        fix: "use ciliumEndpointSlice.enabled",
        source: CILIUM_1_18,
    },
    {
        kind: "refused",
        id: "cilium-removed-ciliumEndpointSlice.sliceMode",
        chart: "cilium",
        versions: ">=1.18.0-0",
        when: [["ciliumEndpointSlice.sliceMode", "on"]],
        key: "ciliumEndpointSlice.sliceMode",
        chartSays: "ciliumEndpointSlice.sliceMode has been removed in v1.18",
        fix: "remove it",
        source: CILIUM_1_18,
    },
    {
        kind: "refused",
        id: "cilium-k8sServiceHostRef-with-k8sServiceHost",
        chart: "cilium",
        versions: ">=1.18.0-0",
        when: [
            ["k8sServiceHostRef.name", "on"],
            ["k8sServiceHostRef.key", "on"],
            ["k8sServiceHost", "on"],
        ],
        key: "k8sServiceHostRef",
        chartSays: "Both k8sServiceHostRef and k8sServiceHost are set. Please set only one of them.",
        why: "talos-platform sets k8sServiceHost from the cluster (localhost with KubePrism, else the host of cluster.apiEndpoint)",
        fix: "remove k8sServiceHostRef and let the program set k8sServiceHost; a different API server address belongs in cluster.apiEndpoint or cluster.kubePrism",
        source: CILIUM_1_18,
    },
    {
        kind: "refused",
        id: "cert-manager-installCRDs-with-crds.enabled",
        chart: "cert-manager",
        versions: ">=1.15.0-0",
        when: [
            ["installCRDs", "on"],
            ["crds.enabled", "on"],
        ],
        key: "installCRDs",
        chartSays: "ERROR: the deprecated .installCRDs option cannot be enabled at the same time as its replacement .crds.enabled",
        why: "talos-platform sets crds.enabled, with crds.keep so that an uninstall keeps every Certificate",
        fix: "remove installCRDs: crds.enabled, which the program sets, installs the CRDs",
        source: CERT_MANAGER_6760,
    },
    {
        kind: "refused",
        id: "cert-manager-installCRDs-without-crds.keep",
        chart: "cert-manager",
        versions: ">=1.15.0-0",
        when: [
            ["installCRDs", "on"],
            ["crds.keep", "off", true],
        ],
        key: "installCRDs",
        chartSays: "ERROR: .crds.keep is not compatible with .installCRDs, please use .crds.enabled and .crds.keep instead",
        fix: "remove installCRDs and leave crds.enabled and crds.keep to the program",
        source: CERT_MANAGER_6760,
    },
    {
        kind: "version",
        id: "cert-manager-crds.enabled-before-1.15",
        chart: "cert-manager",
        versions: "<1.15.0-0",
        when: [["crds.enabled", "on"]],
        message:
            "is older than cert-manager v1.15.0, whose chart introduced crds.enabled: the CRDs this program installs through crds.enabled would not be installed, and every Certificate and ClusterIssuer would fail on an unknown kind",
        fix: "use v1.15.0 or later; v1.21.1 is the version this program's values are checked against",
        source: CERT_MANAGER_6760,
    },
    {
        kind: "default",
        id: "ingress-nginx-allow-snippet-annotations-true",
        chart: "ingress-nginx",
        versions: "<4.8.0-0",
        setting: "controller.allowSnippetAnnotations",
        value: true,
        source: INGRESS_NGINX_10393,
    },
    {
        kind: "default",
        id: "ingress-nginx-allow-snippet-annotations-false",
        chart: "ingress-nginx",
        versions: ">=4.8.0-0",
        setting: "controller.allowSnippetAnnotations",
        value: false,
        source: INGRESS_NGINX_10393,
    },
    {
        kind: "default",
        id: "ingress-nginx-annotations-risk-level-none",
        chart: "ingress-nginx",
        versions: "<4.8.1-0",
        setting: "annotations-risk-level",
        value: null,
        source: INGRESS_NGINX_9673,
    },
    {
        kind: "default",
        id: "ingress-nginx-annotations-risk-level-critical",
        chart: "ingress-nginx",
        versions: ">=4.8.1-0 <4.12.0-0",
        setting: "annotations-risk-level",
        value: "Critical",
        source: INGRESS_NGINX_9673,
    },
    {
        kind: "risk",
        id: "ingress-nginx-annotation-risks",
        chart: "ingress-nginx",
        // Graded since annotation validation (#9673); the grades are read from the pinned 4.15.1's controller.
        versions: ">=4.8.1-0",
        risks: {
            "auth-snippet": "Critical",
            "configuration-snippet": "Critical",
            "modsecurity-snippet": "Critical",
            "server-snippet": "Critical",
            "stream-snippet": "Critical",
            "auth-signin": "High",
            "auth-tls-error-page": "High",
            "auth-tls-match-cn": "High",
            "auth-url": "High",
            "mirror-host": "High",
            "mirror-target": "High",
            "modsecurity-transaction-id": "High",
            "proxy-ssl-name": "High",
            "server-alias": "High",
            "upstream-hash-by": "High",
        },
        source: INGRESS_NGINX_RISKS,
    },
    {
        kind: "default",
        id: "ingress-nginx-annotations-risk-level-high",
        chart: "ingress-nginx",
        versions: ">=4.12.0-0",
        setting: "annotations-risk-level",
        value: "High",
        source: INGRESS_NGINX_11819,
    },
];

/** Whether `version` (a pinned version, "v" prefix allowed) is in `range`; an unparsable version is in none. */
export function inRange(version: string, range: string): boolean {
    const v = semver.valid(semver.clean(version) ?? "");
    return v !== null && semver.satisfies(v, range, { includePrerelease: true });
}

/** The rules of `table` for a chart version. */
export function rulesFor(chart: string, version: string, table: ChartRule[] = CHART_RULES): ChartRule[] {
    return table.filter((r) => r.chart === chart && inRange(version, r.versions));
}

/** The default of `setting` in a chart version; undefined when the table has no entry for it. */
export function versionDefault(chart: string, version: string, setting: string): string | boolean | null | undefined {
    const rule = rulesFor(chart, version).find((r): r is DefaultRule => r.kind === "default" && r.setting === setting);
    return rule?.value;
}
