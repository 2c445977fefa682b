import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import * as vm from "node:vm";
import type { Values } from "../merge";
import type { ChartKeys } from "./derive";

// The chart data a check can read: what lib/charts/data carries for the
// pinned versions, and what `npm run plan -- --fetch-charts` fetched for
// others. Loaded once per process, on first use.

/** One error of a values schema, as ajv reports it. */
export interface SchemaError {
    instancePath: string;
    schemaPath: string;
    keyword: string;
    params: Record<string, unknown>;
    message?: string;
}

/** A precompiled validator (ajv standalone): true when valid, else its errors are on `errors`. */
export interface Validator {
    (data: unknown): boolean;
    errors?: SchemaError[] | null;
}

export interface ChartData {
    chart: string;
    version: string;
    /** Where it came from: shipped with the program, or fetched for this plan. */
    origin: "carried" | "fetched";
    /** The directory its files are in. */
    dir: string;
    keys: ChartKeys;
    /** The chart's values.schema.json, compiled; absent when the chart ships none. */
    validate?: Validator;
    /** The chart's values.yaml, which Helm validates the user's values over: present with `validate`. */
    defaults?: Values;
}

/** The files of one chart version, in lib/charts/data and in the fetch cache alike. */
export const FILES = { keys: "keys.json", defaults: "defaults.json", validator: "validate.js" } as const;

/**
 * The carried data: lib/charts/data next to this file when run from the
 * sources, and the same folder of the repository when run from dist/.
 */
export function carriedDir(): string {
    const candidates = [path.join(__dirname, "data"), path.resolve(__dirname, "..", "..", "..", "lib", "charts", "data")];
    return candidates.find((d) => fs.existsSync(d)) ?? candidates[0];
}

/** Reads one chart version's files from `dir`; undefined when it holds none. */
export function loadChartDir(dir: string, origin: ChartData["origin"]): ChartData | undefined {
    const keysFile = path.join(dir, FILES.keys);
    if (!fs.existsSync(keysFile)) return undefined;
    const keys = JSON.parse(fs.readFileSync(keysFile, "utf8")) as ChartKeys;
    const data: ChartData = { chart: keys.chart, version: keys.version, origin, dir, keys };
    const validatorFile = path.join(dir, FILES.validator);
    if (fs.existsSync(validatorFile)) {
        data.validate = loadValidator(validatorFile);
        data.defaults = JSON.parse(fs.readFileSync(path.join(dir, FILES.defaults), "utf8")) as Values;
    }
    return data;
}

/**
 * Loads a generated validator as Node loads a CommonJS module, except that
 * its `require("ajv/dist/runtime/…")` resolves from this program: a fetched
 * chart's validator sits in the user's cache, where no node_modules is.
 */
function loadValidator(file: string): Validator {
    const module = { exports: {} as unknown };
    const wrapped = vm.runInThisContext(`(function (exports, require, module) {${fs.readFileSync(file, "utf8")}\n})`, { filename: file });
    (wrapped as (e: unknown, r: NodeJS.Require, m: { exports: unknown }) => void)(module.exports, createRequire(__filename), module);
    return module.exports as Validator;
}

const carried = new Map<string, ChartData | null>();
const fetched = new Map<string, ChartData>();

const id = (chart: string, version: string) => `${chart}@${version}`;

/** The data for a chart version: carried, else fetched for this run; undefined when the program has none. */
export function chartData(chart: string, version: string): ChartData | undefined {
    const key = id(chart, version);
    const f = fetched.get(key);
    if (f) return f;
    if (!carried.has(key)) {
        // A chart or version is one path segment; anything else is not one the program carries.
        const safe = /^[\w.+-]+$/.test(chart) && /^[\w.+-]+$/.test(version) && !chart.startsWith(".") && !version.startsWith(".");
        carried.set(key, (safe && loadChartDir(path.join(carriedDir(), chart, version), "carried")) || null);
    }
    return carried.get(key) ?? undefined;
}

/** The versions of a chart the program carries data for, newest last. */
export function carriedVersions(chart: string): string[] {
    const dir = path.join(carriedDir(), chart);
    if (!/^[\w.+-]+$/.test(chart) || !fs.existsSync(dir)) return [];
    return fs
        .readdirSync(dir)
        .filter((v) => fs.existsSync(path.join(dir, v, FILES.keys)))
        .sort();
}

/** Makes fetched data visible to the checks of this process (`--fetch-charts`). */
export function useFetched(data: ChartData): void {
    fetched.set(id(data.chart, data.version), data);
}

/** Forgets fetched data (tests). */
export function forgetFetched(): void {
    fetched.clear();
}
