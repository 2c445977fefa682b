import { expect } from "chai";
import { validateConfig } from "../lib/config";
import { isRecursiveNameserver } from "../lib/config/cert-manager";
import { certManagerValues } from "../lib/values/cert-manager";
import { corednsValues } from "../lib/values/coredns";
import { dns01FallthroughZones, dns01Overlaps, dns01RecursiveNameservers, inDomain, outermostZones } from "../lib/values/dns01";
import { byName, customDomainStack, devSections, Json, newErrors, newProblems, planCustomDomain, raw, withoutGateway } from "./helpers";
import { valuesErrors } from "./schemas";

// ACME DNS-01 under a cluster domain that is part of a public zone: the
// custom-domain test stack (k8s.home.geoffdavis.com, this program's CoreDNS,
// as the report's talos/patches/cluster.yaml has it), whose issuers solve for
// it and for geoffdavis.com.

const DOMAIN = "k8s.home.geoffdavis.com";

function check(edit?: (s: Record<string, Json>) => void) {
    const s = devSections();
    customDomainStack(s);
    // The default certificate's names stand for every certificate here; the Gateway's are tested with the gateway.
    delete s.gateway;
    edit?.(s);
    return validateConfig(raw(s));
}
/** The errors an edit of the custom-domain stack brings; a warning the test did not name fails it (see newErrors). */
const errors = (edit: (s: Record<string, Json>) => void, warnings: string[] = []) =>
    newErrors((s) => (withoutGateway(s), edit(s)), { warnings, base: (s) => (customDomainStack(s), withoutGateway(s)) });
/** Every finding of the custom-domain stack after `edit` that the dev stack does not have: the DNS-01 ones and any other. */
const findings = (edit?: (s: Record<string, Json>) => void) =>
    newProblems((s) => {
        customDomainStack(s);
        withoutGateway(s);
        edit?.(s);
    });
const summary = (ps: { severity: string; rule?: string; path: string }[]) => ps.map((p) => [p.severity, p.rule, p.path]);
const FIRST_ZONE = "talos-platform:certManager.issuers[2].acme.cloudflare.dnsZones[0]";
const configOf = (edit?: (s: Record<string, Json>) => void) => {
    const r = check(edit);
    if (!r.config) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join("; "));
    return r.config;
};

/** The ACME issuers solve only for `zones`, and the default certificate is for `names`. */
function acme(zones: string[], names: string[] = ["www.example.org"]) {
    return (s: Record<string, Json>) => {
        for (const i of s.certManager.issuers) if (i.acme) i.acme.cloudflare.dnsZones = zones;
        s.ingressNginx.defaultCertificate.dnsNames = names;
    };
}

