import type { PlatformConfig } from "../config";
import type { Phase } from "../phases";
import { configPath } from "../problems";

/** What a deletion of each Kustomization does to what it applied, by deletionPolicy (kustomize-controller v1). */
export const DELETION_POLICY_EFFECT: Record<PlatformConfig["flux"]["deletionPolicy"], string> = {
    Orphan: "what they applied stays",
    MirrorPrune: "what those with prune: true applied is deleted, volumes included",
    Delete: "everything they applied is deleted, volumes included",
    WaitForTermination: "everything they applied is deleted, volumes included, and each delete waits for it to be gone",
};

/**
 * What `pulumi destroy` removes once protection is off (lifecycle.protect
 * false), phase by phase in the order it goes: Pulumi deletes what depends
 * on something before that something, so GitOps goes first and the network
 * last. The destroy guard prints it; docs/destroy.md explains it.
 */
export function destroySteps(config: PlatformConfig): { phase: Phase; removes: string }[] {
    const kustomizations = config.flux.phases.reduce((n, p) => n + p.kustomizations.length, 0);
    const policy = config.flux.deletionPolicy;
    const pools = config.cilium.loadBalancerPools.length;
    const issuers = config.certManager.issuers.length;
    const steps: { phase: Phase; removes: string }[] = [
        {
            phase: "gitops",
            removes: config.flux.sync
                ? "the FluxInstance (the Flux Operator then uninstalls Flux and its CRDs, and with them its sync's GitRepository and root Kustomization and the Kustomizations from Git; what they applied stays) and the operator"
                : `${kustomizations} Kustomization${kustomizations === 1 ? "" : "s"} (deletionPolicy ${policy}: ${DELETION_POLICY_EFFECT[policy]}), the GitRepository, the FluxInstance (the Flux Operator then uninstalls Flux and its CRDs) and the operator`,
        },
        ...ingressSteps(config),
        {
            phase: "certificates",
            removes: `${issuers} ClusterIssuer${issuers === 1 ? "" : "s"} and cert-manager: no certificate is issued or renewed (its CRDs stay, and so do the certificates' Secrets)`,
        },
    ];
    if (config.cluster.coreDnsDisabled) steps.push({ phase: "dns", removes: "CoreDNS: cluster DNS stops" });
    const crdsStay =
        config.gateway.enabled && config.gateway.gatewayApi.crds === "install"
            ? " (the Gateway API CRDs stay, and with them every route)"
            : "";
    steps.push({
        phase: "network",
        removes: `Cilium${pools ? `, ${pools} LoadBalancer pool${pools === 1 ? "" : "s"}` : ""}${config.cilium.bgp ? " and the BGP sessions" : ""}: every pod loses its network${crdsStay}`,
    });
    return steps;
}

/** The ingress phase's line: ingress-nginx and the Gateway, those the config turns on. */
function ingressSteps(config: PlatformConfig): { phase: Phase; removes: string }[] {
    const parts = [
        ...(config.ingressNginx.enabled ? ["ingress-nginx"] : []),
        ...(config.gateway.enabled ? ["the Gateway (with its redirect route)"] : []),
    ];
    if (!parts.length) return [];
    return [
        {
            phase: "ingress",
            removes: `${parts.join(" and ")}: ingress traffic stops and ${parts.length === 1 ? "its LoadBalancer address is" : "their LoadBalancer addresses are"} released`,
        },
    ];
}

/** The destroy guard's message: what a destroy would remove, and how to confirm it. */
export function destroyGuardMessage(config: PlatformConfig): string {
    const key = configPath(["lifecycle", "protect"]);
    return [
        `talos-platform: pulumi destroy stopped before its first delete: this stack's platform is protected (${key} is true). Once confirmed, it removes, in this order:`,
        ...destroySteps(config).map((s) => `  ${s.phase}: ${s.removes}`),
        `Namespaces stay. To remove the platform on purpose: pulumi config set --path ${key} false; pulumi up (it changes the protection, nothing in the cluster); pulumi destroy. docs/destroy.md says what stays and how to keep workloads.`,
    ].join("\n");
}
