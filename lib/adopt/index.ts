import type { PlatformConfig } from "../config";
import type { Kube } from "../gates/kube";
import type { Plan } from "../plan/model";
import { discover, DiscoveryTargets } from "./discover";
import { fluxIndex, HELM_GROUP, KUSTOMIZE_GROUP } from "./flux";
import { CommandStep, commandSequence, ImportFile, importFile } from "./importfile";
import type { LiveCluster } from "./live";
import { Match, matchAll } from "./match";
import { plannedFrom } from "./planned";
import { Finding, transitionFindings } from "./rules";
import { ciliumNotes, diffValues, ValueDiff } from "./values";

// The adoption of a running cluster: discovery, matching, the import file,
// value differences and transition rules, in one report. Nothing here
// writes to the cluster.

/** Kinds read besides the plan's: who in Flux applies what, and BGP v1 policies. */
const ALWAYS_READ = [
    { group: KUSTOMIZE_GROUP, kind: "Kustomization" },
    { group: HELM_GROUP, kind: "HelmRelease" },
    { group: "source.toolkit.fluxcd.io", kind: "GitRepository" },
    { group: "fluxcd.controlplane.io", kind: "FluxInstance" },
    { group: "cilium.io", kind: "CiliumBGPPeeringPolicy" },
    { group: "cilium.io", kind: "CiliumLoadBalancerIPPool" },
];

/** A match as reported: the live release summarised, its values never included. */
export type ReportMatch = Omit<Match, "release"> & {
    release?: { chart: string; version: string; status: string; revision: number; managers: string[] };
};

export interface AdoptReport {
    stack: string;
    /** Where the settings came from: the stack file. */
    source: string;
    cluster: {
        server: string;
        context: string;
        kubernetesVersion: string;
        identity?: string;
        nodes: LiveCluster["nodes"];
        controllerManager?: LiveCluster["controllerManager"];
        services: LiveCluster["services"];
        releases: {
            name: string;
            namespace: string;
            chart: string;
            version: string;
            status: string;
            revision: number;
            managers: string[];
        }[];
        /** Cilium's live settings that the rules read. */
        cilium?: { namespace: string; settings: Record<string, string> };
        kubeProxy: boolean;
        coredns?: LiveCluster["coredns"];
        crds: LiveCluster["crds"];
        flux: { kind: string; namespace?: string; name: string }[];
    };
    matches: ReportMatch[];
    counts: Record<Match["status"], number>;
    /** Live against planned values of every release that exists, secrets redacted. */
    values: { target: string; diffs: ValueDiff[] }[];
    findings: Finding[];
    blocking: number;
    importFile?: ImportFile;
    /** Where --import-file wrote it. */
    importFilePath?: string;
    commands: CommandStep[];
    notes: string[];
}

const CILIUM_SETTINGS = [
    "ipam",
    "kube-proxy-replacement",
    "routing-mode",
    "tunnel-protocol",
    "enable-bgp-control-plane",
    "cluster-pool-ipv4-cidr",
    "cluster-pool-ipv6-cidr",
    "enable-ipv4",
    "enable-ipv6",
];

export interface AdoptInput {
    plan: Plan;
    config: PlatformConfig;
    stack: string;
    source: string;
    kube: Kube;
    progress(line: string): void;
    /** The --import-file path, for the command sequence. */
    importFilePath?: string;
    /** The arguments that select this stack and cluster, repeated in the commands. */
    adoptArgs: string;
}

export async function adopt(input: AdoptInput): Promise<AdoptReport> {
    const { plan, config } = input;
    const planned = plannedFrom(plan);
    const kinds = [...planned.objects.filter((o) => o.group).map((o) => ({ group: o.group, kind: o.kind })), ...ALWAYS_READ];
    const targets: DiscoveryTargets = {
        kinds,
        core: planned.objects
            .filter((o) => !o.group && (o.kind === "Secret" || o.kind === "Namespace"))
            .map((o) => ({ kind: o.kind as "Secret" | "Namespace", name: o.name, namespace: o.namespace })),
        ciliumNamespace: config.cilium.namespace,
    };
    const live = await discover(input.kube, targets, input.progress);
    input.progress("matching the plan to the cluster");
    const flux = fluxIndex(live);
    const matches = matchAll(planned, live, flux);
    const findings = transitionFindings({ live, config, plan, planned, matches, flux });
    const values = matches
        .filter((m) => m.release)
        .map((m) => {
            const p = planned.releases.find((r) => r.resource.urn === m.urn)!;
            const diffs = diffValues(m.release!.values, p.values);
            return { target: m.target, diffs: p.chart === "cilium" ? ciliumNotes(diffs) : diffs };
        });
    const file = importFile(matches, planned);
    const counts = { create: 0, import: 0, managed: 0, conflict: 0 };
    for (const m of matches) counts[m.status]++;
    const severityOrder = { blocking: 0, warning: 1, info: 2 };
    findings.sort((a, b) => severityOrder[a.severity] - severityOrder[b.severity]);
    return {
        stack: input.stack,
        source: input.source,
        cluster: {
            server: live.server,
            context: live.context,
            kubernetesVersion: live.kubernetesVersion,
            identity: live.identity,
            nodes: live.nodes,
            controllerManager: live.controllerManager,
            services: live.services,
            releases: live.releases.map((r) => ({
                name: r.name,
                namespace: r.namespace,
                chart: r.chart.name,
                version: r.chart.version,
                status: r.status,
                revision: r.revision,
                managers: r.managers,
            })),
            cilium: live.cilium && {
                namespace: live.cilium.namespace,
                settings: Object.fromEntries(
                    CILIUM_SETTINGS.filter((k) => k in live.cilium!.config).map((k) => [k, live.cilium!.config[k]]),
                ),
            },
            kubeProxy: !!live.kubeProxy,
            coredns: live.coredns,
            crds: live.crds,
            flux: live.objects
                .filter((o) => [KUSTOMIZE_GROUP, HELM_GROUP, "source.toolkit.fluxcd.io", "fluxcd.controlplane.io"].includes(o.group))
                .map((o) => ({ kind: o.kind, namespace: o.namespace, name: o.name })),
        },
        matches: matches.map(({ release, ...m }) =>
            release
                ? {
                      ...m,
                      release: {
                          chart: release.chart.name,
                          version: release.chart.version,
                          status: release.status,
                          revision: release.revision,
                          managers: release.managers,
                      },
                  }
                : m,
        ),
        counts,
        values,
        findings,
        blocking: findings.filter((f) => f.severity === "blocking").length,
        importFile: file,
        importFilePath: input.importFilePath,
        commands: commandSequence(input.stack, planned.providerUrn, { file: input.importFilePath, count: counts.import }, input.adoptArgs),
        notes: live.notes,
    };
}
