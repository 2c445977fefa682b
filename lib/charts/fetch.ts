import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { RawConfig, SECTIONS, validateConfig } from "../config";
import { releases } from "../checks/crd-order";
import { isPlainObject } from "../merge";
import { CONFIG_NAMESPACE } from "../problems";
import { readChartArchive } from "./archive";
import { ChartData, chartData, loadChartDir, useFetched } from "./catalog";
import { chartDataFiles } from "./derive";

// `npm run plan -- --fetch-charts`: for a chart version the program carries
// no data for, download the chart (a Helm repository's index.yaml and
// archive, or an OCI registry), derive the same files lib/charts/data holds,
// keep them in the user's cache directory, and let the checks use them.

/** A chart the stack installs, as its section pins it. */
export interface ChartPin {
    section: string;
    chart: string;
    repository: string;
    version: string;
}

/**
 * The charts whose merged values the plan would check but the program
 * carries no data for: what --fetch-charts downloads. `config` is plan input
 * (keys with the talos-platform: namespace, or bare); a config with errors
 * gets nothing fetched, since the plan stops at its errors anyway.
 */
export function uncheckedPins(config: Record<string, unknown>, secretKeys: readonly string[] = []): ChartPin[] {
    const raw: RawConfig = { sections: {}, otherKeys: {} };
    const secret = new Set(secretKeys.map((k) => k.replace(`${CONFIG_NAMESPACE}:`, "")));
    for (const [full, value] of Object.entries(config)) {
        if (full.includes(":") && !full.startsWith(`${CONFIG_NAMESPACE}:`)) continue;
        const key = full.replace(`${CONFIG_NAMESPACE}:`, "");
        if (key in SECTIONS && !secret.has(key)) raw.sections[key] = value;
        else raw.otherKeys[key] = { secret: secret.has(key) };
    }
    const { config: parsed } = validateConfig(raw);
    if (!parsed) return [];
    // Values left empty (nothing computed, nothing given) are the chart's defaults: nothing to check.
    return releases(parsed)
        .filter((r) => !chartData(r.config.chart, r.config.version) && Object.keys(r.values).length > 0)
        .map((r) => ({ section: r.section, chart: r.config.chart, repository: r.config.repository, version: r.config.version }));
}

/** Where fetched charts are kept: $XDG_CACHE_HOME/talos-platform/charts, else ~/.cache/talos-platform/charts. */
export function chartCacheDir(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
    const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(home, ".cache");
    return path.join(base, "talos-platform", "charts");
}

/** A download or registry failure, said in one line. */
export class ChartFetchError extends Error {}

export interface FetchOptions {
    /** @default chartCacheDir() */
    cacheDir?: string;
    /** @default globalThis.fetch */
    fetch?: typeof fetch;
    /** Per request. @default 60 s */
    timeoutMs?: number;
}

const MAX_DOWNLOAD = 64 * 1024 * 1024;

