import { expect } from "chai";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { GATEWAY_API_VERSIONS } from "../lib/config/gateway";
import { CILIUM_REQUIRED_CRDS, gatewayApiCrdNames, gatewayApiCrds, projectRoot } from "../lib/values/gateway-api";
import { ROOT } from "./helpers";

// crds/: the Gateway API CRDs the network phase installs, vendored with
// their provenance in crds/SOURCES.md, and the JSON list the program reads.

const CRDS = path.join(ROOT, "crds");
const ORDER = ["gatewayclasses", "gateways", "httproutes", "grpcroutes", "referencegrants", "backendtlspolicies"];
const REGENERATE =
    `node -e 'const Y=require("yaml"),fs=require("fs"),d="crds/gateway-api/v1.4.1";` +
    `fs.writeFileSync(d+"/standard.json",JSON.stringify(${JSON.stringify(ORDER)}.map(p=>{const o=Y.parse(fs.readFileSync(d+"/gateway.networking.k8s.io_"+p+".yaml","utf8"));delete o.status;return o}))+"\\n")'`;

function files(dir = CRDS): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? files(p) : [path.relative(CRDS, p).split(path.sep).join("/")];
    });
}

describe("crds/: the vendored Gateway API CRDs (crds/SOURCES.md)", () => {
    const sources = fs.readFileSync(path.join(CRDS, "SOURCES.md"), "utf8");
    const rows = [...sources.matchAll(/^\| `([^`]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \| `([0-9a-f]{64})` \|$/gm)].map((m) => ({
        file: m[1],
        repo: m[2].trim(),
        tag: m[4].trim(),
        licence: m[5].trim(),
        sha256: m[6],
    }));

    it("lists every file, and only those, each with its repository, tag, licence and release commit", () => {
        expect(rows.map((r) => r.file).sort()).to.deep.equal(
            files()
                .filter((f) => f !== "SOURCES.md")
                .sort(),
        );
        for (const r of rows) {
            expect(r.repo, r.file).to.equal("kubernetes-sigs/gateway-api");
            expect(r.licence, r.file).to.equal("Apache-2.0");
            expect(sources, r.file).to.match(new RegExp(`\\| ${r.tag.replace(/\./g, "\\.")}[^|]*\\| \`[0-9a-f]{40}\` \\|`));
        }
    });

    it("each file is the one its row describes (SHA-256)", () => {
        for (const r of rows) {
            const sum = createHash("sha256")
                .update(fs.readFileSync(path.join(CRDS, r.file)))
                .digest("hex");
            expect(sum, r.file).to.equal(r.sha256);
        }
    });

    it("carries a folder for every release the config accepts, and no other", () => {
        expect(fs.readdirSync(path.join(CRDS, "gateway-api")).sort()).to.deep.equal([...GATEWAY_API_VERSIONS].sort());
    });

    for (const version of GATEWAY_API_VERSIONS) {
        describe(version, () => {
            const dir = path.join(CRDS, "gateway-api", version);
            const yamls = ORDER.map((p) => parse(fs.readFileSync(path.join(dir, `gateway.networking.k8s.io_${p}.yaml`), "utf8")));

            it(`standard.json is the YAML files without status, in install order (when it is not, regenerate it: ${REGENERATE})`, () => {
                const derived = JSON.parse(fs.readFileSync(path.join(dir, "standard.json"), "utf8"));
                const expected = yamls.map((o) => {
                    const copy = structuredClone(o);
                    delete copy.status;
                    return copy;
                });
                expect(derived.length).to.equal(expected.length);
                derived.forEach((crd: unknown, i: number) => expect(crd, ORDER[i]).to.deep.equal(expected[i]));
            });

            it("is the standard channel of this release, each CRD named after its file", () => {
                yamls.forEach((crd, i) => {
                    expect(crd.kind).to.equal("CustomResourceDefinition");
                    expect(crd.metadata.name).to.equal(`${ORDER[i]}.gateway.networking.k8s.io`);
                    expect(crd.metadata.annotations).to.include({
                        "gateway.networking.k8s.io/bundle-version": version,
                        "gateway.networking.k8s.io/channel": "standard",
                    });
                });
            });

            it("serves the versions Cilium 1.19's operator requires at start-up (operator/pkg/gateway-api/cell.go requiredGVKs)", () => {
                // From Cilium 1.19's source: GatewayClass, Gateway, HTTPRoute, GRPCRoute v1 and ReferenceGrant v1beta1.
                const required = [
                    ["gatewayclasses", "v1"],
                    ["gateways", "v1"],
                    ["httproutes", "v1"],
                    ["grpcroutes", "v1"],
                    ["referencegrants", "v1beta1"],
                ];
                expect(CILIUM_REQUIRED_CRDS).to.deep.equal(
                    required.map(([p, v]) => ({ name: `${p}.gateway.networking.k8s.io`, version: v })),
                );
                for (const [plural, v] of required) {
                    const crd = yamls[ORDER.indexOf(plural)];
                    expect(
                        crd.spec.versions.some((x: { name: string; served: boolean }) => x.name === v && x.served),
                        `${plural} ${v}`,
                    ).to.equal(true);
                }
                // TLSRoute is experimental in v1.4: the standard channel does not carry it.
                expect(yamls.map((c) => c.spec.names.kind)).to.not.include("TLSRoute");
            });
        });
    }

    it("gives the component labelled copies that take over fields by force, fresh on every call", () => {
        const a = gatewayApiCrds("v1.4.1");
        expect(a.map((c) => c.metadata.name)).to.deep.equal(ORDER.map((p) => `${p}.gateway.networking.k8s.io`));
        expect(gatewayApiCrdNames("v1.4.1")).to.deep.equal(a.map((c) => c.metadata.name));
        for (const c of a) {
            const upstream = JSON.parse(fs.readFileSync(path.join(CRDS, "gateway-api", "v1.4.1", "standard.json"), "utf8")).find(
                (u: { metadata: { name: string } }) => u.metadata.name === c.metadata.name,
            );
            expect(c.metadata.labels).to.deep.equal({ ...upstream.metadata.labels, "app.kubernetes.io/managed-by": "talos-platform" });
            expect(c.metadata.annotations).to.include({ "pulumi.com/patchForce": "true", "gateway.networking.k8s.io/channel": "standard" });
            expect(c).to.not.have.property("status");
        }
        a[0].metadata.labels!.x = "changed";
        expect(gatewayApiCrds("v1.4.1")[0].metadata.labels).to.not.have.property("x");
    });

    it("finds the project root from the compiled tree as from the sources", () => {
        expect(projectRoot(path.join(ROOT, "lib", "values"))).to.equal(ROOT);
        expect(projectRoot(path.join(ROOT, "dist", "lib", "values"))).to.equal(ROOT);
    });
});
