import { expect } from "chai";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { main as planMain } from "../cli/plan";
import { validateConfig } from "../lib/config";
import type { Plan } from "../lib/plan/model";
import { renderMarkdown, renderText } from "../lib/plan/render";
import { readTalosConfig } from "../lib/talos/read";
import { TALOS_SCHEMA_FILE } from "../lib/talos/schema";
import { devSections, Json, planDev, raw, ROOT } from "./helpers";

// cluster.talosConfig (issue 14): the Talos facts read from Talos. The
// expected values below are those the fixture files state, not the code's.

const FIXTURES = path.join(ROOT, "test", "fixtures", "talos");
const MACHINE_CONFIG = "home-ops/controlplane.yaml";
const TALCONFIG = "home-ops/talconfig.yaml";
const NS = "talos-platform";
const FACT_KEYS = [
    "name",
    "apiEndpoint",
    "dnsDomain",
    "podSubnets",
    "serviceSubnets",
    "kubeProxyDisabled",
    "coreDnsDisabled",
    "kubePrism",
    "forwardKubeDNSToHost",
];

/** What both fixtures say about the cluster (read off the files). */
const HOME_OPS = {
    name: "home-ops",
    apiEndpoint: "https://172.29.51.10:6443",
    dnsDomain: "cluster.local",
    podSubnets: ["10.244.0.0/16", "fd47:25e1:2f96:100::/56"],
    serviceSubnets: ["10.96.0.0/12", "fd47:25e1:2f96:51:1000::/108"],
    kubeProxyDisabled: true,
    coreDnsDisabled: false,
    kubePrism: { enabled: true, port: 7445 },
    forwardKubeDNSToHost: true,
};

/** The dev stack's sections with the Talos facts removed from cluster.* and talosConfig set. */
function fromTalos(file: string, keep: Record<string, unknown> = {}): Record<string, Json> {
    const s = devSections();
    for (const k of FACT_KEYS) delete s.cluster[k];
    Object.assign(s.cluster, { talosConfig: file }, keep);
    return s;
}

function validate(sections: Record<string, Json>, baseDir = FIXTURES) {
    return validateConfig({ ...raw(sections), baseDir });
}

const errorsOf = (sections: Record<string, Json>, baseDir?: string) =>
    validate(sections, baseDir).problems.filter((p) => p.severity === "error");

/** A copy of a fixture in a temporary directory, changed by `edit` (on the parsed documents). */
function variant(file: string, edit: (docs: Json[]) => void): { dir: string; name: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tp-talos-"));
    fs.cpSync(path.join(FIXTURES, path.dirname(file)), dir, { recursive: true });
    const docs = fs
        .readFileSync(path.join(FIXTURES, file), "utf8")
        .split(/^---$/m)
        .map((d) => parse(d));
    edit(docs);
    fs.writeFileSync(path.join(dir, path.basename(file)), docs.map((d) => stringify(d)).join("---\n"));
    return { dir, name: path.basename(file) };
}

describe("talos: the vendored Talos config schema", () => {
    it("is the upstream file listed in lib/talos/SOURCES.md, unchanged", () => {
        const sources = fs.readFileSync(path.join(ROOT, "lib", "talos", "SOURCES.md"), "utf8");
        const row =
            /^\| `config\.schema\.json` \| siderolabs\/talos \| `pkg\/machinery\/config\/schemas\/config\.schema\.json` \| v1\.13\.9 \| `3ebd10a7c1bd0f81742bdcd0c3fe56d727db7401` \| MPL-2\.0 \| `([0-9a-f]{64})` \|$/m.exec(
                sources,
            );
        expect(row, "the SOURCES.md row").to.not.equal(null);
        const sha = createHash("sha256")
            .update(fs.readFileSync(path.join(ROOT, TALOS_SCHEMA_FILE)))
            .digest("hex");
        expect(sha).to.equal(row![1]);
        expect(TALOS_SCHEMA_FILE.startsWith("test/")).to.equal(false);
    });
});

