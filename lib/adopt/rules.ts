import { ownedComponents, ownershipOf, twoOwners } from "../checks/gitops-owners";
import type { PlatformConfig } from "../config";
import { versionAtLeast } from "../config/cilium";
import { clusterDomainFix } from "../gates/dns";
import { configzPath } from "../gates/kubelet";
import { valueAt, Values } from "../merge";
import { contains, parseCidr } from "../net";
import type { Plan } from "../plan/model";
import { peerName } from "../values/cilium-objects";
import { FluxIndex, FluxOwner, fluxName, handoverSteps, inventoryId } from "./flux";
import type { HelmRelease } from "./helm";
import type { LiveCluster } from "./live";
import type { Match } from "./match";
import type { Planned } from "./planned";
import { Component, parseVersion, support } from "./support";

// Transition rules: what the plan asks of a running cluster that the config
// alone cannot show to be unsafe. Each finding carries the evidence read from
// the cluster, what would happen, and what to do, in order.

export type Severity = "blocking" | "warning" | "info";

export const RULES = [
    "cilium-minor-jump",
    "cilium-ipam-mode",
    "cilium-ipv6",
    "cilium-bgp-v1",
    "kube-proxy",
    "kubernetes-version",
    "two-owners",
    "helm-release-state",
    "cluster-domain",
    "cluster-facts",
    "release-conflict",
    "crd-version",
    "plan-policy",
] as const;
export type RuleId = (typeof RULES)[number];

export interface Finding {
    rule: RuleId;
    severity: Severity;
    /** What it is about, e.g. "Helm release kube-system/cilium". */
    subject: string;
    /** What the cluster showed, verbatim where it can be. */
    evidence: string[];
    /** What would happen on `pulumi up` (or already happens). */
    consequence: string;
    /** What to do, in order. */
    fix: string[];
}

export interface RuleContext {
    live: LiveCluster;
    config: PlatformConfig;
    plan: Plan;
    planned: Planned;
    matches: Match[];
    flux: FluxIndex;
}

const finding = (rule: RuleId, severity: Severity, subject: string, evidence: string[], consequence: string, fix: string[]): Finding => ({
    rule,
    severity,
    subject,
    evidence,
    consequence,
    fix,
});

function plannedCilium(ctx: RuleContext): { values: Values; release: string; namespace: string } | undefined {
    const r = ctx.planned.releases.find((x) => x.chart === ctx.config.cilium.chart);
    return r ? { values: r.values, release: r.release, namespace: r.namespace } : undefined;
}

function liveCilium(ctx: RuleContext): HelmRelease | undefined {
    const p = plannedCilium(ctx);
    return (
        ctx.live.releases.find((r) => p && r.name === p.release && r.namespace === p.namespace) ??
        ctx.live.releases.find((r) => r.chart.name === ctx.config.cilium.chart)
    );
}

const bool = (v: unknown): boolean | undefined => (v === true || v === "true" ? true : v === false || v === "false" ? false : undefined);

function ciliumMinorJump(ctx: RuleContext): Finding[] {
    const live = liveCilium(ctx);
    const to = parseVersion(ctx.config.cilium.version);
    const from = live && parseVersion(live.chart.version);
    if (!live || !from || !to || from[0] !== to[0] || to[1] === from[1] || to[1] === from[1] + 1) return [];
    const release = `Helm release ${live.namespace}/${live.name}`;
    const downgrade = to[1] < from[1];
    const next = `${from[0]}.${from[1] + 1}`;
    return [
        finding(
            "cilium-minor-jump",
            "blocking",
            release,
            [`${release}: chart cilium ${live.chart.version}; talos-platform:cilium.version: ${ctx.config.cilium.version}`],
            downgrade
                ? `a downgrade from Cilium ${from[0]}.${from[1]} to ${to[0]}.${to[1]}: Cilium tests rolling back one minor release, right after an upgrade, and nothing else`
                : `a jump of ${to[1] - from[1]} minor releases in one helm upgrade: Cilium tests upgrades (and rollbacks) between consecutive minor releases only; agents and operator of two releases apart, and CRD and config migrations skipped in between, can leave the datapath broken mid-rollout`,
            downgrade
                ? [
                      `set talos-platform:cilium.version to the running ${live.chart.version} (or the latest ${from[0]}.${from[1]} patch) for the adoption`,
                  ]
                : [
                      `for the adoption, set talos-platform:cilium.version to the latest ${next} patch (Cilium ${next} also serves the cilium.io/v2 objects this program creates), import and pulumi up`,
                      `then raise it to ${ctx.config.cilium.version} in a second pulumi up`,
                  ],
        ),
    ];
}

