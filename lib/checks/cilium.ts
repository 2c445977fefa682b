import type { PlatformConfig } from "../config";
import { valueAt, Values } from "../merge";
import { contains, isAddress, parseCidr } from "../net";
import { configPath, error, Problem } from "../problems";
import { ciliumValues, podCidrs } from "../values/cilium";
import { clusterCidrs } from "./cluster";
import type { Check } from "./types";

// Cross-checks on the merged Cilium values against the Talos facts. The
// values-only predicates are shared with the policy pack.

const KPR = "kubeProxyReplacement";
const KPR_KEY = configPath(["cilium", "values", KPR]);
const KUBE_PROXY_KEY = configPath(["cluster", "kubeProxyDisabled"]);

/** The strings Cilium took before 1.15, with the boolean each became when there is one. */
const LEGACY_KPR: Record<string, boolean | undefined> = { strict: true, disabled: false, partial: undefined, probe: undefined };

export type KprSetting = { kind: "boolean"; value: boolean } | { kind: "legacy"; text: string } | { kind: "invalid"; value: unknown };

/** kubeProxyReplacement as the chart reads it: a boolean, or "true"/"false"; absent is the chart's "false". */
export function readKpr(values: Values): KprSetting {
    const v = values[KPR];
    if (v === undefined || v === false || v === "false") return { kind: "boolean", value: false };
    if (v === true || v === "true") return { kind: "boolean", value: true };
    if (typeof v === "string" && v in LEGACY_KPR) return { kind: "legacy", text: v };
    return { kind: "invalid", value: v };
}

export function legacyKprMessage(text: string): string {
    return `is the legacy string "${text}"; Cilium 1.18 and later take only true or false, and the chart fails with "kubeProxyReplacement must be explicitly set to a valid value (true or false)"`;
}

/** Which boolean replaces a legacy value; kube-proxy's presence decides the ambiguous ones. */
export function legacyKprFix(text: string, kubeProxyDisabled?: boolean): string {
    if (kubeProxyDisabled !== undefined) {
        return kubeProxyDisabled
            ? `use true: Talos runs no kube-proxy (${KUBE_PROXY_KEY} is true), so Cilium must replace it`
            : `use false: Talos runs kube-proxy (${KUBE_PROXY_KEY} is false)`;
    }
    const replacement = LEGACY_KPR[text];
    return replacement === undefined
        ? "use true when the cluster runs without kube-proxy, false when kube-proxy runs"
        : `use ${replacement} (what "${text}" meant)`;
}

function kubeProxy(config: PlatformConfig): Problem[] {
    const values = ciliumValues(config.cluster, config.cilium);
    const kpr = readKpr(values);
    const disabled = config.cluster.kubeProxyDisabled;
    if (kpr.kind === "legacy") return [error(KPR_KEY, legacyKprMessage(kpr.text), legacyKprFix(kpr.text, disabled), kpr.text)];
    if (kpr.kind === "invalid") {
        return [error(KPR_KEY, "must be true or false", legacyKprFix("", disabled), kpr.value)];
    }
    if (disabled && !kpr.value) {
        return [
            error(
                KPR_KEY,
                `is false while ${KUBE_PROXY_KEY} is true: with no kube-proxy and no replacement nothing programs Service ClusterIPs, and pods cannot reach the kubernetes Service (the Week 4 incident: dial tcp 10.96.0.1:443: i/o timeout)`,
                `remove ${KPR_KEY} (it follows ${KUBE_PROXY_KEY}) or set it to true; if Talos does run kube-proxy, set ${KUBE_PROXY_KEY} to false`,
                values[KPR],
            ),
        ];
    }
    if (!disabled && kpr.value) {
        return [
            error(
                KPR_KEY,
                `is true while ${KUBE_PROXY_KEY} is false: kube-proxy and Cilium would both program every Service`,
                `remove ${KPR_KEY} (it follows ${KUBE_PROXY_KEY}), or disable kube-proxy in Talos (cluster.proxy.disabled: true) and set ${KUBE_PROXY_KEY} to true`,
                values[KPR],
            ),
        ];
    }
    return [];
}

