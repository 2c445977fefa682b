import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { validateConfig } from "../lib/config";
import { corednsValues } from "../lib/values/coredns";
import { unknownChartKeys } from "./chart-keys";
import { devSections, Json, raw, singleStack } from "./helpers";
import { SCHEMAS } from "./schemas";

// CoreDNS as this program deploys it, against the manifests Talos v1.13
// renders for its own CoreDNS (golden files of siderolabs/talos
// k8stemplates/coredns.go, vendored unmodified): the expected values come
// from those files, never from the builder's constants.

const TALOS = path.join(SCHEMAS, "talos", "v1.13.9");
const talos = (file: string): Json => parse(fs.readFileSync(path.join(TALOS, file), "utf8"));
const talosDeployment = talos("coredns-deployment.yaml");
const talosContainer = talosDeployment.spec.template.spec.containers[0];
const talosCorefile: string = talos("coredns-configmap-cluster-domain.yaml").data.Corefile;
const talosService = talos("coredns-service-dual.yaml");

/** The dev stack on Talos' defaults: cluster.local, one service subnet, the node's resolvers. */
function values(edit?: (s: Record<string, Json>) => void, fallthrough: string[] = []): Json {
    const s = devSections();
    singleStack(s);
    s.cluster.dnsDomain = "cluster.local";
    s.coredns.upstreams = ["/etc/resolv.conf"];
    s.certManager.issuers = s.certManager.issuers.filter((i: Json) => !i.acme);
    delete s.certManager.defaultIssuer;
    delete s.ingressNginx.defaultCertificate;
    // Its listeners name the ACME issuer removed above.
    delete s.gateway;
    edit?.(s);
    const { config, problems } = validateConfig(raw(s));
    if (!config) throw new Error(problems.map((p) => p.message).join("; "));
    return corednsValues(config.cluster, config.coredns, { fallthrough });
}

/** The Corefile the CoreDNS chart 1.46.2 renders from `servers` (templates/configmap.yaml), as trimmed lines. */
function renderCorefile(servers: Json[]): string[] {
    const lines: string[] = [];
    for (const s of servers) {
        const zones = (s.zones ?? [{}]).map((z: Json) => `${z.scheme ?? ""}${z.zone ?? "."}`).join(" ");
        lines.push(`${zones}${s.port ? `:${s.port}` : ""} {`);
        for (const p of s.plugins) {
            const head = `${p.name}${p.parameters !== undefined ? ` ${p.parameters}` : ""}`;
            if (p.configBlock) lines.push(`${head} {`, ...String(p.configBlock).split("\n"), "}");
            else lines.push(head);
        }
        lines.push("}");
    }
    return lines.map((l) => l.trim()).filter(Boolean);
}

const trimmed = (text: string) =>
    text
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);

