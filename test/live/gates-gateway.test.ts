import { expect } from "chai";
import { main as doctorMain } from "../../cli/doctor";
import { main as gateMain } from "../../cli/gate";
import { validateConfig } from "../../lib/config";
import { checkGate, CheckerIo } from "../../lib/gates/checker";
import { gatewayProbe } from "../../lib/gates/gateway";
import { UPSERT_ENV } from "../../lib/gates/gateway-api-crds";
import type { GateName, GateOptions } from "../../lib/gates/options";
import { gateOptions } from "../../lib/gates/targets";
import { gatewayApiCrdNames } from "../../lib/values/gateway-api";
import { devOptions, GATEWAY_IP, healthy } from "../cluster-scenarios";
import { FakeKube } from "../fake-kube";
import { devSections, Json, raw, ROOT } from "../helpers";

// The Gateway's gate steps, the Gateway API CRDs' pre-check and the doctor's
// gateway link: the real client against the fake API server, on the dev
// stack's cluster (the Gateway next to ingress-nginx).

function io(): CheckerIo & { text: () => string } {
    let text = "";
    return { out: (t) => (text += t), err: (t) => (text += t), cwd: ROOT, signal: new AbortController().signal, text: () => text };
}

/** A passing gate returns as soon as it does; a failing one waits out `timeoutMs`. */
async function run<G extends GateName>(fake: FakeKube, gate: G, options: GateOptions[G], timeoutMs = 3000) {
    const sink = io();
    const result = await checkGate(gate, { ...options, timeoutMs, pollMs: 20, kubeconfig: fake.kubeconfig() }, sink);
    return { result, out: sink.text() };
}

function optionsWith(edit: (s: Record<string, Json>) => void): GateOptions {
    const s = devSections();
    edit(s);
    const { config, problems } = validateConfig(raw(s));
    if (!config) throw new Error(problems.map((p) => `${p.path} ${p.message}`).join("; "));
    return gateOptions(config);
}

const gatewayPath = (kind: string, name: string, ns?: string) =>
    `/apis/gateway.networking.k8s.io/v1${ns ? `/namespaces/${ns}` : ""}/${kind}/${name}`;
const CLASS = gatewayPath("gatewayclasses", "cilium");
const GATEWAY = gatewayPath("gateways", "platform", "gateway");
const STEPS = [
    "GatewayClass cilium accepted by Cilium's Gateway API controller",
    "Gateway gateway/platform Accepted and Programmed",
    "Gateway gateway/platform has an address from a Cilium pool",
    "Gateway gateway/platform: every listener Programmed, with its certificate Secret (3)",
    "Gateway gateway/platform answers HTTP on its address from inside the cluster",
];

