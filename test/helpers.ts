import { expect } from "chai";
import * as path from "node:path";
import { PlatformConfig, RawConfig, validateConfig } from "../lib/config";
import { describeProblem, Problem } from "../lib/problems";
import type { Plan, PlanResource } from "../lib/plan/model";
import { PlanInput, runPlan } from "../lib/plan/run";
import { readStackFile } from "../lib/plan/stackfile";

export const ROOT = path.resolve(__dirname, "..");

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

let devStackCache: PlanInput | undefined;

/** The dev stack file, read and parsed once (about 25 ms a read); each caller gets its own copy. */
function devStack(): PlanInput {
    devStackCache ??= readStackFile(path.join(ROOT, "Pulumi.dev.yaml"), "dev");
    return structuredClone(devStackCache);
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
    return plannedOnce({
        stack: "dev",
        ...extra,
        config: { ...secrets, ...sections, ...(extra?.config ?? {}) },
        secretKeys: [...(stack.secretKeys ?? []), ...(extra?.secretKeys ?? [])],
    });
}

const plans = new Map<string, Promise<Plan>>();
let caching = true;

/** Runs `f` with every plan made afresh: for a test that changes the program's code under it (a stub). */
export async function withFreshPlans<T>(f: () => Promise<T>): Promise<T> {
    caching = false;
    try {
        return await f();
    } finally {
        caching = true;
    }
}

/**
 * runPlan, run once per input in this process. Thirty percent of the suite's
 * plans repeated an earlier one (the dev stack alone 25 times), at about
 * 0.3 s of CPU each. A plan reads nothing but its input, the repository and
 * the files under `baseDir`, which a test may write between two plans, and
 * a cluster source answers as its test arranged: those inputs are not
 * cached, nor any plan inside withFreshPlans. Each caller gets its own copy, free to change.
 */
async function plannedOnce(input: PlanInput): Promise<Plan> {
    if (!caching || input.baseDir !== undefined || input.clusterSource !== undefined) return runPlan(input);
    const key = JSON.stringify(input);
    let plan = plans.get(key);
    if (!plan) plans.set(key, (plan = runPlan(input)));
    return structuredClone(await plan);
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

const problemKey = (p: Problem) => JSON.stringify([p.severity, p.rule, p.path, p.message, p.fix, p.value]);

/** An edit of the dev stack's sections. */
export type StackEdit = (s: Record<string, Json>) => void;

const findingsCache = new Map<StackEdit | undefined, { code: unknown; problems: Problem[] }>();

/**
 * The code under test, as far as a cache may tell: Stryker (npm run
 * mutation) switches mutants inside one process, and a result computed
 * under one mutant must not serve another.
 */
function codeUnderTest(): unknown {
    return (globalThis as { __stryker__?: { activeMutant?: unknown } }).__stryker__?.activeMutant;
}

/**
 * A test stack's own findings, as it is: the dev stack's (one advisory, its
 * IPv6 pool that its IPv4-only BGP peer does not announce), or those of the
 * stack `base` makes of it (customDomainStack adds its DNS-01 finding).
 */
export function devStackFindings(base?: StackEdit): Problem[] {
    let cached = findingsCache.get(base);
    if (!cached || cached.code !== codeUnderTest()) {
        const s = devSections();
        base?.(s);
        cached = { code: codeUnderTest(), problems: validateConfig(raw(s)).problems };
        findingsCache.set(base, cached);
    }
    return cached.problems;
}

/**
 * `problems` less those the test stack has as it is (see devStackFindings),
 * each as often as the stack has it: a finding the edit repeats still shows.
 * Nothing is filtered by severity, rule or key.
 */
export function withoutDevFindings(problems: Problem[], base?: StackEdit): Problem[] {
    const known = new Map<string, number>();
    for (const k of devStackFindings(base).map(problemKey)) known.set(k, (known.get(k) ?? 0) + 1);
    return problems.filter((p) => {
        const left = known.get(problemKey(p)) ?? 0;
        if (left) known.set(problemKey(p), left - 1);
        return !left;
    });
}

/**
 * Every problem the dev stack has after `edit` that it does not have as it
 * is: errors, warnings and checks-skipped notes alike, so a problem no test
 * asked about still shows. With `base` (for example customDomainStack), the
 * stack `base` makes of the dev stack is the one edited and compared.
 */
export function newProblems(edit: StackEdit, otherKeys: RawConfig["otherKeys"] = {}, base?: StackEdit): Problem[] {
    const s = devSections();
    base?.(s);
    edit(s);
    return withoutDevFindings(validateConfig(raw(s, otherKeys)).problems, base);
}

/**
 * The errors among `problems`. A test that asks for errors still sees every
 * warning: one whose rule it did not name in `warnings` fails it, so a
 * warning that should not be there (or should have been an error) cannot
 * hide behind the filter.
 */
export function errorsOnly(problems: Problem[], warnings: string[] = []): Problem[] {
    const unasked = problems.filter((p) => p.severity !== "error" && !warnings.includes(p.rule ?? ""));
    expect(
        unasked.map((p) => `${p.rule}: ${describeProblem(p)}`),
        "warnings the test did not ask about",
    ).to.deep.equal([]);
    return problems.filter((p) => p.severity === "error");
}

export interface ErrorsOptions {
    otherKeys?: RawConfig["otherKeys"];
    /** Rules of the warnings the test expects alongside the errors; any other new warning fails the test. */
    warnings?: string[];
    /** The test stack the edit starts from, made of the dev stack (see newProblems); the dev stack itself by default. */
    base?: StackEdit;
}

/** The errors `edit` brings to the dev stack; a new warning the test did not name fails it (see errorsOnly). */
export function newErrors(edit: StackEdit, options: ErrorsOptions = {}): Problem[] {
    return errorsOnly(newProblems(edit, options.otherKeys, options.base), options.warnings);
}