describe("talos: a machine configuration and a talconfig.yaml that agree", () => {
    for (const file of [MACHINE_CONFIG, TALCONFIG]) {
        it(`${file}: gives every fact, so cluster.* needs none of them`, () => {
            const v = validate(fromTalos(file));
            expect(v.problems.filter((p) => p.severity === "error")).to.deep.equal([]);
            const c = v.config!.cluster;
            for (const [k, want] of Object.entries(HOME_OPS)) expect((c as Json)[k], k).to.deep.equal(want);
            expect(Object.keys(v.clusterSources!).sort()).to.deep.equal([...FACT_KEYS].sort());
        });
    }

    it("say the same facts, read from the files themselves", () => {
        const values = (file: string) =>
            Object.fromEntries(Object.entries(readTalosConfig(path.join(FIXTURES, file), file).facts).map(([k, f]) => [k, f!.value]));
        expect(values(MACHINE_CONFIG)).to.deep.equal(HOME_OPS);
        expect(values(TALCONFIG)).to.deep.equal(HOME_OPS);
    });

    it("machine configuration: each fact's source is its field; a field left out is Talos' default", () => {
        const s = validate(fromTalos(MACHINE_CONFIG)).clusterSources!;
        expect(s.dnsDomain).to.equal(`talos:${MACHINE_CONFIG}:cluster.network.dnsDomain`);
        expect(s.kubeProxyDisabled).to.equal(`talos:${MACHINE_CONFIG}:cluster.proxy.disabled`);
        expect(s.kubePrism).to.equal(`talos:${MACHINE_CONFIG}:machine.features.kubePrism`);
        expect(s.coreDnsDisabled).to.equal(`talos-default:${MACHINE_CONFIG}:cluster.coreDNS.disabled`);
    });

    it("talconfig.yaml: a fact set by a patch names the patch, one set by a key names the key", () => {
        const s = validate(fromTalos(TALCONFIG)).clusterSources!;
        expect(s.name).to.equal(`talos:${TALCONFIG}:clusterName`);
        expect(s.podSubnets).to.equal(`talos:${TALCONFIG}:clusterPodNets`);
        expect(s.kubeProxyDisabled).to.equal(`talos:${TALCONFIG}:controlPlane.patches[1]`);
        expect(s.kubePrism).to.equal(`talos:${TALCONFIG}:controlPlane.patches[0]`);
        expect(s.dnsDomain).to.equal(`talos-default:${TALCONFIG}:domain`);
    });

    it("facts given both ways that agree (other spellings of the same value) pass, and keep the Talos source", () => {
        const v = validate(
            fromTalos(MACHINE_CONFIG, {
                ...HOME_OPS,
                apiEndpoint: "https://172.29.51.10:6443/",
                podSubnets: ["10.244.0.0/16", "fd47:25e1:2f96:0100:0000::/56"],
                kubePrism: { enabled: true },
            }),
        );
        expect(v.problems.filter((p) => p.severity === "error")).to.deep.equal([]);
        expect(v.clusterSources!.apiEndpoint).to.equal(`talos:${MACHINE_CONFIG}:cluster.controlPlane.endpoint`);
    });

    it("without talosConfig, every fact comes from the stack or this program's default", () => {
        const v = validate(devSections());
        expect(v.clusterSources!.kubeProxyDisabled).to.equal("config");
        expect(v.clusterSources).to.not.have.property("nodeSubnets");
        const s = devSections();
        delete s.cluster.forwardKubeDNSToHost;
        expect(validate(s).clusterSources!.forwardKubeDNSToHost).to.equal("default");
    });
});

