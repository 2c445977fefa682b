import { expect } from "chai";
import { ownedComponents, ownerOfName, ownerOfPath } from "../lib/checks/gitops-owners";
import { resolveSection, validateConfig } from "../lib/config";
import { ConfigError, describeProblem, Problem } from "../lib/problems";
import { devSections, errorsOnly, Json, raw, withoutDevFindings } from "./helpers";

const KS = "talos-platform:flux.phases";
/** A schema error in the flux section: the cross-checks that read it wait for the fix, and say so. */
const SKIPPED = ["checks-skipped"];

function check(edit: (s: Record<string, Json>) => void, otherKeys = {}): Problem[] {
    const s = devSections();
    edit(s);
    return validateConfig(raw(s, otherKeys)).problems;
}

/** The errors an edit of the dev stack brings; a warning the test did not name fails it (see errorsOnly). */
const errors = (edit: (s: Record<string, Json>) => void, otherKeys = {}, warnings: string[] = []) =>
    errorsOnly(withoutDevFindings(check(edit, otherKeys)), warnings);

/** Three phases a → b → c with no extras, to edit per test. */
function phases(s: Record<string, Json>, ...extras: Array<[number, number, string[]]>) {
    s.flux.phases = [
        { name: "one", kustomizations: [{ name: "a", path: "./a" }] },
        {
            name: "two",
            kustomizations: [
                { name: "b", path: "./b" },
                { name: "c", path: "./c" },
                { name: "d", path: "./d" },
            ],
        },
        { name: "three", kustomizations: [{ name: "e", path: "./e" }] },
    ];
    for (const [i, j, deps] of extras) s.flux.phases[i].kustomizations[j].dependsOn = deps;
}

describe("gitops config: the dev stack", () => {
    it("mirrors the report's phases and passes every gitops check", () => {
        const result = validateConfig(raw(devSections()));
        expect(result.problems.filter((p) => p.severity === "error")).to.deep.equal([]);
        expect(result.problems.filter((p) => p.path.startsWith("talos-platform:flux"))).to.deep.equal([]);
        expect(result.config!.flux.phases.map((p) => p.name)).to.deep.equal([
            "core",
            "storage-and-monitoring",
            "networking",
            "applications",
        ]);
        const names = result.config!.flux.phases.flatMap((p) => p.kustomizations.map((k) => k.name));
        // The report lists 13 (its "14" miscounts); the four for what this program deploys are left out.
        expect(names).to.have.length(9);
        for (const owned of [
            "infrastructure-cert-manager",
            "infrastructure-cert-manager-issuers",
            "infrastructure-ingress-nginx",
            "infrastructure-cilium-bgp",
        ])
            expect(names).to.not.include(owned);
    });
});

describe("gitops config: names and paths", () => {
    it("rejects a Kustomization name used twice, across phases, naming both keys", () => {
        const p = errors((s) => {
            phases(s);
            s.flux.phases[2].kustomizations[0].name = "b";
        });
        expect(p).to.have.length(1);
        expect(p[0].path).to.equal(`${KS}[2].kustomizations[0].name`);
        expect(p[0].message).to.contain(`${KS}[1].kustomizations[0].name`);
        expect(p[0].value).to.equal("b");
    });

    it("rejects a phase name used twice", () => {
        const p = errors((s) => {
            phases(s);
            s.flux.phases[2].name = "one";
        });
        expect(p.map((x) => x.path)).to.deep.equal([`${KS}[2].name`]);
        expect(p[0].message).to.contain(`${KS}[0].name`);
    });

    it("rejects two Kustomizations applying the same path, trailing slash or not", () => {
        const p = errors((s) => {
            phases(s);
            s.flux.phases[2].kustomizations[0].path = "./b/";
        });
        expect(p.map((x) => x.path)).to.deep.equal([`${KS}[2].kustomizations[0].path`]);
        expect(p[0].message).to.contain(`${KS}[1].kustomizations[0].path`);
    });

    it("asks for a Kustomization, or the phase's removal, when a phase has none", () => {
        const p = errors((s) => (s.flux.phases[2].kustomizations = []), {}, SKIPPED);
        expect(p.map((x) => x.path)).to.deep.equal([`${KS}[2].kustomizations`]);
        expect(p[0].fix).to.equal("add a Kustomization, or remove the phase 'networking'");
        // Also when another field of the phase is wrong.
        const both = errors((s) => Object.assign(s.flux.phases[2], { kustomizations: [], extra: 1 }), {}, SKIPPED);
        expect(both.map((x) => x.path)).to.have.members([`${KS}[2].extra`, `${KS}[2].kustomizations`]);
        expect(both).to.have.length(2);
    });

    it("rejects a path outside the repository", () => {
        const p = errors((s) => (s.flux.phases[0].kustomizations[0].path = "./infrastructure/../../etc"), {}, SKIPPED);
        expect(p.map((x) => x.path)).to.deep.equal([`${KS}[0].kustomizations[0].path`]);
    });
});

