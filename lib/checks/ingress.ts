import { closest } from "fastest-levenshtein";
import type { PlatformConfig } from "../config";
import type { LbPoolConfig } from "../config/cilium";
import { addressFamily, contains, parseCidr, parseRange, Range } from "../net";
import { configPath, error, Problem } from "../problems";
import { ingressNginxValues } from "../values/ingress-nginx";
import { KIND, readValue } from "../values/read";
import { minReplicaProblems, ReplicaRule } from "./replicas";
import type { Check } from "./types";

/** The address ranges a pool hands out, honouring allowFirstLastIPs for CIDR blocks. */
export function poolRanges(pool: LbPoolConfig): Range[] {
    const out: Range[] = [];
    for (const b of pool.blocks) {
        if ("cidr" in b) {
            const c = parseCidr(b.cidr);
            if (!c) continue;
            const trim = pool.allowFirstLastIPs === false && c.end - c.start >= 2n ? 1n : 0n;
            out.push({ family: c.family, start: c.start + trim, end: c.end - trim });
        } else {
            const r = parseRange(b.start, b.stop);
            if (r) out.push(r);
        }
    }
    return out;
}

function poolChecks(config: PlatformConfig): Problem[] {
    if (!config.ingressNginx.enabled) return [];
    const { loadBalancer } = config.ingressNginx;
    const pools = config.cilium.loadBalancerPools;
    const problems: Problem[] = [];
    const pool = pools.find((p) => p.name === loadBalancer.pool);
    if (loadBalancer.pool && !pool) {
        const names = pools.map((p) => p.name);
        problems.push(
            error(
                configPath(["ingressNginx", "loadBalancer", "pool"]),
                "names no pool in cilium.loadBalancerPools",
                names.length
                    ? `use one of ${names.join(", ")} (closest: ${closest(loadBalancer.pool, names)})`
                    : "add the pool under cilium.loadBalancerPools",
                loadBalancer.pool,
            ),
        );
    }
    const ip = loadBalancer.ip;
    if (!ip) return problems;
    const ipKey = configPath(["ingressNginx", "loadBalancer", "ip"]);
    if (!loadBalancer.pool) {
        problems.push(
            error(
                ipKey,
                "is a fixed address but ingressNginx.loadBalancer.pool names no pool to take it from",
                "set ingressNginx.loadBalancer.pool to the cilium.loadBalancerPools entry that contains it",
                ip,
            ),
        );
    } else if (pool && !poolRanges(pool).some((r) => contains(r, ip))) {
        const blocks = pool.blocks.map((b) => ("cidr" in b ? b.cidr : `${b.start}-${b.stop}`)).join(", ");
        problems.push(
            error(
                ipKey,
                `is not in pool ${pool.name} (${blocks}${pool.allowFirstLastIPs === false ? ", first and last addresses excluded" : ""}); Cilium would leave the Service pending`,
                `pick an address inside ${blocks}, or change ingressNginx.loadBalancer.pool`,
                ip,
            ),
        );
    }
    // The chart's own default is a single-stack IPv4 Service; a list of the wrong kind is the type check's.
    const families = readValue(ingressNginxValues(config.ingressNginx, pools), "controller.service.ipFamilies", KIND.strings) ?? ["IPv4"];
    const wanted = addressFamily(ip) === "ipv6" ? "IPv6" : "IPv4";
    if (!families.includes(wanted)) {
        problems.push(
            error(
                ipKey,
                `is ${wanted} but the Service's ipFamilies (ingressNginx.values.controller.service.ipFamilies) are ${JSON.stringify(families)}`,
                `add ${wanted} to controller.service.ipFamilies or pick an address of the Service's family`,
                ip,
            ),
        );
    }
    return problems;
}

/** The controller's replica count and autoscalers (HPA or KEDA), after the escape hatch. */
export const INGRESS_REPLICAS: ReplicaRule = {
    section: "ingressNginx",
    what: "ingress-nginx",
    replicasKey: "controller.replicaCount",
    chartReplicas: 1,
    autoscalers: [
        { enabledKey: "controller.autoscaling.enabled", minKey: "controller.autoscaling.minReplicas", chartMin: 1 },
        { enabledKey: "controller.keda.enabled", minKey: "controller.keda.minReplicas", chartMin: 1 },
    ],
    risk: "one node drain would drop ingress",
    fix: "keep at least 2: set ingressNginx.replicas, and an autoscaler's minimum of at least 2",
};

function replicas(config: PlatformConfig): Problem[] {
    if (!config.ingressNginx.enabled) return [];
    const v = ingressNginxValues(config.ingressNginx, config.cilium.loadBalancerPools);
    // A DaemonSet runs one controller per node; the count does not apply.
    if ((readValue(v, "controller.kind", KIND.string) ?? "Deployment") !== "Deployment") return [];
    return minReplicaProblems(INGRESS_REPLICAS, v);
}

export const ingressChecks: Check[] = [
    { name: "ingress-lb-pool", run: poolChecks },
    { name: "ingress-replicas", run: replicas },
];
