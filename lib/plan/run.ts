import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { validateStack } from "../config/stack";
import { setConfigBaseDir } from "../cwd";
import { PHASES, phaseOfType, SUBPHASE_INPUT } from "../phases";
import { ConfigError, CONFIG_NAMESPACE, describeProblem } from "../problems";
import type { ClusterConfig } from "../config/cluster";
import type { PlatformConfig } from "../config";
import { apiServers, PROVIDER_CLUSTER_IDENTIFIER } from "../lifecycle/binding";
import { ClusterSource, OFFLINE_SOURCE, useClusterSource } from "../lifecycle/source";
import { Finding, Plan, PlanBinding, PlanCluster, PlanError, PlanOptions, PlanResource, PlanSubphase, SECRET_PLACEHOLDER } from "./model";
import { evaluatePolicies, PolicyConfig, stackPolicyConfig } from "./policies";
import { configView } from "./config-view";
import { SecretTracer } from "./secret-trace";
import { withoutSdkStacks } from "./sdk-stacks";

export interface PlanInput {
    /** @default talos-platform */
    project?: string;
    /** @default dev */
    stack?: string;
    /**
     * Stack config by key. Bare keys belong to talos-platform; keys with a
     * namespace ("kubernetes:context") pass through. Objects are stored as
     * structured config, the way `pulumi config set --path` stores them.
     */
    config: Record<string, unknown>;
    /** Keys whose values are secrets, as given in `config`. */
    secretKeys?: string[];
    /** Where a relative cluster.talosConfig starts: the stack file's directory. @default the working directory */
    baseDir?: string;
    /** A digest of each secret key's ciphertext in the stack file (readStackFile fills it), by full key. */
    secretDigests?: Record<string, string>;
    /**
     * Where the program reads the cluster and the stack's recorded outputs from.
     * @default nothing is contacted: no cluster, no backend (what `npm run plan` does)
     */
    clusterSource?: ClusterSource;
}

interface Recorded {
    resource: pulumi.Resource;
    type: string;
    name: string;
    parent?: pulumi.Resource;
    dependsOn: Promise<pulumi.Resource[]>;
    options: PlanOptions;
}

/** The lifecycle options a resource was registered with, only those set; `protect` as inherited from its parent. */
function lifecycleOptions(opts: pulumi.CustomResourceOptions, inheritedProtect: boolean): PlanOptions {
    const out: PlanOptions = {};
    if (opts.protect ?? inheritedProtect) out.protect = true;
    if (opts.retainOnDelete) out.retainOnDelete = true;
    if (opts.deleteBeforeReplace) out.deleteBeforeReplace = true;
    if (opts.customTimeouts && Object.keys(opts.customTimeouts).length) out.customTimeouts = { ...opts.customTimeouts };
    if (opts.ignoreChanges?.length) out.ignoreChanges = [...opts.ignoreChanges];
    return out;
}

function fullKey(key: string): string {
    return key.includes(":") ? key : `${CONFIG_NAMESPACE}:${key}`;
}

function urnOf(r: pulumi.Resource): Promise<string> {
    return new Promise((resolve) => r.urn.apply((u) => resolve(u)));
}

/** Flattens a dependsOn option (a resource, a list, or Outputs of either) into resources. */
async function resourcesIn(deps: unknown): Promise<pulumi.Resource[]> {
    const value = pulumi.Output.isInstance(deps) ? await new Promise((r) => (deps as pulumi.Output<unknown>).apply(r)) : await deps;
    if (pulumi.Resource.isInstance(value)) return [value];
    if (!Array.isArray(value)) return [];
    return (await Promise.all(value.map(resourcesIn))).flat();
}

/** Replaces every secret the engine would see with a placeholder. */
export function redactSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(redactSecrets);
    if (value && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        if (obj[specialSigKey] === specialSecretSig) return SECRET_PLACEHOLDER;
        return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, redactSecrets(v)]));
    }
    return value;
}

/** The values as a policy sees them: secrets unwrapped, as CrossGuard does. */
export function unwrapSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        if (obj[specialSigKey] === specialSecretSig) return unwrapSecrets(obj.value);
        return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

/** A phase's sub-phase components (those declaring SUBPHASE_INPUT), each with everything below it. */
export function subphasesOf(resources: PlanResource[], phase: PlanResource["phase"]): PlanSubphase[] {
    const children = new Map<string, PlanResource[]>();
    for (const r of resources) {
        if (!r.parent) continue;
        const siblings = children.get(r.parent);
        if (siblings) siblings.push(r);
        else children.set(r.parent, [r]);
    }
    const below = (r: PlanResource): string[] => [r.urn, ...(children.get(r.urn) ?? []).flatMap(below)];
    return resources
        .filter((r) => r.phase === phase && typeof r.inputs[SUBPHASE_INPUT] === "string")
        .map((r) => ({ name: r.inputs[SUBPHASE_INPUT] as string, resources: below(r) }));
}

