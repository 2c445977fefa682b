import type { PlatformConfig } from "../config";
import { addressValue, contains, parseCidr } from "../net";
import { configPath, error, Problem, warning } from "../problems";
import {
    certManagerValues,
    recursiveNameserverArgs,
    RECURSIVE_NAMESERVERS_FLAG,
    RECURSIVE_NAMESERVERS_ONLY_FLAG,
} from "../values/cert-manager";
import { dns01FallthroughZones, dns01Overlaps, dns01RecursiveNameservers } from "../values/dns01";
import { isIllTyped, KIND, readValue } from "../values/read";
import type { Check } from "./types";

const DOMAIN_KEY = configPath(["cluster", "dnsDomain"]);
const NAMESERVERS_KEY = configPath(["certManager", "dns01SelfCheck", "nameservers"]);
const FALLTHROUGH_KEY = configPath(["coredns", "clusterDomainFallthrough"]);

/**
 * An ACME DNS-01 zone or certificate name that overlaps the cluster domain.
 * The program fixes what it deploys (cert-manager's self-check resolvers,
 * CoreDNS's fallthrough), so this is a warning that says what it does, and
 * what is left to the user: a public wildcard record, or Talos' CoreDNS.
 */
function clusterDomainOverlap(config: PlatformConfig): Problem[] {
    const overlaps = dns01Overlaps(config);
    if (!overlaps.length) return [];
    const domain = config.cluster.dnsDomain;
    const [first] = overlaps;
    const nameservers = dns01RecursiveNameservers(config) ?? [];
    const zones = dns01FallthroughZones(config);
    const coredns = !config.cluster.coreDnsDisabled
        ? "Talos' CoreDNS keeps answering NXDOMAIN for public names there (see the rule dns01-cluster-domain-talos-coredns)"
        : zones.length
          ? `CoreDNS passes names in ${zones.join(", ")} it has no record for on to its upstreams, so pods resolve the public records there`
          : `CoreDNS keeps answering NXDOMAIN for public names there (${FALLTHROUGH_KEY} is false)`;
    const problems: Problem[] = [
        warning(
            "dns01-cluster-domain",
            first.key,
            `reaches into the cluster domain ${domain} (${DOMAIN_KEY}), which CoreDNS answers itself: cert-manager's DNS-01 self-check ` +
                `would get NXDOMAIN for the _acme-challenge records there and wait for propagation forever. So cert-manager asks ` +
                `${nameservers.join(", ")} instead (${RECURSIVE_NAMESERVERS_ONLY_FLAG}), and ${coredns}`,
            zones.length
                ? `nothing, unless the public zone has a wildcard record under ${domain}: it would also answer pods' search-path lookups ` +
                      `(github.com.${domain}), so then set ${FALLTHROUGH_KEY} to false. ${NAMESERVERS_KEY} picks other resolvers. ` +
                      `A cluster domain outside every public zone avoids all of this, but changing it means rebuilding the cluster`
                : `${NAMESERVERS_KEY} picks other resolvers. A cluster domain outside every public zone avoids all of this, but changing it means rebuilding the cluster`,
            first.name,
        ),
    ];
    if (!config.cluster.coreDnsDisabled) {
        problems.push(
            warning(
                "dns01-cluster-domain-talos-coredns",
                configPath(["cluster", "coreDnsDisabled"]),
                `is false, so Talos runs CoreDNS, and its Corefile (made from Talos' cluster.network.dnsDomain; no machine-config key changes it) ` +
                    `answers NXDOMAIN for every name in ${domain} that is not a Service or Pod: pods cannot resolve the public records under ` +
                    `${domain} that ${first.key} names. cert-manager's self-check works either way: it asks ${nameservers.join(", ")} directly`,
                `if pods must resolve those names, set cluster.coreDNS.disabled: true in Talos and ${configPath(["cluster", "coreDnsDisabled"])}: ` +
                    `true here, so this program's CoreDNS, which passes them on to its upstreams, replaces Talos' one; a hand edit of Talos' ` +
                    `coredns ConfigMap is undone when talosctl upgrade-k8s syncs Talos' manifests`,
                false,
            ),
        );
    }
    return problems;
}

/** The service or pod subnet `host` lies in, if it is an address of the cluster's own. */
function clusterSubnet(config: PlatformConfig, host: string): string | undefined {
    if (!addressValue(host)) return undefined;
    return [...config.cluster.serviceSubnets, ...config.cluster.podSubnets].find((s) => {
        const c = parseCidr(s);
        return c !== undefined && contains(c, host);
    });
}

/** The host of a resolver as cert-manager takes it: host:port or [IPv6]:port; undefined for a DoH URL. */
function resolverHost(v: string): string | undefined {
    if (v.startsWith("https://")) return undefined;
    const v6 = /^\[([^\]]+)\]:/.exec(v);
    return v6 ? v6[1] : v.slice(0, v.lastIndexOf(":"));
}

/**
 * When the self-check needs other resolvers, they must be outside the
 * cluster (kube-dns is what they replace), and the escape hatch must not
 * drop the flags that name them.
 */
function selfCheckResolvers(config: PlatformConfig): Problem[] {
    const nameservers = dns01RecursiveNameservers(config);
    if (!nameservers) return [];
    const problems: Problem[] = [];
    const why =
        config.certManager.dns01SelfCheck.use === "always"
            ? `${configPath(["certManager", "dns01SelfCheck", "use"])} is always`
            : `ACME DNS-01 names reach into the cluster domain ${config.cluster.dnsDomain}`;
    nameservers.forEach((ns, i) => {
        const host = resolverHost(ns);
        const subnet = host && clusterSubnet(config, host);
        if (subnet) {
            problems.push(
                error(
                    `${NAMESERVERS_KEY}[${i}]`,
                    `is inside the cluster's subnet ${subnet}: the cluster's own DNS, which cannot see the public _acme-challenge records the self-check looks for`,
                    `name resolvers outside the cluster that see the public zone, e.g. 8.8.8.8:53 and 1.1.1.1:53`,
                    ns,
                ),
            );
        }
    });
    const values = certManagerValues(config.certManager, config.cluster, { recursiveNameservers: nameservers });
    if (isIllTyped(values, "extraArgs", KIND.strings)) return problems;
    const args = readValue(values, "extraArgs", KIND.strings) ?? [];
    const named = args.some((a) => a.startsWith(`${RECURSIVE_NAMESERVERS_FLAG}=`));
    const only = args.includes(RECURSIVE_NAMESERVERS_ONLY_FLAG) || args.includes(`${RECURSIVE_NAMESERVERS_ONLY_FLAG}=true`);
    if (!named || !only) {
        problems.push(
            error(
                configPath(["certManager", "values", "extraArgs"]),
                `replaces cert-manager's controller arguments and leaves out ${[named ? "" : RECURSIVE_NAMESERVERS_FLAG, only ? "" : RECURSIVE_NAMESERVERS_ONLY_FLAG].filter(Boolean).join(" and ")}, which the DNS-01 self-check needs because ${why}`,
                `add ${recursiveNameserverArgs(nameservers).join(" and ")} to the list, or remove it`,
                args,
            ),
        );
    }
    return problems;
}

export const dns01Checks: Check[] = [
    { name: "dns01-cluster-domain", run: clusterDomainOverlap },
    { name: "dns01-self-check-resolvers", run: selfCheckResolvers },
];
