import { applyPatch, Operation } from "fast-json-patch";
import * as fs from "node:fs";
import * as path from "node:path";
import { suggestion } from "../config/issues";
import { documentFacts, MACHINE_CONFIG_FIELD, TALOS_FACTS, TalosFactName, TalosFacts, TalosRead, valueAt } from "./facts";
import { parseYamlDocuments } from "./yaml";
import { validateTalosDocument } from "./schema";

// talhelper's talconfig.yaml (budimanjojo/talhelper, pkg/config/config.go):
// a control-plane node's machine configuration is `talosctl gen config`'s
// for clusterName, endpoint, domain, clusterPodNets and clusterSvcNets,
// then the node group's patches (controlPlane.patches) and the node's own,
// then the global ones (patches). This builds the part of that
// configuration the facts live in, applies the patches the same way, and
// reads the facts from the result.

/** talhelper's top-level keys (TalhelperConfig's yaml tags). */
const TALCONFIG_KEYS = [
    "clusterName",
    "talosVersion",
    "kubernetesVersion",
    "endpoint",
    "domain",
    "allowSchedulingOnMasters",
    "allowSchedulingOnControlPlanes",
    "additionalMachineCertSans",
    "additionalApiServerCertSans",
    "inlineManifests",
    "clusterPodNets",
    "clusterSvcNets",
    "cniConfig",
    "patches",
    "nodes",
    "imageFactory",
    "controlPlane",
    "worker",
];

/** talhelper's default talosVersion (pkg/config/defaults.go). */
const TALHELPER_TALOS_VERSION = "v1.13.9";

/** Lists Talos' strategic merge replaces instead of appending (`merge:"replace"` in v1alpha1_types.go) among those read here. */
const REPLACED_LISTS = new Set(["cluster.network.podSubnets", "cluster.network.serviceSubnets"]);

type Doc = Record<string, unknown>;
const isMap = (v: unknown): v is Doc => v !== null && typeof v === "object" && !Array.isArray(v);

/** Talos' strategic merge of `patch` into `base`, as pkg/machinery/config/merge does it for these fields. */
export function strategicMerge(base: unknown, patch: unknown, at = ""): unknown {
    if (isMap(patch)) {
        if (patch.$patch === "delete") return undefined;
        const out: Doc = isMap(base) ? { ...base } : {};
        for (const [k, v] of Object.entries(patch)) {
            if (k === "$patch") continue;
            const merged = strategicMerge(out[k], v, at ? `${at}.${k}` : k);
            if (merged === undefined) delete out[k];
            else out[k] = merged;
        }
        return out;
    }
    if (Array.isArray(patch)) return Array.isArray(base) && !REPLACED_LISTS.has(at) ? [...base, ...patch] : [...patch];
    // A zero value does not overwrite (merge.go): null, and an empty string.
    return patch === null || patch === "" ? base : patch;
}

/** `v1.10.5` → [1, 10]; undefined for anything else. */
function minorVersion(v: unknown): [number, number] | undefined {
    const m = typeof v === "string" ? /^v?(\d+)\.(\d+)/.exec(v) : null;
    return m ? [Number(m[1]), Number(m[2])] : undefined;
}

const laterThan = (v: [number, number], major: number, minor: number) => v[0] > major || (v[0] === major && v[1] > minor);

interface Patch {
    /** Where it is in talconfig.yaml, e.g. controlPlane.patches[3]. */
    where: string;
    text: string;
}

interface Base {
    doc: Doc;
    /** Where each fact comes from while no patch changes it. */
    at: Partial<Record<TalosFactName, { at: string; defaulted: boolean }>>;
}