describe("gitops config: dependencies", () => {
    it("accepts extras in the same or an earlier phase", () => {
        expect(errors((s) => phases(s, [1, 1, ["b"]], [2, 0, ["a", "c"]]))).to.deep.equal([]);
    });

    it("suggests no name for an unknown dependency that resembles none", () => {
        const p = errors((s) => (s.flux.phases[0].kustomizations[1].dependsOn = ["nope"]));
        expect(p.map((x) => x.path)).to.deep.equal([`${KS}[0].kustomizations[1].dependsOn[0]`]);
        expect(p[0].fix).to.not.contain("did you mean");
    });

    it("rejects a dependency on an unknown Kustomization, suggesting the closest name", () => {
        const p = errors((s) => {
            s.flux.phases[0].kustomizations[1].dependsOn = ["infrastructure-sourcez"];
        });
        expect(p).to.have.length(1);
        expect(p[0].path).to.equal(`${KS}[0].kustomizations[1].dependsOn[0]`);
        expect(p[0].value).to.equal("infrastructure-sourcez");
        expect(p[0].fix).to.contain("did you mean 'infrastructure-sources'");
    });

    it("rejects a dependency on a later phase, naming both phases and how to fix it", () => {
        const p = errors((s) => phases(s, [1, 0, ["e"]]));
        expect(p).to.have.length(1);
        expect(p[0].path).to.equal(`${KS}[1].kustomizations[0].dependsOn[0]`);
        expect(p[0].message).to.contain("later phase 'three'").and.contain(`${KS}[2]`);
        expect(p[0].fix).to.contain("move b to phase 'three' or later").and.contain("move e to phase 'two' or earlier");
    });

    it("reports a cycle as a path, with every dependency that makes it", () => {
        const p = errors((s) => phases(s, [1, 0, ["c"]], [1, 1, ["d"]], [1, 2, ["b"]]));
        expect(p).to.have.length(1);
        expect(p[0].message).to.contain("b → c → d → b");
        expect(p[0].path).to.equal(`${KS}[1].kustomizations[2].dependsOn[0]`);
        for (const j of [0, 1, 2]) expect(p[0].fix).to.contain(`${KS}[1].kustomizations[${j}].dependsOn[0]`);
    });

    it("reports a Kustomization that depends on itself", () => {
        const p = errors((s) => phases(s, [0, 0, ["a"]]));
        expect(p.map((x) => x.message)).to.deep.equal([p[0].message]);
        expect(p[0].message).to.contain("a → a");
    });

    it("reports a later-phase dependency once, not again as the cycle it would make", () => {
        // a (phase one) → e (phase three), and e waits for phase two, which waits for a.
        const p = errors((s) => phases(s, [0, 0, ["e"]]));
        expect(p).to.have.length(1);
        expect(p[0].message).to.contain("later phase");
    });
});