describe("talos: each fact disagreeing with cluster.*", () => {
    const wrong: Array<[string, unknown, string, string]> = [
        // [cluster key, the stack's value, the Talos field, the Talos value as the message quotes it]
        ["name", "home-ops-2", "cluster.clusterName", '"home-ops"'],
        ["apiEndpoint", "https://172.29.51.11:6443", "cluster.controlPlane.endpoint", '"https://172.29.51.10:6443"'],
        ["dnsDomain", "k8s.home.geoffdavis.com", "cluster.network.dnsDomain", '"cluster.local"'],
        [
            "podSubnets",
            ["10.244.0.0/16", "fd47:25e1:2f96:51:2000::/64"],
            "cluster.network.podSubnets",
            '["10.244.0.0/16","fd47:25e1:2f96:100::/56"]',
        ],
        ["serviceSubnets", ["10.96.0.0/12"], "cluster.network.serviceSubnets", '["10.96.0.0/12","fd47:25e1:2f96:51:1000::/108"]'],
        ["kubeProxyDisabled", false, "cluster.proxy.disabled", "true"],
        ["coreDnsDisabled", true, "cluster.coreDNS.disabled", "false"],
        ["kubePrism.enabled", false, "machine.features.kubePrism", "true"],
        ["kubePrism.port", 7446, "machine.features.kubePrism", "7445"],
        ["forwardKubeDNSToHost", false, "machine.features.hostDNS.forwardKubeDNSToHost", "true"],
    ];
    for (const [key, value, field, talos] of wrong) {
        it(`${key}: refused, naming talos-platform:cluster.${key} and controlplane.yaml:${field}`, () => {
            const keep = key.startsWith("kubePrism.") ? { kubePrism: { [key.split(".")[1]]: value } } : { [key]: value };
            const errors = errorsOf(fromTalos(MACHINE_CONFIG, keep));
            expect(errors.map((e) => e.path)).to.deep.equal([`${NS}:cluster.${key}`]);
            const text = errors[0].message;
            expect(text).to.contain(`${MACHINE_CONFIG}:${field}`);
            expect(text).to.contain(talos);
            expect(errors[0].value).to.deep.equal(value);
            expect(errors[0].fix).to.contain(`remove ${NS}:cluster.${key}`).and.contain(MACHINE_CONFIG);
        });
    }

    it("a talconfig.yaml's fact disagreeing names the patch that sets it", () => {
        const errors = errorsOf(fromTalos(TALCONFIG, { kubeProxyDisabled: false }));
        expect(errors.map((e) => e.path)).to.deep.equal([`${NS}:cluster.kubeProxyDisabled`]);
        expect(errors[0].message).to.contain(`${TALCONFIG}:controlPlane.patches[1] says true`);
    });

    it("a field the file leaves out disagrees as Talos' default, and says so", () => {
        const errors = errorsOf(fromTalos(MACHINE_CONFIG, { coreDnsDisabled: true }));
        expect(errors[0].message).to.contain(
            `${MACHINE_CONFIG}:cluster.coreDNS.disabled leaves it unset, so Talos runs its default, false`,
        );
    });

    it("every disagreement at once, nothing deployed", async () => {
        const plan = await planDev(() => undefined, {
            config: { cluster: fromTalos(MACHINE_CONFIG, { ...HOME_OPS, kubeProxyDisabled: false, dnsDomain: "home.arpa" }).cluster },
            baseDir: FIXTURES,
        });
        expect(plan.errors.map((e) => e.path)).to.deep.equal([`${NS}:cluster.dnsDomain`, `${NS}:cluster.kubeProxyDisabled`]);
        expect(plan.resources).to.deep.equal([]);
        expect(plan.ok).to.equal(false);
    });
});

