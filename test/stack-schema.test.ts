import Ajv, { ErrorObject } from "ajv";
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { main as genSchema } from "../cli/gen-schema";
import { SECTIONS, validateConfig } from "../lib/config";
import { JsonSchema, STACK_SCHEMA_FILE } from "../lib/config/json-schema";
import { generatedFiles, REFERENCE_FILE, REFERENCE_TEMPLATE } from "../lib/config/reference";
import { devSections, Json, ROOT } from "./helpers";

const SCHEMA: JsonSchema = JSON.parse(fs.readFileSync(path.join(ROOT, STACK_SCHEMA_FILE), "utf8"));
const DEV_TEXT = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");

// Strict, as an editor may be: a keyword ajv does not know fails the compile.
// markdownDescription is VS Code's annotation for hovers.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
ajv.addKeyword({ keyword: "markdownDescription", schemaType: "string" });
const validate = ajv.compile(SCHEMA);

function errorsOf(doc: unknown): ErrorObject[] {
    return validate(doc) ? [] : validate.errors!;
}

/** The dev stack, parsed, for a test to change. */
function dev(): Json {
    return parse(DEV_TEXT);
}

const NS = "talos-platform";

describe("the stack file schema and the configuration reference", () => {
    it("are what npm run gen:schema writes from lib/config (run it when this fails)", () => {
        for (const [file, text] of Object.entries(generatedFiles(ROOT))) {
            const current = fs.readFileSync(path.join(ROOT, file), "utf8");
            expect(current === text, `${file} is stale: run npm run gen:schema and commit the result`).to.equal(true);
        }
    });

    it("gen:schema --check names a stale file and exits 1; without --check it writes it", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "tp-gen-schema-"));
        fs.mkdirSync(path.join(root, "schema"));
        fs.copyFileSync(path.join(ROOT, REFERENCE_TEMPLATE), path.join(root, REFERENCE_TEMPLATE));
        fs.writeFileSync(path.join(root, STACK_SCHEMA_FILE), "{}\n");
        let out = "";
        expect(genSchema(["--check"], (t) => (out += t), root)).to.equal(1);
        expect(out).to.contain(`${STACK_SCHEMA_FILE} is not current: run npm run gen:schema`).and.contain(REFERENCE_FILE);
        expect(fs.readFileSync(path.join(root, STACK_SCHEMA_FILE), "utf8")).to.equal("{}\n");
        expect(genSchema([], () => undefined, root)).to.equal(0);
        out = "";
        expect(genSchema(["--check"], (t) => (out += t), root)).to.equal(0);
        expect(out).to.equal("");
        expect(fs.readFileSync(path.join(root, REFERENCE_FILE), "utf8")).to.equal(fs.readFileSync(path.join(ROOT, REFERENCE_FILE), "utf8"));
    });

    it("refuses a template that drops a generated part, naming the marker to put back", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "tp-gen-schema-"));
        fs.mkdirSync(path.join(root, "schema"));
        const template = fs.readFileSync(path.join(ROOT, REFERENCE_TEMPLATE), "utf8");
        fs.writeFileSync(path.join(root, REFERENCE_TEMPLATE), template.replace("<!-- generated: sections -->\n", ""));
        expect(() => generatedFiles(root)).to.throw("place <!-- generated: sections -->");
    });
});

describe("Pulumi.dev.yaml and the stack file schema", () => {
    it("starts with the yaml-language-server line, pointing at the checked-in schema", () => {
        const first = DEV_TEXT.split("\n")[0];
        const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
        expect(m, first).to.not.equal(null);
        expect(path.resolve(ROOT, m![1])).to.equal(path.join(ROOT, STACK_SCHEMA_FILE));
    });

    it("validates the dev stack", () => {
        expect(errorsOf(dev())).to.deep.equal([]);
    });
});

/** The additionalProperties errors, as "instancePath: key". */
function unknownKeys(errors: ErrorObject[]): string[] {
    return errors.filter((e) => e.keyword === "additionalProperties").map((e) => `${e.instancePath}: ${e.params.additionalProperty}`);
}

