import type { PlatformConfig } from "../config";
import type { LbPoolConfig } from "../config/cilium";
import { selects } from "../config/selectors";
import type { Problem } from "../problems";
import { ciliumServices } from "../values/cilium-services";
import { corednsServices } from "../values/coredns";
import { gatewayServices } from "../values/gateway";
import { ingressNginxServices } from "../values/ingress-nginx";
import { poolRanges } from "./ingress";

// Severity from context (issue 14): a warning whose condition breaks
// something the platform itself relies on (a component of a later phase, a
// gate) is an error, which stops the plan and `pulumi up` before anything
// is deployed; the same condition on something only users' workloads might
// use stays a warning (an advisory finding).

export interface SeverityRule {
    /** The warning's rule id. */
    rule: string;
    /** Where the rule is: a config check or a policy. */
    kind: "check" | "policy";
    /** When it becomes an error; absent when it always stays advisory. */
    escalates?: string;
    /** Why it escalates then, or why it never does. */
    why: string;
}

/**
 * Every advisory rule of the program, reviewed: which escalate, when, and
 * why the others do not. docs/policies.md shows this table, and a test
 * keeps it in step with the rules the code has.
 */
export const SEVERITY_RULES: SeverityRule[] = [
    {
        rule: "lb-pool-not-announced",
        kind: "check",
        escalates:
            "the pool gives a LoadBalancer Service of the platform its address (ingress-nginx's controller, the shared Gateway's, Hubble Relay, this program's CoreDNS)",
        why: "the platform's own Service would get an address nothing outside the cluster reaches, and the ingress gate would not notice: its probe answers from inside the cluster, and its announcement steps check only what is announced",
    },
    {
        rule: "l2-pool-outside-node-subnets",
        kind: "check",
        escalates: "the pool gives a LoadBalancer Service of the platform its address",
        why: "no router answers ARP for it, so the platform's Service is unreachable from outside",
    },
    {
        rule: "bgp-peer-outside-node-subnets",
        kind: "check",
        escalates: "no BGP peer can be reached and a pool of a platform Service is announced by BGP alone",
        why: "with no session up, nothing announces the platform Service's address",
    },
    {
        rule: "dns01-cluster-domain",
        kind: "check",
        escalates:
            "this program runs CoreDNS with `coredns.clusterDomainFallthrough: false` and a name the platform's pods resolve (the Flux Git source's host, `gates.dns.externalName`) lies in an overlapping zone",
        why: "CoreDNS answers NXDOMAIN for it: source-controller cannot clone and the dns gate's probe fails. The DNS-01 self-check is never at stake, the platform's own default certificate (which the ingress gate waits for) included: the program points it at outside resolvers whenever a name overlaps, and dropping them or naming a resolver inside the cluster is an error (`dns01-self-check-resolvers`). A public wildcard record under the cluster domain, the other thing it names, is in a zone the plan cannot read",
    },
    {
        rule: "dns01-cluster-domain-talos-coredns",
        kind: "check",
        escalates: "a name the platform's pods resolve (the Flux Git source's host, `gates.dns.externalName`) lies in an overlapping zone",
        why: "Talos' CoreDNS answers NXDOMAIN for it: source-controller cannot clone and the dns gate's probe fails. Otherwise only users' pods miss the public records there, and cert-manager's self-check asks outside resolvers either way",
    },
    {
        rule: "unknown-chart-value",
        kind: "check",
        escalates: "the key is one talos-platform itself sets (a chart version that dropped or renamed it)",
        why: "the program's checks and gates read the merged values as what runs (`kubeProxyReplacement`, `k8sServiceHost`, `controller.service.type`): a key the chart ignores makes them describe a cluster that will not exist, the Week 4 incident's kind of disagreement. A key only the user sets changes nothing the program relies on: its rules read the chart's own key, which keeps its default",
    },
    {
        rule: "chart-values-unchecked",
        kind: "check",
        why: "it says a check did not run, not that anything is wrong; `--fetch-charts` runs it against the chart itself",
    },
    {
        rule: "chart-object-crd-unknown",
        kind: "check",
        why: "the plan cannot see CRDs installed outside this program (Talos' extraManifests, an earlier install); a CRD that a later phase or the same release installs is already an error (CRD order)",
    },
    {
        rule: "bgp-family-without-session",
        kind: "check",
        why: "many routers reject such routes, not all: the plan cannot know which the router does",
    },
    {
        rule: "bgp-advertisement-empty",
        kind: "check",
        why: "it announces nothing, so nothing depends on it; a pool left unannounced is lb-pool-not-announced",
    },
    {
        rule: "coredns-not-at-cluster-dns",
        kind: "check",
        why: "Talos' machine.kubelet.clusterDNS may point the kubelets at the same addresses, and the plan does not read it; the dns gate fails if it does not",
    },
    { rule: "coredns-settings-unused", kind: "check", why: "keys with no effect break nothing" },
    { rule: "gate-timeout-long", kind: "check", why: "a long timeout only delays naming a failure" },
    {
        rule: "flux-path-may-apply-platform",
        kind: "check",
        why: "a guess from the path alone; a Kustomization that certainly applies a platform component is already an error (two owners)",
    },
    { rule: "flux-health-checks-ignored", kind: "check", why: "Flux checks everything applied instead, which is stricter" },
    {
        rule: "flux-settings-owned-by-git",
        kind: "check",
        why: "under `flux.sync` the settings have no effect either way: Git's Kustomizations decide them, and the gitops gate checks the graph there (exists, Ready, declared order); `critical` is not among them, since the gate reads it",
    },
    { rule: "cidr-host-bits", kind: "check", why: "Kubernetes and the checks read the masked range; only the spelling is off" },
    {
        rule: "few-node-cidrs",
        kind: "check",
        why: "the plan does not know how many nodes there are; a subnet with no node block at all is already an error",
    },
    {
        rule: "service-subnet-inside-pod-subnet",
        kind: "check",
        why: "the blocks left may well be enough; none left is an error (few-node-cidrs counts them)",
    },
    {
        rule: "secret-in-values",
        kind: "check",
        why: "a guess from a key's name and the value's shape; a certain credential is already an error",
    },
    { rule: "provider-config-ignored", kind: "check", why: "the key has no effect; the provider this program configures is used" },
    { rule: "checks-skipped", kind: "check", why: "a note that more problems may follow the errors already reported" },
    {
        rule: "gate-probe-image-tag",
        kind: "check",
        why: "the gates still run the image the tag names; the digest only guards against a tag pushed again",
    },
    {
        rule: "cluster-not-checked",
        kind: "check",
        why: "said only where no cluster is asked (a preview); `pulumi up` refuses the same condition itself",
    },
    {
        rule: "protection-off",
        kind: "check",
        why: "a deliberate setting for a teardown; it changes what a delete takes, not what a deploy needs",
    },
    { rule: "namespace-move-allowed", kind: "check", why: "a deliberate, temporary permission the user gave for a move" },
    {
        rule: "flux-deletes-workloads",
        kind: "check",
        why: "a deliberate deletion policy; it acts on delete, and only on what the Kustomizations applied",
    },
    {
        rule: "gateway-api-without-gateway-section",
        kind: "check",
        why: "the platform relies on nothing it turns on: without the gateway section no Gateway of the platform exists, so only users' Gateways would miss the CRDs and cert-manager's support, and the warning says how to get both",
    },
    {
        rule: "no-ingress",
        kind: "check",
        why: "a deliberate end state (ingress handed to Flux or to nothing); no later phase or gate of the platform needs an ingress controller",
    },
    {
        rule: "ingress-nginx-retired",
        kind: "policy",
        why: "a notice: ingress-nginx still works and the platform relies on nothing it lacks",
    },
];

