import { expect } from "chai";
import { fluxPhaseSchema, fluxSchema } from "../lib/config/flux";
import { gitCredentialsData, gitRef, kustomization, kustomizationDependencies, phaseOrder, readyTimeoutSeconds } from "../lib/values/flux";
import { fluxInstance } from "../lib/values/flux";
import { validateConfig } from "../lib/config";
import { devSections, raw } from "./helpers";
import { crdErrors } from "./schemas";

const ks = (name: string, extra: Record<string, unknown> = {}) => ({ name, path: `./${name}`, ...extra });

/** The flux section with a source URL (it has no default), plus `input`. */
function parseFlux(input: { source?: Record<string, unknown>; [key: string]: unknown } = {}) {
    return fluxSchema.parse({ ...input, source: { url: "https://github.com/o/r", ...input.source } });
}

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

    it("waits for a failed Flux attempt, the retry interval, and the retry itself", () => {
        const k = (extra: Record<string, unknown>) =>
            fluxPhaseSchema.parse({ name: "p", kustomizations: [ks("x", extra)] }).kustomizations[0];
        // Flux's default timeout = interval - 30s (9m30s); this program's retryInterval default is 2m.
        expect(readyTimeoutSeconds(k({}))).to.equal(2 * 570 + 120);
        // Flux's own retry default, the interval, when asked for.
        expect(readyTimeoutSeconds(k({ retryInterval: "10m" }))).to.equal(2 * 570 + 600);
        expect(readyTimeoutSeconds(k({ interval: "1h", timeout: "5m", retryInterval: "1m" }))).to.equal(2 * 300 + 60);
        // Flux never times an attempt out in under 30s.
        expect(readyTimeoutSeconds(k({ interval: "1m", timeout: "10s" }))).to.equal(2 * 30 + 120);
        expect(readyTimeoutSeconds(k({ interval: "45s", retryInterval: "45s" }))).to.equal(2 * 30 + 45);
    });

    it("puts HTTPS credentials under username and password, as source-controller reads them", () => {
        const source = parseFlux({ source: { httpsToken: { tokenSecret: "fluxGitToken" } } }).source;
        expect(gitCredentialsData(source, (key) => `<secret ${key}>`)).to.deep.equal({
            username: "git",
            password: "<secret fluxGitToken>",
        });
    });

    it("puts SSH credentials under identity and known_hosts", () => {
        const source = parseFlux({
            source: {
                url: "ssh://git@github.com/o/r",
                sshKey: { privateKeySecret: "fluxDeployKey", knownHosts: "github.com ssh-ed25519 AAAA" },
            },
        }).source;
        expect(gitCredentialsData(source, (key) => `<secret ${key}>`)).to.deep.equal({
            identity: "<secret fluxDeployKey>",
            known_hosts: "github.com ssh-ed25519 AAAA",
        });
    });

    it("needs no Secret data for a public repository", () => {
        expect(gitCredentialsData(parseFlux().source, (key) => key)).to.equal(undefined);
    });

    it("marks a Kustomization that is not owned by the platform, and only that one", () => {
        const flux = parseFlux({
            phases: [{ name: "p", kustomizations: [ks("a"), ks("b", { notOwnedByPlatform: true })] }],
        });
        const [a, b] = flux.phases[0].kustomizations.map((k) => kustomization(flux, 0, [], k));
        expect(a.metadata.annotations).to.not.have.property("talos-platform/not-owned-by-platform");
        expect(b.metadata.annotations).to.include({ "talos-platform/not-owned-by-platform": "true" });
        expect(crdErrors(b)).to.deep.equal([]);
    });

    it("follows semver over tag over branch, and main by default", () => {
        const source = (s: Record<string, unknown>) => parseFlux({ source: s }).source;
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
