import { expect } from "chai";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { create } from "tar";
import { parse, stringify } from "yaml";
import { Io, main } from "../cli/plan";
import { forgetFetched } from "../lib/charts/catalog";
import { cacheFolder, chartCacheDir, fetchChart, uncheckedPins } from "../lib/charts/fetch";
import { readStackFile } from "../lib/plan/stackfile";
import { Json, ROOT } from "./helpers";
import { SCHEMAS } from "./schemas";

// --fetch-charts against a Helm repository and an OCI registry served on
// 127.0.0.1: the archives are made here from the vendored chart files, with
// a version the program carries no data for.

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "talos-platform-charts-"));
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A chart archive as `helm package` makes it: <name>/Chart.yaml, values.yaml, values.schema.json, templates/. */
function chartArchive(name: string, version: string, files: Record<string, string>): Buffer {
    const dir = tmp();
    fs.mkdirSync(path.join(dir, name, "templates"), { recursive: true });
    fs.writeFileSync(path.join(dir, name, "Chart.yaml"), stringify({ apiVersion: "v2", name, version }));
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name, f), text);
    const file = path.join(dir, `${name}-${version}.tgz`);
    create({ gzip: true, cwd: dir, file, sync: true, portable: true }, [name]);
    return fs.readFileSync(file);
}

const INGRESS_VERSION = "4.99.0";
/** ingress-nginx ships no schema; this one is the test's, so that only the fetched chart can refuse `controller.kind: Both`. */
const INGRESS_SCHEMA = {
    $schema: "http://json-schema.org/draft-07/schema#",
    type: "object",
    properties: { controller: { type: "object", properties: { kind: { enum: ["Deployment", "DaemonSet"] } } } },
};

function ingressArchive(): Buffer {
    return chartArchive("ingress-nginx", INGRESS_VERSION, {
        "values.yaml": fs.readFileSync(path.join(SCHEMAS, "helm", "ingress-nginx", "4.15.1", "values.yaml"), "utf8"),
        "values.schema.json": JSON.stringify(INGRESS_SCHEMA),
        "templates/extra.yaml": "{{ if .Values.controller.onlyInTemplates }}kind: ConfigMap{{ end }}",
    });
}

const FLUX_VERSION = "0.99.0";
function fluxArchive(): Buffer {
    const dir = path.join(SCHEMAS, "helm", "flux-operator", "0.49.0");
    return chartArchive("flux-operator", FLUX_VERSION, {
        "values.yaml": fs.readFileSync(path.join(dir, "values.yaml"), "utf8"),
        "values.schema.json": fs.readFileSync(path.join(dir, "values.schema.json"), "utf8"),
    });
}

interface Served {
    url: string;
    requests: string[];
    close(): Promise<void>;
}