function ciliumIpamMode(ctx: RuleContext): Finding[] {
    const live = liveCilium(ctx);
    const planned = plannedCilium(ctx);
    if ((!live && !ctx.live.cilium) || !planned) return [];
    const liveMode = ctx.live.cilium?.config.ipam ?? (live ? valueAt(live.values, "ipam.mode") : undefined) ?? "cluster-pool";
    const plannedMode = valueAt(planned.values, "ipam.mode") ?? "cluster-pool";
    if (liveMode === plannedMode) return [];
    const evidence = [
        ctx.live.cilium
            ? `ConfigMap ${ctx.live.cilium.namespace}/cilium-config: ipam: ${liveMode}`
            : `release values ipam.mode: ${liveMode}`,
    ];
    const pool = ctx.live.cilium?.config["cluster-pool-ipv4-cidr"];
    if (pool) evidence.push(`cluster-pool-ipv4-cidr: ${pool}`);
    evidence.push(`plan: ipam.mode ${String(plannedMode)}`);
    return [
        finding(
            "cilium-ipam-mode",
            "blocking",
            "Cilium IPAM mode",
            evidence,
            `changing the IPAM mode of a running cluster (${liveMode} → ${String(plannedMode)}) can leave existing pods without connectivity for good; Cilium's documentation says not to, and to build a new cluster instead`,
            [
                `keep the running mode: set talos-platform:cilium.values.ipam.mode to ${liveMode} (the program then gives it the pod subnets of cluster.podSubnets)`,
            ],
        ),
    ];
}

function ciliumIpv6(ctx: RuleContext): Finding[] {
    const planned = plannedCilium(ctx);
    const live = ctx.live.cilium?.config["enable-ipv6"];
    if (!planned || live === undefined || bool(live) !== false || bool(valueAt(planned.values, "ipv6.enabled")) !== true) return [];
    return [
        finding(
            "cilium-ipv6",
            "blocking",
            "Cilium IPv6",
            [
                `ConfigMap ${ctx.live.cilium!.namespace}/cilium-config: enable-ipv6: ${live}`,
                "plan: ipv6.enabled true (cluster.serviceSubnets has an IPv6 subnet)",
            ],
            "turning IPv6 on in a running IPv4 cluster restarts every agent with a new datapath; running pods keep IPv4 only until they restart, and dual-stack Services have no IPv6 endpoints until then",
            [
                "adopt IPv4-only first: set talos-platform:cilium.values.ipv6.enabled to false",
                "turn IPv6 on later as a change of its own (remove that value), then restart the workloads that need IPv6",
            ],
        ),
    ];
}

interface V1Neighbor {
    peerAddress?: string;
    peerASN?: number;
}