async function get(
    url: string,
    o: Required<Pick<FetchOptions, "fetch" | "timeoutMs">>,
    headers: Record<string, string> = {},
): Promise<Response> {
    try {
        return await o.fetch(url, { headers, redirect: "follow", signal: AbortSignal.timeout(o.timeoutMs) });
    } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        throw new ChartFetchError(`GET ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    }
}

async function body(res: Response, url: string): Promise<Buffer> {
    if (!res.ok) throw new ChartFetchError(`GET ${url}: HTTP ${res.status} ${res.statusText}`.trim());
    const declared = Number(res.headers.get("content-length") ?? 0);
    if (declared > MAX_DOWNLOAD) throw new ChartFetchError(`GET ${url}: ${declared} bytes, more than a chart or an index takes`);
    const buf = Buffer.from(await res.arrayBuffer());
    if (buf.length > MAX_DOWNLOAD) throw new ChartFetchError(`GET ${url}: ${buf.length} bytes, more than a chart or an index takes`);
    return buf;
}

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** A chart archive from a Helm repository: its index.yaml names the archive's URL and digest. */
async function fromHelmRepository(pin: ChartPin, o: Required<Pick<FetchOptions, "fetch" | "timeoutMs">>): Promise<Buffer> {
    const base = pin.repository.replace(/\/+$/, "") + "/";
    const indexUrl = new URL("index.yaml", base).toString();
    const index: unknown = parse((await body(await get(indexUrl, o), indexUrl)).toString("utf8"));
    const entries = isPlainObject(index) && isPlainObject(index.entries) ? index.entries[pin.chart] : undefined;
    if (!Array.isArray(entries)) throw new ChartFetchError(`${indexUrl} lists no chart named ${pin.chart}`);
    const bare = pin.version.replace(/^v/, "");
    const entry = entries.find((e) => isPlainObject(e) && typeof e.version === "string" && e.version.replace(/^v/, "") === bare) as
        { urls?: unknown; digest?: unknown } | undefined;
    if (!entry) throw new ChartFetchError(`${indexUrl} has no version ${pin.version} of ${pin.chart}`);
    const first = Array.isArray(entry.urls) ? entry.urls[0] : undefined;
    if (typeof first !== "string") throw new ChartFetchError(`${indexUrl}: ${pin.chart} ${pin.version} names no archive URL`);
    const url = new URL(first, base).toString();
    const archive = await body(await get(url, o), url);
    if (typeof entry.digest === "string" && entry.digest !== "" && sha256(archive) !== entry.digest.replace(/^sha256:/, "")) {
        throw new ChartFetchError(`${url}: the archive's SHA-256 is not the digest ${indexUrl} gives`);
    }
    return archive;
}

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

/** Registries on this machine speak plain HTTP, as Docker and Helm's tests run them; every other registry HTTPS. */
function registryBase(host: string): string {
    const name = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
    return `${["localhost", "127.0.0.1", "::1"].includes(name) ? "http" : "https"}://${host}`;
}

/**
 * A chart from an OCI registry (the distribution API): the manifest of the
 * version's tag, then its chart layer. Public registries (ghcr.io, quay.io)
 * answer 401 with where to get an anonymous pull token first.
 */
async function fromOciRegistry(pin: ChartPin, o: Required<Pick<FetchOptions, "fetch" | "timeoutMs">>): Promise<Buffer> {
    const ref = `${pin.repository.replace(/^oci:\/\//, "").replace(/\/+$/, "")}/${pin.chart}`;
    const slash = ref.indexOf("/");
    const host = ref.slice(0, slash);
    const name = ref.slice(slash + 1);
    const base = registryBase(host);
    // OCI tags cannot hold '+'; Helm pushes a version's build metadata with '_'.
    const tag = pin.version.replace(/\+/g, "_");
    let auth: Record<string, string> = {};
    const request = async (url: string, accept?: string): Promise<Response> => {
        const headers = { ...auth, ...(accept ? { Accept: accept } : {}) };
        let res = await get(url, o, headers);
        if (res.status === 401 && !auth.Authorization) {
            auth = await pullToken(res.headers.get("www-authenticate"), name, o);
            res = await get(url, o, { ...auth, ...(accept ? { Accept: accept } : {}) });
        }
        return res;
    };
    const manifestUrl = `${base}/v2/${name}/manifests/${tag}`;
    const manifest: unknown = JSON.parse((await body(await request(manifestUrl, OCI_MANIFEST), manifestUrl)).toString("utf8"));
    const layers = isPlainObject(manifest) && Array.isArray(manifest.layers) ? manifest.layers : [];
    const layer = layers.find((l) => isPlainObject(l) && l.mediaType === HELM_CHART_LAYER) as { digest?: unknown } | undefined;
    if (!layer || typeof layer.digest !== "string")
        throw new ChartFetchError(`${manifestUrl} is not a Helm chart: it has no ${HELM_CHART_LAYER} layer`);
    const blobUrl = `${base}/v2/${name}/blobs/${layer.digest}`;
    const archive = await body(await request(blobUrl), blobUrl);
    if (`sha256:${sha256(archive)}` !== layer.digest) throw new ChartFetchError(`${blobUrl}: the blob's SHA-256 is not its digest`);
    return archive;
}