describe("the stack file schema flags what the program refuses", () => {
    it("flags a misspelled key inside a section, as the plan does", () => {
        const doc = dev();
        doc.config[`${NS}:cilium`].kubeProxyReplacment = true;
        doc.config[`${NS}:cluster`].dnsDomian = "cluster.local";
        doc.config[`${NS}:flux`].source.urll = "https://example.com/x";
        doc.config[`${NS}:cilium`].bgp.peers[0].asnn = 64513;
        expect(unknownKeys(errorsOf(doc))).to.have.members([
            `/config/${NS}:cilium: kubeProxyReplacment`,
            `/config/${NS}:cluster: dnsDomian`,
            `/config/${NS}:flux/source: urll`,
            `/config/${NS}:cilium/bgp/peers/0: asnn`,
        ]);
        // The program refuses each of them too.
        const sections = Object.fromEntries(Object.keys(SECTIONS).map((s) => [s, doc.config[`${NS}:${s}`]]));
        const refused = validateConfig({ sections, otherKeys: { cloudflareApiToken: { secret: true } } }).problems.map((p) => p.path);
        expect(refused).to.include.members([
            `${NS}:cilium.kubeProxyReplacment`,
            `${NS}:cluster.dnsDomian`,
            `${NS}:flux.source.urll`,
            `${NS}:cilium.bgp.peers[0].asnn`,
        ]);
    });

    it("flags a value of the wrong type, outside its allowed set, or in the wrong form", () => {
        const doc = dev();
        doc.config[`${NS}:cluster`].kubeProxyDisabled = "true";
        doc.config[`${NS}:cluster`].nodeCidrMaskSizeIPv4 = 33;
        doc.config[`${NS}:cluster`].podSubnets = "10.244.0.0/16";
        doc.config[`${NS}:ingressNginx`].loadBalancer.externalTrafficPolicy = "local";
        doc.config[`${NS}:cilium`].version = "latest";
        doc.config[`${NS}:flux`].phases[0].kustomizations[0].interval = "10 minutes";
        doc.config[`${NS}:cilium`].bgp.localASN = 0;
        const errors = errorsOf(doc).map((e) => `${e.instancePath} ${e.keyword}`);
        expect(errors).to.include.members([
            `/config/${NS}:cluster/kubeProxyDisabled type`,
            `/config/${NS}:cluster/nodeCidrMaskSizeIPv4 maximum`,
            `/config/${NS}:cluster/podSubnets type`,
            `/config/${NS}:ingressNginx/loadBalancer/externalTrafficPolicy enum`,
            `/config/${NS}:cilium/version pattern`,
            `/config/${NS}:flux/phases/0/kustomizations/0/interval pattern`,
            `/config/${NS}:cilium/bgp/localASN minimum`,
        ]);
    });

    it("flags a missing required key, a ClusterIssuer of no kind or two, and an empty Flux phase", () => {
        const doc = dev();
        delete doc.config[`${NS}:cluster`].kubeProxyDisabled;
        doc.config[`${NS}:certManager`].issuers.push({ name: "none" }, { name: "two", selfSigned: {}, ca: { signedBy: "x" } });
        doc.config[`${NS}:flux`].phases[0].kustomizations = [];
        const errors = errorsOf(doc).map((e) => `${e.instancePath} ${e.keyword}`);
        const n = dev().config[`${NS}:certManager`].issuers.length;
        expect(errors).to.include.members([
            `/config/${NS}:cluster required`,
            `/config/${NS}:certManager/issuers/${n} oneOf`,
            `/config/${NS}:certManager/issuers/${n + 1} oneOf`,
            `/config/${NS}:flux/phases/0/kustomizations minItems`,
        ]);
        expect(errors).to.not.include(`/config/${NS}:certManager/issuers/0 oneOf`);
    });

    it("requires cluster and flux (flux.source.url has no default), unless a Pulumi ESC environment may provide them", () => {
        const doc = dev();
        delete doc.config[`${NS}:cluster`];
        delete doc.config[`${NS}:flux`];
        const missing = errorsOf(doc)
            .filter((e) => e.keyword === "required")
            .map((e) => e.params.missingProperty);
        expect(missing).to.have.members([`${NS}:cluster`, `${NS}:flux`]);
        expect(errorsOf({ ...doc, environment: ["home-ops/dev"] })).to.deep.equal([]);
        // The program: cluster is required, and so is flux, for its source's url.
        const paths = validateConfig({ sections: {}, otherKeys: {} })
            .problems.filter((p) => p.severity === "error")
            .map((p) => p.path);
        expect(paths).to.include.members([`${NS}:cluster`, `${NS}:flux.source.url`]);
        expect(errorsOf({ config: { [`${NS}:flux`]: { source: {} } } }).map((e) => e.params.missingProperty)).to.include("url");
    });

    it("flags a misspelled namespace, an unknown top-level key and a section at the top level", () => {
        const doc = dev();
        doc.config[`talos-platfrom:coredns`] = { replicas: 3 };
        doc.confg = {};
        doc[`${NS}:gates`] = {};
        expect(unknownKeys(errorsOf(doc))).to.have.members(["/config: talos-platfrom:coredns", `: confg`, `: ${NS}:gates`]);
    });

    it("allows kubernetes: keys (the plan only warns about them), pulumi: keys and Pulumi's own top-level keys", () => {
        const doc = dev();
        doc.config["kubernetes:context"] = "admin@home-ops";
        doc.config["pulumi:tags"] = { team: "platform" };
        Object.assign(doc, { secretsprovider: "passphrase", encryptionsalt: "v1:abc", encryptedkey: "xyz" });
        expect(errorsOf(doc)).to.deep.equal([]);
    });
});