describe("gitops config: two owners", () => {
    const owned = () => ownedComponents({ coreDnsDisabled: true });
    const byName = (n: string) => ownerOfName(n, owned())?.component;
    const byPath = (p: string) => ownerOfPath(p, owned())?.component;

    it("knows a name for an owned component by its whole words, aliases included", () => {
        for (const [name, component] of [
            ["infrastructure-cert-manager", "cert-manager"],
            ["infrastructure-cert-manager-issuers", "cert-manager"],
            ["cert-manager", "cert-manager"],
            ["cluster-issuers", "cert-manager"],
            ["infrastructure-ingress-nginx", "ingress-nginx"],
            ["nginx-ingress", "ingress-nginx"],
            ["infrastructure-cilium-bgp", "cilium"],
            ["infrastructure-bgp", "cilium"],
            ["cilium-operator", "cilium"],
            ["kube-dns", "coredns"],
            ["coredns", "coredns"],
            ["flux-system", "flux"],
        ])
            expect(byName(name), name).to.equal(component);
    });

    it("leaves a name alone when a word of its own qualifies the owned one", () => {
        for (const other of [
            "cert-manager-trust-manager",
            "infrastructure-external-dns",
            "infrastructure-sources",
            "ingress-routes",
            "flux-alerts",
            "infrastructure-flux-webhook",
            "infrastructure-hubble",
        ])
            expect(byName(other), other).to.equal(undefined);
    });

    it("knows a path by its first directory that is not a generic container, and everything below it", () => {
        expect(byPath("./infrastructure/issuers")).to.equal("cert-manager");
        expect(byPath("./infrastructure/certmanager")).to.equal("cert-manager");
        expect(byPath("./infrastructure/cilium-bgp")).to.equal("cilium");
        expect(byPath("./infrastructure/cilium-bgp/overlays/prod")).to.equal("cilium");
        expect(byPath("./kubernetes/apps/kube-system/cilium/app")).to.equal("cilium");
        expect(byPath("./infrastructure/controllers/ingress-nginx")).to.equal("ingress-nginx");
        for (const other of ["./apps/grafana-dashboards/cilium", "./apps/monitoring", "./infrastructure/external-dns", "./infrastructure"])
            expect(byPath(other), other).to.equal(undefined);
    });

    it("rejects a Kustomization named after cert-manager, and one whose path is Cilium's BGP", () => {
        const p = errors((s) => {
            s.flux.phases[1].kustomizations.push({ name: "infrastructure-cert-manager", path: "./infrastructure/certs" });
            s.flux.phases[2].kustomizations.push({ name: "routing", path: "./infrastructure/cilium-bgp" });
        });
        expect(p.map((x) => x.path)).to.deep.equal([`${KS}[1].kustomizations[2].name`, `${KS}[2].kustomizations[2].path`]);
        expect(describeProblem(p[0]))
            .to.contain("cert-manager")
            .and.contain("certificates phase")
            .and.contain("talos-platform:certManager")
            .and.contain(`${KS}[1].kustomizations[2].notOwnedByPlatform`);
        expect(p[1].message).to.contain("cilium").and.contain("network phase");
    });

    it("rejects the aliases: issuers, cluster-issuers, bgp, nginx-ingress, kube-dns", () => {
        const p = errors((s) => {
            s.flux.phases[3].kustomizations.push(
                { name: "issuers", path: "./infrastructure/issuers" },
                { name: "cluster-issuers", path: "./x/one" },
                { name: "infrastructure-bgp", path: "./x/two" },
                { name: "nginx-ingress", path: "./x/three" },
                { name: "kube-dns", path: "./x/four" },
            );
        });
        expect(p.map((x) => x.path)).to.deep.equal([2, 3, 4, 5, 6].map((j) => `${KS}[3].kustomizations[${j}].name`));
    });

    it("accepts cert-manager-trust-manager and ./apps/grafana-dashboards/cilium", () => {
        const p = check((s) =>
            s.flux.phases[3].kustomizations.push(
                { name: "cert-manager-trust-manager", path: "./infrastructure/trust-manager" },
                { name: "grafana-dashboards-cilium", path: "./apps/grafana-dashboards/cilium" },
            ),
        );
        expect(p.filter((x) => x.path.startsWith(KS))).to.deep.equal([]);
    });

    it("says Talos runs CoreDNS when cluster.coreDnsDisabled is false, instead of pointing at talos-platform:coredns", () => {
        const p = errors((s) => {
            s.cluster.coreDnsDisabled = false;
            s.flux.phases[0].kustomizations.push({ name: "coredns", path: "./infrastructure/coredns" });
        });
        expect(p.map((x) => x.path)).to.deep.equal([`${KS}[0].kustomizations[3].name`]);
        expect(p[0].message).to.contain("which Talos runs").and.contain("talos-platform:cluster.coreDnsDisabled is false");
        expect(p[0].fix).to.contain("Talos cluster.coreDNS").and.not.contain("talos-platform:coredns");
        const ours = errors((s) => {
            s.cluster.coreDnsDisabled = true;
            s.flux.phases[0].kustomizations.push({ name: "coredns", path: "./infrastructure/coredns" });
        });
        expect(ours[0].message).to.contain("which this program deploys in its dns phase");
        expect(ours[0].fix).to.contain("talos-platform:coredns");
    });

    it("lets notOwnedByPlatform pass a name or path that only looks owned", () => {
        // e.g. step-ca's issuers, which cert-manager has nothing to do with
        const ks = { name: "step-issuers", path: "./infrastructure/issuers", notOwnedByPlatform: true };
        expect(check((s) => s.flux.phases[3].kustomizations.push({ ...ks, notOwnedByPlatform: false })).map((x) => x.path)).to.include(
            `${KS}[3].kustomizations[2].path`,
        );
        expect(check((s) => s.flux.phases[3].kustomizations.push(ks)).filter((x) => x.path.startsWith(KS))).to.deep.equal([]);
    });

    it("warns that the root, a generic container or a cluster directory may also apply owned components", () => {
        for (const [path, says] of [
            [".", "repository root"],
            ["./infrastructure", "conventionally holds components"],
            ["./clusters/home-ops", "cluster directory"],
        ]) {
            const w = withoutDevFindings(
                check((s) => {
                    s.flux.phases = [{ name: "all", kustomizations: [{ name: "everything", path }] }];
                }),
            );
            // That warning, and nothing else.
            expect(
                w.map((x) => [x.severity, x.rule, x.path]),
                path,
            ).to.deep.equal([["warning", "flux-path-may-apply-platform", `${KS}[0].kustomizations[0].path`]]);
            expect(w[0].message, path).to.contain(says).and.contain("cert-manager and its ClusterIssuers").and.contain("CoreDNS");
            expect(w[0].fix).to.contain(`${KS}[0].kustomizations[0].notOwnedByPlatform`);
        }
        const quiet = check((s) => {
            s.flux.phases = [{ name: "all", kustomizations: [{ name: "everything", path: ".", notOwnedByPlatform: true }] }];
        });
        expect(withoutDevFindings(quiet)).to.deep.equal([]);
    });
});