function ciliumBgpV1(ctx: RuleContext): Finding[] {
    const policies = ctx.live.objects.filter((o) => o.group === "cilium.io" && o.kind === "CiliumBGPPeeringPolicy");
    if (!policies.length) return [];
    const removed = versionAtLeast(ctx.config.cilium.version, "1.19.0");
    const bgp = ctx.config.cilium.bgp;
    const evidence: string[] = [];
    const missing: string[] = [];
    let exportsPodCidr = false;
    for (const p of policies) {
        const routers = (p.spec?.virtualRouters ?? []) as { localASN?: number; exportPodCIDR?: boolean; neighbors?: V1Neighbor[] }[];
        for (const vr of routers) {
            exportsPodCidr ||= vr.exportPodCIDR === true;
            for (const n of vr.neighbors ?? []) {
                const address = (n.peerAddress ?? "").replace(/\/\d+$/, "");
                evidence.push(
                    `CiliumBGPPeeringPolicy ${p.name} (${p.group}/${p.version}): local AS ${vr.localASN}, neighbor ${address} AS ${n.peerASN}`,
                );
                const peer = bgp?.peers.find((x) => x.address === address && x.asn === n.peerASN);
                if (!peer || bgp?.localASN !== vr.localASN) missing.push(`${address} AS ${n.peerASN} (local AS ${vr.localASN})`);
                else evidence.push(`  replaced by the plan's CiliumBGPClusterConfig peer ${peerName(peer)}`);
            }
        }
    }
    const podCidrAdvertised = bgp?.advertisements.some((a) => a.podCIDR) ?? false;
    if (exportsPodCidr && !podCidrAdvertised)
        evidence.push(
            "the v1 policy announces pod CIDRs (exportPodCIDR); no planned advertisement does (cilium.bgp.advertisements[].podCIDR)",
        );
    const replaced = missing.length === 0 && !!bgp;
    const names = policies.map((p) => p.name).join(", ");
    return [
        finding(
            "cilium-bgp-v1",
            removed ? "blocking" : "warning",
            `CiliumBGPPeeringPolicy ${names}`,
            evidence,
            (removed
                ? `Cilium ${ctx.config.cilium.version} no longer serves CiliumBGPPeeringPolicy (BGPv1 was removed in 1.19): after the upgrade nothing reads these policies, and the routes they announce are withdrawn`
                : "BGPv1 (CiliumBGPPeeringPolicy) is deprecated and removed in Cilium 1.19") +
                (replaced
                    ? "; the plan's v2 objects peer with the same routers"
                    : `; the plan's v2 objects do not peer with ${bgp ? missing.join(", ") : "anything (no talos-platform:cilium.bgp)"}`),
            [
                ...(replaced
                    ? []
                    : [
                          `add the missing routers to talos-platform:cilium.bgp.peers (and localASN) so the v2 objects replace the v1 policy`,
                      ]),
                "while Cilium is still at 1.18 or older, let the v2 objects come up (import, pulumi up) and check the sessions: cilium bgp peers",
                `then delete the v1 policies (kubectl delete ciliumbgppeeringpolicies ${names}) and remove them from the repository`,
                "only then set talos-platform:cilium.version to 1.19",
            ],
        ),
    ];
}