describe("DNS-01 names and the cluster domain", () => {
    describe("which names overlap the cluster domain", () => {
        it("counts a name inside the domain or equal to it, never one that merely ends in the same letters", () => {
            expect(inDomain(DOMAIN, DOMAIN)).to.equal(true);
            expect(inDomain(`grafana.${DOMAIN}`, DOMAIN)).to.equal(true);
            expect(inDomain(`${DOMAIN}.`, DOMAIN)).to.equal(true);
            expect(inDomain(`x${DOMAIN}`, DOMAIN)).to.equal(false);
            expect(inDomain("home.geoffdavis.com", DOMAIN)).to.equal(false);
        });

        it("finds the stack's zones (one equal, one containing the domain) and its default certificate's names", () => {
            const o = dns01Overlaps(configOf());
            expect(o.map((x) => [x.key, x.zone])).to.deep.equal([
                ["talos-platform:certManager.issuers[2].acme.cloudflare.dnsZones[0]", DOMAIN],
                ["talos-platform:certManager.issuers[2].acme.cloudflare.dnsZones[1]", DOMAIN],
                ["talos-platform:certManager.issuers[3].acme.cloudflare.dnsZones[0]", DOMAIN],
                ["talos-platform:certManager.issuers[3].acme.cloudflare.dnsZones[1]", DOMAIN],
                ["talos-platform:ingressNginx.defaultCertificate.dnsNames[0]", DOMAIN],
                ["talos-platform:ingressNginx.defaultCertificate.dnsNames[1]", DOMAIN],
            ]);
        });

        it("keeps a zone inside the domain as that zone, and a wildcard name as the name below it", () => {
            const o = dns01Overlaps(configOf(acme([`public.${DOMAIN}`], [`*.apps.${DOMAIN}`])));
            expect(o.map((x) => x.zone)).to.deep.equal([`public.${DOMAIN}`, `public.${DOMAIN}`, `apps.${DOMAIN}`]);
            expect(outermostZones([`a.b.${DOMAIN}`, `b.${DOMAIN}`, `c.${DOMAIN}`, `b.${DOMAIN}`])).to.deep.equal([
                `b.${DOMAIN}`,
                `c.${DOMAIN}`,
            ]);
        });

        it("finds nothing on the dev stack, whose cluster domain is cluster.local (the seed's talconfig.yaml)", () => {
            const dev = validateConfig(raw(devSections())).config!;
            expect(dev.cluster.dnsDomain).to.equal("cluster.local");
            expect(dns01Overlaps(dev)).to.deep.equal([]);
            expect(dns01RecursiveNameservers(dev)).to.equal(undefined);
        });

        it("finds nothing for zones and names outside the domain", () => {
            expect(dns01Overlaps(configOf(acme(["example.org"])))).to.deep.equal([]);
        });

        it("ignores a certificate in the domain that a non-ACME issuer signs", () => {
            const c = configOf((s) => {
                acme(["example.org"])(s);
                s.ingressNginx.defaultCertificate = { issuer: "home-ops-ca", dnsNames: [`grafana.${DOMAIN}`] };
            });
            expect(dns01Overlaps(c)).to.deep.equal([]);
        });
    });

    describe("cert-manager's self-check resolvers", () => {
        it("passes the flags exactly as cert-manager's docs show them (Setting Nameservers for DNS01 Self Check)", () => {
            const c = configOf();
            const v = certManagerValues(c.certManager, c.cluster, { recursiveNameservers: dns01RecursiveNameservers(c) }) as Json;
            // The docs' example: --dns01-recursive-nameservers-only --dns01-recursive-nameservers=8.8.8.8:53,1.1.1.1:53
            expect(v.extraArgs).to.deep.equal([
                "--dns01-recursive-nameservers-only",
                "--dns01-recursive-nameservers=8.8.8.8:53,1.1.1.1:53",
            ]);
            expect(valuesErrors("cert-manager", "v1.21.1", v)).to.deep.equal([]);
        });

        it("passes none when no DNS-01 name overlaps the domain, and always when told to", () => {
            const apart = configOf(acme(["example.org"]));
            expect(dns01RecursiveNameservers(apart)).to.equal(undefined);
            expect(certManagerValues(apart.certManager, apart.cluster)).to.not.have.property("extraArgs");
            const always = configOf((s) => {
                acme(["example.org"])(s);
                s.certManager.dns01SelfCheck = { use: "always", nameservers: ["https://cloudflare-dns.com/dns-query"] };
            });
            expect(dns01RecursiveNameservers(always)).to.deep.equal(["https://cloudflare-dns.com/dns-query"]);
        });

        it("takes what cert-manager takes: host:port, [IPv6]:port, a DoH URL; ports 1 to 65535", () => {
            for (const ok of [
                "8.8.8.8:53",
                "[2606:4700:4700::1111]:53",
                "dns.example.net:53",
                "https://dns.google/dns-query",
                "1.1.1.1:1",
                "1.1.1.1:65535",
            ])
                expect(isRecursiveNameserver(ok), ok).to.equal(true);
            for (const bad of [
                "8.8.8.8",
                "8.8.8.8:0",
                "8.8.8.8:65536",
                "2606:4700:4700::1111:53",
                "[1.1.1.1]:53",
                "https://",
                ":53",
                "8.8.8.8:5x",
            ])
                expect(isRecursiveNameserver(bad), bad).to.equal(false);
        });

        it("refuses a bare address with the port added in the fix, for both families", () => {
            // A schema error: the checks that read the section wait for the fix, and say so.
            const p = errors(
                (s) => (s.certManager.dns01SelfCheck = { nameservers: ["8.8.8.8", "2606:4700:4700::1111"] }),
                ["checks-skipped"],
            );
            expect(p.map((x) => [x.path, x.fix])).to.deep.equal([
                ["talos-platform:certManager.dns01SelfCheck.nameservers[0]", "add the port: 8.8.8.8:53"],
                ["talos-platform:certManager.dns01SelfCheck.nameservers[1]", "add the port: [2606:4700:4700::1111]:53"],
            ]);
        });

        it("refuses the cluster's own DNS as the self-check's resolver, and only when the flags are passed", () => {
            // The overlap warning names the resolvers cert-manager is given, these ones.
            const p = errors(
                (s) => (s.certManager.dns01SelfCheck = { nameservers: ["1.1.1.1:53", "10.96.0.10:53"] }),
                ["dns01-cluster-domain"],
            );
            expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:certManager.dns01SelfCheck.nameservers[1]"]);
            expect(p[0].message).to.contain("10.96.0.0/12");
            expect(
                errors((s) => {
                    acme(["example.org"])(s);
                    s.certManager.dns01SelfCheck = { nameservers: ["10.96.0.10:53"] };
                }),
            ).to.deep.equal([]);
        });

        it("refuses controller arguments in the values that drop the flags, and keeps arguments that carry them", () => {
            const p = errors((s) => (s.certManager.values = { extraArgs: ["--v=2"] }));
            expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:certManager.values.extraArgs"]);
            expect(p[0].message).to.contain("--dns01-recursive-nameservers and --dns01-recursive-nameservers-only");
            expect(p[0].fix).to.contain("--dns01-recursive-nameservers=8.8.8.8:53,1.1.1.1:53");
            const own = ["--v=2", "--dns01-recursive-nameservers-only", "--dns01-recursive-nameservers=9.9.9.9:53"];
            expect(errors((s) => (s.certManager.values = { extraArgs: own }))).to.deep.equal([]);
            expect(errors((s) => (acme(["example.org"])(s), (s.certManager.values = { extraArgs: ["--v=2"] })))).to.deep.equal([]);
        });
    });

    describe("CoreDNS", () => {
        it("falls through for the cluster domain, and for nothing when told not to", () => {
            expect(dns01FallthroughZones(configOf())).to.deep.equal([DOMAIN]);
            const off = configOf((s) => (s.coredns.clusterDomainFallthrough = false));
            expect(dns01FallthroughZones(off)).to.deep.equal([]);
            const c = configOf();
            const k8s = (corednsValues(c.cluster, c.coredns, { fallthrough: dns01FallthroughZones(c) }) as Json).servers[0].plugins.find(
                (p: Json) => p.name === "kubernetes",
            );
            expect(k8s.configBlock.split("\n")).to.include(`fallthrough in-addr.arpa ip6.arpa ${DOMAIN}`);
        });

        it("falls through only for a zone inside the domain, not the whole domain", () => {
            expect(dns01FallthroughZones(configOf(acme([`public.${DOMAIN}`])))).to.deep.equal([`public.${DOMAIN}`]);
        });

        it("leaves Talos' CoreDNS alone: it deploys none", () => {
            expect(dns01FallthroughZones(configOf((s) => (s.cluster.coreDnsDisabled = false)))).to.deep.equal([]);
        });
    });

    describe("the preflight rule", () => {
        it("warns once, at the first overlapping key, saying what the program does and what a wildcard record would do", () => {
            const w = findings();
            expect(summary(w)).to.deep.equal([["warning", "dns01-cluster-domain", FIRST_ZONE]]);
            expect(w[0].message).to.contain("8.8.8.8:53, 1.1.1.1:53").and.contain(`CoreDNS passes names in ${DOMAIN}`);
            expect(w[0].fix).to.contain("wildcard").and.contain("talos-platform:coredns.clusterDomainFallthrough");
        });

        it("says CoreDNS keeps answering NXDOMAIN when the fallthrough is off", () => {
            const w = findings((s) => (s.coredns.clusterDomainFallthrough = false));
            expect(summary(w)).to.deep.equal([["warning", "dns01-cluster-domain", FIRST_ZONE]]);
            expect(w[0].message).to.contain("NXDOMAIN for public names there (talos-platform:coredns.clusterDomainFallthrough is false)");
        });

        it("tells what to do in Talos when Talos runs CoreDNS", () => {
            const found = findings((s) => (s.cluster.coreDnsDisabled = false));
            // Both warnings: the overlap itself, now saying Talos' CoreDNS answers NXDOMAIN, and what to do in Talos.
            expect(summary(found)).to.deep.equal([
                ["warning", "dns01-cluster-domain", FIRST_ZONE],
                ["warning", "dns01-cluster-domain-talos-coredns", "talos-platform:cluster.coreDnsDisabled"],
            ]);
            expect(found[0].message).to.contain("Talos' CoreDNS keeps answering NXDOMAIN for public names there");
            const w = found[1];
            expect(w.message).to.contain("no machine-config key changes it");
            expect(w.fix).to.contain("cluster.coreDNS.disabled: true").and.contain("talosctl upgrade-k8s");
        });

        it("stays silent when no DNS-01 name overlaps the domain", () => {
            expect(findings(acme(["example.org"]))).to.deep.equal([]);
        });
    });

    it("plans the custom-domain stack with the finding, the flags and the fallthrough, still OK", async () => {
        const plan = await planCustomDomain();
        expect(plan.ok).to.equal(true);
        expect(plan.findings.filter((f) => f.rule === "dns01-cluster-domain").map((f) => f.severity)).to.deep.equal(["advisory"]);
        const cm = byName(plan, "cert-manager-release").inputs.values as Json;
        expect(cm.extraArgs).to.deep.equal(["--dns01-recursive-nameservers-only", "--dns01-recursive-nameservers=8.8.8.8:53,1.1.1.1:53"]);
        const dns = byName(plan, "coredns-release").inputs.values as Json;
        expect(dns.servers[0].plugins.find((p: Json) => p.name === "kubernetes").configBlock).to.contain(`ip6.arpa ${DOMAIN}`);
    });
});