/** kubernetes, kubernetes.default, <name>.<namespace>.svc and the same under the cluster domain: names only cluster DNS resolves. */
export function isInClusterName(host: string, dnsDomain: string): boolean {
    const name = host.toLowerCase().replace(/\.$/, "");
    return name === "kubernetes" || name === "kubernetes.default" || name.endsWith(".svc") || name.endsWith(`.svc.${dnsDomain}`);
}

/** With kube-proxy replacement, Cilium must reach the API server without the ClusterIP it has yet to program. */
function serviceHost(config: PlatformConfig): Problem[] {
    const values = ciliumValues(config.cluster, config.cilium);
    const kpr = readKpr(values);
    if (kpr.kind !== "boolean" || !kpr.value) return [];
    const host = values.k8sServiceHost;
    const fromValues = valueAt(config.cilium.values, "k8sServiceHost") !== undefined;
    // Unless overridden, the host is KubePrism's localhost or the API endpoint's.
    const path = configPath(fromValues ? ["cilium", "values", "k8sServiceHost"] : ["cluster", "apiEndpoint"]);
    const fix = `point Cilium at KubePrism (${configPath(["cluster", "kubePrism", "enabled"])}: true, host localhost) or at the API server's own address (${configPath(["cluster", "apiEndpoint"])}), and remove ${configPath(["cilium", "values", "k8sServiceHost"])}`;
    if (typeof host !== "string" || host === "") {
        return [
            error(
                configPath(["cilium", "values", "k8sServiceHost"]),
                "is empty while kube-proxy replacement is on: Cilium would reach the API server through the kubernetes Service it has yet to program",
                fix,
                host,
            ),
        ];
    }
    if (isInClusterName(host, config.cluster.dnsDomain)) {
        return [
            error(
                path,
                `makes k8sServiceHost the in-cluster name ${host}; with kube-proxy replacement, resolving and reaching it needs the Services Cilium has yet to program`,
                fix,
                host,
            ),
        ];
    }
    if (!isAddress(host)) return [];
    return clusterCidrs(config.cluster, ["serviceSubnets"])
        .filter((s) => contains(s.cidr, host))
        .map((s) =>
            error(
                path,
                `makes k8sServiceHost ${host}, inside ${s.path} (${s.cidr.text}), while ${KPR_KEY} is true: Cilium would need the very ClusterIP it is supposed to program`,
                fix,
                host,
            ),
        );
}

function hostDnsForwarding(config: PlatformConfig): Problem[] {
    const values = ciliumValues(config.cluster, config.cilium);
    if (!config.cluster.forwardKubeDNSToHost || valueAt(values, "bpf.masquerade") !== true) return [];
    if (valueAt(values, "bpf.hostLegacyRouting") === true) return [];
    const legacy = configPath(["cilium", "values", "bpf", "hostLegacyRouting"]);
    return [
        error(
            legacy,
            `is not true while ${configPath(["cluster", "forwardKubeDNSToHost"])} and ${configPath(["cilium", "values", "bpf", "masquerade"])} are: eBPF host routing bypasses Talos' host DNS forwarding and CoreDNS stops resolving (Talos and Cilium issues, Cilium 1.16.5 and later)`,
            `remove ${legacy} (it is set to true for you), or turn off ${configPath(["cluster", "forwardKubeDNSToHost"])} in Talos and here`,
            valueAt(values, "bpf.hostLegacyRouting"),
        ),
    ];
}

