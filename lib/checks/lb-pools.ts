import type { PlatformConfig } from "../config";
import { selects } from "../config/selectors";
import { Values, valueAt } from "../merge";
import { contains } from "../net";
import { configPath, error, Problem } from "../problems";
import { corednsServices } from "../values/coredns";
import { ingressNginxServices, LB_IPS_ANNOTATION } from "../values/ingress-nginx";
import type { EmittedService } from "../values/services";
import { poolRanges } from "./ingress";
import type { Check } from "./types";

/** Where to tell the user to fix the labels of an emitted Service, and what is there now. */
function labelsKey(s: EmittedService, config: PlatformConfig): { key: string; value: unknown; typed: boolean } {
    const sectionValues = (config[s.section] as { values: Values }).values;
    const userLabels = valueAt(sectionValues, s.labelsKey);
    if (s.section === "ingressNginx" && s.name === "ingress-nginx-controller" && userLabels === undefined) {
        return { key: configPath(["ingressNginx", "loadBalancer", "pool"]), value: config.ingressNginx.loadBalancer.pool, typed: true };
    }
    return { key: configPath([s.section, "values", ...s.labelsKey.split(".")]), value: userLabels, typed: false };
}

/**
 * Each LoadBalancer Service takes its address from exactly one pool, chosen
 * by the pool's serviceSelector over the Service's labels (plus Cilium's
 * io.kubernetes.service.namespace/name). Annotations select nothing.
 */
function poolSelection(config: PlatformConfig): Problem[] {
    const pools = config.cilium.loadBalancerPools;
    const problems: Problem[] = [];
    const services = [...corednsServices(config.cluster, config.coredns), ...ingressNginxServices(config.ingressNginx, pools)].filter(
        (s) => s.type === "LoadBalancer",
    );
    for (const s of services) {
        const what = `the LoadBalancer Service ${s.namespace}/${s.name}`;
        const { key, value, typed: poolKey } = labelsKey(s, config);
        const names = pools.map((p) => p.name).join(", ");
        const labels = { ...s.labels, "io.kubernetes.service.namespace": s.namespace, "io.kubernetes.service.name": s.name };
        const matching = pools.filter((p) => selects(p.serviceSelector, labels));
        if (matching.length === 0) {
            const selectorKeys = new Set(
                pools.flatMap((p) => [
                    ...Object.keys(p.serviceSelector?.matchLabels ?? {}),
                    ...(p.serviceSelector?.matchExpressions ?? []).map((e) => e.key),
                ]),
            );
            const misplaced = Object.keys(s.annotations).filter((k) => selectorKeys.has(k));
            const meant = pools.find((p) => misplaced.some((k) => p.serviceSelector?.matchLabels?.[k] === s.annotations[k]));
            const hint = misplaced.length
                ? `; its annotations carry ${misplaced.join(", ")}, but pools match labels and annotations select nothing`
                : "";
            problems.push(
                error(
                    key,
                    `leaves ${what} selected by no Cilium pool, so it would stay <pending>${hint}`,
                    !pools.length
                        ? "add a pool under cilium.loadBalancerPools"
                        : poolKey
                          ? meant
                              ? `name ${meant.name}, the pool the annotation meant`
                              : `name one of ${names}`
                          : `give the Service the labels of one pool's serviceSelector (${names})`,
                    value,
                ),
            );
            continue;
        }
        if (matching.length > 1) {
            problems.push(
                error(
                    key,
                    `leaves ${what} selected by ${matching.length} pools (${matching.map((p) => p.name).join(", ")}); Cilium may take its address from any of them`,
                    "give the pools disjoint serviceSelectors (a pool without one selects every Service), or label the Service for exactly one",
                    value,
                ),
            );
            continue;
        }
        const ips = (s.annotations[LB_IPS_ANNOTATION] ?? "")
            .split(",")
            .map((x) => x.trim())
            .filter(Boolean);
        const typed = s.section === "ingressNginx" && ips.length === 1 && ips[0] === config.ingressNginx.loadBalancer.ip;
        // ingress-lb-pool already checks the typed address against the pool it names.
        if (typed && matching[0].name === config.ingressNginx.loadBalancer.pool) continue;
        for (const ip of ips.filter((x) => !poolRanges(matching[0]).some((r) => contains(r, x)))) {
            problems.push(
                error(
                    typed
                        ? configPath(["ingressNginx", "loadBalancer", "ip"])
                        : configPath([s.section, "values", ...s.annotationsKey.split("."), LB_IPS_ANNOTATION]),
                    `asks for ${ip} for ${what}, outside ${matching[0].name}, the only pool that selects it; Cilium would leave it pending`,
                    `pick an address from pool ${matching[0].name}`,
                    ip,
                ),
            );
        }
    }
    return problems;
}

export const lbPoolChecks: Check[] = [{ name: "lb-pool-selection", run: poolSelection }];