/**
 * The facts a reader needs to tell whether the plan is for their cluster.
 * Picked field by field: the JSON is a public interface, and the config
 * schema may grow keys that do not belong in it.
 */
export function clusterFacts(c: ClusterConfig, sources?: Record<string, string>): PlanCluster {
    return {
        name: c.name,
        dnsDomain: c.dnsDomain,
        apiEndpoint: c.apiEndpoint,
        podSubnets: c.podSubnets,
        serviceSubnets: c.serviceSubnets,
        nodeSubnets: c.nodeSubnets,
        kubeProxyDisabled: c.kubeProxyDisabled,
        kubePrism: { enabled: c.kubePrism.enabled, port: c.kubePrism.port },
        coreDnsDisabled: c.coreDnsDisabled,
        forwardKubeDNSToHost: c.forwardKubeDNSToHost,
        ...(c.talosConfig === undefined ? {} : { talosConfig: c.talosConfig }),
        ...(sources ? { sources: { ...sources } } : {}),
    };
}

/** What the stack is bound to, from its config alone: `pulumi up` checks it against the live cluster. */
export function bindingFacts(config: PlatformConfig): PlanBinding {
    return {
        context: config.cluster.kubeContext ?? null,
        apiServers: apiServers(config),
        identity: config.cluster.identity ?? null,
        providerClusterIdentifier: PROVIDER_CLUSTER_IDENTIFIER,
        protect: config.lifecycle.protect,
    };
}

/** The plan of a stack file the program never saw (not YAML, or shaped wrong): its errors, and nothing registered. */
export function failedPlan(project: string, stack: string, errors: PlanError[]): Plan {
    const phases = PHASES.map((name) => ({ name, gate: null, resources: [], subphases: [] }));
    return { project, stack, ok: false, errors, findings: [], phases, resources: [] };
}

/**
 * What the mock engine answers for a resource: its inputs, as a created
 * resource's outputs. A StackReference to the stack itself reads its
 * outputs; a plan has none recorded. Of a CRD the program reads only the
 * name: echoing the Gateway API's 400 KB of schemas back through the SDK's
 * serialisation cost `npm run plan` about 6 % of its time (cli/bench.ts).
 */
export function mockState(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
    if (type === "pulumi:pulumi:StackReference") return { ...inputs, outputs: {} };
    if (type === "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition")
        return { apiVersion: inputs.apiVersion, kind: inputs.kind, metadata: inputs.metadata };
    return inputs;
}

/**
 * Runs the Pulumi program in-process under the mock engine and records what
 * `pulumi up` would register: every resource, its parent, its direct
 * dependsOn and its inputs. Config errors come from the program itself, so
 * the plan cannot disagree with a real run.
 */
export async function runPlan(input: PlanInput): Promise<Plan> {
    return (await runPlanWithPolicyConfig(input)).plan;
}

/** runPlan, plus the policy pack config it evaluated the policies with (none when the config has errors). */
export async function runPlanWithPolicyConfig(input: PlanInput): Promise<{ plan: Plan; policyConfig?: PolicyConfig }> {
    return withoutSdkStacks(() => planUnderMocks(input));
}