/** Features whose CRDs and controllers exist only when the chart enables them. */
function features(config: PlatformConfig): Problem[] {
    const values = ciliumValues(config.cluster, config.cilium);
    const problems: Problem[] = [];
    const bgpKey = configPath(["cilium", "values", "bgpControlPlane", "enabled"]);
    if (config.cilium.bgp && valueAt(values, "bgpControlPlane.enabled") !== true) {
        problems.push(
            error(
                bgpKey,
                `disables the BGP control plane while ${configPath(["cilium", "bgp"])} configures peers: its CRDs would never be registered and nothing would peer`,
                `remove ${bgpKey} (it follows cilium.bgp), or remove ${configPath(["cilium", "bgp"])}`,
                valueAt(values, "bgpControlPlane.enabled"),
            ),
        );
    }
    if (config.cilium.l2Announcements.length) {
        const l2Key = configPath(["cilium", "values", "l2announcements", "enabled"]);
        if (valueAt(values, "l2announcements.enabled") !== true) {
            problems.push(
                error(
                    l2Key,
                    `disables L2 announcements while ${configPath(["cilium", "l2Announcements"])} configures them: nothing would answer ARP for the pools`,
                    `remove ${l2Key} (it follows cilium.l2Announcements), or remove ${configPath(["cilium", "l2Announcements"])}`,
                    valueAt(values, "l2announcements.enabled"),
                ),
            );
        }
        const kpr = readKpr(values);
        if (kpr.kind === "boolean" && !kpr.value) {
            problems.push(
                error(
                    configPath(["cilium", "l2Announcements"]),
                    `needs kube-proxy replacement, but ${KPR_KEY} is false (${KUBE_PROXY_KEY} is ${String(config.cluster.kubeProxyDisabled)})`,
                    config.cluster.kubeProxyDisabled
                        ? `remove ${KPR_KEY} (it follows ${KUBE_PROXY_KEY}) or set it to true, or announce the pools with cilium.bgp instead`
                        : `run Talos without kube-proxy and set ${KUBE_PROXY_KEY} to true, or announce the pools with cilium.bgp instead`,
                ),
            );
        }
    }
    return problems;
}

export interface ValuesProblem {
    /** Dotted key in the chart values. */
    key: string;
    message: string;
    fix: string;
}

/**
 * DSR needs native routing, or Geneve carrying the service address
 * (dsrDispatch geneve). DSR over VXLAN took the report's cluster down in a
 * "dead loop".
 */
export function dsrRoutingProblem(values: Values): ValuesProblem | undefined {
    const mode = valueAt(values, "loadBalancer.mode");
    if (mode !== "dsr" && mode !== "hybrid") return undefined;
    const routing = String(valueAt(values, "routingMode") || "tunnel");
    const tunnel = String(valueAt(values, "tunnelProtocol") || "vxlan");
    const dispatch = String(valueAt(values, "loadBalancer.dsrDispatch") || "opt");
    if (dispatch === "geneve") {
        if (tunnel === "geneve") return undefined;
        return {
            key: "loadBalancer.dsrDispatch",
            message: `is geneve while tunnelProtocol is ${tunnel}: Geneve dispatch needs tunnelProtocol geneve, in native routing too`,
            fix: "set tunnelProtocol: geneve, or use native routing with the default dispatch",
        };
    }
    if (routing === "native") return undefined;
    return {
        key: "loadBalancer.mode",
        message: `is ${mode} with ${routing} routing over ${tunnel}: DSR needs native routing, or Geneve with dsrDispatch geneve (DSR on VXLAN took the report's cluster down in a "dead loop")`,
        fix: "set routingMode: native with ipv4NativeRoutingCIDR (and ipv6NativeRoutingCIDR when IPv6 is on), or tunnelProtocol: geneve with loadBalancer.dsrDispatch: geneve, or go back to loadBalancer.mode: snat",
    };
}

/**
 * Native routing with masquerading needs to know, per family, which range is
 * routed as is; the agent refuses to start otherwise. ip-masq-agent brings
 * its own list, and ENI and Alibaba Cloud IPAM derive the IPv4 one.
 */
export function nativeRoutingCidrProblems(values: Values): ValuesProblem[] {
    if (valueAt(values, "routingMode") !== "native" || valueAt(values, "ipMasqAgent.enabled") === true) return [];
    const ipam = String(valueAt(values, "ipam.mode") ?? "");
    const families = [
        // The chart's defaults: IPv4 on and masqueraded, IPv6 off but masqueraded when on.
        { name: "IPv4", key: "ipv4NativeRoutingCIDR", on: valueAt(values, "ipv4.enabled") !== false, masq: "enableIPv4Masquerade" },
        { name: "IPv6", key: "ipv6NativeRoutingCIDR", on: valueAt(values, "ipv6.enabled") === true, masq: "enableIPv6Masquerade" },
    ];
    return families
        .filter((f) => f.on && valueAt(values, f.masq) !== false && !valueAt(values, f.key))
        .filter((f) => f.name === "IPv6" || (ipam !== "eni" && ipam !== "alibabacloud"))
        .map((f) => ({
            key: f.key,
            message: `is not set while routingMode is native with ${f.name} masquerading (${f.masq}, on by default): Cilium's agent does not start without it`,
            fix: `set it to the ${f.name} range routed without masquerading, usually the ${f.name} pod subnet`,
        }));
}