describe("talos: what the reader refuses", () => {
    const refusal = (dir: string, file: string) => errorsOf(fromTalos(file), dir).map((e) => e.message);

    it("a machine configuration field Talos v1.13 does not have, naming the field", () => {
        const { dir, name } = variant(MACHINE_CONFIG, (d) => (d[0].cluster.proxy.disable = true));
        const messages = refusal(dir, name);
        expect(messages).to.have.length(1);
        expect(messages[0]).to.contain(`${name}: cluster.proxy.disable: is not a field of Talos v1.13.9 here`);
    });

    it("a value of the wrong type or outside the schema's set, in any document", () => {
        const { dir, name } = variant(MACHINE_CONFIG, (d) => {
            d[0].cluster.network.podSubnets = "10.244.0.0/16";
            d[1].auto = "sometimes";
        });
        const messages = refusal(dir, name).join("\n");
        expect(messages).to.contain("cluster.network.podSubnets: must be array");
        expect(messages).to.contain(`${name} (HostnameConfig): auto: must be one of "stable", "off"`);
    });

    it("accepts the deprecated fields Talos 1.13 still decodes though its schema leaves them out", () => {
        const { dir, name } = variant(MACHINE_CONFIG, (d) => {
            d[0].persist = true;
            d[0].machine.network = { hostname: "mini01" };
            d[0].machine.features.rbac = true;
        });
        expect(refusal(dir, name)).to.deep.equal([]);
    });

    it("a worker's configuration, which lacks the control plane's cluster settings", () => {
        const { dir, name } = variant(MACHINE_CONFIG, (d) => (d[0].machine.type = "worker"));
        expect(refusal(dir, name).join("\n")).to.contain("machine.type is worker").and.contain("controlplane.yaml");
    });

    it("a document kind Talos v1.13 does not know, and a configuration with no v1alpha1 document", () => {
        const { dir, name } = variant(MACHINE_CONFIG, (d) => {
            d[1] = { apiVersion: "v1alpha1", kind: "KubePrismConfig", port: 7445 };
        });
        expect(refusal(dir, name).join("\n")).to.contain("v1alpha1/KubePrismConfig is not a config document of Talos v1.13.9");
        const only = variant(MACHINE_CONFIG, (d) => d.splice(0, 1));
        expect(refusal(only.dir, only.name).join("\n")).to.contain("has no v1alpha1 document");
    });

    it("a missing file, naming the path as given and as resolved", () => {
        const errors = errorsOf(fromTalos("home-ops/nope.yaml"));
        expect(errors.map((e) => e.path)).to.deep.equal([`${NS}:cluster.talosConfig`]);
        expect(errors[0].message)
            .to.contain("cannot be read (ENOENT)")
            .and.contain(path.join(FIXTURES, "home-ops", "nope.yaml"));
        expect(errors[0].value).to.equal("home-ops/nope.yaml");
    });

    it("talconfig.yaml: control-plane nodes whose patches disagree", () => {
        const { dir, name } = variant(TALCONFIG, (d) => {
            d[0].nodes[2].patches = ["cluster:\n  proxy:\n    disabled: false\n"];
        });
        expect(refusal(dir, name).join("\n")).to.contain(
            "the control-plane nodes mini01 and mini03 disagree on cluster.proxy.disabled (true and false)",
        );
    });

    it("talconfig.yaml: a fact set through a talenv variable, which only talhelper resolves", () => {
        const { dir, name } = variant(TALCONFIG, (d) => (d[0].endpoint = "https://${clusterEndpointIP}:6443"));
        expect(refusal(dir, name).join("\n")).to.contain(`${name}:endpoint: sets cluster.controlPlane.endpoint through a variable`);
    });

    it("talconfig.yaml: a misspelled setting gets a suggestion; a patch file that is not there is named", () => {
        const { dir, name } = variant(TALCONFIG, (d) => {
            d[0].clusterPodNet = d[0].clusterPodNets;
            delete d[0].clusterPodNets;
        });
        expect(refusal(dir, name).join("\n")).to.contain(`${name}:clusterPodNet: is not a talhelper setting; did you mean clusterPodNets?`);
        const missing = variant(TALCONFIG, (d) => d[0].controlPlane.patches.push("@./patches/gone.yaml"));
        expect(refusal(missing.dir, missing.name).join("\n")).to.contain(
            `${missing.name}:controlPlane.patches[3] (@./patches/gone.yaml): the patch file cannot be read (ENOENT)`,
        );
    });

    it("talconfig.yaml: a patch that misspells a Talos field, through the schema", () => {
        const { dir, name } = variant(TALCONFIG, (d) => d[0].patches.push("cluster:\n  coreDNS:\n    disable: true\n"));
        expect(refusal(dir, name).join("\n")).to.contain("cluster.coreDNS.disable: is not a field of Talos v1.13.9 here");
    });

    it("talconfig.yaml: talhelper's generator defaults follow talosVersion (no KubePrism before 1.6, no DNS forwarding before 1.8)", () => {
        const { dir, name } = variant(TALCONFIG, (d) => {
            d[0].talosVersion = "v1.5.5";
            d[0].controlPlane.patches.splice(0, 1);
        });
        const v = validate(fromTalos(name), dir);
        expect(v.problems.filter((p) => p.severity === "error")).to.deep.equal([]);
        expect(v.config!.cluster.kubePrism.enabled).to.equal(false);
        expect(v.config!.cluster.forwardKubeDNSToHost).to.equal(false);
        expect(v.clusterSources!.kubePrism).to.equal(`talos-default:${name}:talosVersion`);
    });

    it("a machine configuration without kubePrism or hostDNS: Talos runs neither, whatever this program's defaults say", () => {
        const { dir, name } = variant(MACHINE_CONFIG, (d) => delete d[0].machine.features);
        const v = validate(fromTalos(name), dir);
        expect(v.config!.cluster.kubePrism).to.deep.equal({ enabled: false, port: 7445 });
        expect(v.config!.cluster.forwardKubeDNSToHost).to.equal(false);
        expect(v.clusterSources!.forwardKubeDNSToHost).to.equal(`talos-default:${name}:machine.features.hostDNS.forwardKubeDNSToHost`);
    });
});