function kubeProxy(ctx: RuleContext): Finding[] {
    const planned = plannedCilium(ctx);
    if (!planned) return [];
    const kpr = bool(valueAt(planned.values, "kubeProxyReplacement")) === true;
    const running = ctx.live.kubeProxy;
    const liveKpr = ctx.live.cilium ? bool(ctx.live.cilium.config["kube-proxy-replacement"]) : undefined;
    const proxy = running ? `DaemonSet ${running.namespace}/${running.name} runs` : "no kube-proxy DaemonSet in kube-system";
    const liveLine = ctx.live.cilium
        ? `ConfigMap ${ctx.live.cilium.namespace}/cilium-config: kube-proxy-replacement: ${ctx.live.cilium.config["kube-proxy-replacement"] ?? "(unset)"}`
        : undefined;
    const evidence = [
        proxy,
        ...(liveLine ? [liveLine] : []),
        `plan: kubeProxyReplacement ${kpr} (cluster.kubeProxyDisabled ${ctx.config.cluster.kubeProxyDisabled})`,
    ];
    if (kpr && running)
        return [
            finding(
                "kube-proxy",
                "blocking",
                "kube-proxy",
                evidence,
                "kube-proxy still runs while the plan has Cilium replace it: both would program every Service, and talos-platform:cluster.kubeProxyDisabled says Talos runs none",
                [
                    "if Talos should not run kube-proxy, set Talos cluster.proxy.disabled: true, apply it, and delete the DaemonSet (kubectl -n kube-system delete daemonset kube-proxy); otherwise set talos-platform:cluster.kubeProxyDisabled to false",
                ],
            ),
        ];
    if (!kpr && !running)
        return [
            finding(
                "kube-proxy",
                "blocking",
                "kube-proxy",
                evidence,
                "nothing would program Services: kube-proxy does not run and the plan turns Cilium's replacement off; pods reach no Service, the Week 4 incident",
                ["set talos-platform:cluster.kubeProxyDisabled to true (Talos cluster.proxy.disabled), so Cilium replaces kube-proxy"],
            ),
        ];
    if (kpr && !running && liveKpr === false)
        return [
            finding(
                "kube-proxy",
                "info",
                "kube-proxy",
                evidence,
                "the cluster is in the Week 4 state now: no kube-proxy and no replacement, so no Service works; the plan's kubeProxyReplacement: true is the fix",
                ["nothing before the import: pulumi up turns the replacement on"],
            ),
        ];
    return [];
}

const COMPONENTS: { component: Component; version: (c: PlatformConfig) => string; key: string }[] = [
    { component: "cilium", version: (c) => c.cilium.version, key: "talos-platform:cilium.version" },
    { component: "cert-manager", version: (c) => c.certManager.version, key: "talos-platform:certManager.version" },
    { component: "ingress-nginx", version: (c) => c.ingressNginx.version, key: "talos-platform:ingressNginx.version" },
    { component: "flux", version: (c) => c.flux.distribution.version, key: "talos-platform:flux.distribution.version" },
];

function kubernetesVersion(ctx: RuleContext): Finding[] {
    const k = ctx.live.kubernetesVersion;
    const kubelets = [...new Set(ctx.live.nodes.map((n) => n.kubeletVersion).filter(Boolean))];
    const out: Finding[] = [];
    for (const { component, version, key } of COMPONENTS) {
        const v = version(ctx.config);
        const s = support(component, v, k);
        const evidence = [`API server: ${k}${kubelets.length ? `; kubelets: ${kubelets.join(", ")}` : ""}`, `${key}: ${v}`];
        if (s.kind === "too-old")
            out.push(
                finding(
                    "kubernetes-version",
                    "blocking",
                    `${component} ${v}`,
                    [...evidence, `${component} ${s.row.release} supports Kubernetes ${s.row.min} to ${s.row.max} (${s.row.source})`],
                    `${component} ${s.row.release} does not support Kubernetes ${k}: it may use APIs this cluster does not serve, and its upstream does not test it there`,
                    [
                        `upgrade Kubernetes to ${s.row.min} or later first (Talos: talosctl upgrade-k8s --to <version>), or pin ${key} to a release that supports ${k}`,
                    ],
                ),
            );
        else if (s.kind === "untested")
            out.push(
                finding(
                    "kubernetes-version",
                    "warning",
                    `${component} ${v}`,
                    [...evidence, `${component} ${s.row.release} is tested up to Kubernetes ${s.row.max} (${s.row.source})`],
                    `${component} ${s.row.release} is not tested on Kubernetes ${k}`,
                    [`check ${component}'s release notes for ${k}, or use a newer ${component} release`],
                ),
            );
        else if (s.kind === "unknown")
            out.push(
                finding(
                    "kubernetes-version",
                    "info",
                    `${component} ${v}`,
                    evidence,
                    `this program has no support data for ${component} ${s.release ?? v}`,
                    [`check ${component}'s documentation for the Kubernetes versions it supports`],
                ),
            );
    }
    return out;
}

