import * as path from "node:path";
import { PlatformConfig, RawConfig, validateConfig } from "../lib/config";
import type { Plan, PlanResource } from "../lib/plan/model";
import { PlanInput, runPlan } from "../lib/plan/run";
import { readStackFile } from "../lib/plan/stackfile";

export const ROOT = path.resolve(__dirname, "..");

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

function devStack(): PlanInput {
    return readStackFile(path.join(ROOT, "Pulumi.dev.yaml"), "dev");
}

const bare = (k: string) => k.replace(/^talos-platform:/, "");

/** The dev stack's talos-platform sections, as plain objects keyed without the namespace. */
export function devSections(): Record<string, Json> {
    const input = devStack();
    const secret = new Set(input.secretKeys ?? []);
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(input.config)) if (!secret.has(k)) out[bare(k)] = structuredClone(v);
    return out;
}

/** The dev stack's secret keys (set with --secret), as validateConfig sees them. */
export function devSecretKeys(): RawConfig["otherKeys"] {
    return Object.fromEntries((devStack().secretKeys ?? []).map((k) => [bare(k), { secret: true }]));
}

/** Runs the program offline on the dev stack, after `edit` changes its sections. */
export async function planDev(edit?: (sections: Record<string, Json>) => void, extra?: Partial<PlanInput>): Promise<Plan> {
    const stack = devStack();
    const sections = devSections();
    edit?.(sections);
    const secrets = Object.fromEntries((stack.secretKeys ?? []).map((k) => [k, stack.config[k]]));
    return runPlan({
        stack: "dev",
        ...extra,
        config: { ...secrets, ...sections, ...(extra?.config ?? {}) },
        secretKeys: [...(stack.secretKeys ?? []), ...(extra?.secretKeys ?? [])],
    });
}

/** Raw config of `sections`, with the dev stack's secret keys set unless `otherKeys` says otherwise. */
export function raw(sections: Record<string, Json>, otherKeys: RawConfig["otherKeys"] = {}): RawConfig {
    return { sections, otherKeys: { ...devSecretKeys(), ...otherKeys } };
}

export function byName(plan: Plan, name: string): PlanResource {
    const r = plan.resources.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; have ${plan.resources.map((x) => x.name).join(", ")}`);
    return r;
}

export function ofType(plan: Plan, type: string): PlanResource[] {
    return plan.resources.filter((r) => r.type === type);
}

/** A resource and all its ancestors, nearest first. */
export function lineage(plan: Plan, r: PlanResource): PlanResource[] {
    const out: PlanResource[] = [];
    for (let cur: PlanResource | undefined = r; cur; cur = plan.resources.find((x) => x.urn === cur!.parent)) out.push(cur);
    return out;
}

/** Makes the dev stack IPv4-only: subnets and pools. */
export function singleStack(s: Record<string, Json>): void {
    s.cluster.podSubnets = ["10.244.0.0/16"];
    s.cluster.serviceSubnets = ["10.96.0.0/12"];
    s.cilium.loadBalancerPools = (s.cilium.loadBalancerPools ?? []).filter((p: Json) => p.name !== "bgp-default-ipv6");
}

/**
 * Serves ingress without a LoadBalancer pool: ingress-nginx on a NodePort,
 * and no Gateway (Cilium serves a Gateway only on a LoadBalancer address).
 */
export function ingressWithoutLoadBalancer(s: Record<string, Json>): void {
    s.ingressNginx.loadBalancer = {};
    s.ingressNginx.values = { controller: { service: { type: "NodePort" } } };
    delete s.gateway;
}

/**
 * The dev stack without its Gateway, for a test of a stack the Gateway could
 * not run on: no issuers, no pools, or kube-proxy kept (Cilium serves Gateway
 * API only with kube-proxy replacement).
 */
export function withoutGateway(s: Record<string, Json>): void {
    delete s.gateway;
}

/** Everything registered below the resource named `name`. */
export function descendants(plan: Plan, name: string): PlanResource[] {
    const root = byName(plan, name).urn;
    return plan.resources.filter((r) => lineage(plan, r).some((a) => a.urn === root && a !== r));
}

/** The IPv6 pod subnet the report's Talos config declares (talos/patches/cluster.yaml in its repository). */
export const REPORT_IPV6_POD_SUBNET = "fd47:25e1:2f96:51:2000::/64";

/** Puts the report's own IPv6 pod subnet back into the dev stack. */
export function reportPodSubnets(s: Record<string, Json>): void {
    s.cluster.podSubnets = ["10.244.0.0/16", REPORT_IPV6_POD_SUBNET];
}

/** The cluster domain of the tests' custom-domain stack. */
export const CUSTOM_DOMAIN = "k8s.home.geoffdavis.com";

/**
 * The test stack for the cluster-domain propagation and this program's
 * CoreDNS release: the dev stack with a custom cluster domain and Talos'
 * CoreDNS disabled (cluster.coreDNS.disabled), as talos/patches/cluster.yaml
 * of the report's repository describes it. The dev stack follows the
 * talconfig.yaml the cluster is built from: cluster.local, Talos' CoreDNS.
 */
export function customDomainStack(s: Record<string, Json>): void {
    s.cluster.dnsDomain = CUSTOM_DOMAIN;
    s.cluster.coreDnsDisabled = true;
}

/** Runs the program offline on the custom-domain test stack, after `edit`. */
export async function planCustomDomain(edit?: (sections: Record<string, Json>) => void, extra?: Partial<PlanInput>): Promise<Plan> {
    return planDev((s) => {
        customDomainStack(s);
        edit?.(s);
    }, extra);
}

/** The custom-domain test stack's validated config. */
export function customDomainConfig(): PlatformConfig {
    const s = devSections();
    customDomainStack(s);
    const { config, problems } = validateConfig(raw(s));
    if (!config) throw new Error(problems.map((p) => p.message).join("; "));
    return config;
}
