import type { CheckContext, PlatformConfig } from "../config";
import { gitHost } from "../gates/targets";
import { addressValue, contains, parseCidr } from "../net";
import { configPath, error, Problem, warning } from "../problems";
import { factOrigin, factWhere } from "../talos/cluster";
import {
    certManagerValues,
    recursiveNameserverArgs,
    RECURSIVE_NAMESERVERS_FLAG,
    RECURSIVE_NAMESERVERS_ONLY_FLAG,
} from "../values/cert-manager";
import { dns01FallthroughZones, dns01Overlaps, dns01RecursiveNameservers, inDomain } from "../values/dns01";
import { isIllTyped, KIND, readValue } from "../values/read";
import { inContext } from "./severity";
import type { Check } from "./types";

const NAMESERVERS_KEY = configPath(["certManager", "dns01SelfCheck", "nameservers"]);
const FALLTHROUGH_KEY = configPath(["coredns", "clusterDomainFallthrough"]);

/**
 * Host names the platform's own pods resolve through the cluster's DNS:
 * source-controller clones the Flux Git source, and the dns gate's probe
 * looks up gates.dns.externalName (by default that same host).
 */
function platformNames(config: PlatformConfig): { name: string; who: string }[] {
    const git = gitHost(config.flux.source.url);
    const probe = config.gates.dns.externalName?.replace(/\.$/, "");
    const out: { name: string; who: string }[] = [];
    if (git) {
        const alsoProbe = !probe || probe === git ? ", and the dns gate's probe resolves it" : "";
        out.push({
            name: git,
            who: `source-controller clones the Flux Git source from ${git} (${configPath(["flux", "source", "url"])})${alsoProbe}`,
        });
    }
    if (probe && probe !== git)
        out.push({ name: probe, who: `the dns gate's probe resolves ${probe} (${configPath(["gates", "dns", "externalName"])})` });
    return out;
}

/**
 * What of the platform breaks on the NXDOMAIN the warning describes: one of
 * its names lies in an overlapping zone of the cluster domain (a public
 * record there, not a Service's or Pod's name), and CoreDNS does not pass it
 * on to its upstreams. Undefined when nothing of the platform is affected.
 */
function platformNamesUnresolved(config: PlatformConfig): string | undefined {
    const domain = config.cluster.dnsDomain;
    const zones = dns01Overlaps(config).map((o) => o.zone);
    const passedOn = dns01FallthroughZones(config);
    const hit = platformNames(config).filter(
        ({ name }) =>
            zones.some((z) => inDomain(name, z)) &&
            !inDomain(name, `svc.${domain}`) &&
            !inDomain(name, `pod.${domain}`) &&
            !passedOn.some((z) => inDomain(name, z)),
    );
    return hit.length
        ? `${hit.map((h) => h.who).join("; ")}; CoreDNS would answer NXDOMAIN for ${hit.map((h) => h.name).join(" and ")}`
        : undefined;
}

/**
 * An ACME DNS-01 zone or certificate name that overlaps the cluster domain.
 * The program fixes what it deploys (cert-manager's self-check resolvers,
 * CoreDNS's fallthrough), so this is a warning that says what it does, and
 * what is left to the user: a public wildcard record, or Talos' CoreDNS.
 * It is an error when a name the platform itself resolves stays unresolved.
 */
function clusterDomainOverlap(config: PlatformConfig, ctx: CheckContext): Problem[] {
    const overlaps = dns01Overlaps(config);
    if (!overlaps.length) return [];
    const domain = config.cluster.dnsDomain;
    const domainWhere = factWhere(factOrigin(ctx.clusterSources, "dnsDomain"));
    const [first] = overlaps;
    const nameservers = dns01RecursiveNameservers(config) ?? [];
    const zones = dns01FallthroughZones(config);
    const talosRunsCoreDns = !config.cluster.coreDnsDisabled;
    const coredns = talosRunsCoreDns
        ? "Talos' CoreDNS keeps answering NXDOMAIN for public names there (see the rule dns01-cluster-domain-talos-coredns)"
        : zones.length
          ? `CoreDNS passes names in ${zones.join(", ")} it has no record for on to its upstreams, so pods resolve the public records there`
          : `CoreDNS keeps answering NXDOMAIN for public names there (${FALLTHROUGH_KEY} is false)`;
    // One finding carries the escalation: the Talos rule when Talos runs CoreDNS, else this one.
    const unresolved = platformNamesUnresolved(config);
    const problems: Problem[] = [
        inContext(
            warning(
                "dns01-cluster-domain",
                first.key,
                `reaches into the cluster domain ${domain} (${domainWhere}), which CoreDNS answers itself: cert-manager's DNS-01 self-check ` +
                    `would get NXDOMAIN for the _acme-challenge records there and wait for propagation forever. So cert-manager asks ` +
                    `${nameservers.join(", ")} instead (${RECURSIVE_NAMESERVERS_ONLY_FLAG}), and ${coredns}`,
                zones.length
                    ? `nothing, unless the public zone has a wildcard record under ${domain}: it would also answer pods' search-path lookups ` +
                          `(github.com.${domain}), so then set ${FALLTHROUGH_KEY} to false. ${NAMESERVERS_KEY} picks other resolvers. ` +
                          `A cluster domain outside every public zone avoids all of this, but changing it means rebuilding the cluster`
                    : `${!talosRunsCoreDns && unresolved ? `set ${FALLTHROUGH_KEY} to true so that CoreDNS passes the platform's names on (then the public zone must have no wildcard record under ${domain}), or move them out of the cluster domain. ` : ""}` +
                          `${NAMESERVERS_KEY} picks other resolvers. A cluster domain outside every public zone avoids all of this, but changing it means rebuilding the cluster`,
                first.name,
            ),
            talosRunsCoreDns ? undefined : unresolved,
        ),
    ];
    if (talosRunsCoreDns) {
        const origin = factOrigin(ctx.clusterSources, "coreDnsDisabled");
        const file = config.cluster.talosConfig;
        // With talosConfig the fact follows the Talos configuration: changing the key alone would only make the two disagree.
        const switchOver = origin.talos
            ? `set cluster.coreDNS.disabled: true in the Talos configuration (${file}, which ${configPath(["cluster", "talosConfig"])} reads) and apply it to the nodes; ` +
              `${origin.key} follows it, and this program's CoreDNS, which passes them on to its upstreams, replaces Talos' one`
            : `set cluster.coreDNS.disabled: true in Talos and ${origin.key}: true here, so this program's CoreDNS, which passes them on to its upstreams, replaces Talos' one`;
        problems.push(
            inContext(
                warning(
                    "dns01-cluster-domain-talos-coredns",
                    origin.key,
                    `is false${origin.talos ? ` (${factWhere(origin)})` : ""}, so Talos runs CoreDNS, and its Corefile (made from Talos' cluster.network.dnsDomain; no machine-config key changes it) ` +
                        `answers NXDOMAIN for every name in ${domain} that is not a Service or Pod: pods cannot resolve the public records under ` +
                        `${domain} that ${first.key} names. cert-manager's self-check works either way: it asks ${nameservers.join(", ")} directly`,
                    `if pods must resolve those names, ${switchOver}; a hand edit of Talos' ` +
                        `coredns ConfigMap is undone when talosctl upgrade-k8s syncs Talos' manifests`,
                    false,
                ),
                unresolved,
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