describe("CoreDNS parity with Talos v1.13's own CoreDNS", () => {
    it("renders Talos' Corefile line for line on a cluster.local cluster", () => {
        expect(renderCorefile(values().servers)).to.deep.equal(trimmed(talosCorefile));
    });

    it("would notice a plugin out of Talos' order or a changed setting", () => {
        const v = values();
        const swapped = structuredClone(v.servers);
        [swapped[0].plugins[0], swapped[0].plugins[1]] = [swapped[0].plugins[1], swapped[0].plugins[0]];
        expect(renderCorefile(swapped)).to.not.deep.equal(trimmed(talosCorefile));
        const plain = structuredClone(v.servers);
        plain[0].plugins.find((p: Json) => p.name === "forward").configBlock = undefined;
        expect(renderCorefile(plain)).to.not.deep.equal(trimmed(talosCorefile));
    });

    it("changes nothing else in Talos' Corefile for another cluster domain and other upstreams", () => {
        const v = values((s) => {
            s.cluster.dnsDomain = "home.arpa";
            s.coredns.upstreams = ["8.8.8.8", "1.1.1.1"];
        });
        const expected = trimmed(talosCorefile.replaceAll("cluster.local", "home.arpa")).map((l) =>
            l === "forward . /etc/resolv.conf {" ? "forward . 8.8.8.8 1.1.1.1 {" : l,
        );
        expect(expected, "Talos' forward line, replaced").to.include("forward . 8.8.8.8 1.1.1.1 {");
        expect(renderCorefile(v.servers)).to.deep.equal(expected);
    });

    it("keeps the cache exclusions and the fallthrough on the cluster's own domain", () => {
        const lines = renderCorefile(values((s) => (s.cluster.dnsDomain = "home.arpa")).servers);
        expect(lines).to.include.members([
            "disable success home.arpa",
            "disable denial home.arpa",
            "kubernetes home.arpa in-addr.arpa ip6.arpa {",
        ]);
        expect(lines.join("\n")).to.not.contain("cluster.local");
    });

    it("asks for Talos' resources: its requests and memory limit, and no CPU limit", () => {
        const v = values();
        const t = talosContainer.resources;
        expect(t.limits).to.not.have.property("cpu");
        expect(v.resources.requests).to.deep.equal(t.requests);
        expect(v.resources.limits.memory).to.equal(t.limits.memory);
        // null deletes the chart's own 100m CPU limit when Helm merges the values.
        expect(v.resources.limits).to.have.property("cpu", null);
        const chart = parse(fs.readFileSync(path.join(SCHEMAS, "helm", "coredns", "1.46.2", "values.yaml"), "utf8"));
        expect(chart.resources.limits.cpu, "the chart default this null removes").to.equal("100m");
    });

    it("sets GOMEMLIMIT as Talos does, below the memory limit", () => {
        const v = values();
        const talosEnv = talosContainer.env.find((e: Json) => e.name === "GOMEMLIMIT");
        expect(v.env).to.deep.include(talosEnv);
    });

    it("tolerates what Talos' CoreDNS tolerates, uninitialized nodes included, and runs system-cluster-critical", () => {
        const v = values();
        for (const t of talosDeployment.spec.template.spec.tolerations) expect(v.tolerations).to.deep.include(t);
        expect(v.priorityClassName).to.equal(talosDeployment.spec.template.spec.priorityClassName);
        expect(v.replicaCount).to.equal(talosDeployment.spec.replicas);
    });

    it("serves metrics on 9153 with Talos' scrape annotations, on the chart's metrics Service", () => {
        const v = values();
        expect(v.prometheus.service.enabled).to.equal(true);
        expect(v.prometheus.service.annotations).to.deep.equal(talosService.metadata.annotations);
        const metricsPort = talosService.spec.ports.find((p: Json) => p.name === "metrics");
        expect(renderCorefile(v.servers)).to.include(`prometheus :${metricsPort.port}`);
        expect(v.prometheus.monitor.enabled).to.equal(false);
    });

    it("uses only keys of the CoreDNS chart 1.46.2", () => {
        expect(unknownChartKeys("coredns", "1.46.2", values(), ["fullnameOverride"])).to.deep.equal([]);
        expect(unknownChartKeys("coredns", "1.46.2", { prometheus: { servce: { enabled: true } } })).to.deep.equal(["prometheus.servce"]);
    });

    it("lets the escape hatch put a CPU limit back", () => {
        const v = values((s) => (s.coredns.values = { resources: { limits: { cpu: "500m" } } }));
        expect(v.resources.limits).to.deep.equal({ cpu: "500m", memory: "170Mi" });
    });

    it("falls through for exactly the zones it is given, after the reverse zones", () => {
        const block = (v: Json) => v.servers[0].plugins.find((p: Json) => p.name === "kubernetes").configBlock;
        expect(block(values())).to.contain("fallthrough in-addr.arpa ip6.arpa\n");
        expect(block(values(undefined, ["cluster.local"]))).to.contain("fallthrough in-addr.arpa ip6.arpa cluster.local\n");
    });
});
