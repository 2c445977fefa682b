import * as k8s from "@pulumi/kubernetes";
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { ASN_FIX, ASN_MESSAGE, blockProblem, isAsn } from "../lib/config/cilium";
import { bgpReferenceIssues, bgpReferenceMessage } from "../lib/checks/bgp";
import { dsrRoutingProblem, legacyKprFix, legacyKprMessage, nativeRoutingCidrProblems, readKpr } from "../lib/checks/cilium";
import type { Values } from "../lib/merge";
import type { BgpAdvertisementSpec, BgpClusterConfigSpec, BgpPeerConfigSpec, CiliumObject, PoolSpec } from "../lib/values/cilium-objects";
import { validateCustomResourceOfType } from "./kit";

// The network rules of the config checks, applied to what is about to be
// deployed. Each shares its predicate and message with lib/checks.

interface Props<S> {
    metadata?: { name?: string; labels?: Record<string, string> };
    spec?: S;
}

function nameOf(props: Props<unknown>): string {
    return props.metadata?.name ?? "(unnamed)";
}

export const lbPoolBlocks: ResourceValidationPolicy = {
    name: "cilium-lb-pool-blocks",
    description: "Every CiliumLoadBalancerIPPool block is a valid CIDR or start/stop range.",
    enforcementLevel: "mandatory",
    validateResource: validateCustomResourceOfType<Props<PoolSpec>>("cilium.io/v2", "CiliumLoadBalancerIPPool", (props, _args, report) => {
        const blocks = props.spec?.blocks ?? [];
        if (!blocks.length) report(`pool '${nameOf(props)}' has no blocks: give it at least one CIDR or start/stop range.`);
        blocks.forEach((b, i) => {
            const p = blockProblem(b);
            if (p)
                report(`pool '${nameOf(props)}' block ${i}${p.field ? ` ${p.field}` : ""} (${JSON.stringify(b)}) ${p.message}: ${p.fix}.`);
        });
    }),
};

export const bgpAsn: ResourceValidationPolicy = {
    name: "cilium-bgp-asn",
    description: "BGP instances and peers carry AS numbers between 1 and 4294967295.",
    enforcementLevel: "mandatory",
    validateResource: validateCustomResourceOfType<Props<BgpClusterConfigSpec>>(
        "cilium.io/v2",
        "CiliumBGPClusterConfig",
        (props, _args, report) => {
            for (const inst of props.spec?.bgpInstances ?? []) {
                if (!isAsn(inst.localASN))
                    report(`BGP instance '${inst.name}' localASN (${JSON.stringify(inst.localASN)}) ${ASN_MESSAGE}: ${ASN_FIX}.`);
                for (const peer of inst.peers ?? []) {
                    if (!isAsn(peer.peerASN)) {
                        report(
                            `BGP peer '${peer.name}' of instance '${inst.name}' peerASN (${JSON.stringify(peer.peerASN)}) ${ASN_MESSAGE}: ${ASN_FIX}.`,
                        );
                    }
                }
            }
        },
    ),
};

function objects<S>(resources: PolicyResource[], kind: string): Array<{ urn: string; object: CiliumObject<S> }> {
    return resources
        .filter((r) => r.type === `kubernetes:cilium.io/v2:${kind}`)
        .map((r) => {
            const props = r.props as Props<S>;
            return {
                urn: r.urn,
                object: {
                    apiVersion: "cilium.io/v2",
                    kind,
                    metadata: { name: nameOf(props), labels: props.metadata?.labels },
                    spec: props.spec ?? ({} as S),
                },
            };
        });
}

export const bgpReferences: StackValidationPolicy = {
    name: "cilium-bgp-references",
    description: "Every BGP peer names a deployed CiliumBGPPeerConfig, and every address family selects a deployed CiliumBGPAdvertisement.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const clusterConfigs = objects<BgpClusterConfigSpec>(args.resources, "CiliumBGPClusterConfig");
        const peerConfigs = objects<BgpPeerConfigSpec>(args.resources, "CiliumBGPPeerConfig");
        const advertisements = objects<BgpAdvertisementSpec>(args.resources, "CiliumBGPAdvertisement");
        const issues = bgpReferenceIssues(
            clusterConfigs.map((c) => c.object.spec),
            peerConfigs.map((p) => p.object),
            advertisements.map((a) => a.object),
        );
        for (const issue of issues) {
            const urn = issue.kind === "missing-peer-config" ? clusterConfigs[issue.clusterConfig].urn : peerConfigs[issue.peerConfig].urn;
            report(`${bgpReferenceMessage(issue)}.`, urn);
        }
    },
};

function ciliumRelease(validate: (values: Values, report: (message: string) => void) => void) {
    return validateResourceOfType(k8s.helm.v3.Release, (release, _args, report) => {
        if (release.chart !== "cilium" || !release.values) return;
        validate(release.values as Values, report);
    });
}

export const kubeProxyReplacementBoolean: ResourceValidationPolicy = {
    name: "cilium-kube-proxy-replacement-boolean",
    description: "Cilium's kubeProxyReplacement is a boolean; the pre-1.15 strings are no longer understood.",
    enforcementLevel: "mandatory",
    validateResource: ciliumRelease((values, report) => {
        const kpr = readKpr(values);
        if (kpr.kind === "legacy") report(`kubeProxyReplacement ${legacyKprMessage(kpr.text)}: ${legacyKprFix(kpr.text)}.`);
        if (kpr.kind === "invalid") report(`kubeProxyReplacement (${JSON.stringify(kpr.value)}) must be true or false.`);
    }),
};

export const datapathRouting: ResourceValidationPolicy = {
    name: "cilium-datapath-routing",
    description:
        "DSR load balancing runs on native routing or Geneve dispatch, and native routing names its routed range for each masqueraded family.",
    enforcementLevel: "mandatory",
    validateResource: ciliumRelease((values, report) => {
        for (const p of [dsrRoutingProblem(values), ...nativeRoutingCidrProblems(values)]) {
            if (p) report(`${p.key} ${p.message}: ${p.fix}.`);
        }
    }),
};

export const networkPolicies = [lbPoolBlocks, bgpAsn, bgpReferences, kubeProxyReplacementBoolean, datapathRouting];
