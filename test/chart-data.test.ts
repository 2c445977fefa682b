import Ajv2019 from "ajv/dist/2019";
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { carriedDir, chartData, FILES, loadChartDir } from "../lib/charts/catalog";
import { chartKeys, pruneSchema, validatorModule } from "../lib/charts/derive";
import { releases } from "../lib/checks/crd-order";
import { isPlainObject, mergeValues, Values } from "../lib/merge";
import { devConfig } from "./cluster-scenarios";
import { SCHEMAS } from "./schemas";
import Ajv from "ajv";

// lib/charts/data is what the program carries; test/upstream is the
// independent reference, vendored byte for byte from the charts. The carried
// data must be exactly what the generator makes of those files, and its
// validators must give the full upstream schemas' verdicts.

const CARRIED = [
    { chart: "cilium", version: "1.19.4", schema: true },
    { chart: "cert-manager", version: "v1.21.1", schema: true },
    { chart: "ingress-nginx", version: "4.15.1", schema: false },
    { chart: "coredns", version: "1.46.2", schema: false },
    { chart: "flux-operator", version: "0.49.0", schema: true },
];

const upstream = (chart: string, version: string, file: string) => path.join(SCHEMAS, "helm", chart, version, file);
const carriedFile = (chart: string, version: string, file: string) => path.join(carriedDir(), chart, version, file);

describe("chart data carried in lib/charts/data", () => {
    it("holds the pinned chart versions (and flux-operator's newest retrievable one), each listed in SOURCES.md", () => {
        const dirs = fs
            .readdirSync(carriedDir(), { withFileTypes: true })
            .filter((d) => d.isDirectory())
            .flatMap((d) => fs.readdirSync(path.join(carriedDir(), d.name)).map((v) => `${d.name}/${v}`));
        expect(dirs.sort()).to.deep.equal(CARRIED.map((c) => `${c.chart}/${c.version}`).sort());
        const sources = fs.readFileSync(path.join(carriedDir(), "SOURCES.md"), "utf8");
        for (const c of CARRIED) expect(sources).to.contain(`| \`${c.chart}/${c.version}\` |`);
    });

    for (const c of CARRIED) {
        describe(`${c.chart} ${c.version}`, () => {
            const valuesYaml = () => fs.readFileSync(upstream(c.chart, c.version, "values.yaml"), "utf8");

            it("keys.json is the key tree of the vendored values.yaml", () => {
                const carried = JSON.parse(fs.readFileSync(carriedFile(c.chart, c.version, FILES.keys), "utf8"));
                const derived = chartKeys(c.chart, c.version, valuesYaml());
                expect(carried.chart).to.equal(c.chart);
                expect(carried.version).to.equal(c.version);
                expect(carried.keys).to.deep.equal(derived.keys);
                // Keys read by templates are kept apart, and none of them is a key values.yaml has.
                for (const k of carried.templateKeys as string[]) {
                    expect(
                        chartKeys(c.chart, c.version, valuesYaml(), [{ name: "t.yaml", text: `{{ .Values.${k} }}` }]).templateKeys,
                    ).to.deep.equal([k]);
                }
            });

            if (!c.schema) {
                it("has no schema files: the chart ships no values.schema.json", () => {
                    expect(fs.existsSync(carriedFile(c.chart, c.version, FILES.validator))).to.equal(false);
                    expect(fs.existsSync(carriedFile(c.chart, c.version, FILES.defaults))).to.equal(false);
                });
                return;
            }

            it("defaults.json is the vendored values.yaml, parsed", () => {
                const carried = JSON.parse(fs.readFileSync(carriedFile(c.chart, c.version, FILES.defaults), "utf8"));
                expect(carried).to.deep.equal(parse(valuesYaml()));
            });

            it("validate.js is the vendored values.schema.json, compiled", () => {
                const schema = JSON.parse(fs.readFileSync(upstream(c.chart, c.version, "values.schema.json"), "utf8"));
                expect(fs.readFileSync(carriedFile(c.chart, c.version, FILES.validator), "utf8")).to.equal(validatorModule(schema));
            });
        });
    }
});