async function planUnderMocks(input: PlanInput): Promise<{ plan: Plan; policyConfig?: PolicyConfig }> {
    const project = input.project ?? "talos-platform";
    const stack = input.stack ?? "dev";
    const inputsByKey = new Map<string, unknown[]>();
    const recorded: Recorded[] = [];

    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                const key = `${args.type}::${args.name}`;
                inputsByKey.set(key, [...(inputsByKey.get(key) ?? []), args.inputs]);
                return { id: `${args.name}-id`, state: mockState(args.type, args.inputs) };
            },
            call: () => ({}),
        },
        project,
        stack,
        true,
    );
    const secretKeys = (input.secretKeys ?? []).map(fullKey);
    const tracer = new SecretTracer();
    const config: Record<string, string> = {};
    for (const [k, given] of Object.entries(input.config)) {
        const v = secretKeys.includes(fullKey(k)) ? tracer.tag(fullKey(k), given) : given;
        config[fullKey(k)] = typeof v === "string" ? v : JSON.stringify(v);
    }
    pulumi.runtime.setAllConfig(config, secretKeys);
    // The program reads cluster.talosConfig relative to the stack file, as `pulumi up` does from the project directory.
    setConfigBaseDir(input.baseDir);

    const validation = validateStack();
    const plan: Plan = { project, stack, ok: true, errors: [], findings: [], phases: [], resources: [] };
    plan.config = configView(Object.fromEntries(Object.entries(input.config).map(([k, v]) => [fullKey(k), v])), secretKeys);
    plan.findings.push(
        ...validation.problems
            .filter((p) => p.severity === "warning")
            .map((p): Finding => ({ rule: p.rule ?? "config", severity: "advisory", resource: p.path, message: describeProblem(p) })),
    );

    // The runtime also rejects the root stack's internal promises with the
    // program's error; those copies are expected and would otherwise surface
    // as unhandled rejections after the plan has already reported the error.
    const stray: unknown[] = [];
    const onUnhandled = (reason: unknown) => stray.push(reason);
    process.on("unhandledRejection", onUnhandled);
    // The program's warnings are already in the findings; keep them off the console.
    const warn = console.warn;
    // The program reads the cluster before registering anything; a plan contacts nothing unless told to.
    const previousSource = useClusterSource(input.clusterSource ?? OFFLINE_SOURCE);
    console.warn = (...args: unknown[]) => {
        if (!String(args[0]).startsWith("warning: [runtime]")) warn(...args);
    };
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../index") as () => Promise<unknown>;
        await pulumi.runtime.runInPulumiStack(async () => {
            const protectedResources = new Set<pulumi.Resource>();
            pulumi.runtime.registerStackTransformation((args) => {
                const { resource, type, name, opts } = args;
                const options = lifecycleOptions(opts, opts.parent !== undefined && protectedResources.has(opts.parent));
                if (options.protect) protectedResources.add(resource);
                recorded.push({ resource, type, name, parent: opts.parent, dependsOn: resourcesIn(opts.dependsOn), options });
                return undefined;
            });
            return program();
        });
    } catch (e) {
        if (!ConfigError.isConfigError(e)) throw e;
        plan.errors = e.problems.map((p) => ({
            path: p.path,
            message: describeProblem(p),
            value: p.value,
            fix: p.fix,
            ...(p.rule ? { rule: p.rule } : {}),
        }));
    } finally {
        setConfigBaseDir(undefined);
        useClusterSource(previousSource);
        console.warn = warn;
        await new Promise((resolve) => setImmediate(resolve));
        process.off("unhandledRejection", onUnhandled);
    }
    const unexpected = stray.find((r) => !ConfigError.isConfigError(r));
    if (unexpected !== undefined) throw unexpected;

    const urns = new Map<pulumi.Resource, string>();
    await Promise.all(recorded.map(async (r) => urns.set(r.resource, await urnOf(r.resource))));
    const byUrn = new Map<string, Recorded>();
    for (const r of recorded) byUrn.set(urns.get(r.resource)!, r);

    const phaseOf = (r: Recorded | undefined): PlanResource["phase"] => {
        for (let cur = r; cur; cur = cur.parent ? byUrn.get(urns.get(cur.parent)!) : undefined) {
            const phase = phaseOfType(cur.type);
            if (phase) return phase;
        }
        return null;
    };
    // Inputs are matched by type and name, in registration order.
    const taken = new Map<string, number>();
    const rawInputs: Record<string, unknown>[] = [];
    for (const r of recorded) {
        const key = `${r.type}::${r.name}`;
        const i = taken.get(key) ?? 0;
        taken.set(key, i + 1);
        const raw = (inputsByKey.get(key)?.[i] ?? {}) as Record<string, unknown>;
        rawInputs.push(raw);
        plan.resources.push({
            urn: urns.get(r.resource)!,
            type: r.type,
            name: r.name,
            parent: r.parent ? (urns.get(r.parent) ?? null) : null,
            dependsOn: (await r.dependsOn).map((d) => urns.get(d)).filter((u): u is string => u !== undefined),
            phase: phaseOf(r),
            inputs: tracer.untag(redactSecrets(raw) as Record<string, unknown>),
            options: r.options,
        });
    }
    plan.secrets = secretKeys.map((key) => ({
        key,
        ciphertextDigest: input.secretDigests?.[key] ?? null,
        usedBy: plan.resources.flatMap((r, i) =>
            tracer
                .uses(rawInputs[i])
                .filter((u) => u.keys.includes(key))
                .map((u) => ({ urn: r.urn, path: u.path })),
        ),
    }));
    plan.phases = PHASES.map((name) => ({
        name,
        gate: plan.resources.find((r) => r.type === `talos-platform:${name}:Gate`)?.urn ?? null,
        resources: plan.resources.filter((r) => r.phase === name).map((r) => r.urn),
        subphases: subphasesOf(plan.resources, name),
    }));
    const policyConfig = validation.config ? stackPolicyConfig(validation.config) : undefined;
    plan.findings.push(
        ...(await evaluatePolicies(
            plan.resources.map((r, i) => ({ ...r, props: unwrapSecrets(tracer.untag(rawInputs[i])) as Record<string, unknown> })),
            policyConfig,
        )),
    );
    if (validation.config) {
        plan.cluster = clusterFacts(validation.config.cluster, validation.clusterSources);
        plan.binding = bindingFacts(validation.config);
    }
    plan.ok = plan.errors.length === 0 && !plan.findings.some((f) => f.severity === "mandatory");
    return { plan, policyConfig };
}