/** The machine configuration `talosctl gen config` writes for these settings, as far as the facts go. */
function baseConfig(t: Doc, shown: string, version: [number, number]): Base {
    const features: Doc = {};
    // pkg/machinery/config/generate/init.go and contract.go: KubePrism from Talos 1.6, host DNS from 1.7, forwarding to it from 1.8.
    if (laterThan(version, 1, 5)) features.kubePrism = { enabled: true, port: 7445 };
    if (laterThan(version, 1, 6)) features.hostDNS = { enabled: true, ...(laterThan(version, 1, 7) ? { forwardKubeDNSToHost: true } : {}) };
    const network: Doc = {
        dnsDomain: typeof t.domain === "string" && t.domain ? t.domain : "cluster.local",
        podSubnets: Array.isArray(t.clusterPodNets) && t.clusterPodNets.length ? t.clusterPodNets : ["10.244.0.0/16"],
        serviceSubnets: Array.isArray(t.clusterSvcNets) && t.clusterSvcNets.length ? t.clusterSvcNets : ["10.96.0.0/12"],
    };
    const cluster: Doc = { network };
    if (t.clusterName !== undefined) cluster.clusterName = t.clusterName;
    if (t.endpoint !== undefined) cluster.controlPlane = { endpoint: t.endpoint };
    const given = (key: string) => ({ at: `${shown}:${key}`, defaulted: t[key] === undefined || t[key] === "" });
    const generated = { at: `${shown}:talosVersion`, defaulted: true };
    const patchable = (field: TalosFactName) => ({
        at: `${shown}:patches (none sets ${MACHINE_CONFIG_FIELD[field].join(".")})`,
        defaulted: true,
    });
    return {
        doc: { version: "v1alpha1", machine: { type: "controlplane", features }, cluster },
        at: {
            name: given("clusterName"),
            apiEndpoint: given("endpoint"),
            dnsDomain: given("domain"),
            podSubnets: given("clusterPodNets"),
            serviceSubnets: given("clusterSvcNets"),
            kubeProxyDisabled: patchable("kubeProxyDisabled"),
            coreDnsDisabled: patchable("coreDnsDisabled"),
            kubePrism: generated,
            forwardKubeDNSToHost: generated,
        },
    };
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/** The patches a control-plane node gets, in talhelper's order (OverrideGlobalCfg, then GenerateConfig). */
function nodePatches(t: Doc, node: Doc | undefined, index: number): Patch[] {
    const group = strings(valueAt(t, ["controlPlane", "patches"])).map((text, i) => ({ where: `controlPlane.patches[${i}]`, text }));
    const own = strings(node?.patches).map((text, i) => ({ where: `nodes[${index}].patches[${i}]`, text }));
    const global = strings(t.patches).map((text, i) => ({ where: `patches[${i}]`, text }));
    return [...(node?.overridePatches === true ? [] : group), ...own, ...global];
}

/** Does a patch document set (or remove) `field`? A JSON patch: an operation at it, above it or below it. */
function touches(p: unknown, field: string[]): boolean {
    if (Array.isArray(p)) {
        const at = `/${field.join("/")}`;
        return (p as Operation[]).some(
            (op) => typeof op?.path === "string" && (at.startsWith(op.path + "/") || at === op.path || op.path.startsWith(at + "/")),
        );
    }
    for (let i = 1; i <= field.length; i++) {
        const v = valueAt(p, field.slice(0, i));
        if (v === undefined) return false;
        if (isMap(v) && v.$patch === "delete") return true;
    }
    return true;
}

/** Applies one patch; returns the new document and the facts it sets, or a problem (never quoting the document). */
function applyOne(doc: Doc, patch: Patch, shown: string, dir: string): { doc: Doc; sets: TalosFactName[] } | { problem: string } {
    let text = patch.text;
    let where = `${shown}:${patch.where}`;
    if (text.startsWith("@")) {
        const file = text.slice(1);
        where = `${where} (${text})`;
        try {
            text = fs.readFileSync(path.resolve(dir, file), "utf8");
        } catch (e) {
            return {
                problem: `${where}: the patch file cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}), relative to ${shown}'s directory`,
            };
        }
    }
    const { docs, problems } = parseYamlDocuments(text, where);
    if (problems.length) return { problem: problems.join("; ") };
    let out: Doc = doc;
    const sets = new Set<TalosFactName>();
    for (const p of docs) {
        if (!(isMap(p) && (p.apiVersion !== undefined || p.kind !== undefined))) {
            for (const f of TALOS_FACTS) if (touches(p, MACHINE_CONFIG_FIELD[f])) sets.add(f);
        }
        if (Array.isArray(p)) {
            try {
                out = applyPatch(out, p as Operation[], true, false).newDocument;
            } catch (e) {
                // fast-json-patch's message goes on to print the whole document.
                return { problem: `${where}: the JSON patch cannot be applied: ${String((e as Error).message).split("\n")[0]}` };
            }
        } else if (isMap(p) && (p.apiVersion !== undefined || p.kind !== undefined)) {
            continue; // another document of the machine configuration, none of the facts
        } else {
            out = strategicMerge(out, p) as Doc;
        }
    }
    return { doc: out, sets: [...sets] };
}

interface NodeResult {
    name: string;
    facts: TalosFacts;
    problems: string[];
}

function nodeFacts(t: Doc, shown: string, dir: string, base: Base, node: Doc | undefined, index: number): NodeResult {
    const name = node ? String(node.hostname ?? `nodes[${index}]`) : "controlPlane";
    const at = structuredClone(base.at);
    let doc = structuredClone(base.doc);
    const problems: string[] = [];
    for (const patch of nodePatches(t, node, index)) {
        const applied = applyOne(doc, patch, shown, dir);
        if ("problem" in applied) {
            problems.push(applied.problem);
            continue;
        }
        doc = applied.doc;
        for (const f of applied.sets) at[f] = { at: `${shown}:${patch.where}`, defaulted: false };
    }
    problems.push(...validateTalosDocument(doc).map((p) => `${shown} (${name}'s configuration after its patches): ${p}`));
    const facts = documentFacts(doc, shown);
    for (const f of TALOS_FACTS) if (facts[f] && at[f]) facts[f] = { ...facts[f]!, ...at[f]! };
    return { name, facts, problems };
}

/** Values talhelper fills in from talenv.yaml or the environment, or a template, sops ciphertext: unknown to the plan. */
const UNRESOLVED = /\$\{[^}]*\}|\{\{|ENC\[/;

export function talconfigFacts(t: Doc, shown: string, file: string): TalosRead {
    const problems: string[] = [];
    for (const key of Object.keys(t).filter((k) => !TALCONFIG_KEYS.includes(k))) {
        const likely = suggestion(key, TALCONFIG_KEYS);
        problems.push(`${shown}:${key}: is not a talhelper setting${likely ? `; did you mean ${likely}?` : ""}`);
    }
    const version = minorVersion(t.talosVersion ?? TALHELPER_TALOS_VERSION);
    if (!version) problems.push(`${shown}:talosVersion: is not a Talos version such as v1.13.9`);
    if (problems.length || !version) return { facts: {}, problems, kind: "talconfig" };

    const base = baseConfig(t, shown, version);
    const nodes = Array.isArray(t.nodes) ? t.nodes.filter(isMap) : [];
    const controlPlanes = nodes.map((n, i) => ({ n, i })).filter(({ n }) => n.controlPlane === true);
    const results = controlPlanes.length
        ? controlPlanes.map(({ n, i }) => nodeFacts(t, shown, path.dirname(file), base, n, i))
        : [nodeFacts(t, shown, path.dirname(file), base, undefined, 0)];
    problems.push(...new Set(results.flatMap((r) => r.problems)));
    const [first, ...rest] = results;
    for (const f of TALOS_FACTS) {
        const value = JSON.stringify(first.facts[f]?.value);
        const other = rest.find((r) => JSON.stringify(r.facts[f]?.value) !== value);
        if (other) {
            problems.push(
                `${shown}: the control-plane nodes ${first.name} and ${other.name} disagree on ${MACHINE_CONFIG_FIELD[f].join(".")} (${value} and ${JSON.stringify(other.facts[f]?.value)}): their patches differ, so the cluster has no one value`,
            );
        }
        if (UNRESOLVED.test(value ?? "")) {
            problems.push(
                `${first.facts[f]!.at}: sets ${MACHINE_CONFIG_FIELD[f].join(".")} through a variable, template or sops ciphertext, which only talhelper genconfig resolves; point talosConfig at the machine configuration it generated (clusterconfig/<cluster>-<node>.yaml)`,
            );
        }
    }
    return { facts: problems.length ? {} : first.facts, problems, kind: "talconfig" };
}
