import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ChartFiles, readChartArchive, readChartDir, readTemplates } from "../lib/charts/archive";
import { carriedDir } from "../lib/charts/catalog";
import { chartDataFiles } from "../lib/charts/derive";

const USAGE = `usage: node -r ts-node/register/transpile-only cli/chart-data.ts --chart NAME --version VERSION
           (--archive CHART.tgz | --dir CHART_DIR | --values values.yaml [--schema values.schema.json] [--templates DIR])
           [--out DIR] [--check]

Derives what talos-platform carries of one chart version (lib/charts/data/NAME/VERSION/):
keys.json (the key tree of values.yaml, with the keys its comments document
and those its templates read), and for a chart that ships values.schema.json,
defaults.json (values.yaml as JSON: Helm validates the user's values over it)
and validate.js (the schema without annotations, precompiled by ajv).

  --archive FILE   a chart archive, as 'helm pull REPO/NAME --version VERSION' saves it
  --dir DIR        an unpacked chart (the chart's folder in its source repository)
  --values FILE    values.yaml alone; with --schema and --templates (a folder), the same
                   as an archive; templates are optional (their keys are then missing)
  --out DIR        where the chart folders go (default: lib/charts/data)
  --check          write nothing; exit 1 when a file differs from what is there

Record where the files came from in lib/charts/data/SOURCES.md.

Exit status: 0 ok; 1 a file is not current (--check); 2 usage or input error.`;

async function inputs(v: Record<string, string | boolean | undefined>): Promise<ChartFiles> {
    const given = ["archive", "dir", "values"].filter((k) => v[k] !== undefined);
    if (given.length !== 1) throw new Error("give one of --archive, --dir or --values");
    if (v.archive) return readChartArchive(fs.readFileSync(v.archive as string));
    if (v.dir) return readChartDir(v.dir as string);
    return {
        valuesYaml: fs.readFileSync(v.values as string, "utf8"),
        schemaJson: v.schema ? fs.readFileSync(v.schema as string, "utf8") : undefined,
        templates: v.templates ? readTemplates(v.templates as string) : [],
    };
}

export async function main(argv: string[], out: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
    let values;
    try {
        values = parseArgs({
            args: argv,
            options: {
                chart: { type: "string" },
                version: { type: "string" },
                archive: { type: "string" },
                dir: { type: "string" },
                values: { type: "string" },
                schema: { type: "string" },
                templates: { type: "string" },
                out: { type: "string" },
                check: { type: "boolean", default: false },
                help: { type: "boolean", short: "h" },
            },
        }).values;
        if (values.help) {
            out(USAGE + "\n");
            return 0;
        }
        if (!values.chart || !values.version) throw new Error("--chart and --version are required");
    } catch (e) {
        out(`${(e as Error).message}\n${USAGE}\n`);
        return 2;
    }
    let files: Record<string, string>;
    try {
        files = chartDataFiles(values.chart, values.version, await inputs(values));
    } catch (e) {
        out(`chart-data: ${(e as Error).message}\n`);
        return 2;
    }
    const dir = path.join(values.out ?? carriedDir(), values.chart, values.version);
    let stale = 0;
    for (const [name, text] of Object.entries(files)) {
        const file = path.join(dir, name);
        const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
        if (current === text) continue;
        if (values.check) {
            out(`${file} is not current\n`);
            stale++;
        } else {
            fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(file, text);
            out(`wrote ${file} (${text.length} bytes)\n`);
        }
    }
    return stale ? 1 : 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (e: unknown) => {
            process.stderr.write(`chart-data: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
            process.exitCode = 3;
        },
    );
}