describe("gateway gate against a fake API server", function () {
    this.timeout(30_000);
    let fake: FakeKube;
    beforeEach(async () => {
        fake = await new FakeKube().start();
        healthy(fake);
    });
    afterEach(async () => {
        expect(fake.livePods(), "probe pods left behind").to.deep.equal([]);
        await fake.stop();
    });

    it("passes on a working Gateway: class, conditions, pool address, listeners with Secrets, and Envoy's answer", async () => {
        const { result, out } = await run(fake, "gateway", devOptions().gateway);
        expect(result.ok, out).to.equal(true);
        expect(result.passed.map((p) => p.name)).to.deep.equal(STEPS);
        const detail = (i: number) => result.passed[i].detail;
        expect(detail(0)).to.equal("Accepted=True (Accepted), controller io.cilium/gateway-controller");
        expect(detail(2)).to.equal(`${GATEWAY_IP} from pool bgp-ingress`);
        expect(detail(3)).to.equal("https-apex (0 routes), https-wildcard (0 routes), http-redirect (1 routes)");
        expect(detail(4)).to.contain(`HTTP 301 from http://${GATEWAY_IP}:80/`).and.contain("any status counts");
    });

    it("is part of the ingress gate, after ingress-nginx's steps and before the announcements", async () => {
        const { result, out } = await run(fake, "ingress", devOptions().ingress);
        expect(result.ok, out).to.equal(true);
        const names = result.passed.map((p) => p.name);
        const first = names.indexOf(STEPS[0]);
        expect(names.slice(first, first + STEPS.length)).to.deep.equal(STEPS);
        expect(names.indexOf("the controller answers on its LoadBalancer address from inside the cluster")).to.be.lessThan(first);
        // The announcements follow; the default certificate of ingress-nginx comes last.
        expect(names.at(-2)).to.match(/^BGP sessions established/);
        expect(names.at(-1)).to.match(/^default TLS certificate issued/);
    });

    it("checks the Gateway alone when ingress-nginx is off", async () => {
        const o = optionsWith((s) => (s.ingressNginx.enabled = false)).ingress;
        const { result, out } = await run(fake, "ingress", o);
        expect(result.ok, out).to.equal(true);
        expect(result.passed.map((p) => p.name).slice(0, STEPS.length)).to.deep.equal(STEPS);
        expect(result.passed.some((p) => p.name.includes("ingress-nginx"))).to.equal(false);
    });

    it("counts a 404 from Envoy as the data path working", async () => {
        fake.net[`curl http://${GATEWAY_IP}:80/`] = { rc: 0, out: "HTTP 404" };
        const { result } = await run(fake, "gateway", devOptions().gateway);
        expect(result.ok).to.equal(true);
        expect(result.passed.at(-1)!.detail).to.match(/^HTTP 404 from/);
    });

    it("a class no controller accepted: blames Cilium's operator and says how to restart it", async () => {
        fake.objects.get(CLASS).status = {
            conditions: [{ type: "Accepted", status: "Unknown", reason: "Pending", message: "Waiting for controller" }],
        };
        const { result } = await run(fake, "gateway", devOptions().gateway, 600);
        expect(result.ok).to.equal(false);
        expect(result.failedStep).to.equal(STEPS[0]);
        const d = result.diagnosis!;
        expect(d.link).to.equal("Cilium's Gateway API controller → GatewayClass cilium");
        expect(d.evidence[0]).to.equal("GatewayClass cilium: Accepted=Unknown (Pending): Waiting for controller");
        expect(d.cause).to.contain("only with kube-proxy replacement");
        expect(d.fix).to.contain("rollout restart deployment/cilium-operator");
        expect(d.blocks.join("; ")).to.contain("HTTPRoute").and.contain("gitops");
    });

    it("no Gateway API CRDs: says so before anything else", async () => {
        fake.remove({
            apiVersion: "apiextensions.k8s.io/v1",
            kind: "CustomResourceDefinition",
            metadata: { name: "gatewayclasses.gateway.networking.k8s.io" },
        });
        const { result } = await run(fake, "gateway", devOptions().gateway, 400);
        expect(result.diagnosis!.link).to.equal("Gateway API CRDs");
        expect(result.diagnosis!.evidence[0]).to.equal("CustomResourceDefinition gatewayclasses.gateway.networking.k8s.io: not found");
    });

    it("a class of another controller: fails at once", async () => {
        fake.objects.get(CLASS).spec.controllerName = "example.com/other";
        const { result } = await run(fake, "gateway", devOptions().gateway, 5000);
        expect(result.timedOut).to.equal(undefined);
        expect(result.diagnosis!.cause).to.contain("names another Gateway controller");
    });

    it("a Gateway without an address: points at LB IPAM", async () => {
        const gw = fake.objects.get(GATEWAY);
        gw.status.conditions[1] = {
            type: "Programmed",
            status: "False",
            reason: "AddressNotAssigned",
            message: "No addresses have been assigned to the Gateway",
            observedGeneration: 1,
        };
        const { result } = await run(fake, "gateway", devOptions().gateway, 400);
        expect(result.failedStep).to.equal(STEPS[1]);
        expect(result.diagnosis!.evidence[1]).to.equal(
            "Gateway gateway/platform: Programmed=False (AddressNotAssigned): No addresses have been assigned to the Gateway",
        );
        expect(result.diagnosis!.cause).to.contain("Cilium LB IPAM has not given its Service one");
    });

    it("an address from no Cilium pool: names the address and the pools", async () => {
        fake.objects.get(GATEWAY).status.addresses = [{ type: "IPAddress", value: "10.0.0.5" }];
        const { result } = await run(fake, "gateway", devOptions().gateway, 400);
        expect(result.failedStep).to.equal(STEPS[2]);
        expect(result.diagnosis!.evidence.slice(0, 2)).to.deep.equal([
            "Gateway gateway/platform: address 10.0.0.5",
            "CiliumLoadBalancerIPPools: bgp-default, bgp-ingress, bgp-reserved, bgp-default-ipv6",
        ]);
    });

    it("a listener's certificate not issued yet: names the Secret and the Certificate to describe", async () => {
        fake.remove({ apiVersion: "v1", kind: "Secret", metadata: { name: "platform-https-wildcard-tls", namespace: "gateway" } });
        const { result, out } = await run(fake, "gateway", devOptions().gateway, 400);
        expect(result.timedOut, "cert-manager may still issue it").to.equal(true);
        expect(result.failedStep).to.equal(STEPS[3]);
        const d = result.diagnosis!;
        expect(d.link).to.equal("Gateway gateway/platform listener https-wildcard");
        expect(d.evidence[0]).to.equal("listener https-wildcard: Secret gateway/platform-https-wildcard-tls not found");
        expect(d.cause).to.contain("cert-manager's gateway-shim");
        expect(d.fix).to.contain("kubectl -n gateway describe certificate platform-https-wildcard-tls");
        expect(out).to.contain("waiting for Gateway gateway/platform: every listener Programmed");
    });

    it("a listener Cilium did not program: quotes its conditions", async () => {
        const l = fake.objects.get(GATEWAY).status.listeners[0];
        l.conditions = [
            { type: "Programmed", status: "False", reason: "Invalid", message: "" },
            { type: "ResolvedRefs", status: "False", reason: "InvalidCertificateRef", message: "secret is not a TLS secret" },
        ];
        const { result } = await run(fake, "gateway", devOptions().gateway, 400);
        expect(result.diagnosis!.evidence[0]).to.equal(
            "listener https-apex: Programmed=False (Invalid); ResolvedRefs=False (InvalidCertificateRef): secret is not a TLS secret",
        );
        expect(result.diagnosis!.cause).to.contain("certificate Secret is missing or not a TLS Secret");
    });

    it("nothing accepts connections on the address: says Envoy is not programmed for the listener", async () => {
        fake.net[`curl http://${GATEWAY_IP}:80/`] = { rc: 7, out: `curl: (7) Failed to connect to ${GATEWAY_IP} port 80` };
        const { result } = await run(fake, "gateway", devOptions().gateway, 800);
        expect(result.failedStep).to.equal(STEPS[4]);
        expect(result.diagnosis!.link).to.equal(`pods → Gateway gateway/platform on http://${GATEWAY_IP}:80/`);
        expect(result.diagnosis!.cause).to.contain("Cilium has not programmed Envoy");
    });

    it("without an HTTP listener, probes HTTPS by a name the wildcard listener takes", async () => {
        const o = optionsWith((s) => {
            s.gateway.httpsRedirect = false;
            s.gateway.listeners = [s.gateway.listeners[1]];
        });
        const gw = fake.objects.get(GATEWAY);
        gw.spec.listeners = gw.spec.listeners.filter((l: Json) => l.name === "https-wildcard");
        gw.status.listeners = gw.status.listeners.filter((l: Json) => l.name === "https-wildcard");
        const url = "https://talos-platform-probe.k8s.home.geoffdavis.com:443/";
        fake.net[`curl ${url}`] = { rc: 0, out: "HTTP 404" };
        const { result, out } = await run(fake, "gateway", o.gateway);
        expect(result.ok, out).to.equal(true);
        expect(result.passed.at(-1)!.detail).to.contain(`HTTP 404 from ${url}`);
        const script = fake.createdPods.at(-1).spec.containers[0].command[2];
        expect(script).to.contain(`--resolve talos-platform-probe.k8s.home.geoffdavis.com:443:${GATEWAY_IP}`).and.contain("-k");
    });

    it("probes an IPv6 address in brackets", () => {
        expect(gatewayProbe("fd47::202", undefined).url).to.equal("http://[fd47::202]:80/");
        const https = gatewayProbe("fd47::202", { spec: { listeners: [{ protocol: "HTTPS", port: 8443, hostname: "a.example.com" }] } });
        expect(https.check.argv).to.include("a.example.com:8443:[fd47::202]");
    });
});