function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Served> {
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
        requests.push(`${req.method} ${req.url}`);
        handler(req, res);
    });
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as AddressInfo;
            resolve({ url: `127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) });
        }),
    );
}

/** A Helm repository: /charts/index.yaml and the archive it names (relative URL, as chart-releaser writes them). */
function helmRepository(archive: Buffer, digest = sha256(archive)): Promise<Served> {
    return serve((req, res) => {
        if (req.url === "/charts/index.yaml") {
            res.end(
                stringify({
                    apiVersion: "v1",
                    entries: {
                        "ingress-nginx": [
                            { name: "ingress-nginx", version: "4.98.0", urls: ["ingress-nginx-4.98.0.tgz"] },
                            { name: "ingress-nginx", version: INGRESS_VERSION, urls: [`ingress-nginx-${INGRESS_VERSION}.tgz`], digest },
                        ],
                    },
                }),
            );
        } else if (req.url === `/charts/ingress-nginx-${INGRESS_VERSION}.tgz`) {
            res.end(archive);
        } else {
            res.statusCode = 404;
            res.end();
        }
    });
}

/** An OCI registry (distribution API) that wants an anonymous bearer token, as ghcr.io does. */
function ociRegistry(archive: Buffer): Promise<Served> {
    const digest = `sha256:${sha256(archive)}`;
    let self = "";
    const served = serve((req, res) => {
        const url = new URL(req.url ?? "/", "http://x");
        if (url.pathname === "/token") {
            const ok =
                url.searchParams.get("scope") === "repository:charts/flux-operator:pull" && url.searchParams.get("service") === "test";
            res.statusCode = ok ? 200 : 400;
            res.end(JSON.stringify(ok ? { token: "anonymous-pull" } : { error: "bad scope" }));
            return;
        }
        if (req.headers.authorization !== "Bearer anonymous-pull") {
            res.statusCode = 401;
            res.setHeader(
                "WWW-Authenticate",
                `Bearer realm="http://${self}/token",service="test",scope="repository:charts/flux-operator:pull"`,
            );
            res.end();
            return;
        }
        if (url.pathname === `/v2/charts/flux-operator/manifests/${FLUX_VERSION}`) {
            expect(req.headers.accept).to.contain("application/vnd.oci.image.manifest.v1+json");
            res.setHeader("Content-Type", "application/vnd.oci.image.manifest.v1+json");
            res.end(
                JSON.stringify({
                    schemaVersion: 2,
                    config: { mediaType: "application/vnd.cncf.helm.config.v1+json", digest: "sha256:00", size: 2 },
                    layers: [{ mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip", digest, size: archive.length }],
                }),
            );
        } else if (url.pathname === `/v2/charts/flux-operator/blobs/${digest}`) {
            res.end(archive);
        } else {
            res.statusCode = 404;
            res.end();
        }
    });
    return served.then((s) => {
        self = s.url;
        return s;
    });
}

/** The dev stack with `edit` applied, as a stack file. */
function stackFile(edit: (config: Record<string, Json>) => void): string {
    const doc = parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
    edit(doc.config);
    const file = path.join(tmp(), "Pulumi.fetch.yaml");
    fs.writeFileSync(file, stringify(doc));
    return file;
}

async function plan(args: string[], cache: string) {
    let out = "";
    let err = "";
    const io: Io = { out: (t) => (out += t), err: (t) => (err += t), cwd: ROOT, projectDir: ROOT, chartCache: cache };
    const code = await main(args, io);
    return { code, out, err, json: code < 2 ? JSON.parse(out) : undefined };
}

function ingressStack(repo: string): string {
    return stackFile((c) => {
        c["talos-platform:ingressNginx"] = {
            ...c["talos-platform:ingressNginx"],
            version: INGRESS_VERSION,
            repository: `http://${repo}/charts`,
            values: { controller: { kind: "Both", replicaCont: 3, onlyInTemplates: true } },
        };
    });
}