/** An anonymous pull token, from the realm a registry's 401 names (Docker's token authentication). */
async function pullToken(
    challenge: string | null,
    name: string,
    o: Required<Pick<FetchOptions, "fetch" | "timeoutMs">>,
): Promise<Record<string, string>> {
    const params = Object.fromEntries([...(challenge ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!/^Bearer\b/i.test(challenge ?? "") || !params.realm) {
        throw new ChartFetchError(`the registry refuses anonymous pulls of ${name} (HTTP 401${challenge ? `, ${challenge}` : ""})`);
    }
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set("service", params.service);
    url.searchParams.set("scope", params.scope ?? `repository:${name}:pull`);
    const token: unknown = JSON.parse((await body(await get(url.toString(), o), url.toString())).toString("utf8"));
    const value = isPlainObject(token) ? (token.token ?? token.access_token) : undefined;
    if (typeof value !== "string") throw new ChartFetchError(`${url.origin}${url.pathname} gave no pull token`);
    return { Authorization: `Bearer ${value}` };
}

/** The cache folder of one chart version from one repository: the same chart name and version elsewhere may differ. */
export function cacheFolder(cacheDir: string, pin: ChartPin): string {
    return path.join(cacheDir, pin.chart, pin.version, sha256(pin.repository).slice(0, 16));
}

/**
 * The data of a pinned chart version: from the cache when an earlier run
 * fetched it, else downloaded, checked against its digest, derived and
 * cached. The checks of this process then use it.
 */
export async function fetchChart(pin: ChartPin, options: FetchOptions = {}): Promise<ChartData> {
    const o = { fetch: options.fetch ?? globalThis.fetch, timeoutMs: options.timeoutMs ?? 60_000 };
    const dir = cacheFolder(options.cacheDir ?? chartCacheDir(), pin);
    let data = loadChartDir(dir, "fetched");
    if (!data) {
        const archive = pin.repository.startsWith("oci://") ? await fromOciRegistry(pin, o) : await fromHelmRepository(pin, o);
        let files;
        try {
            files = await readChartArchive(archive);
        } catch (e) {
            throw new ChartFetchError(`${pin.chart} ${pin.version} from ${pin.repository}: ${(e as Error).message}`);
        }
        const meta: unknown = files.chartYaml ? parse(files.chartYaml) : undefined;
        const named = isPlainObject(meta) ? { name: meta.name, version: String(meta.version ?? "") } : undefined;
        if (named && (named.name !== pin.chart || named.version.replace(/^v/, "") !== pin.version.replace(/^v/, ""))) {
            throw new ChartFetchError(`${pin.repository} served ${String(named.name)} ${named.version} for ${pin.chart} ${pin.version}`);
        }
        const derived = chartDataFiles(pin.chart, pin.version, files);
        // Written aside, then renamed: a second plan never reads half a folder.
        fs.mkdirSync(path.dirname(dir), { recursive: true });
        const tmp = fs.mkdtempSync(`${dir}.tmp-`);
        for (const [name, text] of Object.entries(derived)) fs.writeFileSync(path.join(tmp, name), text);
        fs.writeFileSync(path.join(tmp, "source.json"), JSON.stringify({ ...pin, sha256: sha256(archive) }, null, 2) + "\n");
        try {
            fs.renameSync(tmp, dir);
        } catch {
            // Another plan cached it first.
            fs.rmSync(tmp, { recursive: true, force: true });
        }
        data = loadChartDir(dir, "fetched");
        if (!data) throw new ChartFetchError(`${dir}: the derived chart data could not be read back`);
    }
    useFetched(data);
    return data;
}