/** Everything Flux applies that the plan will own, grouped by the Flux object applying it. */
function twoOwnerFindings(ctx: RuleContext): Finding[] {
    const byOwner = new Map<string, { owner: FluxOwner; what: string[] }>();
    const add = (owner: FluxOwner, what: string) => {
        const key = fluxName(owner);
        const entry = byOwner.get(key) ?? { owner, what: [] };
        if (!entry.what.includes(what)) entry.what.push(what);
        byOwner.set(key, entry);
    };
    for (const m of ctx.matches) for (const owner of m.owners) add(owner, m.target);
    // The FluxInstance deploys the Flux controllers: a Kustomization applying them (flux bootstrap's) is their other owner.
    if (ctx.planned.objects.some((o) => o.kind === "FluxInstance")) {
        const namespace = ctx.config.flux.namespace;
        for (const component of ctx.config.flux.components) {
            const ks = ctx.flux.inventory.get(inventoryId({ group: "apps", kind: "Deployment", name: component, namespace }));
            if (ks)
                add(
                    {
                        kind: "Kustomization",
                        name: ks.name,
                        namespace: ks.namespace ?? namespace,
                        via: "its inventory",
                        path: ks.spec?.path as string | undefined,
                    },
                    `Deployment ${namespace}/${component} (the plan's FluxInstance runs the Flux controllers)`,
                );
        }
    }
    // A Kustomization named for, or pointing at, a component this program deploys, whatever its inventory says.
    const owned = ownedComponents(ownershipOf(ctx.config));
    const plannedKs = new Set(ctx.planned.objects.filter((o) => o.kind === "Kustomization").map((o) => `${o.namespace}/${o.name}`));
    const handedOver = new Set([...byOwner.values()].map((e) => e.owner.appliedBy && fluxName(e.owner.appliedBy)).filter(Boolean));
    for (const ks of ctx.flux.kustomizations) {
        const id = `${ks.namespace}/${ks.name}`;
        if (plannedKs.has(id) || byOwner.has(fluxName({ kind: "Kustomization", name: ks.name, namespace: ks.namespace ?? "" }))) continue;
        if (handedOver.has(`Kustomization ${id}`)) continue;
        const path = typeof ks.spec?.path === "string" ? ks.spec.path : undefined;
        const hit = twoOwners(ks.name, path, owned);
        if (!hit || hit.owner.owner !== "talos-platform") continue;
        add(
            {
                kind: "Kustomization",
                name: ks.name,
                namespace: ks.namespace ?? "flux-system",
                via: `its ${hit.field} '${hit.value}'`,
                path,
            },
            `${hit.owner.covers} (${hit.owner.component})`,
        );
    }
    return [...byOwner.values()].map(({ owner, what }) =>
        finding(
            "two-owners",
            "blocking",
            fluxName(owner),
            [`${fluxName(owner)} (known by ${owner.via}) applies: ${what.join("; ")}`],
            "Flux and this program would both own these: each undoes the other's changes on every reconcile, and removing them from either side deletes them (Flux prunes, Pulumi deletes)",
            handoverSteps(owner, owner.via.startsWith("its name") || owner.via.startsWith("its path") ? [] : what),
        ),
    );
}

function helmReleaseState(ctx: RuleContext): Finding[] {
    return ctx.matches
        .filter((m) => m.release && m.release.status !== "deployed")
        .map((m) => {
            const r = m.release!;
            const ns = `-n ${r.namespace}`;
            const pending = r.status.startsWith("pending-");
            const back =
                r.lastDeployed !== undefined
                    ? `helm ${ns} rollback ${r.name} ${r.lastDeployed}   # revision ${r.lastDeployed} is the last one deployed`
                    : `helm ${ns} uninstall ${r.name}   # no revision was ever deployed; its workloads go too`;
            return finding(
                "helm-release-state",
                "blocking",
                m.target,
                [
                    `Secret ${r.namespace}/${r.secret}: release ${r.name} revision ${r.revision}, status ${r.status}, chart ${r.chart.name} ${r.chart.version}`,
                ],
                pending
                    ? `an operation on it was interrupted (a killed helm or pulumi up): every further install, upgrade or rollback fails with "another operation (install/upgrade/rollback) is in progress"`
                    : "its last operation failed: importing it adopts a release whose workloads may not match any revision",
                [
                    `helm ${ns} history ${r.name}`,
                    back,
                    "run `npm run adopt` again; if this stack's state already holds the release, run `pulumi refresh` after the fix",
                ],
            );
        });
}

