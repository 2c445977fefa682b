import { expect } from "chai";
import { main as gateMain } from "../cli/gate";
import { validateConfig } from "../lib/config";
import { apiCheckCertificate, diagnoseCertificateApi, isRbacDenial } from "../lib/gates/certificates";
import { crdState } from "../lib/gates/crds";
import { blockedAfter, formatDiagnosis } from "../lib/gates/diagnosis";
import { diagnoseDns, dnsFailure } from "../lib/gates/dns";
import { diagnoseGitSource, fluxReadiness, missingKustomizations, sourceFailure, unreadyKustomizations } from "../lib/gates/gitops";
import { lbAddress, poolRanges } from "../lib/gates/ingress";
import { kubeconfigFault, transportFailure } from "../lib/gates/kube";
import { diagnoseServicePath, kprConfigured, parseKprStatus, routingEvidence, ServiceRouting } from "../lib/gates/network";
import {
    CertificatesOptions,
    DnsOptions,
    durationFlag,
    FLAGS,
    GATE_NAMES,
    gateFlags,
    GitopsOptions,
    IngressOptions,
    parseGateFlags,
    UsageError,
} from "../lib/gates/options";
import { parseProbeOutput, probePod, probeScript } from "../lib/gates/probe";
import { helmFullname } from "../lib/helm";
import { gateOptions, gitHost } from "../lib/gates/targets";
import { crashCause, daemonSetReadiness, deploymentReadiness, podTroubles } from "../lib/gates/workloads";
import { crashingPod, devConfig, devOptions, GIT_DNS_ERROR, NSLOOKUP_TIMEOUT, TIMEOUT_LINE, WEBHOOK_CRASH } from "./cluster-scenarios";
import { byName, CUSTOM_DOMAIN, customDomainConfig, devSections, Json, newProblems, planDev, raw } from "./helpers";
import { PHASES } from "../lib/phases";
import { crdErrors } from "./schemas";
import { exitStatus, runGate, type Step } from "../lib/gates/run";
import type { Kube } from "../lib/gates/kube";

/** curlimages/curl:8.11.1's multi-platform index digest, as public manifests pin it (see lib/config/gates.ts). */
const CURL_8_11_1 = "docker.io/curlimages/curl:8.11.1@sha256:c1fe1679c34d9784c1b0d1e5f62ac0a79fca01fb6377cdd33e90473c6f9f9a69";

