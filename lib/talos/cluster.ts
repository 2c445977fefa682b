import * as path from "node:path";
import { isPlainObject } from "../merge";
import { parseCidr } from "../net";
import { configPath, error, Problem } from "../problems";
import { TALOS_FACTS, TalosFact, TalosFactName, TalosFacts } from "./facts";
import { readTalosConfig, TalosFileError } from "./read";

/**
 * Where each Talos fact of the plan came from: `talos:<file>:<field>` (the
 * Talos configuration states it), `talos-default:<file>:<field>` (it leaves
 * the field out and Talos' default applies), `config` (talos-platform:cluster
 * alone) or `default` (neither: this program's default).
 */
export type ClusterSources = Record<TalosFactName, string>;

export interface WithTalos {
    /** The cluster section with the Talos facts filled in; absent when the Talos configuration cannot be used. */
    value?: unknown;
    problems: Problem[];
    sources?: ClusterSources;
}

const TALOS_CONFIG = configPath(["cluster", "talosConfig"]);

/** Where a fact a finding names stands: its key here, and the Talos field it was read from, if it was. */
export interface FactOrigin {
    /** talos-platform:cluster.<fact>. */
    key: string;
    /** `<file>:<field>` when cluster.talosConfig supplied it. */
    talos?: string;
    /** The Talos configuration leaves the field out, and Talos' default applies. */
    defaulted?: boolean;
}

/**
 * Where `fact` came from, for a finding's message and fix: with
 * cluster.talosConfig the user changes the Talos configuration, not the key
 * (changing the key alone would only make the two disagree).
 */
export function factOrigin(sources: ClusterSources | undefined, fact: TalosFactName): FactOrigin {
    const key = configPath(["cluster", fact]);
    const source = sources?.[fact] ?? "";
    const m = /^(talos|talos-default):(.*)$/.exec(source);
    return m ? { key, talos: m[2], defaulted: m[1] === "talos-default" } : { key };
}

/** "talos-platform:cluster.dnsDomain", or "controlplane.yaml:cluster.network.dnsDomain, read through talos-platform:cluster.talosConfig". */
export function factWhere(o: FactOrigin): string {
    if (!o.talos) return o.key;
    return `${o.talos}${o.defaulted ? " unset: Talos' default" : ""}, read through ${TALOS_CONFIG}`;
}

const FILE_FIX =
    "give the path of the control plane's machine configuration (controlplane.yaml) or of talconfig.yaml, relative to the stack file's directory (the project directory for Pulumi.<stack>.yaml), or remove talosConfig and state the facts under talos-platform:cluster";

function sameEndpoint(a: unknown, b: unknown): boolean {
    try {
        return new URL(String(a)).href === new URL(String(b)).href;
    } catch {
        return a === b;
    }
}

/** A subnet as Kubernetes reads it: host bits masked, one spelling per address. */
function subnets(v: unknown): string[] {
    return (Array.isArray(v) ? v : []).map((s) => {
        const c = parseCidr(String(s));
        return c ? `${c.network}/${c.prefix}` : String(s);
    });
}

const AGREE: Partial<Record<TalosFactName, (a: unknown, b: unknown) => boolean>> = {
    apiEndpoint: sameEndpoint,
    dnsDomain: (a, b) => String(a).toLowerCase().replace(/\.$/, "") === String(b).toLowerCase().replace(/\.$/, ""),
    podSubnets: (a, b) => JSON.stringify(subnets(a)) === JSON.stringify(subnets(b)),
    serviceSubnets: (a, b) => JSON.stringify(subnets(a)) === JSON.stringify(subnets(b)),
};

const agree = (fact: TalosFactName, a: unknown, b: unknown) => (AGREE[fact] ?? ((x, y) => JSON.stringify(x) === JSON.stringify(y)))(a, b);

function disagreement(key: (string | number)[], given: unknown, fact: TalosFact, talosValue: unknown, file: string): Problem {
    const says = fact.defaulted ? "leaves it unset, so Talos runs its default," : "says";
    return error(
        configPath(["cluster", ...key]),
        `disagrees with the Talos configuration: ${fact.at} ${says} ${JSON.stringify(talosValue)}. Two sources of one fact that disagree are how the Week 4 incident began`,
        `make them agree: remove ${configPath(["cluster", ...key])} to take Talos' value, or correct ${file} (and the cluster) if that is the stale one`,
        given,
    );
}

function sourcesOf(cluster: Record<string, unknown>, facts: TalosFacts): ClusterSources {
    return Object.fromEntries(
        TALOS_FACTS.map((f) => {
            const fact = facts[f];
            if (fact) return [f, `${fact.defaulted ? "talos-default" : "talos"}:${fact.at}`];
            return [f, cluster[f] === undefined ? "default" : "config"];
        }),
    ) as ClusterSources;
}

/**
 * The cluster section with the facts of `cluster.talosConfig` filled in,
 * and an error for each fact that both state differently, naming both
 * sources. Without talosConfig, the section as it is. `baseDir` is where a
 * relative talosConfig starts.
 */
export function withTalosFacts(cluster: unknown, baseDir: string): WithTalos {
    if (!isPlainObject(cluster)) return { value: cluster, problems: [] };
    const given = cluster.talosConfig;
    if (given === undefined) return { value: cluster, problems: [], sources: sourcesOf(cluster, {}) };
    // A talosConfig of the wrong type is the schema's to report.
    if (typeof given !== "string" || !given) return { value: cluster, problems: [] };
    const file = path.resolve(baseDir, given);
    let read;
    try {
        read = readTalosConfig(file, given);
    } catch (e) {
        if (!(e instanceof TalosFileError)) throw e;
        return { problems: [error(TALOS_CONFIG, `${e.message} (resolved to ${file})`, FILE_FIX, given)] };
    }
    if (read.problems.length) {
        return {
            problems: read.problems.map((p) =>
                error(
                    TALOS_CONFIG,
                    `names a Talos configuration that is not valid for Talos v1.13: ${p}`,
                    read.kind === "talconfig"
                        ? "correct talconfig.yaml (talhelper validate talconfig checks it too), or point talosConfig at the machine configuration talhelper generated"
                        : "correct the machine configuration (talosctl validate --config <file> --mode metal checks it too), or point talosConfig at the one the control plane runs",
                    given,
                ),
            ),
        };
    }
    const problems: Problem[] = [];
    const merged: Record<string, unknown> = { ...cluster };
    for (const f of TALOS_FACTS) {
        const fact = read.facts[f];
        if (!fact) continue;
        if (f === "kubePrism") {
            const talos = fact.value as { enabled: boolean; port: number };
            const mine = isPlainObject(cluster.kubePrism) ? cluster.kubePrism : {};
            for (const k of ["enabled", "port"] as const) {
                if (mine[k] !== undefined && mine[k] !== talos[k])
                    problems.push(disagreement(["kubePrism", k], mine[k], fact, talos[k], given));
            }
            merged.kubePrism = { ...talos, ...mine };
        } else if (cluster[f] === undefined) merged[f] = fact.value;
        else if (!agree(f, cluster[f], fact.value)) problems.push(disagreement([f], cluster[f], fact, fact.value, given));
    }
    return problems.length ? { problems } : { value: merged, problems, sources: sourcesOf(cluster, read.facts) };
}