describe("talos: facts the DNS-01 rules read come from the Talos configuration", () => {
    // The fixture with the custom domain the dev stack's ACME issuers reach; it leaves cluster.coreDNS out, so Talos runs CoreDNS.
    const DOMAIN = "k8s.home.geoffdavis.com";
    const customDomain = (coreDNS?: { disabled: boolean }) =>
        variant(MACHINE_CONFIG, (d) => {
            d[0].cluster.network.dnsDomain = DOMAIN;
            if (coreDNS) d[0].cluster.coreDNS = coreDNS;
        });
    const find = (ps: { rule?: string }[], rule: string) =>
        ps.find((p) => p.rule === rule) as { message: string; fix?: string; path: string };

    it("name the Talos field of the cluster domain and of CoreDNS, and the fix changes the Talos configuration, not the key", () => {
        const { dir, name } = customDomain();
        const ps = validate(fromTalos(name), dir).problems;
        expect(ps.filter((p) => p.severity === "error")).to.deep.equal([]);
        expect(find(ps, "dns01-cluster-domain").message).to.contain(
            `the cluster domain ${DOMAIN} (${name}:cluster.network.dnsDomain, read through ${NS}:cluster.talosConfig)`,
        );
        const talos = find(ps, "dns01-cluster-domain-talos-coredns");
        expect(talos.path).to.equal(`${NS}:cluster.coreDnsDisabled`);
        expect(talos.message).to.contain(
            `is false (${name}:cluster.coreDNS.disabled unset: Talos' default, read through ${NS}:cluster.talosConfig), so Talos runs CoreDNS`,
        );
        expect(talos.fix)
            .to.contain(`set cluster.coreDNS.disabled: true in the Talos configuration (${name}, which ${NS}:cluster.talosConfig reads)`)
            .and.not.contain("true here");
    });

    it("without talosConfig, name the keys and tell to set both", () => {
        const s = devSections();
        s.cluster.dnsDomain = DOMAIN;
        const ps = validateConfig(raw(s)).problems;
        expect(find(ps, "dns01-cluster-domain").message).to.contain(`the cluster domain ${DOMAIN} (${NS}:cluster.dnsDomain)`);
        expect(find(ps, "dns01-cluster-domain-talos-coredns").fix).to.contain(`${NS}:cluster.coreDnsDisabled: true here`);
    });

    it("following the fix in Talos clears the finding; setting only the key here is refused, naming both sources", () => {
        const fixed = customDomain({ disabled: true });
        const after = validate(fromTalos(fixed.name), fixed.dir).problems;
        expect(after.filter((p) => p.severity === "error")).to.deep.equal([]);
        expect(after.filter((p) => p.rule === "dns01-cluster-domain-talos-coredns")).to.deep.equal([]);
        expect(find(after, "dns01-cluster-domain").message).to.contain(`CoreDNS passes names in ${DOMAIN}`);

        const { dir, name } = customDomain();
        const keyOnly = errorsOf(fromTalos(name, { coreDnsDisabled: true }), dir);
        expect(keyOnly.map((e) => e.path)).to.deep.equal([`${NS}:cluster.coreDnsDisabled`]);
        expect(keyOnly[0].message).to.contain("disagrees with the Talos configuration").and.contain(`${name}:cluster.coreDNS.disabled`);
    });
});

describe("talos: the plan", () => {
    let plan: Plan;
    before(async () => {
        plan = await planDev(() => undefined, { config: { cluster: fromTalos(MACHINE_CONFIG).cluster }, baseDir: FIXTURES });
    });

    it("deploys from the Talos facts as from the same facts typed in", async () => {
        expect(plan.errors).to.deep.equal([]);
        const typed = await planDev();
        expect(plan.resources.map((r) => [r.urn, r.inputs])).to.deep.equal(typed.resources.map((r) => [r.urn, r.inputs]));
    });

    it("JSON: the cluster object says the file and where each fact came from, extending the contract", () => {
        expect(plan.cluster).to.include({
            name: "home-ops",
            kubeProxyDisabled: true,
            talosConfig: MACHINE_CONFIG,
            forwardKubeDNSToHost: true,
        });
        expect(plan.cluster!.sources).to.include({
            kubeProxyDisabled: `talos:${MACHINE_CONFIG}:cluster.proxy.disabled`,
            coreDnsDisabled: `talos-default:${MACHINE_CONFIG}:cluster.coreDNS.disabled`,
        });
    });

    it("header: text and markdown say which facts the file stated, which it left to Talos, and which the stack gave", () => {
        const line = `from ${MACHINE_CONFIG}: name, apiEndpoint, dnsDomain, podSubnets, serviceSubnets, kubeProxyDisabled, kubePrism, forwardKubeDNSToHost · left out there, Talos' default: coreDnsDisabled`;
        expect(renderText(plan)).to.contain(line);
        expect(renderMarkdown(plan)).to.contain(`from \`${MACHINE_CONFIG}\`: name, apiEndpoint`);
    });

    it("resolves talosConfig against the stack file's directory, wherever npm ran", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tp-talos-stack-"));
        fs.cpSync(path.join(FIXTURES, "home-ops"), path.join(dir, "talos"), { recursive: true });
        const stack = parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
        for (const k of FACT_KEYS) delete stack.config[`${NS}:cluster`][k];
        stack.config[`${NS}:cluster`].talosConfig = "talos/controlplane.yaml";
        fs.writeFileSync(path.join(dir, "Pulumi.home.yaml"), stringify(stack));
        let out = "";
        const code = await planMain(["--config", path.join(dir, "Pulumi.home.yaml"), "--format", "json"], {
            out: (t) => (out += t),
            err: (t) => (out += t),
            cwd: os.tmpdir(),
            projectDir: ROOT,
        });
        expect(code, out).to.equal(0);
        expect(JSON.parse(out).cluster.sources.name).to.equal("talos:talos/controlplane.yaml:cluster.clusterName");
    });
});