describe("gate options", () => {
    it("derives every gate's targets from the dev stack", () => {
        const o = devOptions();
        expect(o.network).to.include({
            serviceIp: "10.96.0.1",
            kubeProxyReplacement: true,
            namespace: "kube-system",
            agent: "cilium",
            operator: "cilium-operator",
        });
        expect(o.network.crds).to.include("ciliumloadbalancerippools.cilium.io");
        expect(o.network).to.include({ timeoutMs: 120_000, pollMs: 2000, probeImage: CURL_8_11_1, probeNamespace: "default" });
        expect(o.dns).to.include({
            namespace: "kube-system",
            deployment: "coredns",
            dnsDomain: "cluster.local",
            externalName: "github.com",
            timeoutMs: 180_000,
        });
        expect(gateOptions(customDomainConfig()).dns.dnsDomain, "a custom domain reaches the dns gate").to.equal(CUSTOM_DOMAIN);
        expect(o.certificates).to.include({ namespace: "cert-manager", deployment: "cert-manager-webhook" });
        expect(o.ingress).to.include({
            namespace: "ingress-nginx",
            service: "ingress-nginx-controller",
            deployment: "ingress-nginx-controller",
            port: 80,
        });
        expect(o.gitops.deployments).to.deep.equal([
            "source-controller",
            "kustomize-controller",
            "helm-controller",
            "notification-controller",
        ]);
        expect(o.gitops.fluxPhases).to.deep.equal(["core", "storage-and-monitoring", "networking", "applications"]);
        expect(o.gitops.kustomizations).to.include("core/infrastructure-sources").and.include("applications/apps-dashboard");
        expect(o.gitops.kustomizations).to.have.length(9);
        expect(o.ingress.serviceType).to.equal("LoadBalancer");
        for (const phase of ["network", "dns", "certificates", "ingress", "gitops"] as const)
            expect(o[phase].serviceIp, phase).to.equal("10.96.0.1");
    });

    it("follows the values and the cluster: fullnameOverride, an IPv6-first Service subnet, kube-proxy kept, a custom external name", () => {
        const s = devSections();
        // Served on a NodePort, so the config stays valid without the pools removed below.
        s.ingressNginx = { values: { fullnameOverride: "edge", controller: { service: { ports: { http: 8080 }, type: "NodePort" } } } };
        s.cluster.serviceSubnets = ["fd47:25e1:2f96:51:1000::/108", "10.96.0.0/12"];
        s.cluster.podSubnets = ["fd47:25e1:2f96:100::/56", "10.244.0.0/16"];
        s.cluster.kubeProxyDisabled = false;
        s.cilium.loadBalancerPools = [];
        delete s.cilium.bgp;
        // Cilium serves no Gateway without kube-proxy replacement, nor without a pool.
        delete s.gateway;
        s.gates = { dns: { externalName: "example.org" } };
        const o = gateOptions(validateConfig(raw(s)).config!);
        expect(o.ingress).to.include({ service: "edge-controller", port: 8080, serviceType: "NodePort" });
        expect(o.network.serviceIp).to.equal("fd47:25e1:2f96:51:1000::1");
        expect(o.network.kubeProxyReplacement).to.equal(false);
        expect(o.network.crds).to.not.include("ciliumloadbalancerippools.cilium.io");
        expect(o.dns.externalName).to.equal("example.org");
    });

    it("computes Helm's fullname and a Git host the way the charts and Flux do", () => {
        expect(helmFullname("cert-manager", "cert-manager", {})).to.equal("cert-manager");
        expect(helmFullname("edge", "ingress-nginx", {})).to.equal("edge-ingress-nginx");
        expect(helmFullname("x", "coredns", { fullnameOverride: "dns" })).to.equal("dns");
        expect(helmFullname("x", "coredns", { nameOverride: "x" })).to.equal("x");
        expect(gitHost("https://github.com/geoffdavis/talos-gitops")).to.equal("github.com");
        expect(gitHost("ssh://git@gitlab.example.org:2222/a/b")).to.equal("gitlab.example.org");
        expect(gitHost("git@github.com:org/repo.git")).to.equal("github.com");
        expect(gitHost("not a url")).to.equal(undefined);
    });

    it("round-trips every gate's options through its command-line flags", () => {
        const o = devOptions();
        for (const gate of GATE_NAMES) {
            const { options } = parseGateFlags(gate, gateFlags(gate, o[gate]), {} as never);
            // Every option a gate has reaches its command line, except those that by contract never do: the
            // kubeconfig file (left to the environment, as the provider does), where the context came from, and
            // the probe pods' settings for the gates that run no probe pod (crds, gateway-api-crds, certificates, gitops).
            const never = [
                "kubeconfig",
                "contextFrom",
                ...(["network", "dns", "ingress", "gateway"].includes(gate) ? [] : ["probeImage", "probeNamespace"]),
            ];
            const expected = Object.fromEntries(Object.entries(o[gate]).filter(([k, v]) => v !== undefined && !never.includes(k)));
            expect(options, gate).to.deep.equal(expected);
        }
    });

    /**
     * The gate command's contract, written out here rather than read from
     * FLAGS: what `pulumi up` passes and what `npm run gate -- <gate> --help`
     * documents. Each gate polls (timeout, poll) through a kubeconfig
     * (context, kubeconfig) and names the kubernetes Service's address in
     * crash diagnoses (service-ip); the rest are what each gate checks, per
     * the table of gates in docs/gates-and-doctor.md: the ingress gate also
     * runs the announcements steps (BGP sessions and advertised pools, L2
     * leases) and waits for the default certificate; under flux.sync the
     * gitops gate checks the root Kustomization and the declared order.
     */
    const COMMON = ["timeout", "poll", "context", "kubeconfig"];
    const PROBE = ["probe-image", "probe-namespace"];
    const ANNOUNCE = ["cilium-namespace", "bgp-cluster-config", "bgp-pool", "l2-pool"];
    /** The shared Gateway's steps, which the ingress gate runs too (docs/gates-and-doctor.md, "ingress: the Gateway"). */
    const GATEWAY = ["gateway", "gateway-class", "gateway-listener"];
    const CONTRACT: Record<string, string[]> = {
        crds: [...COMMON, "crd"],
        // The Gateway API CRDs' pre-check: installed by this program, or left to another installer.
        "gateway-api-crds": [...COMMON, "mode", "crd", "served", "bundle-version"],
        network: [
            ...COMMON,
            ...PROBE,
            "namespace",
            "agent-daemonset",
            "operator-deployment",
            "crd",
            "service-ip",
            "kube-proxy-replacement",
        ],
        dns: [...COMMON, ...PROBE, "namespace", "deployment", "dns-domain", "resolve", "service-ip"],
        certificates: [...COMMON, "namespace", "deployment", "service-ip"],
        ingress: [
            ...COMMON,
            ...PROBE,
            "namespace",
            "service",
            "service-type",
            "deployment",
            "port",
            "certificate",
            "ingress-nginx",
            "service-ip",
            ...GATEWAY,
            ...ANNOUNCE,
        ],
        gitops: [
            ...COMMON,
            "namespace",
            "deployment",
            "git-repository",
            "flux-phase",
            "kustomization",
            "non-critical",
            "root-kustomization",
            "depends-on",
            "service-ip",
        ],
        gateway: [...COMMON, ...PROBE, ...GATEWAY],
        announcements: [...COMMON, ...ANNOUNCE],
    };
    /** Flags a gate's command line carries only when their setting is: a context, L2 announcements, flux.sync, critical: false. */
    const WHEN_SET = ["context", "kubeconfig", "l2-pool", "root-kustomization", "depends-on", "non-critical"];

    it("each gate's --help lists exactly the flags of its contract, and parses each of them", async () => {
        expect(Object.keys(CONTRACT)).to.have.members([...GATE_NAMES]);
        for (const gate of GATE_NAMES) {
            let text = "";
            const sink = {
                out: (t: string) => (text += t),
                err: (t: string) => (text += t),
                cwd: ".",
                signal: new AbortController().signal,
            };
            expect(await gateMain([gate, "--help"], sink), gate).to.equal(0);
            const listed = [...text.matchAll(/^ {2}--([a-z0-9-]+)/gm)].map((m) => m[1]);
            // The command's own flags: where the settings come from, and help.
            const own = listed.filter((f) => !["stack", "config", "no-stack", "help"].includes(f));
            expect(own, `${gate} --help`).to.have.members(CONTRACT[gate]);
            expect(own, `${gate} --help`).to.have.length(CONTRACT[gate].length);
        }
    });

    it("passes each gate, from the plan as pulumi up runs it, every setting of its contract with the dev stack's values", async () => {
        const plan = await planDev();
        /** The flags after `gate.ts <gate>` (or the compiled gate.js), as flag → values. */
        const flagsOf = (gate: string): Record<string, string[]> => {
            const create = String(byName(plan, `${gate}-gate-check`).inputs.create);
            const m = new RegExp(`^node cli/run\\.cjs gate ${gate} --no-stack (.*)$`).exec(create);
            expect(m, create).to.not.equal(null);
            const out: Record<string, string[]> = {};
            const words = m![1].split(" ");
            for (let i = 0; i < words.length; i += 2) {
                expect(words[i], create).to.match(/^--[a-z-]+$/);
                (out[words[i].slice(2)] ??= []).push(words[i + 1]);
            }
            return out;
        };
        // The dev stack: the charts' release names as Helm names them, the defaults the README gives.
        const polling = { timeout: ["3m"], poll: ["2s"] };
        // curlimages/curl 8.11.1 by the digest of its multi-platform index (configuration reference, gates.probeImage).
        const probe = {
            "probe-image": ["docker.io/curlimages/curl:8.11.1@sha256:c1fe1679c34d9784c1b0d1e5f62ac0a79fca01fb6377cdd33e90473c6f9f9a69"],
            "probe-namespace": ["default"],
        };
        const serviceIp = { "service-ip": ["10.96.0.1"] };
        expect(flagsOf("ingress")).to.deep.equal({
            ...polling,
            ...probe,
            namespace: ["ingress-nginx"],
            service: ["ingress-nginx-controller"],
            "service-type": ["LoadBalancer"],
            deployment: ["ingress-nginx-controller"],
            port: ["80"],
            // ingressNginx.defaultCertificate's Certificate, named after its Secret.
            certificate: ["default-tls"],
            "ingress-nginx": ["true"],
            ...serviceIp,
            // The dev stack's gateway section: the shared Gateway at its defaults (gateway/platform, class cilium), its two
            // HTTPS listeners with the Secrets cert-manager's gateway-shim writes (<gateway>-<listener>-tls), and the
            // redirect listener on port 80 the program adds when any listener is HTTPS.
            gateway: ["gateway/platform"],
            "gateway-class": ["cilium"],
            "gateway-listener": ["https-apex=platform-https-apex-tls", "https-wildcard=platform-https-wildcard-tls", "http-redirect"],
            // The dev stack's cilium.bgp: its sessions are IPv4, so the IPv4 pools are the ones advertised.
            "cilium-namespace": ["kube-system"],
            "bgp-cluster-config": ["cilium-bgp"],
            "bgp-pool": ["bgp-default/ipv4", "bgp-ingress/ipv4", "bgp-reserved/ipv4"],
        });
        expect(flagsOf("dns")).to.deep.equal({
            ...polling,
            ...probe,
            namespace: ["kube-system"],
            deployment: ["coredns"],
            // The dev stack follows the seed's talconfig.yaml: Talos' default cluster.local.
            "dns-domain": ["cluster.local"],
            resolve: ["github.com"],
            ...serviceIp,
        });
        expect(flagsOf("certificates")).to.deep.equal({
            ...polling,
            namespace: ["cert-manager"],
            deployment: ["cert-manager-webhook"],
            ...serviceIp,
        });
        const network = flagsOf("network");
        expect(network).to.deep.include({
            timeout: ["2m"],
            poll: ["2s"],
            ...probe,
            namespace: ["kube-system"],
            "agent-daemonset": ["cilium"],
            "operator-deployment": ["cilium-operator"],
            ...serviceIp,
            "kube-proxy-replacement": ["true"],
        });
        expect(network.crd).to.include.members([
            "ciliumnodes.cilium.io",
            "ciliumloadbalancerippools.cilium.io",
            "ciliumbgppeerconfigs.cilium.io",
        ]);
        const gitops = flagsOf("gitops");
        expect(gitops).to.deep.include({
            ...polling,
            namespace: ["flux-system"],
            deployment: ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"],
            "git-repository": ["flux-system"],
            "flux-phase": ["core", "storage-and-monitoring", "networking", "applications"],
            ...serviceIp,
        });
        expect(gitops.kustomization).to.include.members(["core/infrastructure-sources", "applications/apps-monitoring"]);
        // Nothing else: every flag on a gate's command line is one of its contract (some only when set).
        for (const gate of PHASES)
            expect(Object.keys(flagsOf(gate)), gate).to.have.members(CONTRACT[gate].filter((f) => !WHEN_SET.includes(f)));
    });

    it("keeps the crds command compatible with CrdWait's contract", () => {
        expect(gateFlags("crds", { ...devOptions().crds, crds: ["a.b"], context: "home" })).to.deep.equal([
            "--timeout",
            "2m",
            "--poll",
            "2s",
            "--context",
            "home",
            "--crd",
            "a.b",
        ]);
    });

    it("`<gate> --help` gives each of the gate's flags with its format and meaning, and no other gate's flags", async () => {
        for (const gate of GATE_NAMES) {
            let text = "";
            const code = await gateMain([gate, "--help"], {
                out: (t) => (text += t),
                err: (t) => (text += t),
                cwd: ".",
                signal: new AbortController().signal,
            });
            expect(code, gate).to.equal(0);
            const own = new Set(Object.values(FLAGS[gate]).map((f) => f.flag));
            for (const { flag, arg, help } of Object.values(FLAGS[gate])) {
                // The flag, its format, and the first words of its meaning on the same line.
                const line = text.split("\n").find((l) => l.startsWith(`  --${flag} `));
                expect(line, `${gate} --${flag}`).to.match(new RegExp(`^  --${flag} ${arg.replace(/[|[\]]/g, "\\$&")} +\\S`));
                expect(line, `${gate} --${flag}`).to.contain(help.split(" ").slice(0, 3).join(" "));
            }
            const others = GATE_NAMES.flatMap((g) => Object.values(FLAGS[g]).map((f) => f.flag)).filter((f) => !own.has(f));
            for (const flag of others) expect(text, `${gate} --help lists --${flag}`).to.not.match(new RegExp(`--${flag}(?![\\w-])`));
        }
        expect(FLAGS.gitops.kustomizations).to.include({ arg: "PHASE/NAME" });
    });

    it("rejects bad flags with a usage error", () => {
        const base = devOptions().network;
        expect(() => parseGateFlags("network", ["--timeout", "soon"], base)).to.throw(UsageError, "--timeout soon");
        expect(() => parseGateFlags("network", ["--kube-proxy-replacement", "yes"], base)).to.throw(UsageError, "true or false");
        expect(() => parseGateFlags("network", ["--frobnicate"], base)).to.throw(UsageError);
        // One poll rule for the config key and the flag: at most 2s.
        expect(() => parseGateFlags("network", ["--poll", "10s"], base)).to.throw(UsageError, "--poll 10s is not between 1ms and 2s");
        expect(() => durationFlag("poll", "2001ms")).to.throw(UsageError);
        expect(durationFlag("poll", "2s")).to.equal(2000);
        expect(durationFlag("timeout", "10m")).to.equal(600_000);
        expect(parseGateFlags("network", ["--kube-proxy-replacement", "false", "--poll", "20ms"], base).options).to.include({
            kubeProxyReplacement: false,
            pollMs: 20,
        });
    });

    /** Every finding the gates section brings to the dev stack, as "severity rule path: message". */
    const gateFindings = (gates: Json) =>
        newProblems((s) => (s.gates = gates)).map((p) => `${p.severity} ${p.rule ?? "-"} ${p.path}: ${p.message}`);
    const SKIPPED = /^warning checks-skipped talos-platform:gates: /;

    it("refuses a poll interval over 2s, an unpinned probe image and a bogus external name", () => {
        const found = gateFindings({ pollInterval: "5s", probeImage: "curlimages/curl:latest", dns: { externalName: "not_a host" } });
        expect(found.filter((f) => !SKIPPED.test(f)).map((f) => f.split(":").slice(0, 2).join(":"))).to.have.members([
            "error - talos-platform:gates.pollInterval",
            "error - talos-platform:gates.probeImage",
            "error - talos-platform:gates.dns.externalName",
        ]);
        expect(found.filter((f) => SKIPPED.test(f))).to.have.length(1);
        expect(found).to.have.length(4);
    });

    it("pins the probe image by digest by default, keeps a mirror overridable, and warns about a tag alone", () => {
        // Every new finding, not only the probe image's: a tag alone earns one warning and nothing else.
        const warnings = (probeImage?: string) => {
            const edit = (s: Record<string, Json>) => (s.gates = probeImage ? { probeImage } : {});
            const s = devSections();
            edit(s);
            return { image: validateConfig(raw(s)).config!.gates.probeImage, found: newProblems(edit) };
        };
        expect(warnings()).to.deep.equal({ image: CURL_8_11_1, found: [] });
        const mirror = "registry.home.arpa/curlimages/curl:8.11.1@sha256:c1fe1679c34d9784c1b0d1e5f62ac0a79fca01fb6377cdd33e90473c6f9f9a69";
        expect(warnings(mirror)).to.deep.equal({ image: mirror, found: [] });
        expect(gateOptions(((c) => ((c.gates.probeImage = mirror), c))(devConfig())).ingress.probeImage).to.equal(mirror);
        const tagged = warnings("registry.home.arpa/curlimages/curl:8.11.1").found;
        expect(tagged.map((p) => [p.severity, p.rule, p.path])).to.deep.equal([
            ["warning", "gate-probe-image-tag", "talos-platform:gates.probeImage"],
        ]);
        expect(tagged[0].fix).to.contain("@sha256:");
        // A digest that is not 64 hex digits pins nothing.
        expect(warnings("curlimages/curl:8.11.1@sha256:c1fe1679").found.map((p) => [p.severity, p.rule])).to.deep.equal([
            ["warning", "gate-probe-image-tag"],
        ]);
    });

    it("reports a timeout that is not a duration once, not also as too short", () => {
        expect(
            gateFindings({ network: { timeout: "2 minutes" }, pollInterval: "2 seconds" }).filter((f) => !SKIPPED.test(f)),
        ).to.deep.equal([
            "error - talos-platform:gates.pollInterval: is not a duration",
            "error - talos-platform:gates.network.timeout: is not a duration",
        ]);
    });

    it("takes a gate timeout of 1s and refuses 999ms; takes a poll of 1ms and of 2s, and refuses 2001ms, as documented", () => {
        const errors = (gates: Json) => gateFindings(gates).filter((f) => !SKIPPED.test(f));
        expect(errors({ network: { timeout: "1s" } })).to.deep.equal([]);
        expect(errors({ network: { timeout: "999ms" } })).to.deep.equal([
            "error - talos-platform:gates.network.timeout: is shorter than one second",
        ]);
        expect(errors({ pollInterval: "2s" })).to.deep.equal([]);
        expect(errors({ pollInterval: "1ms" })).to.deep.equal([]);
        expect(errors({ pollInterval: "2001ms" })).to.deep.equal(["error - talos-platform:gates.pollInterval: is not between 1ms and 2s"]);
        expect(errors({ pollInterval: "0s" })).to.deep.equal(["error - talos-platform:gates.pollInterval: is not between 1ms and 2s"]);
    });

    it("warns about a gate timeout over 10 minutes, and only then", () => {
        const s = devSections();
        s.gates = { dns: { timeout: "15m" }, gitops: { timeout: "10m" } };
        expect(validateConfig(raw(s)).config, "a warning does not block").to.not.equal(undefined);
        const long = newProblems((x) => (x.gates = s.gates));
        expect(long.map((p) => [p.path, p.value, p.severity, p.rule])).to.deep.equal([
            ["talos-platform:gates.dns.timeout", "15m", "warning", "gate-timeout-long"],
        ]);
        expect(long[0].message).to.contain("more than 10m");
        expect(long[0].fix).to.contain("(default 3m)");
        expect(newProblems((x) => (x.gates = { network: { timeout: "11m" } }))[0].fix).to.contain("(default 2m)");
        // The boundary, on both sides: 10m is fine, a second more is not.
        expect(gateFindings({ certificates: { timeout: "10m" } })).to.deep.equal([]);
        expect(gateFindings({ certificates: { timeout: "10m1s" } }).map((f) => f.split(":").slice(0, 2).join(":"))).to.deep.equal([
            "warning gate-timeout-long talos-platform:gates.certificates.timeout",
        ]);
    });
});

