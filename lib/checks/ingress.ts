import { closest } from "fastest-levenshtein";
import type { PlatformConfig } from "../config";
import type { LbPoolConfig } from "../config/cilium";
import { valueAt } from "../merge";
import { addressFamily, contains, parseCidr, parseRange, Range } from "../net";
import { configPath, error, Problem } from "../problems";
import { ingressNginxValues } from "../values/ingress-nginx";
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
    // The chart's own default is a single-stack IPv4 Service.
    const families = valueAt(ingressNginxValues(config.ingressNginx, pools), "controller.service.ipFamilies") ?? ["IPv4"];
    const wanted = addressFamily(ip) === "ipv6" ? "IPv6" : "IPv4";
    if (Array.isArray(families) && !families.includes(wanted)) {
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

function replicas(config: PlatformConfig): Problem[] {
    const v = ingressNginxValues(config.ingressNginx, config.cilium.loadBalancerPools);
    const n = valueAt(v, "controller.replicaCount");
    const autoscaled = valueAt(v, "controller.autoscaling.enabled") === true;
    const min = valueAt(v, "controller.autoscaling.minReplicas");
    if (autoscaled ? typeof min === "number" && min >= 2 : typeof n === "number" && n >= 2) return [];
    const key = autoscaled ? "controller.autoscaling.minReplicas" : "controller.replicaCount";
    return [
        error(
            configPath(["ingressNginx", "values", ...key.split(".")]),
            "leaves ingress-nginx with fewer than 2 replicas; one node drain would drop ingress",
            "use at least 2 (ingressNginx.replicas)",
            autoscaled ? min : n,
        ),
    ];
}

export const ingressChecks: Check[] = [
    { name: "ingress-lb-pool", run: poolChecks },
    { name: "ingress-replicas", run: replicas },
];