/** Every leaf of `v`, as a path. */
function leaves(v: unknown, at: string[] = []): string[][] {
    if (!isPlainObject(v)) return [at];
    const entries = Object.entries(v);
    return entries.length ? entries.flatMap(([k, x]) => leaves(x, [...at, k])) : [at];
}

function withValue(base: Values, at: string[], value: unknown): Values {
    const out: Values = {};
    let cur = out;
    at.forEach((seg, i) => {
        if (i === at.length - 1) cur[seg] = value;
        else cur = (cur[seg] = {}) as Values;
    });
    return mergeValues(base, out);
}

/** A value of another kind than `v`: what a slip in values looks like. */
function wrongKind(v: unknown): unknown {
    if (typeof v === "string") return 7;
    if (typeof v === "number" || typeof v === "boolean") return "not-a-" + typeof v;
    if (Array.isArray(v)) return { not: "a list" };
    return [1];
}

describe("the carried validators give the upstream schemas' verdicts", () => {
    const full = (chart: string, version: string) => {
        const schema = JSON.parse(fs.readFileSync(upstream(chart, version, "values.schema.json"), "utf8"));
        const ajv = String(schema.$schema ?? "").includes("2019-09")
            ? new Ajv2019({ strict: false, allErrors: true, validateFormats: false })
            : new Ajv({ strict: false, allErrors: true, validateFormats: false });
        return ajv.compile(schema);
    };
    const verdict = (v: { (d: unknown): boolean; errors?: Array<{ instancePath: string; keyword: string }> | null }, d: unknown) =>
        v(d) ? [] : [...new Set((v.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`))].sort();

    for (const c of CARRIED.filter((x) => x.schema)) {
        it(`${c.chart} ${c.version}: on its defaults, the program's values, and a wrong kind at every ${c.chart === "cilium" ? "fifth " : ""}leaf`, function () {
            this.timeout(120_000);
            const data = chartData(c.chart, c.version)!;
            expect(data.validate, "validator").to.be.a("function");
            const upstreamValidate = full(c.chart, c.version);
            const defaults = data.defaults!;
            const program = releases(devConfig()).filter((r) => r.chart === c.chart);
            const samples: unknown[] = [defaults, ...program.map((r) => mergeValues(defaults, r.values))];
            const all = leaves(defaults).filter((p) => p.length);
            all.filter((_, i) => c.chart !== "cilium" || i % 5 === 0).forEach((p) => {
                const leaf = p.reduce<unknown>((x, s) => (x as Values)[s], defaults);
                samples.push(withValue(defaults, p, wrongKind(leaf)));
            });
            let refused = 0;
            for (const s of samples) {
                const expected = verdict(upstreamValidate, s);
                expect(verdict(data.validate!, s), JSON.stringify(expected)).to.deep.equal(expected);
                if (expected.length) refused++;
            }
            // The corpus exercises refusals, not only valid values.
            expect(refused).to.be.greaterThan(samples.length / 4);
            expect(verdict(data.validate!, defaults)).to.deep.equal([]);
        });
    }

    it("pruning keeps every keyword that decides, and a property named like an annotation", () => {
        const schema = {
            type: "object",
            description: "dropped",
            properties: { description: { type: "string", default: "x" }, title: { enum: ["a"], title: "dropped" } },
            required: ["description"],
        };
        expect(pruneSchema(schema)).to.deep.equal({
            type: "object",
            properties: { description: { type: "string" }, title: { enum: ["a"] } },
            required: ["description"],
        });
    });
});

describe("loading chart data", () => {
    it("carries nothing for a version it has no folder for, nor for a name that is not one path segment", () => {
        expect(chartData("cilium", "1.19.5")).to.equal(undefined);
        expect(chartData("cilium", "../cilium/1.19.4")).to.equal(undefined);
        expect(chartData("..", "cilium")).to.equal(undefined);
        expect(loadChartDir(path.join(carriedDir(), "nope"), "carried")).to.equal(undefined);
    });
});
