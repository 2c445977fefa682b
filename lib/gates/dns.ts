import { urlHost } from "../net";
import { blockedAfter, Diagnosis } from "./diagnosis";
import { statusCode } from "./kube";
import { domainMismatches, kubeletDomains } from "./kubelet";
import type { DnsOptions } from "./options";
import type { ProbeCheck, ProbeOutcome } from "./probe";
import { probeStuck } from "./probe-steps";
import type { Step, StepResult } from "./run";
import { workloadStep } from "./workloads";

/** How a lookup failed. SERVFAIL and REFUSED both mean a server answered without an answer; "servfail" holds both. */
export type DnsFailure = "timeout" | "nxdomain" | "servfail" | "other";

/**
 * A lookup's failure, from the rcode word nslookup prints (busybox:
 * `** server can't find NAME: SERVFAIL`), or from no answer at all.
 */
export function dnsFailure(output: string): DnsFailure {
    if (/timed out|no servers could be reached|i\/o timeout/i.test(output)) return "timeout";
    const rcode = /server can't find \S+: ([A-Z]+)/.exec(output)?.[1];
    if (rcode === "NXDOMAIN") return "nxdomain";
    if (rcode === "SERVFAIL" || rcode === "REFUSED") return "servfail";
    // Go's resolver, as Flux and other controllers quote it.
    if (/no such host/i.test(output)) return "nxdomain";
    return "other";
}

export function dnsChecks(o: DnsOptions): ProbeCheck[] {
    // A trailing dot keeps the pod's search path from rewriting the names.
    return [
        { id: "cluster", argv: ["nslookup", `kubernetes.default.svc.${o.dnsDomain}.`] },
        { id: "external", argv: ["nslookup", `${o.externalName.replace(/\.$/, "")}.`] },
    ];
}

const UPSTREAMS =
    "CoreDNS's upstreams: talos-platform:coredns.upstreams when this program runs CoreDNS, else Talos' (forward . /etc/resolv.conf: the nodes' resolvers through Talos host DNS)";

/** Why the cluster name did not resolve: what each failure says about the path pod → CoreDNS → API server. */
function clusterNameFailure(kind: DnsFailure, o: DnsOptions, coredns: string): Pick<Diagnosis, "link" | "cause" | "fix"> {
    const api = `${urlHost(o.serviceIp)}:443`;
    switch (kind) {
        case "nxdomain":
            return {
                link: `CoreDNS → zone ${o.dnsDomain}`,
                cause: `CoreDNS answers but does not serve ${o.dnsDomain}: talos-platform:cluster.dnsDomain (${o.dnsDomain}) is not the cluster's domain`,
                fix: "set talos-platform:cluster.dnsDomain to Talos' cluster.network.dnsDomain",
            };
        case "servfail":
            return {
                link: `CoreDNS → API server (${coredns})`,
                cause: `CoreDNS answers SERVFAIL for cluster names: its kubernetes plugin has not synced with the API server, which it reaches through the kubernetes Service ${api}`,
                fix: `check ${coredns}'s logs for the API connection; if it cannot reach ${api} the network link is broken (npm run doctor)`,
            };
        case "timeout":
            return {
                link: `pods → cluster DNS (${coredns})`,
                cause: "no DNS server answers pods: the kube-dns Service ClusterIP does not reach the CoreDNS pods, or CoreDNS is not serving",
                fix: `check ${coredns}'s pods and the kube-dns Service's endpoints; if CoreDNS cannot reach ${api} the network link is broken`,
            };
        default:
            return {
                link: `pods → cluster DNS (${coredns})`,
                cause: "CoreDNS fails to answer for cluster names",
                fix: `check ${coredns}'s logs`,
            };
    }
}

/** Why the external name did not resolve, once cluster names do: the path CoreDNS → upstream resolvers. */
function externalNameFailure(kind: DnsFailure, o: DnsOptions): Pick<Diagnosis, "cause" | "fix"> {
    switch (kind) {
        case "nxdomain":
            return {
                cause: `${o.externalName} does not exist according to the upstream resolvers`,
                fix: "set talos-platform:gates.dns.externalName to a public name, or fix talos-platform:flux.source.url",
            };
        case "servfail":
            return {
                cause: `CoreDNS answers SERVFAIL (or REFUSED) for public names: its forward plugin gets no answer from ${UPSTREAMS}; they are unreachable from the nodes, or refuse them`,
                fix: "check those resolvers, and that the nodes may send DNS to them (egress to port 53)",
            };
        default:
            return {
                cause: `CoreDNS resolves cluster names but no answer comes back for public ones: ${UPSTREAMS} do not answer`,
                fix: "check those resolvers (Talos machine.network.nameservers) and that the nodes may send DNS to them (egress to port 53)",
            };
    }
}