/** Labels Cilium matches a pool's serviceSelector against: the Service's own, plus its namespace and name. */
function selectorLabels(s: { labels: Record<string, string>; namespace: string; name: string }): Record<string, string> {
    return { ...s.labels, "io.kubernetes.service.namespace": s.namespace, "io.kubernetes.service.name": s.name };
}

/** For each pool that gives a LoadBalancer Service of the platform its address: those Services, as namespace/name. */
export function platformPools(config: PlatformConfig): Map<string, string[]> {
    const services = [
        ...ciliumServices(config.cluster, config.cilium),
        // Read only when this program runs CoreDNS, so an error in that section skips no check here otherwise.
        ...(config.cluster.coreDnsDisabled ? corednsServices(config.cluster, config.coredns) : []),
        ...(config.ingressNginx.enabled ? ingressNginxServices(config.ingressNginx, config.cilium.loadBalancerPools) : []),
        // The traffic policy does not change which pool gives the Gateway its address.
        ...gatewayServices(config.gateway, config.cilium.loadBalancerPools, "Cluster"),
    ].filter((s) => s.type === "LoadBalancer" && s.wellTyped);
    const out = new Map<string, string[]>();
    for (const s of services) {
        // A pool with no block of the Service's families gives it no address.
        const canServe = (p: LbPoolConfig) => !s.families || poolRanges(p).some((r) => s.families!.includes(r.family));
        for (const p of config.cilium.loadBalancerPools.filter((p) => selects(p.serviceSelector, selectorLabels(s)) && canServe(p))) {
            out.set(p.name, [...(out.get(p.name) ?? []), `${s.namespace}/${s.name}`]);
        }
    }
    return out;
}

/** "the Service x/y takes its address from it", for a pool of the platform's Services. */
export function platformUsers(platform: Map<string, string[]>, pool: string): string | undefined {
    const users = platform.get(pool);
    return users
        ? `${users.length === 1 ? "the Service" : "the Services"} ${users.join(", ")} take${users.length === 1 ? "s" : ""} ${users.length === 1 ? "its address" : "their addresses"} from pool '${pool}'`
        : undefined;
}

/**
 * The warning as an error when `reliedOnBy` names what of the platform
 * depends on its condition; the warning itself otherwise. The rule id stays,
 * so the report and the docs can say it was escalated.
 */
export function inContext(p: Problem, reliedOnBy: string | undefined): Problem {
    if (!reliedOnBy || p.severity !== "warning") return p;
    return {
        ...p,
        severity: "error",
        message: `${p.message}. The platform relies on it (${reliedOnBy}), so this is an error here, not a warning`,
    };
}

/** The table docs/policies.md shows under "Severity from context", row by row. */
export function severityTableRows(): string[] {
    return SEVERITY_RULES.map(
        (r) =>
            `| \`${r.rule}\` | ${r.kind === "check" ? "config check" : "policy"} | ${r.escalates ? `error when ${r.escalates}` : "always advisory"} | ${r.why} |`,
    );
}