describe("gitops config: nested paths", () => {
    it("rejects a path that contains another configured path, naming both", () => {
        // ./infrastructure is also a directory that conventionally holds components: that warning comes with it.
        const p = errors((s) => s.flux.phases[3].kustomizations.push({ name: "infra", path: "./infrastructure" }), {}, [
            "flux-path-may-apply-platform",
        ]);
        expect(p.map((x) => x.path)).to.deep.equal([`${KS}[3].kustomizations[2].path`]);
        expect(p[0].message).to.contain(`${KS}[0].kustomizations[0].path (./infrastructure/sources)`).and.contain("and 4 more");
        expect(p[0].value).to.equal("./infrastructure");
    });

    it("rejects the repository root next to any other path", () => {
        const p = errors((s) => {
            phases(s);
            s.flux.phases.push({ name: "four", kustomizations: [{ name: "root", path: "./", notOwnedByPlatform: true }] });
        });
        expect(p.map((x) => x.path)).to.deep.equal([`${KS}[3].kustomizations[0].path`]);
        expect(p[0].message).to.contain(`${KS}[0].kustomizations[0].path (./a)`);
    });

    it("accepts siblings that only share a prefix of their names", () => {
        expect(errors((s) => Object.assign(s.flux.phases[3].kustomizations[0], { path: "./apps/monitoring-extra" }))).to.deep.equal([]);
    });
});