describe("secrets in the stack file schema", () => {
    it("accepts {secure: ...} for the usual secret keys and for any other name a section may give one", () => {
        const doc = dev();
        for (const name of ["cloudflareApiToken", "fluxGitToken", "fluxSshKey", "bgpPassword", "myOwnToken", "BGP_PASSWORD_2"]) {
            doc.config[`${NS}:${name}`] = { secure: "v1:AAAA" };
        }
        expect(errorsOf(doc)).to.deep.equal([]);
    });

    it("refuses a secret key in plain text, a ciphertext that is not a string, and extra keys beside secure", () => {
        for (const [name, value] of [
            ["cloudflareApiToken", "plain-text-token"],
            ["myOwnToken", "plain-text-token"],
            ["bgpPassword", { secure: 42 }],
            ["fluxGitToken", { secure: "v1:AAAA", plain: "x" }],
            ["myOwnToken", { secure: "" }],
        ] as const) {
            const doc = dev();
            doc.config[`${NS}:${name}`] = value;
            expect(errorsOf(doc), `${name}: ${JSON.stringify(value)}`).to.not.deep.equal([]);
        }
    });

    it("refuses a section stored as a secret, as the program does", () => {
        const doc = dev();
        doc.config[`${NS}:gates`] = { secure: "v1:AAAA" };
        expect(unknownKeys(errorsOf(doc))).to.include(`/config/${NS}:gates: secure`);
    });
});

/** Every key below a schema node, as `a.b[].c`, with its node. */
function schemaKeys(node: JsonSchema, at = ""): [string, JsonSchema][] {
    const out: [string, JsonSchema][] = [];
    for (const [key, child] of Object.entries<JsonSchema>(node.properties ?? {})) {
        const p = at ? `${at}.${key}` : key;
        out.push([p, child], ...schemaKeys(child, p));
    }
    if (node.items) out.push(...schemaKeys(node.items, `${at}[]`));
    for (const branch of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) out.push(...schemaKeys(branch, at));
    return out;
}

/** Every key a value sets, in the same spelling. */
function valueKeys(value: unknown, at = ""): string[] {
    if (Array.isArray(value)) return value.flatMap((v) => valueKeys(v, `${at}[]`));
    if (value === null || typeof value !== "object") return [];
    return Object.entries(value).flatMap(([k, v]) => {
        const p = at ? `${at}.${k}` : k;
        return [p, ...valueKeys(v, p)];
    });
}

const SELECTOR = { matchLabels: { tier: "edge" }, matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] };