function clusterDomain(ctx: RuleContext): Finding[] {
    const domain = ctx.config.cluster.dnsDomain;
    const read = ctx.live.nodes.filter((n) => n.clusterDomain !== undefined);
    const wrong = read.filter((n) => n.clusterDomain !== domain);
    if (!read.length && ctx.live.nodes.length)
        return [
            finding(
                "cluster-domain",
                "info",
                "kubelet cluster domain",
                [ctx.live.nodes[0].unreadable ?? "not read"],
                `not checked: talos-platform:cluster.dnsDomain (${domain}) could not be compared with the kubelets'`,
                ["use a kubeconfig whose user may get nodes/proxy, or check Talos' cluster.network.dnsDomain by hand"],
            ),
        ];
    if (!wrong.length) return [];
    const live = wrong[0].clusterDomain!;
    return [
        finding(
            "cluster-domain",
            "blocking",
            "kubelet cluster domain",
            [
                ...wrong.map((n) => `node ${n.name}: kubelet clusterDomain ${n.clusterDomain} (GET ${configzPath(n.name)})`),
                `talos-platform:cluster.dnsDomain: ${domain}`,
            ],
            `pods get the search path <ns>.svc.${live} from their kubelet; what the plan configures for ${domain} (CoreDNS, the cert-manager webhook's names, Flux's cluster domain) names a domain no pod uses, and every *.svc.${live} name stops resolving where CoreDNS serves ${domain}`,
            [clusterDomainFix(live)],
        ),
    ];
}

function cidrKey(text: string): string | undefined {
    const c = parseCidr(text);
    return c ? `${c.network}/${c.prefix}` : undefined;
}

