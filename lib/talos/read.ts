import * as fs from "node:fs";
import { documentFacts, TalosRead } from "./facts";
import { documentKind, validateTalosDocument } from "./schema";
import { talconfigFacts } from "./talconfig";
import { parseYamlDocuments } from "./yaml";

/** A file that cannot be read at all. */
export class TalosFileError extends Error {}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Is this a talhelper talconfig.yaml rather than a Talos machine configuration? */
function looksLikeTalconfig(doc: Record<string, unknown>): boolean {
    return documentKind(doc) === undefined && !("machine" in doc) && !("cluster" in doc) && ("clusterName" in doc || "nodes" in doc);
}

/**
 * Reads the cluster facts from a Talos machine configuration (one v1alpha1
 * document, possibly with other documents after it, as Talos 1.13 writes
 * it) or from a talhelper talconfig.yaml. `file` is resolved; `shown` is
 * how messages name it.
 */
export function readTalosConfig(file: string, shown: string): TalosRead {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new TalosFileError(code === "EISDIR" ? "is a directory" : `cannot be read (${code ?? String(e)})`);
    }
    const { docs, problems } = parseYamlDocuments(text, shown);
    if (problems.length) return { facts: {}, problems, kind: "machine-config" };
    const maps = docs.filter(isMap);
    if (!maps.length || maps.length !== docs.length) {
        return {
            facts: {},
            problems: [`${shown}: is not a Talos machine configuration or a talconfig.yaml: it holds no map of settings`],
            kind: "machine-config",
        };
    }
    if (looksLikeTalconfig(maps[0])) {
        if (maps.length > 1)
            return { facts: {}, problems: [`${shown}: a talconfig.yaml is one YAML document, this has ${maps.length}`], kind: "talconfig" };
        return talconfigFacts(maps[0], shown, file);
    }
    return machineConfigFacts(maps, shown);
}

function machineConfigFacts(docs: Record<string, unknown>[], shown: string): TalosRead {
    const problems: string[] = [];
    const label = (d: Record<string, unknown>) => (typeof d.kind === "string" ? `${shown} (${d.kind})` : shown);
    for (const d of docs) problems.push(...validateTalosDocument(d).map((p) => `${label(d)}: ${p}`));
    const main = docs.filter((d) => d.version !== undefined);
    if (main.length !== 1) {
        problems.push(
            main.length
                ? `${shown}: has ${main.length} v1alpha1 documents (\`version: v1alpha1\`); Talos takes one`
                : `${shown}: has no v1alpha1 document (\`version: v1alpha1\` with \`machine\` and \`cluster\`), which holds the cluster settings: is this the machine configuration talosctl gen config or talhelper genconfig wrote?`,
        );
    }
    const type = main[0] ? (main[0].machine as { type?: unknown } | undefined)?.type : undefined;
    if (type === "worker") {
        problems.push(
            `${shown}: machine.type is worker: a worker's configuration leaves out the control plane's cluster settings (cluster.proxy, cluster.coreDNS), so it cannot say what the cluster runs; point talosConfig at a control-plane configuration (controlplane.yaml)`,
        );
    }
    if (problems.length) return { facts: {}, problems, kind: "machine-config" };
    return { facts: documentFacts(main[0], shown), problems, kind: "machine-config" };
}