/** A stack that sets every key of every section to a value the program's section schemas accept. */
function everyKey(): Json {
    const doc = dev();
    const c = doc.config;
    const chart = (name: string) => ({
        chart: name,
        repository: "https://charts.example.com",
        version: "v1.2.3",
        namespace: "platform",
        values: {},
    });
    Object.assign(c[`${NS}:cluster`], {
        nodeCidrMaskSizeIPv4: 24,
        nodeCidrMaskSizeIPv6: 64,
        kubeContext: "admin@home-ops",
        identity: "6f1c2a4e-3b5d-4c7e-9f8a-0b1c2d3e4f5a",
        apiServerAliases: ["https://172.29.51.11:6443"],
        talosConfig: "talos/controlplane.yaml",
    });
    c[`${NS}:cilium`] = {
        ...chart("cilium"),
        version: "1.19.4",
        loadBalancerPools: [
            {
                name: "a",
                blocks: [{ cidr: "172.29.52.0/25" }, { start: "172.29.52.200", stop: "172.29.52.210" }],
                serviceSelector: SELECTOR,
                allowFirstLastIPs: false,
            },
        ],
        bgp: {
            localASN: 64512,
            nodeSelector: SELECTOR,
            peers: [{ name: "gw", address: "172.29.51.1", asn: 64513, peerConfig: "default" }],
            peerConfigs: [
                {
                    name: "default",
                    families: [{ afi: "ipv4", advertisements: SELECTOR }],
                    timers: { connectRetryTimeSeconds: 120, holdTimeSeconds: 90, keepAliveTimeSeconds: 30 },
                    gracefulRestart: { enabled: true, restartTimeSeconds: 120 },
                    ebgpMultihop: 2,
                    authSecret: "bgpPassword",
                },
            ],
            advertisements: [{ name: "lb", labels: { tier: "edge" }, pools: ["a"], podCIDR: true }],
        },
        l2Announcements: [
            { name: "lan", interfaces: ["^eth[0-9]+"], nodeSelector: SELECTOR, pools: ["a"], loadBalancerIPs: true, externalIPs: false },
        ],
        l2AnnouncedServices: 20,
        operatorReplicas: 1,
    };
    c[`${NS}:coredns`] = {
        ...chart("coredns"),
        upstreams: ["1.1.1.1", "/etc/resolv.conf"],
        clusterIPs: ["10.96.0.10"],
        replicas: 3,
        clusterDomainFallthrough: false,
    };
    c[`${NS}:certManager`] = {
        ...chart("cert-manager"),
        issuers: [
            { name: "self", selfSigned: {} },
            { name: "ca", ca: { signedBy: "self", commonName: "CA", secretName: "ca-keypair", duration: "8760h" } },
            {
                name: "le",
                acme: {
                    server: "staging",
                    email: "a@example.com",
                    cloudflare: { apiTokenSecret: "cloudflareApiToken", dnsZones: ["example.com"] },
                },
            },
        ],
        defaultIssuer: "le",
        webhookReplicas: 3,
        dns01SelfCheck: { nameservers: ["9.9.9.9:53", "https://dns.google/dns-query"], use: "always" },
    };
    c[`${NS}:ingressNginx`] = {
        enabled: true,
        ...chart("ingress-nginx"),
        replicas: 2,
        loadBalancer: { pool: "a", ip: "172.29.52.201", externalTrafficPolicy: "Local" },
        ingressClass: { name: "nginx", default: false },
        metrics: false,
        defaultCertificate: { issuer: "le", dnsNames: ["*.example.com"], secretName: "default-tls" },
    };
    c[`${NS}:gateway`] = {
        enabled: true,
        className: "edge",
        name: "shared",
        namespace: "gateway",
        gatewayApi: { version: "v1.4.1", crds: "existing" },
        loadBalancer: { pool: "a", ip: "172.29.52.202", externalTrafficPolicy: "Cluster" },
        listeners: [
            { name: "https", hostname: "*.example.com", port: 443, protocol: "HTTPS", issuer: "le", certificateSecret: "wildcard-tls" },
        ],
        httpsRedirect: true,
        allowedRoutes: { namespaces: { from: "Selector", selector: SELECTOR } },
    };
    c[`${NS}:flux`] = {
        ...chart("flux-operator"),
        distribution: { version: "2.9.4", registry: "ghcr.io/fluxcd" },
        components: ["source-controller", "kustomize-controller"],
        networkPolicy: false,
        deletionPolicy: "Orphan",
        source: {
            name: "flux-system",
            url: "ssh://git@github.com/owner/repo",
            branch: "main",
            tag: "v1",
            semver: ">=1.0.0",
            interval: "1m",
            // Both credentials and three refs: cross-checks refuse them later, the structure allows them.
            httpsToken: { tokenSecret: "fluxGitToken", username: "git" },
            sshKey: { privateKeySecret: "fluxSshKey", knownHosts: "github.com ssh-ed25519 AAAA" },
        },
        sync: { path: "./clusters/home-ops" },
        phases: [
            {
                name: "apps",
                kustomizations: [
                    {
                        name: "app",
                        path: "./apps/app",
                        dependsOn: [],
                        interval: "10m",
                        timeout: "5m",
                        retryInterval: "2m",
                        prune: true,
                        wait: false,
                        healthChecks: [{ apiVersion: "apps/v1", kind: "Deployment", name: "app", namespace: "apps" }],
                        notOwnedByPlatform: true,
                        critical: false,
                    },
                ],
            },
        ],
    };
    c[`${NS}:gates`] = {
        probeImage: "curlimages/curl:8.11.1",
        probeNamespace: "default",
        pollInterval: "1s",
        network: { timeout: "2m" },
        dns: { timeout: "3m", externalName: "github.com" },
        certificates: { timeout: "3m" },
        ingress: { timeout: "3m" },
        gitops: { timeout: "3m" },
    };
    c[`${NS}:lifecycle`] = { protect: true, allowNamespaceMove: ["cilium"] };
    return doc;
}