function clusterFacts(ctx: RuleContext): Finding[] {
    const out: Finding[] = [];
    const c = ctx.config.cluster;
    const cm = ctx.live.controllerManager;
    const compare = (live: string[], configured: string[], key: string, talos: string, what: string) => {
        const a = live.map(cidrKey).sort();
        const b = configured.map(cidrKey).sort();
        if (JSON.stringify(a) === JSON.stringify(b)) return;
        out.push(
            finding(
                "cluster-facts",
                "blocking",
                what,
                [`Pod ${cm!.pod}: ${live.join(",")}`, `talos-platform:cluster.${key}: ${configured.join(", ")}`],
                `the plan is made for ${what} the cluster does not have: Cilium, the LoadBalancer pools and the checks all assume talos-platform:cluster.${key}`,
                [
                    `make them agree: set talos-platform:cluster.${key} to ${live.join(", ")}, what Talos gives the control plane (${talos}), or change Talos' ${talos} to the stack's`,
                ],
            ),
        );
    };
    if (cm) {
        compare(cm.clusterCidr, c.podSubnets, "podSubnets", "cluster.network.podSubnets", "pod subnets");
        if (cm.serviceCidr.length)
            compare(cm.serviceCidr, c.serviceSubnets, "serviceSubnets", "cluster.network.serviceSubnets", "Service subnets");
    }
    const cidrInside = (text: string, subnets: string[]) => {
        const net = parseCidr(text);
        return (
            !!net &&
            subnets.some((s) => {
                const cidr = parseCidr(s);
                return !!cidr && cidr.family === net.family && net.start >= cidr.start && net.end <= cidr.end;
            })
        );
    };
    const addressInside = (ip: string, subnets: string[]) =>
        subnets.some((s) => {
            const cidr = parseCidr(s);
            return !!cidr && contains(cidr, ip);
        });
    const strayPods = ctx.live.nodes.flatMap((n) =>
        n.podCIDRs.filter((p) => !cidrInside(p, c.podSubnets)).map((p) => `node ${n.name}: spec.podCIDRs ${p}`),
    );
    if (strayPods.length)
        out.push(
            finding(
                "cluster-facts",
                "blocking",
                "node pod CIDRs",
                [...strayPods, `talos-platform:cluster.podSubnets: ${c.podSubnets.join(", ")}`],
                "nodes hold pod CIDRs outside the plan's pod subnets: routes, masquerading and Cilium's pod ranges would not cover the pods that already run",
                ["set talos-platform:cluster.podSubnets to the subnets Talos gives kube-controller-manager (cluster.network.podSubnets)"],
            ),
        );
    const strayServices = ctx.live.services.flatMap((s) =>
        s.clusterIPs.filter((ip) => !addressInside(ip, c.serviceSubnets)).map((ip) => `Service ${s.namespace}/${s.name}: clusterIP ${ip}`),
    );
    if (strayServices.length)
        out.push(
            finding(
                "cluster-facts",
                "blocking",
                "Service addresses",
                [...strayServices, `talos-platform:cluster.serviceSubnets: ${c.serviceSubnets.join(", ")}`],
                "the kubernetes and kube-dns Services sit outside the plan's Service subnets: the checks and CoreDNS's address would name addresses the cluster does not use",
                ["set talos-platform:cluster.serviceSubnets to Talos' cluster.network.serviceSubnets"],
            ),
        );
    const dns = ctx.live.coredns;
    if (dns && !dns.helmRelease && c.coreDnsDisabled)
        out.push(
            finding(
                "cluster-facts",
                "blocking",
                "who runs CoreDNS",
                [
                    `Deployment ${dns.namespace}/${dns.name}: no Helm release (Talos' own CoreDNS)`,
                    "talos-platform:cluster.coreDnsDisabled: true",
                ],
                "Talos runs CoreDNS, while the plan installs a CoreDNS release of its own: Helm refuses to install over objects it does not own, and two CoreDNS would answer for kube-dns",
                [
                    "set talos-platform:cluster.coreDnsDisabled to false (the plan then checks Talos' CoreDNS), or disable CoreDNS in Talos first (cluster.coreDNS.disabled: true)",
                ],
            ),
        );
    if (dns?.helmRelease && !c.coreDnsDisabled)
        out.push(
            finding(
                "cluster-facts",
                "warning",
                "who runs CoreDNS",
                [
                    `Deployment ${dns.namespace}/${dns.name}: Helm release ${dns.helmRelease}`,
                    "talos-platform:cluster.coreDnsDisabled: false",
                ],
                "a Helm release runs CoreDNS where the plan expects Talos' own: Talos would apply its CoreDNS manifests over it, unless its CoreDNS is disabled",
                [
                    "if Talos' cluster.coreDNS.disabled is true, set talos-platform:cluster.coreDnsDisabled to true, and this program adopts the release",
                ],
            ),
        );
    return out;
}