describe("talos: a machine configuration's secrets never leave the reader", () => {
    const text = fs.readFileSync(path.join(FIXTURES, MACHINE_CONFIG), "utf8");
    const secrets = [...text.matchAll(/\S*FAKESECRET\S*/g)].map((m) => m[0]);
    // Every secret-bearing field of the fixture, as Talos names them.
    const SECRET_FIELDS = ["token", "ca", "id", "secret", "secretboxEncryptionSecret", "aggregatorCA", "serviceAccount"];

    /** Every way the plan can show a config: its three formats. */
    const outputs = (plan: Plan) => [JSON.stringify(plan), renderText(plan), renderMarkdown(plan)];
    const leaks = (texts: string[]) =>
        secrets.filter((s) => texts.some((t) => t.includes(s) || t.includes(s.replace(/^.*FAKESECRET/, "FAKESECRET"))));

    it("the fixture holds the secrets the test looks for", () => {
        expect(secrets.length).to.be.greaterThan(12);
        for (const field of SECRET_FIELDS) expect(text).to.match(new RegExp(`^\\s+${field}:`, "m"));
    });

    it("appear in no output of a plan made from it, nor in the plan JSON", async () => {
        const plan = await planDev(() => undefined, { config: { cluster: fromTalos(MACHINE_CONFIG).cluster }, baseDir: FIXTURES });
        expect(plan.ok).to.equal(true);
        expect(leaks(outputs(plan))).to.deep.equal([]);
    });

    it("appear in no error: a schema error beside them, a YAML error on their line, a disagreement", async () => {
        const broken = [
            variant(MACHINE_CONFIG, (d) => {
                d[0].machine.ca.bogus = d[0].machine.ca.key;
                d[0].cluster.token = 42;
                d[0].cluster.secretboxEncryptionSecret = { nested: d[0].cluster.secretboxEncryptionSecret };
            }),
        ];
        // A YAML syntax error on a secret's own line.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tp-talos-yaml-"));
        fs.writeFileSync(path.join(dir, "controlplane.yaml"), text.replace(/^(\s+token: FAKESECRET-machine-token-7f3a9c)$/m, "$1: [oops"));
        broken.push({ dir, name: "controlplane.yaml" });
        const texts: string[] = [];
        for (const b of broken) {
            const plan = await planDev(() => undefined, { config: { cluster: fromTalos(b.name).cluster }, baseDir: b.dir });
            expect(plan.errors.length, JSON.stringify(plan.errors)).to.be.greaterThan(0);
            texts.push(...outputs(plan), ...validate(fromTalos(b.name), b.dir).problems.map((p) => JSON.stringify(p)));
        }
        const yamlError = texts.find((t) => t.includes("not valid YAML"));
        expect(yamlError, "the YAML error is reported").to.not.equal(undefined);
        expect(texts.join("\n")).to.contain("machine.ca.bogus: is not a field").and.contain("cluster.token: must be string");
        const disagreeing = await planDev(() => undefined, {
            config: { cluster: fromTalos(MACHINE_CONFIG, { name: "other" }).cluster },
            baseDir: FIXTURES,
        });
        texts.push(...outputs(disagreeing));
        expect(leaks(texts)).to.deep.equal([]);
    });
});