describe("the stack file schema accepts what the program accepts", () => {
    it("sets every key of every section in the every-key stack (so the next test covers them all)", () => {
        const sections = SCHEMA.properties.config.properties;
        const doc = everyKey();
        for (const name of Object.keys(SECTIONS)) {
            const set = new Set(valueKeys(doc.config[`${NS}:${name}`]));
            const unset = schemaKeys(sections[`${NS}:${name}`])
                .map(([p]) => p)
                .filter((p) => !set.has(p));
            expect(unset, name).to.deep.equal([]);
        }
    });

    it("validates a stack that sets every key, which every section schema of the program parses", () => {
        const doc = everyKey();
        for (const name of Object.keys(SECTIONS) as (keyof typeof SECTIONS)[]) {
            const parsed = SECTIONS[name].safeParse(doc.config[`${NS}:${name}`]);
            expect(parsed.success, `${name}: ${JSON.stringify(parsed.error?.issues)}`).to.equal(true);
        }
        expect(errorsOf(doc)).to.deep.equal([]);
    });

    it("offers only defaults that are valid for their key", () => {
        const offered = schemaKeys(SCHEMA.properties.config).filter(([, node]) => node.default !== undefined);
        expect(offered.length).to.be.greaterThan(50);
        for (const [key, node] of offered) {
            const { default: value, ...rest } = node;
            expect(ajv.validate(rest, value), `${key}: ${JSON.stringify(value)} ${ajv.errorsText()}`).to.equal(true);
        }
    });
});

describe("the stack file schema documents every key", () => {
    const keys = schemaKeys(SCHEMA);

    it("reaches the keys of every section, at every depth", () => {
        const paths = keys.map(([p]) => p);
        expect(paths).to.include.members([
            `config.${NS}:cluster.kubeProxyDisabled`,
            `config.${NS}:cilium.bgp.peerConfigs[].timers.holdTimeSeconds`,
            `config.${NS}:cilium.loadBalancerPools[].blocks[].start`,
            `config.${NS}:flux.phases[].kustomizations[].healthChecks[].kind`,
            `config.${NS}:gates.dns.externalName`,
            `config.${NS}:cloudflareApiToken.secure`,
        ]);
        expect(keys.length).to.be.greaterThan(190);
    });

    it("gives every key a description, in plain text and Markdown, that says its default where it has one", () => {
        const undocumented = keys
            .filter(([, n]) => !(typeof n.description === "string" && n.description.trim().length > 10))
            .map(([p]) => p);
        expect(undocumented).to.deep.equal([]);
        const noMarkdown = keys.filter(([, n]) => typeof n.markdownDescription !== "string").map(([p]) => p);
        expect(noMarkdown).to.deep.equal([]);
        const silentDefault = keys.filter(([, n]) => n.default !== undefined && !n.description.includes("Default: ")).map(([p]) => p);
        expect(silentDefault).to.deep.equal([]);
    });

    it("leaves no documentation-only metadata in the published schema", () => {
        const text = JSON.stringify(SCHEMA);
        expect(text).to.not.contain('"defaultText"').and.not.contain('"details"');
    });
});