/** Why resolution failed, from nslookup's own words; the cluster name is checked first because external names depend on it. */
export function diagnoseDns(results: ProbeOutcome[], o: DnsOptions): Diagnosis | undefined {
    const get = (id: string) => results.find((r) => r.id === id);
    const cluster = get("cluster");
    const external = get("external");
    const line = (r: ProbeOutcome, name: string) => `probe nslookup ${name}: ${r.output || "(no output)"} [exit ${r.rc}]`;
    const clusterName = `kubernetes.default.svc.${o.dnsDomain}`;
    const coredns = `Deployment ${o.namespace}/${o.deployment}`;
    if (!cluster || cluster.rc !== 0) {
        return {
            ...clusterNameFailure(cluster ? dnsFailure(cluster.output) : "other", o, coredns),
            evidence: [cluster ? line(cluster, clusterName) : `probe nslookup ${clusterName}: no result`],
            blocks: blockedAfter("dns", ["every in-cluster name lookup"]),
        };
    }
    if (!external || external.rc !== 0) {
        return {
            link: `CoreDNS → upstream resolvers (${o.externalName})`,
            ...externalNameFailure(external ? dnsFailure(external.output) : "other", o),
            evidence: [
                line(cluster, clusterName),
                external ? line(external, o.externalName) : `probe nslookup ${o.externalName}: no result`,
            ],
            blocks: blockedAfter("dns", [`anything that resolves public names: the Flux source at ${o.externalName}, ACME DNS-01`]),
        };
    }
    return undefined;
}

function resolveStep(o: DnsOptions): Step {
    return {
        name: `pods resolve kubernetes.default.svc.${o.dnsDomain} and ${o.externalName}`,
        async check({ probes, deadline, signal }): Promise<StepResult> {
            const run = await probes.run("dns", dnsChecks(o), false, deadline, signal);
            if (run.kind !== "done") return probeStuck(run, "dns", o);
            const diagnosis = diagnoseDns(run.results, o);
            if (!diagnosis) return { ok: true, detail: `both resolved from pod ${run.pod}` };
            const failed = run.results.find((r) => r.rc !== 0);
            return { ok: false, waiting: `probe: ${failed?.output ?? "no result"}`, diagnosis };
        },
    };
}

/** The fix for kubelets on another domain: the stack follows Talos, not the other way round. */
export function clusterDomainFix(live: string): string {
    return `set talos-platform:cluster.dnsDomain to ${live}, the domain Talos gives the kubelets (cluster.network.dnsDomain; talconfig's domain, cluster.local unless set); changing Talos' domain instead means new kubelet configuration on every node and restarting every pod`;
}

/**
 * The kubelets' cluster domain, read from their live configuration. The
 * probe resolves the configured domain, which a CoreDNS serving that domain
 * answers even when the kubelets give pods another one: then every
 * <service>.<ns>.svc name a pod looks up fails, and the probe alone would pass.
 */
function kubeletDomainStep(o: DnsOptions): Step {
    return {
        name: `kubelets give pods the cluster domain ${o.dnsDomain}`,
        async check({ kube }): Promise<StepResult> {
            let nodes: string[];
            try {
                nodes = (await kube.core.listNode()).items.map((n) => n.metadata?.name ?? "").filter(Boolean);
            } catch (e) {
                const code = statusCode(e);
                if (code !== 401 && code !== 403) throw e;
                return { ok: true, detail: "not checked: the kubeconfig's user may not list nodes" };
            }
            const domains = await kubeletDomains(kube, nodes);
            const read = domains.filter((d) => d.clusterDomain !== undefined);
            if (!read.length) {
                const why = domains[0]?.unreadable ?? "no nodes";
                return { ok: true, detail: `not checked: ${why}` };
            }
            const wrong = domainMismatches(domains, o.dnsDomain);
            if (!wrong.length) return { ok: true, detail: `${read.length} of ${domains.length} kubelets read` };
            const live = read.find((d) => d.clusterDomain !== o.dnsDomain)!.clusterDomain!;
            return {
                ok: false,
                final: true,
                waiting: wrong[0],
                diagnosis: {
                    link: `kubelet → pods' DNS search path (${live}, not ${o.dnsDomain})`,
                    evidence: wrong,
                    cause: `the kubelets give pods the search path <ns>.svc.${live}, while talos-platform:cluster.dnsDomain says ${o.dnsDomain}: every *.svc.${live} name pods look up fails where CoreDNS serves ${o.dnsDomain}, and what this program configures for ${o.dnsDomain} (certificates, Flux) names a domain pods do not use`,
                    fix: clusterDomainFix(live),
                    blocks: blockedAfter("dns", ["every in-cluster name lookup by a pod"]),
                },
            };
        },
    };
}

export function dnsSteps(o: DnsOptions): Step[] {
    return [
        workloadStep({
            kind: "Deployment",
            namespace: o.namespace,
            name: o.deployment,
            phase: "dns",
            role: "CoreDNS",
            serviceIp: o.serviceIp,
        }),
        kubeletDomainStep(o),
        resolveStep(o),
    ];
}