function datapath(config: PlatformConfig): Problem[] {
    const values = ciliumValues(config.cluster, config.cilium);
    return [dsrRoutingProblem(values), ...nativeRoutingCidrProblems(values)]
        .filter((p): p is ValuesProblem => p !== undefined)
        .map((p) => error(configPath(["cilium", "values", ...p.key.split(".")]), p.message, p.fix, valueAt(values, p.key)));
}

/** What Cilium's chart accepts as cluster.name (it fails the install otherwise, since 1.16). */
const CILIUM_CLUSTER_NAME = /^([a-z0-9][-a-z0-9]*)?[a-z0-9]$/;

/** Cilium's cluster.name is left at its default; one set through the escape hatch must still be one Cilium takes. */
function clusterName(config: PlatformConfig): Problem[] {
    const values = ciliumValues(config.cluster, config.cilium);
    const name = valueAt(values, "cluster.name");
    if (name === undefined) return [];
    if (typeof name === "string" && name.length <= 32 && CILIUM_CLUSTER_NAME.test(name)) return [];
    const key = configPath(["cilium", "values", "cluster", "name"]);
    return [
        error(
            key,
            "is not a name Cilium takes: at most 32 lower-case letters, digits and '-', starting and ending with a letter or digit; Cilium refuses anything else (its chart fails the install)",
            `remove ${key} unless you run Cluster Mesh (Cilium then uses "default"), or shorten it`,
            name,
        ),
    ];
}

function canonical(list: unknown): string[] | undefined {
    const items = typeof list === "string" ? [list] : Array.isArray(list) ? list : undefined;
    if (!items) return undefined;
    return items.map((t) => {
        const c = typeof t === "string" ? parseCidr(t) : undefined;
        return c ? `${c.network}/${c.prefix}` : String(t);
    });
}

/** Cilium's own IPAM must hand out the ranges Talos and the routes expect. */
function clusterPool(config: PlatformConfig): Problem[] {
    const values = ciliumValues(config.cluster, config.cilium);
    if (valueAt(values, "ipam.mode") !== "cluster-pool") return [];
    const pods = podCidrs(config.cluster);
    const problems: Problem[] = [];
    for (const [family, key] of [
        ["ipv4", "clusterPoolIPv4PodCIDRList"],
        ["ipv6", "clusterPoolIPv6PodCIDRList"],
    ] as const) {
        const want = pods[family];
        if (!want) continue;
        const raw = valueAt(values, `ipam.operator.${key}`);
        const got = canonical(raw);
        if (got && got.length === 1 && got[0] === want) continue;
        const index = config.cluster.podSubnets.findIndex((s) => parseCidr(s)?.family === family);
        const path = configPath(["cilium", "values", "ipam", "operator", key]);
        problems.push(
            error(
                path,
                `${raw === undefined ? "is unset (Cilium's default is not the cluster's)" : "differs from"} ${configPath(["cluster", "podSubnets", index])} (${want}) under ipam.mode cluster-pool: pods would get addresses Talos and the routes do not expect`,
                `remove ${path} (it follows cluster.podSubnets) or set it to [${want}]`,
                raw,
            ),
        );
    }
    return problems;
}

export const ciliumChecks: Check[] = [
    { name: "cilium-kube-proxy-replacement", run: kubeProxy },
    { name: "cilium-service-host", run: serviceHost },
    { name: "cilium-host-dns-forwarding", run: hostDnsForwarding },
    { name: "cilium-features", run: features },
    { name: "cilium-datapath", run: datapath },
    { name: "cilium-cluster-pool", run: clusterPool },
    { name: "cilium-cluster-name", run: clusterName },
];