describe("gitops config: the Git source", () => {
    it("follows the given repository as GitRepository flux-system, and has no default repository", () => {
        const flux = resolveSection("flux", { source: { url: "https://git.example.com/ops/platform" } });
        expect(flux.source).to.include({ url: "https://git.example.com/ops/platform", name: "flux-system", interval: "1m" });
        expect(() => resolveSection("flux", undefined)).to.throw(ConfigError, "talos-platform:flux.source.url: is required");
    });

    it("rejects two refs at once, naming both keys", () => {
        const p = errors((s) => Object.assign(s.flux.source, { branch: "main", tag: "v1.0.0" }));
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:flux.source.tag"]);
        expect(p[0].message).to.contain("talos-platform:flux.source.branch");
        expect(p[0].message, "names the other key, not itself").to.not.contain("talos-platform:flux.source.tag");
    });

    it("turns an scp-like address into the ssh:// URL Flux needs", () => {
        const p = errors((s) => (s.flux.source.url = "git@github.com:geoffdavis/talos-gitops.git"), {}, SKIPPED);
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:flux.source.url"]);
        expect(p[0].fix).to.contain("ssh://git@github.com/geoffdavis/talos-gitops.git");
    });

    it("rejects credentials inside the URL, and keeps them out of every problem", () => {
        const p = errors((s) => (s.flux.source.url = "https://git:ghp_abc@github.com/geoffdavis/talos-gitops"));
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:flux.source.url"]);
        expect(p[0].fix).to.contain("httpsToken");
        expect(p[0].value).to.equal("https://***@github.com/geoffdavis/talos-gitops");
        expect(JSON.stringify(p)).to.not.contain("ghp_abc");
    });

    it("requires the token's secret key to be set, as a secret", () => {
        const token = (s: Record<string, Json>) => (s.flux.source.httpsToken = { tokenSecret: "fluxGitToken" });
        expect(errors(token, { fluxGitToken: { secret: true } })).to.deep.equal([]);
        const missing = errors(token);
        expect(missing.map((x) => x.path)).to.deep.equal(["talos-platform:flux.source.httpsToken.tokenSecret"]);
        const plain = errors(token, { fluxGitToken: { secret: false } });
        expect(plain.map((x) => x.path)).to.deep.equal(["talos-platform:fluxGitToken"]);
        expect(plain[0].fix).to.contain("--secret");
    });

    it("matches credentials to the URL scheme", () => {
        const secret = { fluxDeployKey: { secret: true }, fluxGitToken: { secret: true } };
        const sshKey = { privateKeySecret: "fluxDeployKey", knownHosts: "github.com ssh-ed25519 AAAA" };
        expect(errors((s) => (s.flux.source.sshKey = sshKey), secret).map((x) => x.path)).to.deep.equal([
            "talos-platform:flux.source.sshKey",
        ]);
        const tokenOverSsh = errors((s) => {
            s.flux.source.url = "ssh://git@github.com/geoffdavis/talos-gitops";
            s.flux.source.httpsToken = { tokenSecret: "fluxGitToken" };
        }, secret);
        expect(tokenOverSsh.map((x) => x.path)).to.deep.equal(["talos-platform:flux.source.httpsToken"]);
        expect(tokenOverSsh[0].message).to.contain("talos-platform:flux.source.url");
        const keyless = errors((s) => (s.flux.source.url = "ssh://git@github.com/geoffdavis/talos-gitops"));
        expect(keyless.map((x) => x.path)).to.deep.equal(["talos-platform:flux.source.url"]);
        const both = errors((s) => {
            s.flux.source.url = "ssh://git@github.com/geoffdavis/talos-gitops";
            s.flux.source.httpsToken = { tokenSecret: "fluxGitToken" };
            s.flux.source.sshKey = sshKey;
        }, secret);
        expect(both.map((x) => x.path)).to.deep.equal(["talos-platform:flux.source.sshKey"]);
    });

    it("requires known_hosts to cover the SSH host, port included", () => {
        const ssh = (url: string, knownHosts: string) => (s: Record<string, Json>) => {
            s.flux.source.url = url;
            s.flux.source.sshKey = { privateKeySecret: "fluxDeployKey", knownHosts };
        };
        const secret = { fluxDeployKey: { secret: true } };
        expect(errors(ssh("ssh://git@github.com/o/r", "github.com ssh-ed25519 AAAA"), secret)).to.deep.equal([]);
        const wrong = errors(ssh("ssh://git@github.com/o/r", "gitlab.com ssh-ed25519 AAAA"), secret);
        expect(wrong.map((x) => x.path)).to.deep.equal(["talos-platform:flux.source.sshKey.knownHosts"]);
        expect(wrong[0].fix).to.contain("ssh-keyscan github.com");
        const port = errors(ssh("ssh://git@git.home:2222/o/r", "git.home ssh-ed25519 AAAA"), secret);
        expect(port[0].message).to.contain("[git.home]:2222");
        expect(port[0].fix).to.contain("ssh-keyscan -p 2222 git.home");
    });
});