describe("--fetch-charts", function () {
    this.timeout(60_000);
    afterEach(() => forgetFetched());

    it("without it, a version the program carries no data for is only the advisory chart-values-unchecked", async () => {
        const file = ingressStack("127.0.0.1:9");
        const { code, json } = await plan(["--config", file, "--format", "json"], tmp());
        expect(code).to.equal(0);
        const f = json.findings.filter((x: Json) => x.rule === "chart-values-unchecked");
        expect(f).to.have.length(1);
        expect(f[0]).to.include({ severity: "advisory", resource: "talos-platform:ingressNginx.version" });
        expect(f[0].message).to.contain("--fetch-charts");
        // 4.15.1, which the program carries, is older: pinning it would undo an upgrade.
        expect(f[0].message).to.not.contain("pin 4.15.1");
    });

    it("fetches from a Helm repository, checks against the chart's own schema and keys, and reuses the cache offline", async () => {
        const repo = await helmRepository(ingressArchive());
        const cache = tmp();
        const file = ingressStack(repo.url);
        try {
            const first = await plan(["--config", file, "--format", "json", "--fetch-charts"], cache);
            expect(first.code, first.err).to.equal(1);
            expect(repo.requests).to.deep.equal(["GET /charts/index.yaml", `GET /charts/ingress-nginx-${INGRESS_VERSION}.tgz`]);
            expect(first.err).to.contain(`checking the ingress-nginx ${INGRESS_VERSION} chart's values`);
            // The schema only the fetched archive has refuses the kind; its values.yaml knows no replicaCont.
            const kind = first.json.errors.find((e: Json) => e.path === "talos-platform:ingressNginx.values.controller.kind");
            expect(kind.message).to.contain(`ingress-nginx ${INGRESS_VERSION} chart's values.schema.json`).and.contain("allowed values");
            expect(kind.fix).to.equal('use one of "Deployment", "DaemonSet"');
            const unknown = first.json.findings.filter((f: Json) => f.rule === "unknown-chart-value").map((f: Json) => f.resource);
            // A key only the templates read is known.
            expect(unknown).to.deep.equal(["talos-platform:ingressNginx.values.controller.replicaCont"]);
            expect(first.json.findings.some((f: Json) => f.rule === "chart-values-unchecked")).to.equal(false);

            const dir = cacheFolder(cache, {
                section: "ingressNginx",
                chart: "ingress-nginx",
                version: INGRESS_VERSION,
                repository: `http://${repo.url}/charts`,
            });
            expect(fs.readdirSync(dir).sort()).to.deep.equal(["defaults.json", "keys.json", "source.json", "validate.js"]);
        } finally {
            await repo.close();
        }
        forgetFetched();
        const again = await plan(["--config", file, "--format", "json", "--fetch-charts"], cache);
        expect(again.code).to.equal(1);
        expect(again.json.errors.map((e: Json) => e.path)).to.include("talos-platform:ingressNginx.values.controller.kind");
        expect(repo.requests).to.have.length(2);
    });

    it("fetches from an OCI registry after getting an anonymous pull token", async () => {
        const archive = fluxArchive();
        const registry = await ociRegistry(archive);
        try {
            const file = stackFile((c) => {
                c["talos-platform:flux"] = {
                    ...c["talos-platform:flux"],
                    version: FLUX_VERSION,
                    repository: `oci://${registry.url}/charts`,
                    values: { logLevel: "verbose", serviceMonitor: { crate: true } },
                };
            });
            const { code, json, err } = await plan(["--config", file, "--format", "json", "--fetch-charts"], tmp());
            expect(code, err).to.equal(1);
            expect(registry.requests).to.deep.equal([
                `GET /v2/charts/flux-operator/manifests/${FLUX_VERSION}`,
                `GET /token?service=test&scope=repository%3Acharts%2Fflux-operator%3Apull`,
                `GET /v2/charts/flux-operator/manifests/${FLUX_VERSION}`,
                `GET /v2/charts/flux-operator/blobs/sha256:${sha256(archive)}`,
            ]);
            const level = json.errors.find((e: Json) => e.path === "talos-platform:flux.values.logLevel");
            expect(level.fix).to.equal('use one of "debug", "info", "error"');
            const unknown = json.findings.find((f: Json) => f.rule === "unknown-chart-value");
            expect(unknown.resource).to.equal("talos-platform:flux.values.serviceMonitor.crate");
            expect(unknown.message).to.contain("did you mean 'create'?");
        } finally {
            await registry.close();
        }
    });

    it("stops, naming the chart and the reason, when the archive is not the one the index vouches for", async () => {
        const repo = await helmRepository(ingressArchive(), "0".repeat(64));
        try {
            const cache = tmp();
            const { code, err } = await plan(["--config", ingressStack(repo.url), "--fetch-charts"], cache);
            expect(code).to.equal(2);
            expect(err).to.contain(`--fetch-charts: cannot fetch ingress-nginx ${INGRESS_VERSION}`).and.contain("SHA-256");
            expect(fs.readdirSync(cache)).to.deep.equal([]);
        } finally {
            await repo.close();
        }
    });

    it("stops when the repository cannot be reached, or lacks the version", async () => {
        const cache = tmp();
        const down = await plan(["--config", ingressStack("127.0.0.1:9"), "--fetch-charts"], cache);
        expect(down.code).to.equal(2);
        expect(down.err).to.contain("GET http://127.0.0.1:9/charts/index.yaml");
        const repo = await helmRepository(ingressArchive());
        try {
            await expectReject(
                fetchChart(
                    { section: "ingressNginx", chart: "ingress-nginx", version: "4.97.0", repository: `http://${repo.url}/charts` },
                    { cacheDir: cache },
                ),
                "has no version 4.97.0 of ingress-nginx",
            );
        } finally {
            await repo.close();
        }
    });

    it("refuses an archive that holds another chart or version than the one asked for", async () => {
        const repo = await helmRepository(chartArchive("ingress-nginx", "4.98.0", { "values.yaml": "controller: {}\n" }));
        try {
            await expectReject(
                fetchChart(
                    { section: "ingressNginx", chart: "ingress-nginx", version: INGRESS_VERSION, repository: `http://${repo.url}/charts` },
                    { cacheDir: tmp() },
                ),
                `served ingress-nginx 4.98.0 for ingress-nginx ${INGRESS_VERSION}`,
            );
        } finally {
            await repo.close();
        }
    });

    it("keeps its cache outside the project", async () => {
        const { code, err } = await plan(["--config", ingressStack("127.0.0.1:9"), "--fetch-charts"], path.join(ROOT, "cache"));
        expect(code).to.equal(2);
        expect(err).to.contain("is inside the project");
        expect(chartCacheDir({ XDG_CACHE_HOME: "/var/cache/me" }, "/h")).to.equal(path.join("/var/cache/me", "talos-platform", "charts"));
        // A relative XDG_CACHE_HOME is invalid per the XDG spec; the default applies.
        expect(chartCacheDir({ XDG_CACHE_HOME: "cache" }, "/h")).to.equal(path.join("/h", ".cache", "talos-platform", "charts"));
        expect(chartCacheDir({}, "/h")).to.equal(path.join("/h", ".cache", "talos-platform", "charts"));
    });

    it("fetches only charts whose values the plan checks and the program carries no data for", () => {
        const pins = (edit: (c: Record<string, Json>) => void) => {
            const input = readStackFile(path.join(ROOT, "Pulumi.dev.yaml"), "dev");
            edit(input.config);
            return uncheckedPins(input.config, input.secretKeys).map((p) => `${p.chart} ${p.version}`);
        };
        // flux-operator 0.58.1 has no data, but nothing sets its values: its defaults are all there is to install.
        expect(pins(() => undefined)).to.deep.equal([]);
        expect(
            pins((c) => {
                c["talos-platform:cluster"].coreDnsDisabled = true;
                c["talos-platform:cilium"].version = "1.19.5";
                c["talos-platform:coredns"] = { version: "1.45.0" };
                c["talos-platform:flux"].values = { logLevel: "debug" };
            }),
        ).to.deep.equal(["cilium 1.19.5", "coredns 1.45.0", "flux-operator 0.58.1"]);
        // Talos runs CoreDNS: there is no CoreDNS release to check.
        expect(
            pins((c) => {
                c["talos-platform:cluster"].coreDnsDisabled = false;
                c["talos-platform:coredns"] = { version: "1.45.0" };
            }),
        ).to.deep.equal([]);
        // A config with errors fetches nothing: the plan stops at them.
        expect(pins((c) => (c["talos-platform:cilium"].version = "latest"))).to.deep.equal([]);
    });
});

async function expectReject(p: Promise<unknown>, text: string): Promise<void> {
    try {
        await p;
    } catch (e) {
        expect((e as Error).message).to.contain(text);
        return;
    }
    expect.fail(`expected a rejection containing ${text}`);
}