function releaseConflict(ctx: RuleContext): Finding[] {
    const out: Finding[] = [];
    for (const p of ctx.planned.releases) {
        const same = ctx.live.releases.find((r) => r.name === p.release && r.namespace === p.namespace);
        if (same && same.chart.name !== p.chart) {
            out.push(
                finding(
                    "release-conflict",
                    "blocking",
                    `Helm release ${p.namespace}/${p.release}`,
                    [
                        `release ${p.namespace}/${p.release}: chart ${same.chart.name} ${same.chart.version}`,
                        `plan: chart ${p.chart} ${p.version}`,
                    ],
                    "the plan's release name is taken by another chart: importing it would have Pulumi upgrade one chart into another",
                    [
                        `uninstall or rename the other release (helm -n ${p.namespace} uninstall ${p.release}), or install this one elsewhere (talos-platform:<section>.namespace)`,
                    ],
                ),
            );
            continue;
        }
        if (same) continue;
        for (const r of ctx.live.releases.filter((x) => x.chart.name === p.chart)) {
            out.push(
                finding(
                    "release-conflict",
                    "blocking",
                    `Helm release ${r.namespace}/${r.name}`,
                    [
                        `release ${r.namespace}/${r.name}: chart ${r.chart.name} ${r.chart.version}`,
                        `plan: release ${p.namespace}/${p.release}`,
                    ],
                    `the plan installs ${p.chart} again as ${p.namespace}/${p.release}: two copies would fight over the same cluster-wide objects (Helm refuses the second's CRDs and RBAC)`,
                    [
                        r.name === p.release
                            ? `set the section's namespace to ${r.namespace}, where the release runs, so it is imported instead`
                            : `move it in a maintenance window: helm -n ${r.namespace} uninstall ${r.name}, then let pulumi up install ${p.namespace}/${p.release}`,
                    ],
                ),
            );
        }
    }
    return out;
}

function crdVersion(ctx: RuleContext): Finding[] {
    const byKind = new Map<string, Match[]>();
    for (const m of ctx.matches) {
        const o = ctx.planned.objects.find((x) => x.resource.urn === m.urn);
        if (!o || !m.reasons.some((r) => r.startsWith("the cluster serves"))) continue;
        byKind.set(`${o.group}/${o.kind}`, [...(byKind.get(`${o.group}/${o.kind}`) ?? []), m]);
    }
    return [...byKind.entries()].map(([kind, ms]) => {
        const o = ctx.planned.objects.find((x) => x.resource.urn === ms[0].urn)!;
        const crd = ctx.live.crds.find((c) => c.group === o.group && c.kind === o.kind)!;
        return finding(
            "crd-version",
            "blocking",
            `${o.kind} (${kind.split("/")[0]})`,
            [
                `CustomResourceDefinition ${crd.name} serves ${crd.served.join(", ")}`,
                `plan: ${o.group}/${o.version}: ${ms.map((m) => m.target).join("; ")}`,
            ],
            `pulumi import reads them as ${o.group}/${o.version}, which this cluster does not serve yet`,
            [
                o.group === "cilium.io"
                    ? "import them after Cilium runs a release that serves it (1.18 or later: the cilium-minor-jump fix); npm run adopt lists them then"
                    : "upgrade the operator that installs the CRD first, then run npm run adopt again",
            ],
        );
    });
}

function planPolicy(ctx: RuleContext): Finding[] {
    const mandatory = ctx.plan.findings.filter((f) => f.severity === "mandatory");
    if (!mandatory.length) return [];
    return [
        finding(
            "plan-policy",
            "blocking",
            "the plan",
            mandatory.slice(0, 5).map((f) => `${f.rule}: ${f.message}`),
            `${mandatory.length} mandatory policy finding(s): pulumi preview/up with the policy pack stops on them`,
            ["npm run plan shows them all; fix the stack first"],
        ),
    ];
}

/** Every transition rule over one discovery. */
export function transitionFindings(ctx: RuleContext): Finding[] {
    return [
        ...ciliumMinorJump(ctx),
        ...ciliumIpamMode(ctx),
        ...ciliumIpv6(ctx),
        ...ciliumBgpV1(ctx),
        ...kubeProxy(ctx),
        ...kubernetesVersion(ctx),
        ...twoOwnerFindings(ctx),
        ...helmReleaseState(ctx),
        ...clusterDomain(ctx),
        ...clusterFacts(ctx),
        ...releaseConflict(ctx),
        ...crdVersion(ctx),
        ...planPolicy(ctx),
    ];
}
