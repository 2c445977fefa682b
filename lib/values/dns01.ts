import type { CertManagerConfig } from "../config/cert-manager";
import type { ClusterConfig } from "../config/cluster";
import type { GatewayConfig } from "../config/gateway";
import type { IngressNginxConfig } from "../config/ingress-nginx";
import { configPath } from "../problems";

// ACME DNS-01 and a cluster domain that is part of a public zone. cert-manager
// checks that a challenge's TXT record is visible before it tells the ACME
// server to look; by default it asks the resolvers in its /etc/resolv.conf,
// which is CoreDNS, and CoreDNS answers every name in the cluster domain
// itself (NXDOMAIN for _acme-challenge.<name>). The check then waits for
// "propagation" forever.

/** The sections that decide whether DNS-01 names reach into the cluster domain. */
export type Dns01Sections = {
    cluster: Pick<ClusterConfig, "dnsDomain" | "coreDnsDisabled">;
    certManager: Pick<CertManagerConfig, "issuers" | "dns01SelfCheck">;
    ingressNginx: Pick<IngressNginxConfig, "defaultCertificate"> & { enabled?: boolean };
    /** The Gateway's HTTPS listeners get their certificates from an issuer too. @default none */
    gateway?: Pick<GatewayConfig, "enabled" | "listeners">;
};

/** A zone or name an ACME DNS-01 issuer solves for that overlaps the cluster domain. */
export interface Dns01Overlap {
    /** The config key that names it, as `pulumi config set --path` spells it. */
    key: string;
    /** The zone or name as configured (a name may carry a leading wildcard). */
    name: string;
    /** The ACME issuer that solves for it. */
    issuer: string;
    /** The part of the cluster domain it reaches: the zone CoreDNS falls through for. */
    zone: string;
}

/** Is `name` the domain `domain` or inside it? */
export function inDomain(name: string, domain: string): boolean {
    const n = name.replace(/\.$/, "");
    const d = domain.replace(/\.$/, "");
    return n === d || n.endsWith(`.${d}`);
}

/**
 * Every ACME DNS-01 zone (dnsZones selector) and certificate name this
 * program knows that overlaps cluster.dnsDomain: a zone inside the cluster
 * domain, a zone that contains it (the issuer may be asked for names in it),
 * and the default certificate's and the Gateway's listeners' names inside it
 * when an ACME issuer signs them.
 */
export function dns01Overlaps(config: Dns01Sections): Dns01Overlap[] {
    const domain = config.cluster.dnsDomain;
    const out: Dns01Overlap[] = [];
    config.certManager.issuers.forEach((issuer, i) => {
        issuer.acme?.cloudflare.dnsZones.forEach((zone, j) => {
            const key = configPath(["certManager", "issuers", i, "acme", "cloudflare", "dnsZones", j]);
            if (inDomain(zone, domain)) out.push({ key, name: zone, issuer: issuer.name, zone });
            else if (inDomain(domain, zone)) out.push({ key, name: zone, issuer: issuer.name, zone: domain });
        });
    });
    const certificate = config.ingressNginx.enabled === false ? undefined : config.ingressNginx.defaultCertificate;
    const signer = certificate && config.certManager.issuers.find((x) => x.name === certificate.issuer);
    if (certificate && signer?.acme) {
        certificate.dnsNames.forEach((name, k) => {
            const base = name.replace(/^\*\./, "");
            if (inDomain(base, domain))
                out.push({ key: configPath(["ingressNginx", "defaultCertificate", "dnsNames", k]), name, issuer: signer.name, zone: base });
        });
    }
    if (config.gateway?.enabled) {
        config.gateway.listeners.forEach((l, k) => {
            const issuer = l.protocol === "HTTPS" && l.issuer ? config.certManager.issuers.find((x) => x.name === l.issuer) : undefined;
            const base = l.hostname.replace(/^\*\./, "");
            if (issuer?.acme && inDomain(base, domain))
                out.push({ key: configPath(["gateway", "listeners", k, "hostname"]), name: l.hostname, issuer: issuer.name, zone: base });
        });
    }
    return out;
}

/** The fewest zones that cover `zones`: one inside another adds nothing. */
export function outermostZones(zones: string[]): string[] {
    const unique = [...new Set(zones)];
    return unique.filter((z) => !unique.some((other) => other !== z && inDomain(z, other))).sort();
}

/**
 * The resolvers cert-manager's DNS-01 self-check must ask instead of CoreDNS,
 * or undefined when /etc/resolv.conf will do: with `use: always`, or when a
 * DNS-01 name overlaps the cluster domain.
 */
export function dns01RecursiveNameservers(config: Dns01Sections): string[] | undefined {
    const check = config.certManager.dns01SelfCheck;
    if (check.use === "always" || dns01Overlaps(config).length) return [...check.nameservers];
    return undefined;
}

/** The zones inside the cluster domain whose missing names this program's CoreDNS passes on to its upstreams. */
export function dns01FallthroughZones(config: Dns01Sections & { coredns: { clusterDomainFallthrough: boolean } }): string[] {
    if (!config.cluster.coreDnsDisabled || !config.coredns.clusterDomainFallthrough) return [];
    return outermostZones(dns01Overlaps(config).map((o) => o.zone));
}