describe("probe pods", () => {
    const pod = probePod({
        name: "p",
        namespace: "default",
        image: "curlimages/curl:8.11.1",
        gate: "network",
        checks: [{ id: "a", argv: ["curl", "https://10.96.0.1:443/"] }],
        mountCa: true,
        activeDeadlineSeconds: 150,
    });

    it("run restricted: non-root, read-only root, no capabilities, no token, bounded resources, pinned image", () => {
        const c = pod.spec!.containers[0];
        expect(pod.spec!.automountServiceAccountToken).to.equal(false);
        expect(pod.spec!.securityContext).to.deep.include({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        expect(c.securityContext).to.deep.equal({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
        });
        expect(c.resources!.limits).to.deep.equal({ cpu: "100m", memory: "32Mi" });
        expect(c.image).to.equal("curlimages/curl:8.11.1");
        expect(pod.spec!.restartPolicy).to.equal("Never");
        expect(pod.spec!.activeDeadlineSeconds).to.equal(150);
        // The CA comes from the kube-root-ca.crt ConfigMap, not a service-account token.
        expect(pod.spec!.volumes).to.deep.equal([{ name: "kube-root-ca", configMap: { name: "kube-root-ca.crt" } }]);
    });

    it("quote every argument into the script and parse only tagged result lines", () => {
        const script = probeScript([{ id: "x", argv: ["nslookup", "it's.example."] }]);
        expect(script).to.contain(`run x nslookup 'it'\\''s.example.'`);
        expect(parseProbeOutput("noise\ntalos-probe\tclusterip\t28\tcurl: (28) timed out\ntalos-probe\tbad\tx\ty\n")).to.deep.equal([
            { id: "clusterip", rc: 28, output: "curl: (28) timed out" },
        ]);
    });
});

const routing = (over: Partial<ServiceRouting>): ServiceRouting => ({
    namespace: "kube-system",
    kubeProxy: "absent",
    kprConfig: "false",
    ciliumConfigFound: true,
    ...over,
});
const timedOut = [
    { id: "clusterip", rc: 28, output: TIMEOUT_LINE },
    { id: "name", rc: 28, output: TIMEOUT_LINE },
];

describe("network diagnosis", () => {
    it("names the Week 4 incident from the probe error and the live settings, conclusively", () => {
        const { diagnosis, final } = diagnoseServicePath(timedOut, routing({}), "10.96.0.1");
        expect(final).to.equal(true);
        expect(diagnosis.link).to.equal("pods → kubernetes Service 10.96.0.1:443");
        expect(diagnosis.evidence).to.include.members([
            "DaemonSet kube-system/kube-proxy: not found",
            'ConfigMap kube-system/cilium-config: kube-proxy-replacement: "false"',
        ]);
        expect(diagnosis.evidence[0]).to.contain(TIMEOUT_LINE).and.contain("https://10.96.0.1:443");
        expect(diagnosis.cause).to.contain("nothing programs Service ClusterIPs").and.contain("Week 4");
        expect(diagnosis.fix).to.contain("kubeProxyReplacement: true");
        expect(diagnosis.blocks.join(" "))
            .to.contain("CoreDNS")
            .and.contain("cert-manager")
            .and.contain("ingress-nginx")
            .and.contain("Flux");
    });

    it("treats a missing cilium-config like kube-proxy replacement off", () => {
        const { diagnosis, final } = diagnoseServicePath(
            timedOut,
            routing({ ciliumConfigFound: false, kprConfig: undefined }),
            "10.96.0.1",
        );
        expect(final).to.equal(true);
        expect(diagnosis.evidence).to.include("ConfigMap kube-system/cilium-config: not found");
    });

    it("keeps waiting, with other causes, when something does program Services", () => {
        const both = diagnoseServicePath(timedOut, routing({ kubeProxy: "present", kprConfig: "true" }), "10.96.0.1");
        expect(both.final).to.equal(false);
        expect(both.diagnosis.cause).to.contain("both program Services");
        const kpr = diagnoseServicePath(timedOut, routing({ kprConfig: "true" }), "10.96.0.1");
        expect(kpr.final).to.equal(false);
        expect(kpr.diagnosis.cause).to.contain("Cilium's kube-proxy replacement should route");
        const tls = diagnoseServicePath(
            [{ id: "clusterip", rc: 60, output: "curl: (60) SSL certificate problem" }],
            routing({ kprConfig: "true" }),
            "10.96.0.1",
        );
        expect(tls.diagnosis.cause).to.contain("certificate");
    });

    it("brackets an IPv6 ClusterIP", () => {
        expect(diagnoseServicePath(timedOut, routing({}), "fd00::1").diagnosis.link).to.equal("pods → kubernetes Service [fd00::1]:443");
    });

    it("counts only kube-proxy-replacement true as on, by the config check's rule; a legacy string is named as such", () => {
        expect(kprConfigured("true")).to.equal(true);
        expect(kprConfigured("false")).to.equal(false);
        expect(kprConfigured(undefined)).to.equal(false);
        expect(kprConfigured("strict")).to.equal(false);
        expect(routingEvidence(routing({ kprConfig: "strict" }))[1]).to.contain('"strict" (is the legacy string "strict"');
        // "strict" with kube-proxy gone is still the incident: nothing Cilium understands replaces it.
        expect(diagnoseServicePath(timedOut, routing({ kprConfig: "strict" }), "10.96.0.1").final).to.equal(true);
    });

    it("reads KubeProxyReplacement from cilium-dbg status", () => {
        expect(parseKprStatus("KVStore: Ok\nKubeProxyReplacement:    True   [eth0 (Direct Routing)]\n")).to.equal("True");
        expect(parseKprStatus("KubeProxyReplacement:   False\n")).to.equal("False");
        expect(parseKprStatus("Cilium: Ok\n")).to.equal(undefined);
    });
});

describe("dns diagnosis", () => {
    // The custom-domain test stack: the diagnoses name its domain. Computed in each test, not when the
    // file loads: code run at load time is no test's (see stryker.config.mjs).
    let o: DnsOptions;
    beforeEach(() => (o = gateOptions(customDomainConfig()).dns));
    const ok = (id: string) => ({ id, rc: 0, output: "Name: x Address: 1.2.3.4" });

    it("classifies nslookup's own words by the rcode it prints", () => {
        expect(dnsFailure(NSLOOKUP_TIMEOUT)).to.equal("timeout");
        expect(dnsFailure("** server can't find x.cluster.local: NXDOMAIN")).to.equal("nxdomain");
        // busybox nslookup prints the rcode word; SERVFAIL is a server that answered without an answer.
        expect(dnsFailure("Server: 10.96.0.10 Address: 10.96.0.10:53  ** server can't find github.com.: SERVFAIL")).to.equal("servfail");
        expect(dnsFailure("** server can't find github.com.: REFUSED")).to.equal("servfail");
        expect(dnsFailure("*** Can't find github.com.: No answer")).to.equal("other");
        expect(dnsFailure("dial tcp: lookup github.com: no such host")).to.equal("nxdomain");
    });

    it("reads SERVFAIL for a cluster name as CoreDNS not synced with the API server, and for a public name as its upstreams", () => {
        const cluster = diagnoseDns(
            [
                { id: "cluster", rc: 1, output: "** server can't find kubernetes.default.svc.k8s.home.geoffdavis.com.: SERVFAIL" },
                ok("external"),
            ],
            o,
        )!;
        expect(cluster.link).to.equal("CoreDNS → API server (Deployment kube-system/coredns)");
        expect(cluster.cause).to.contain("has not synced with the API server").and.contain("10.96.0.1:443");
        const external = diagnoseDns([ok("cluster"), { id: "external", rc: 1, output: "** server can't find github.com.: SERVFAIL" }], o)!;
        expect(external.link).to.equal("CoreDNS → upstream resolvers (github.com)");
        expect(external.cause).to.contain("SERVFAIL").and.contain("talos-platform:coredns.upstreams");
        expect(external.fix).to.contain("egress to port 53");
        expect(external.cause).to.not.contain("does not exist");
    });

    it("blames the path to CoreDNS when cluster names time out, and the domain when they do not exist", () => {
        const t = diagnoseDns([{ id: "cluster", rc: 1, output: NSLOOKUP_TIMEOUT }, ok("external")], o)!;
        expect(t.link).to.equal("pods → cluster DNS (Deployment kube-system/coredns)");
        expect(t.evidence[0]).to.contain(NSLOOKUP_TIMEOUT);
        const nx = diagnoseDns(
            [
                { id: "cluster", rc: 1, output: "** server can't find kubernetes.default.svc.k8s.home.geoffdavis.com: NXDOMAIN" },
                ok("external"),
            ],
            o,
        )!;
        expect(nx.link).to.equal("CoreDNS → zone k8s.home.geoffdavis.com");
        expect(nx.fix).to.contain("talos-platform:cluster.dnsDomain");
    });

    it("blames the upstream resolvers when only external names fail, and says what that blocks", () => {
        const d = diagnoseDns([ok("cluster"), { id: "external", rc: 1, output: NSLOOKUP_TIMEOUT }], o)!;
        expect(d.link).to.equal("CoreDNS → upstream resolvers (github.com)");
        expect(d.blocks[0]).to.contain("Flux source at github.com");
        expect(diagnoseDns([ok("cluster"), ok("external")], o)).to.equal(undefined);
    });
});

describe("certificates diagnosis", () => {
    // Computed in each test, not when the file loads: code run at load time is no test's (see stryker.config.mjs).
    let o: CertificatesOptions;
    beforeEach(() => (o = devOptions().certificates));
    const msg = (tail: string) =>
        `Internal error occurred: failed calling webhook "webhook.cert-manager.io": failed to call webhook: Post "https://cert-manager-webhook.cert-manager.svc:443/validate?timeout=30s": ${tail}`;

    it("tells apart the failures cmctl check api tells apart", () => {
        expect(diagnoseCertificateApi(404, "the server could not find the requested resource", o).cause).to.contain(
            "CRDs are not installed",
        );
        expect(diagnoseCertificateApi(500, msg('service "cert-manager-webhook" not found'), o).cause).to.contain("Service does not exist");
        expect(diagnoseCertificateApi(500, msg("dial tcp 10.96.38.90:443: connect: connection refused"), o).cause).to.contain(
            "no ready pod",
        );
        expect(
            diagnoseCertificateApi(500, msg("tls: failed to verify certificate: x509: certificate signed by unknown authority"), o).link,
        ).to.equal("cainjector → webhook CA bundle");
        expect(diagnoseCertificateApi(500, msg("context deadline exceeded"), o).cause).to.contain("host network");
    });

    it("tells a missing namespace from missing CRDs, though both are 404", () => {
        const ns = diagnoseCertificateApi(404, 'namespaces "cert-manager" not found', o);
        expect(ns.link).to.equal("namespace cert-manager");
        expect(ns.cause).to.not.contain("CRDs");
        expect(diagnoseCertificateApi(404, "the server could not find the requested resource", o).link).to.equal("cert-manager CRDs");
    });

    it("tells RBAC refusing the checker from a webhook denying the Certificate", () => {
        expect(
            isRbacDenial(
                403,
                'certificates.cert-manager.io is forbidden: User "ci" cannot create resource "certificates" in API group "cert-manager.io" in the namespace "cert-manager"',
            ),
        ).to.equal(true);
        expect(isRbacDenial(403, 'admission webhook "validation.gatekeeper.sh" denied the request: no')).to.equal(false);
        expect(isRbacDenial(401, "Unauthorized")).to.equal(true);
    });

    it("dry-runs a Certificate that conforms to cert-manager v1.21.1's strict schema", () => {
        expect(crdErrors(apiCheckCertificate("cert-manager"))).to.deep.equal([]);
    });
});

describe("gitops diagnosis", () => {
    // Computed in each test, not when the file loads: code run at load time is no test's (see stryker.config.mjs).
    let o: GitopsOptions;
    beforeEach(() => (o = devOptions().gitops));

    it("reads the report's clone error as a DNS failure, naming the host", () => {
        expect(sourceFailure(GIT_DNS_ERROR)).to.equal("dns");
        const d = diagnoseGitSource(
            {
                spec: { url: "https://github.com/geoffdavis/talos-gitops" },
                status: { conditions: [{ type: "Ready", status: "False", reason: "GitOperationFailed", message: GIT_DNS_ERROR }] },
            },
            o,
        );
        expect(d.link).to.equal("source-controller → DNS (github.com)");
        expect(d.evidence[0]).to.contain("lookup github.com: i/o timeout");
        expect(d.blocks).to.include("Flux phase core");
    });

    it("tells credentials, egress and a missing branch apart", () => {
        expect(sourceFailure("authentication required: Repository not found.")).to.equal("credentials");
        expect(sourceFailure('Get "https://github.com/x/info/refs": dial tcp 140.82.121.4:443: i/o timeout')).to.equal("egress");
        expect(sourceFailure("couldn't find remote ref refs/heads/mian")).to.equal("ref");
        expect(sourceFailure("something else")).to.equal("other");
    });

    it("does not take a Ready from before the latest spec change", () => {
        const obj = (observed: number) => ({
            metadata: { name: "a", namespace: "flux-system", generation: 2 },
            status: { observedGeneration: observed, conditions: [{ type: "Ready", status: "True", reason: "Succeeded" }] },
        });
        expect(fluxReadiness(obj(2)).ready).to.equal(true);
        const stale = fluxReadiness(obj(1));
        expect(stale.ready).to.equal(false);
        expect(stale.summary).to.contain("observed generation 1 < generation 2");
        expect(unreadyKustomizations([obj(1)])[0]).to.match(
            /^Kustomization flux-system\/a: Ready=True \(Succeeded\); but observed generation 1/,
        );
    });

    it("names the configured Kustomizations a phase is missing", () => {
        const items = [{ metadata: { name: "infrastructure-sources" } }];
        expect(missingKustomizations(o.kustomizations, "core", items)).to.deep.equal([
            "infrastructure-external-secrets",
            "infrastructure-onepassword",
        ]);
        expect(missingKustomizations(o.kustomizations, "networking", [])).to.have.length(2);
    });

    it("lists each Kustomization that is not Ready with its message", () => {
        const lines = unreadyKustomizations([
            { metadata: { name: "a", namespace: "flux-system" }, status: { conditions: [{ type: "Ready", status: "True" }] } },
            {
                metadata: { name: "b", namespace: "flux-system" },
                status: {
                    conditions: [{ type: "Ready", status: "False", reason: "ArtifactFailed", message: "Source artifact not found" }],
                },
            },
        ]);
        expect(lines).to.deep.equal(["Kustomization flux-system/b: Ready=False (ArtifactFailed): Source artifact not found"]);
    });
});

describe("ingress diagnosis", () => {
    // Computed in each test, not when the file loads: code run at load time is no test's (see stryker.config.mjs).
    let o: IngressOptions;
    beforeEach(() => (o = devOptions().ingress));
    let pools: ReturnType<typeof poolRanges>[];
    beforeEach(
        () =>
            (pools = devConfig().cilium.loadBalancerPools.map((p) =>
                poolRanges({ metadata: { name: p.name }, spec: { blocks: p.blocks } }),
            )),
    );
    const svc = (status: object) => ({ spec: { type: "LoadBalancer" }, status }) as never;

    it("accepts an address from a pool and names the pool", () => {
        expect(lbAddress(svc({ loadBalancer: { ingress: [{ ip: "172.29.52.205" }] } }), pools, o)).to.deep.equal({
            ip: "172.29.52.205",
            pool: "bgp-ingress",
        });
    });

    it("explains a pending address from Cilium's condition, and an address from no pool", () => {
        const noPool = lbAddress(
            svc({
                conditions: [
                    {
                        type: "cilium.io/IPAMRequestSatisfied",
                        status: "False",
                        reason: "no_pool",
                        message: "There are no enabled CiliumLoadBalancerIPPools that match this service",
                    },
                ],
            }),
            pools,
            o,
        );
        expect("diagnosis" in noPool && noPool.diagnosis.cause).to.contain("serviceSelector");
        expect("diagnosis" in noPool && noPool.diagnosis.evidence[0]).to.contain("no_pool");
        const none = lbAddress(svc({}), [], o);
        expect("diagnosis" in none && none.diagnosis.cause).to.contain("no CiliumLoadBalancerIPPool exists");
        const foreign = lbAddress(svc({ loadBalancer: { ingress: [{ ip: "192.0.2.7" }] } }), pools, o);
        expect("diagnosis" in foreign && foreign.diagnosis.cause).to.contain("does not come from any enabled");
    });

    it("says when the live Service is not of the type the config renders", () => {
        const r = lbAddress({ spec: { type: "NodePort" }, status: {} } as never, pools, o);
        expect("diagnosis" in r && r.diagnosis.evidence).to.deep.equal([
            "Service ingress-nginx/ingress-nginx-controller: type NodePort",
            "the chart values render type LoadBalancer",
        ]);
    });
});

describe("workload readiness", () => {
    it("requires every replica ready and updated at the current generation", () => {
        const d = {
            metadata: { generation: 2 },
            spec: { replicas: 2, selector: {}, template: {} },
            status: { observedGeneration: 2, readyReplicas: 2, updatedReplicas: 2 },
        };
        expect(deploymentReadiness(d as never).ready).to.equal(true);
        expect(deploymentReadiness({ ...d, status: { ...d.status, observedGeneration: 1 } } as never).ready).to.equal(false);
        expect(deploymentReadiness({ ...d, status: { ...d.status, readyReplicas: 1 } } as never)).to.deep.equal({
            ready: false,
            summary: "1/2 ready, 2 updated",
        });
        expect(daemonSetReadiness({ status: { desiredNumberScheduled: 0, numberReady: 0 } } as never).ready).to.equal(false);
    });

    it("quotes a crash-looping pod's last error and recognises the broken network behind it", () => {
        const lines = podTroubles([crashingPod("cert-manager", "wh-1", "webhook", WEBHOOK_CRASH, 101)]);
        expect(lines).to.deep.equal([`pod wh-1/webhook: CrashLoopBackOff (101 restarts): ${WEBHOOK_CRASH}`]);
        expect(crashCause(lines, "10.96.0.1")).to.contain("network link is broken");
        expect(crashCause(["pod x: CrashLoopBackOff: dial tcp: lookup github.com: i/o timeout"], "10.96.0.1")).to.contain("DNS link");
        expect(crashCause(["pod x: CrashLoopBackOff: out of memory"], "10.96.0.1")).to.equal(undefined);
    });

    it("blames the network only for the configured kubernetes Service address, or its name", () => {
        const crash = (target: string) => [`pod x/y: CrashLoopBackOff: dial tcp ${target}:443: i/o timeout`];
        // Another service subnet: 10.96.0.1 is an ordinary address there, and 10.43.0.1 is the kubernetes Service.
        expect(crashCause(crash("10.96.0.1"), "10.43.0.1")).to.equal(undefined);
        expect(crashCause(crash("10.43.0.1"), "10.43.0.1")).to.contain("network link is broken");
        // Any HTTPS endpoint timing out is not the kubernetes Service.
        expect(crashCause(crash("140.82.121.4"), "10.96.0.1")).to.equal(undefined);
        expect(crashCause(crash("10.96.0.10"), "10.96.0.1")).to.equal(undefined);
        expect(crashCause(crash("[fd00::1]"), "fd00::1")).to.contain("network link is broken");
        expect(crashCause(crash("kubernetes.default.svc.cluster.local"), "10.96.0.1")).to.contain("network link is broken");
    });

    it("reads a CRD's Established and NamesAccepted conditions", () => {
        expect(crdState(undefined)).to.deep.equal({ established: false, detail: "not found" });
        expect(crdState({ status: { conditions: [{ type: "Established", status: "True" }] } } as never).established).to.equal(true);
        expect(
            crdState({ status: { conditions: [{ type: "NamesAccepted", status: "False", message: "conflict" }] } } as never).detail,
        ).to.equal("NamesAccepted=False: conflict");
    });
});

describe("transport errors", () => {
    const err = (props: Record<string, unknown>, name = "Error") => Object.assign(new Error("x"), { name }, props);

    it("tells an unreachable API server from a kubeconfig file that cannot be read", () => {
        expect(transportFailure(err({ code: "ECONNREFUSED" }))).to.equal("network");
        expect(transportFailure(err({ code: "ECONNRESET", type: "system" }, "FetchError"))).to.equal("network");
        expect(transportFailure(err({}, "AbortError"))).to.equal("unanswered");
        expect(transportFailure(err({ code: "DEPTH_ZERO_SELF_SIGNED_CERT" }, "FetchError"))).to.equal("tls");
        const missingCert = err({ code: "ENOENT", syscall: "open", path: "/nonexistent/.talos/admin.crt" });
        expect(transportFailure(missingCert)).to.equal(undefined);
        expect(kubeconfigFault(missingCert)).to.contain("/nonexistent/.talos/admin.crt");
        expect(transportFailure(err({ code: "ERR_SOMETHING_ELSE" }))).to.equal(undefined);
        expect(transportFailure(new TypeError("a bug"))).to.equal(undefined);
    });
});

describe("an API server that stops answering, on a clock the test controls", () => {
    const SERVER = "https://172.29.51.10:6443";
    const refused = () => Object.assign(new Error(`connect ECONNREFUSED ${SERVER}`), { code: "ECONNREFUSED" });

    /**
     * Runs one step that fails with a refused connection on each poll; the
     * clock moves by the next of `advances` (ms) when the step is called.
     * No wall clock is read: the window is the gate's own arithmetic.
     */
    async function refusedFor(advances: number[], unreachableForMs?: number) {
        let t = 1_000_000;
        let calls = 0;
        const step: Step = {
            name: "CRDs established",
            check: async () => {
                t += advances[Math.min(calls++, advances.length - 1)];
                throw refused();
            },
        };
        const kube = { server: SERVER, context: "admin@home-ops", limit: () => undefined } as unknown as Kube;
        const options = { ...devOptions().crds, timeoutMs: 3_600_000, pollMs: 1 };
        const result = await runGate(
            "crds",
            [step],
            { kube, options, probes: {} as never, signal: new AbortController().signal },
            {
                progress: () => undefined,
                now: () => t,
                unreachableForMs,
            },
        );
        return { result, calls };
    }

    it("waits out 15 s of refused connections by default, as the README documents, and not a millisecond less", async () => {
        // First refusal at 0, then 14.999 s later (still waiting), then at 15 s (unreachable).
        const { result, calls } = await refusedFor([0, 14_999, 1]);
        expect(calls).to.equal(3);
        expect(result.timedOut).to.equal(undefined);
        expect(result.unreachable).to.deep.equal({ kind: "network", server: SERVER });
        expect(result.elapsedMs).to.equal(15_000);
        expect(result.diagnosis!.evidence).to.deep.equal([`connect ECONNREFUSED ${SERVER}`, "unreachable for 15s"]);
        expect(exitStatus(result)).to.equal(2);
    });

    it("counts the 15 s from the first refusal: refusals a second apart end the gate at the 16th poll", async () => {
        // Refusals a second apart: the 15th second after the first refusal ends it, at poll 16.
        const { result, calls } = await refusedFor([1000]);
        expect(calls).to.equal(16);
        expect(result.elapsedMs).to.equal(16_000);
        expect(result.unreachable?.kind).to.equal("network");
    });

    it("takes a shorter window when the caller gives one", async () => {
        const { result, calls } = await refusedFor([0, 299, 1], 300);
        expect(calls).to.equal(3);
        expect(result.elapsedMs).to.equal(300);
    });
});

describe("diagnosis text", () => {
    it("prints link, evidence, cause, fix and what is blocked", () => {
        const text = formatDiagnosis({ link: "L", evidence: ["E1", "E2"], cause: "C", fix: "F", blocks: blockedAfter("ingress") });
        expect(text.split("\n")).to.deep.equal([
            "  broken link: L",
            "  evidence:",
            "    E1",
            "    E2",
            "  likely cause: C",
            "  fix: F",
            "  blocks: Flux (GitRepository, Kustomizations) (gitops)",
        ]);
        expect(blockedAfter("gitops")).to.deep.equal([]);
    });
});
