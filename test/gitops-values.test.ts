import { expect } from "chai";
import { fluxPhaseSchema, fluxSchema } from "../lib/config/flux";
import { gitRef, kustomizationDependencies, phaseOrder, readyTimeoutSeconds } from "../lib/values/flux";
import { fluxInstance } from "../lib/values/flux";
import { validateConfig } from "../lib/config";
import { devSections, raw } from "./helpers";
import { crdErrors } from "./schemas";

const ks = (name: string, extra: Record<string, unknown> = {}) => ({ name, path: `./${name}`, ...extra });

describe("Flux builders", () => {
    it("orders a phase so each Kustomization follows those of its phase it names, config order otherwise", () => {
        const phase = fluxPhaseSchema.parse({
            name: "p",
            kustomizations: [ks("c", { dependsOn: ["b"] }), ks("a"), ks("b", { dependsOn: ["a", "elsewhere"] })],
        });
        expect(phaseOrder(phase).map((k) => k.name)).to.deep.equal(["a", "b", "c"]);
    });

    it("still returns every member of a cycle the checks would refuse", () => {
        const phase = fluxPhaseSchema.parse({ name: "p", kustomizations: [ks("a", { dependsOn: ["b"] }), ks("b", { dependsOn: ["a"] })] });
        expect(phaseOrder(phase).map((k) => k.name)).to.have.members(["a", "b"]);
    });

    it("lists the previous phase first, then extras, each once", () => {
        const k = fluxPhaseSchema.parse({ name: "p", kustomizations: [ks("x", { dependsOn: ["b", "z"] })] }).kustomizations[0];
        expect(kustomizationDependencies(["a", "b"], k)).to.deep.equal(["a", "b", "z"]);
    });

    it("waits one Flux attempt and one retry for Ready", () => {
        const k = (extra: Record<string, unknown>) =>
            fluxPhaseSchema.parse({ name: "p", kustomizations: [ks("x", extra)] }).kustomizations[0];
        expect(readyTimeoutSeconds(k({}))).to.equal(1200);
        expect(readyTimeoutSeconds(k({ interval: "1h", timeout: "5m", retryInterval: "1m" }))).to.equal(360);
    });

    it("follows semver over tag over branch, and main by default", () => {
        const source = (s: Record<string, unknown>) => fluxSchema.parse({ source: s }).source;
        expect(gitRef(source({}))).to.deep.equal({ branch: "main" });
        expect(gitRef(source({ branch: "dev" }))).to.deep.equal({ branch: "dev" });
        expect(gitRef(source({ tag: "v1" }))).to.deep.equal({ tag: "v1" });
        expect(gitRef(source({ semver: "1.x" }))).to.deep.equal({ semver: "1.x" });
    });

    it("builds a FluxInstance with every controller that still validates", () => {
        const s = devSections();
        s.flux.components = [
            "source-controller",
            "kustomize-controller",
            "helm-controller",
            "notification-controller",
            "image-reflector-controller",
            "image-automation-controller",
            "source-watcher",
        ];
        s.flux.networkPolicy = false;
        const config = validateConfig(raw(s)).config!;
        const obj = fluxInstance(config.cluster, config.flux);
        expect(obj.metadata.name).to.equal("flux");
        expect(crdErrors(obj)).to.deep.equal([]);
    });
});