describe("gitops config: versions and keys", () => {
    it("refuses a Flux distribution range wider than a patch wildcard, with an example and wording for Flux", () => {
        const p = errors((s) => (s.flux.distribution = { version: "2.x" }), {}, SKIPPED);
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:flux.distribution.version"]);
        expect(p[0].value).to.equal("2.x");
        expect(describeProblem(p[0]))
            .to.contain("is not an exact version or a patch wildcard of Flux")
            .and.contain("such as 2.9.4")
            .and.contain("such as 2.9.x")
            .and.contain("let Flux change")
            .and.not.contain("chart");
    });

    it("refuses an operator chart range, naming the flux-operator chart and its own version", () => {
        const p = errors((s) => (s.flux.version = "latest"), {}, SKIPPED);
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:flux.version"]);
        expect(p[0].message).to.contain("the flux-operator chart");
        expect(p[0].fix).to.contain("such as 0.58.1").and.not.contain("1.19.4");
    });

    it("suggests a known key only for a likely misspelling", () => {
        const typo = errors((s) => (s.flux.distribution = { verison: "2.9.4" }), {}, SKIPPED);
        expect(typo.map((x) => x.path)).to.deep.equal(["talos-platform:flux.distribution.verison"]);
        expect(typo[0].fix).to.contain("did you mean 'version'?");
        const unrelated = errors((s) => (s.flux.distribution = { nope: true }), {}, SKIPPED);
        expect(unrelated.map((x) => x.path)).to.deep.equal(["talos-platform:flux.distribution.nope"]);
        expect(unrelated[0].fix).to.contain("version, registry");
        expect(unrelated[0].fix).to.not.contain("did you mean");
    });
});

describe("gitops config: controllers and health checks", () => {
    it("refuses a component list without the controllers the source and Kustomizations need", () => {
        const p = errors((s) => (s.flux.components = ["source-controller", "helm-controller"]));
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:flux.components"]);
        expect(p[0].message).to.contain("kustomize-controller");
    });

    it("rejects an unknown controller name", () => {
        const p = errors((s) => (s.flux.components = ["source-controller", "kustomize-controler"]), {}, SKIPPED);
        expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:flux.components[1]"]);
    });

    it("warns that healthChecks are ignored while wait is true, and not once wait is false", () => {
        const hc = [{ apiVersion: "apps/v1", kind: "Deployment", name: "longhorn-ui", namespace: "longhorn-system" }];
        const on = withoutDevFindings(check((s) => (s.flux.phases[1].kustomizations[0].healthChecks = hc)));
        expect(on.map((p) => [p.severity, p.rule, p.path])).to.deep.equal([
            ["warning", "flux-health-checks-ignored", `${KS}[1].kustomizations[0].healthChecks`],
        ]);
        const off = check((s) => Object.assign(s.flux.phases[1].kustomizations[0], { healthChecks: hc, wait: false }));
        expect(withoutDevFindings(off)).to.deep.equal([]);
    });
});