describe("the Gateway API CRDs' pre-check against a fake API server", function () {
    this.timeout(20_000);
    let fake: FakeKube;
    beforeEach(async () => {
        fake = await new FakeKube().start();
    });
    afterEach(async () => {
        await fake.stop();
    });
    const names = gatewayApiCrdNames("v1.4.1");
    const crd = (name: string, over: Json = {}) => ({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: {
            name,
            annotations: { "gateway.networking.k8s.io/bundle-version": "v1.2.1", "gateway.networking.k8s.io/channel": "experimental" },
            managedFields: [
                { manager: "kubectl-client-side-apply", operation: "Update" },
                { manager: "talos", operation: "Apply" },
            ],
            ...over,
        },
        spec: {
            versions: [
                { name: "v1", served: true, storage: true },
                { name: "v1beta1", served: true, storage: false },
            ],
        },
        status: { conditions: [{ type: "Established", status: "True" }] },
    });

    it("passes a cluster without them", async () => {
        const { result } = await run(fake, "gateway-api-crds", devOptions()["gateway-api-crds"]);
        expect(result.ok).to.equal(true);
        expect(result.passed[0].detail).to.equal("none installed yet");
    });

    it("refuses another installer's at once, naming who wrote them and the two ways out", async () => {
        fake.put(crd(names[1]));
        const { result } = await run(fake, "gateway-api-crds", devOptions()["gateway-api-crds"], 5000);
        expect(result.ok).to.equal(false);
        expect(result.timedOut).to.equal(undefined);
        const d = result.diagnosis!;
        expect(d.evidence).to.deep.equal([
            "CustomResourceDefinition gateways.gateway.networking.k8s.io: bundle-version v1.2.1, channel experimental, written by kubectl-client-side-apply, talos",
        ]);
        expect(d.cause).to.contain("AlreadyExists (which a preview does not show)");
        expect(d.fix)
            .to.contain("talos-platform:gateway.gatewayApi.crds to existing")
            .and.contain("kubectl label crd gateways.gateway.networking.k8s.io app.kubernetes.io/managed-by=talos-platform")
            .and.contain(`${UPSERT_ENV}=true pulumi up`);
        expect(d.blocks.join("; ")).to.contain("Cilium's Gateway API controller");
        // Even with the provider told to take existing objects over: another installer would keep applying them.
        process.env[UPSERT_ENV] = "true";
        try {
            expect((await run(fake, "gateway-api-crds", devOptions()["gateway-api-crds"], 5000)).result.ok).to.equal(false);
        } finally {
            delete process.env[UPSERT_ENV];
        }
    });

    it("refuses its own, kept from an earlier install, unless the provider takes existing objects over; never a downgrade", async () => {
        const ours = { labels: { "app.kubernetes.io/managed-by": "talos-platform" } };
        fake.put(...names.map((n) => crd(n, { ...ours, annotations: { "gateway.networking.k8s.io/bundle-version": "v1.4.1" } })));
        const kept = await run(fake, "gateway-api-crds", devOptions()["gateway-api-crds"], 5000);
        expect(kept.result.ok).to.equal(false);
        expect(kept.result.timedOut).to.equal(undefined);
        expect(kept.result.diagnosis!.cause).to.contain("kept them when they left the stack");
        expect(kept.result.diagnosis!.fix).to.equal(
            `run \`${UPSERT_ENV}=true pulumi up\` once: the Kubernetes provider then updates existing objects in place instead of failing`,
        );
        process.env[UPSERT_ENV] = "true";
        try {
            const taken = await run(fake, "gateway-api-crds", devOptions()["gateway-api-crds"]);
            expect(taken.result.ok).to.equal(true);
            expect(taken.result.passed[0].detail).to.contain("6 labelled app.kubernetes.io/managed-by=talos-platform");
            fake.put(crd(names[0], { ...ours, annotations: { "gateway.networking.k8s.io/bundle-version": "v1.5.0" } }));
            const newer = await run(fake, "gateway-api-crds", devOptions()["gateway-api-crds"], 5000);
            expect(newer.result.ok).to.equal(false);
            expect(newer.result.diagnosis!.cause).to.contain("downgrade");
        } finally {
            delete process.env[UPSERT_ENV];
        }
    });

    it("with crds: existing, waits for the CRDs Cilium needs, serving the versions it needs", async () => {
        const o = optionsWith((s) => (s.gateway.gatewayApi = { crds: "existing" }))["gateway-api-crds"];
        const missing = await run(fake, "gateway-api-crds", o, 300);
        expect(missing.result.timedOut).to.equal(true);
        expect(missing.result.diagnosis!.link).to.equal("Gateway API CRDs (talos-platform:gateway.gatewayApi.crds: existing)");
        // One line per CRD, and the time given up after.
        expect(missing.result.diagnosis!.evidence.slice(0, 5).every((l) => l.endsWith(": not found"))).to.equal(true);
        fake.put(...names.map((n) => crd(n)));
        const present = await run(fake, "gateway-api-crds", o);
        expect(present.result.ok).to.equal(true);
        expect(present.result.passed[0].detail).to.equal("5 established, bundle v1.2.1");
        const old = crd(names[4]);
        old.spec.versions = [{ name: "v1alpha2", served: true, storage: true }];
        fake.put(old);
        const notServed = await run(fake, "gateway-api-crds", o, 300);
        expect(notServed.result.diagnosis!.evidence[0]).to.equal(
            "CustomResourceDefinition referencegrants.gateway.networking.k8s.io: does not serve v1beta1",
        );
    });

    it("refuses a mode it does not know as a usage error", async () => {
        const sink = io();
        expect(await gateMain(["gateway-api-crds", "--no-stack", "--mode", "exisitng", "--kubeconfig", fake.kubeconfig()], sink)).to.equal(
            2,
        );
        expect(sink.text()).to.contain("--mode takes install or existing, not exisitng");
    });
});

