import { blockedAfter, Diagnosis } from "./diagnosis";
import type { DnsOptions } from "./options";
import type { ProbeCheck, ProbeOutcome } from "./probe";
import { probeStuck } from "./probe-steps";
import type { Step, StepResult } from "./run";
import { workloadStep } from "./workloads";

export type DnsFailure = "timeout" | "nxdomain" | "servfail" | "other";

/** nslookup's outcome in one word. */
export function dnsFailure(output: string): DnsFailure {
    if (/timed out|no servers could be reached|i\/o timeout/i.test(output)) return "timeout";
    if (/NXDOMAIN|can't find|no such host/i.test(output)) return "nxdomain";
    if (/SERVFAIL|REFUSED/i.test(output)) return "servfail";
    return "other";
}

export function dnsChecks(o: DnsOptions): ProbeCheck[] {
    // A trailing dot keeps the pod's search path from rewriting the names.
    return [
        { id: "cluster", argv: ["nslookup", `kubernetes.default.svc.${o.dnsDomain}.`] },
        { id: "external", argv: ["nslookup", `${o.externalName.replace(/\.$/, "")}.`] },
    ];
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
        const kind = cluster ? dnsFailure(cluster.output) : "other";
        return {
            link: kind === "nxdomain" ? `CoreDNS → zone ${o.dnsDomain}` : `pods → cluster DNS (${coredns})`,
            evidence: [cluster ? line(cluster, clusterName) : `probe nslookup ${clusterName}: no result`],
            cause:
                kind === "nxdomain"
                    ? `CoreDNS answers but does not serve ${o.dnsDomain}: talos-platform:cluster.dnsDomain (${o.dnsDomain}) is not the cluster's domain`
                    : kind === "timeout"
                      ? "no DNS server answers pods: the kube-dns Service ClusterIP does not reach the CoreDNS pods, or CoreDNS cannot sync with the API server"
                      : "CoreDNS fails to answer for cluster names",
            fix:
                kind === "nxdomain"
                    ? "set talos-platform:cluster.dnsDomain to Talos' cluster.network.dnsDomain"
                    : `check ${coredns}'s logs; if it cannot reach 10.96.0.1:443 the network link is broken`,
            blocks: blockedAfter("dns", ["every in-cluster name lookup"]),
        };
    }
    if (!external || external.rc !== 0) {
        const kind = external ? dnsFailure(external.output) : "other";
        return {
            link: `CoreDNS → upstream resolvers (${o.externalName})`,
            evidence: [
                line(cluster, clusterName),
                external ? line(external, o.externalName) : `probe nslookup ${o.externalName}: no result`,
            ],
            cause:
                kind === "nxdomain"
                    ? `${o.externalName} does not exist according to the upstream resolvers`
                    : "CoreDNS resolves cluster names but cannot forward external ones: its upstream (forward . /etc/resolv.conf, the node's resolvers via Talos host DNS) does not answer",
            fix:
                kind === "nxdomain"
                    ? "set talos-platform:gates.dns.externalName to a public name, or fix talos-platform:flux.source.url"
                    : "check the nodes' nameservers (Talos machine.network.nameservers) and that they allow DNS from the nodes",
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

export function dnsSteps(o: DnsOptions): Step[] {
    return [
        workloadStep({ kind: "Deployment", namespace: o.namespace, name: o.deployment, phase: "dns", role: "CoreDNS" }),
        resolveStep(o),
    ];
}