describe("docs/configuration.md", () => {
    const page = fs.readFileSync(path.join(ROOT, REFERENCE_FILE), "utf8");

    it("documents the keys the README's config reference listed, with their defaults", () => {
        // Keys and defaults as the README's reference tables gave them before the page replaced them.
        for (const [key, def] of [
            ["name", "required"],
            ["dnsDomain", "`cluster.local`"],
            ["kubeProxyDisabled", "required"],
            ["kubePrism.port", "`7445`"],
            ["nodeCidrMaskSizeIPv6", "`64`"],
            ["bgp.peers[].peerConfig", "`default`"],
            ["bgp.advertisements[].podCIDR", "`false`"],
            ["upstreams", "`[/etc/resolv.conf]`"],
            ["issuers[].ca.commonName", "`talos-platform CA`"],
            ["loadBalancer.externalTrafficPolicy", "`Cluster`"],
            ["defaultCertificate.secretName", "`default-tls`"],
            ["distribution.registry", "`ghcr.io/fluxcd`"],
            ["source.interval", "`1m`"],
            ["phases[].kustomizations[].interval", "`10m`"],
            // Pinned by digest since issue 13 (the README listed the bare tag).
            ["probeImage", "`docker.io/curlimages/curl:8.11.1@sha256:c1fe1679c34d9784c1b0d1e5f62ac0a79fca01fb6377cdd33e90473c6f9f9a69`"],
            ["pollInterval", "`2s`"],
            ["network.timeout", "`2m`"],
            ["gitops.timeout", "`3m`"],
        ]) {
            expect(page, key).to.match(
                new RegExp(`^\\| \`${key.replace(/[.[\]]/g, "\\$&")}\` \\| [^|]+ \\| ${def.replace(/[.[\]/]/g, "\\$&")}`, "m"),
            );
        }
    });

    it("has the sections in recovery order", () => {
        const at = Object.keys(SECTIONS).map((s) => page.indexOf(`### \`${NS}:${s}\``));
        expect(at.every((i) => i > 0)).to.equal(true);
        expect([...at].sort((a, b) => a - b)).to.deep.equal(at);
        expect(Object.keys(SECTIONS)).to.deep.equal([
            "cluster",
            "cilium",
            "coredns",
            "certManager",
            "ingressNginx",
            "gateway",
            "flux",
            "gates",
            "lifecycle",
        ]);
    });
});

// .describe() and .meta() return clones: the problems of a documented key must
// still conceal a secret, offer the accepted forms and show an example.
describe("documenting a key changes none of its problems", () => {
    it("still conceals a secret pasted where a secret key's name belongs, offers a pool block's forms, and gives a duration's example", () => {
        const s = devSections();
        const token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
        s.certManager.issuers[2].acme.cloudflare.apiTokenSecret = token;
        s.cilium.bgp.peerConfigs[0].authSecret = token;
        s.cilium.loadBalancerPools[0].blocks = ["172.29.52.0/24"];
        s.gates.network.timeout = 5;
        const problems = validateConfig({ sections: s, otherKeys: { cloudflareApiToken: { secret: true } } }).problems;
        const at = (p: string) => problems.find((x) => x.path === `${NS}:${p}`)!;
        for (const key of ["certManager.issuers[2].acme.cloudflare.apiTokenSecret", "cilium.bgp.peerConfigs[0].authSecret"]) {
            expect(at(key).message, key).to.contain("the value is not shown");
            expect(at(key).value, key).to.equal(undefined);
        }
        expect(JSON.stringify(problems)).to.not.contain(token);
        expect(at("cilium.loadBalancerPools[0].blocks[0]")).to.include({
            message: "must be an object with cidr, or with start and stop",
            fix: 'write it as { cidr: "172.29.52.0/24" }',
        });
        expect(at("gates.network.timeout").fix).to.equal("set it to a string, e.g. 90s (a number with a unit: ms, s, m, h)");
    });
});