describe("doctor: the gateway link", function () {
    this.timeout(40_000);
    let fake: FakeKube;
    beforeEach(async () => {
        fake = await new FakeKube().start();
        healthy(fake);
    });
    afterEach(async () => {
        expect(fake.livePods(), "probe pods left behind").to.deep.equal([]);
        await fake.stop();
    });
    const doctor = async () => {
        const sink = io();
        const code = await doctorMain(["--kubeconfig", fake.kubeconfig(), "--timeout", "2s", "--poll", "20ms"], sink);
        return { code, text: sink.text() };
    };

    it("checks the Gateway as its own link after ingress-nginx's", async () => {
        const { code, text } = await doctor();
        expect(code, text).to.equal(0);
        expect(text).to.match(/✓ ingress +\d+ checks passed[\s\S]*✓ gateway +5 checks passed[\s\S]*✓ gitops/);
    });

    it("a broken Gateway stops the chain before GitOps, which pulumi up's ingress gate would not reach either", async () => {
        fake.objects.get(CLASS).status = {
            conditions: [{ type: "Accepted", status: "Unknown", reason: "Pending", message: "Waiting for controller" }],
        };
        const { code, text } = await doctor();
        expect(code).to.equal(1);
        expect(text)
            .to.match(/✓ ingress /)
            .and.match(/✗ gateway +Cilium's Gateway API controller → GatewayClass cilium/);
        expect(text).to.match(/· gitops +blocked by gateway/);
        expect(text).to.contain("gateway is the first broken link");
    });
});
