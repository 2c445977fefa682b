import { Parser, ReadEntry } from "tar";
import * as fs from "node:fs";
import * as path from "node:path";

export interface Template {
    name: string;
    text: string;
}

/** The files of a chart that its data is derived from. */
export interface ChartFiles {
    valuesYaml: string;
    /** values.schema.json, when the chart ships one. */
    schemaJson?: string;
    /** Every file under templates/: its path below templates/, and its text. */
    templates: Template[];
    /** Chart.yaml, to tell which chart and version an archive holds. */
    chartYaml?: string;
}

/** Chart archives are a few hundred kilobytes; anything far larger is not a chart. */
const MAX_BYTES = 64 * 1024 * 1024;

/**
 * The chart's own files from a chart archive (.tgz, as `helm package` and
 * Helm repositories make them): `<chart>/values.yaml`,
 * `<chart>/values.schema.json`, `<chart>/templates/**`. Subcharts under
 * `charts/` are left out: their values sit under their own key. Nothing is
 * written to disk.
 */
export function readChartArchive(archive: Buffer): Promise<ChartFiles> {
    return new Promise((resolve, reject) => {
        const files = new Map<string, string>();
        let total = 0;
        const parser = new Parser({
            onReadEntry: (entry: ReadEntry) => {
                const parts = entry.path.split("/");
                const wanted =
                    entry.type === "File" &&
                    parts.length >= 2 &&
                    (["values.yaml", "values.schema.json", "Chart.yaml"].includes(parts.slice(1).join("/")) || parts[1] === "templates");
                if (!wanted) {
                    entry.resume();
                    return;
                }
                const chunks: Buffer[] = [];
                entry.on("data", (c: Buffer) => {
                    total += c.length;
                    if (total > MAX_BYTES) parser.abort(new Error(`the archive unpacks to more than ${MAX_BYTES} bytes; not a chart`));
                    else chunks.push(c);
                });
                entry.on("end", () => files.set(parts.slice(1).join("/"), Buffer.concat(chunks).toString("utf8")));
            },
        });
        parser.on("error", reject);
        parser.on("abort", reject);
        parser.on("end", () => {
            const valuesYaml = files.get("values.yaml");
            if (valuesYaml === undefined) return reject(new Error("the archive holds no <chart>/values.yaml; is it a Helm chart?"));
            resolve({
                valuesYaml,
                schemaJson: files.get("values.schema.json"),
                templates: [...files]
                    .filter(([name]) => name.startsWith("templates/"))
                    .map(([name, text]) => ({ name: name.slice("templates/".length), text })),
                chartYaml: files.get("Chart.yaml"),
            });
        });
        parser.end(archive);
    });
}

/** The same files from an unpacked chart directory (a chart's source tree at a tag). */
export function readChartDir(dir: string): ChartFiles {
    const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8") : undefined);
    const valuesYaml = read("values.yaml");
    if (valuesYaml === undefined) throw new Error(`${dir} holds no values.yaml; is it a Helm chart?`);
    return {
        valuesYaml,
        schemaJson: read("values.schema.json"),
        templates: readTemplates(path.join(dir, "templates")),
        chartYaml: read("Chart.yaml"),
    };
}

/** Every file below `dir`, named by its path below it. */
export function readTemplates(dir: string, below = ""): Template[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const name = below ? `${below}/${e.name}` : e.name;
        if (e.isDirectory()) return readTemplates(path.join(dir, e.name), name);
        return [{ name, text: fs.readFileSync(path.join(dir, e.name), "utf8") }];
    });
}
