import type { PlatformConfig } from "../config";
import type { Problem } from "../problems";
import { CERT_MANAGER_VALUE_KEYS } from "../values/cert-manager";
import { CILIUM_VALUE_KEYS } from "../values/cilium-services";
import { COREDNS_VALUE_KEYS } from "../values/coredns";
import { INGRESS_NGINX_VALUE_KEYS } from "../values/ingress-nginx";
import { ValueKeys, valueTypeProblems } from "../values/read";
import { featureKeys, Release, releases } from "./crd-order";
import type { Check } from "./types";

/** The keys of each chart's merged values that this program's builders and checks read. */
const VALUE_KEYS: Record<Release["section"], ValueKeys> = {
    cilium: CILIUM_VALUE_KEYS,
    coredns: COREDNS_VALUE_KEYS,
    certManager: CERT_MANAGER_VALUE_KEYS,
    ingressNginx: INGRESS_NGINX_VALUE_KEYS,
    flux: {},
};

/**
 * Every values key the other checks read must hold its kind, so that they
 * never reason about a string where a list belongs. They skip such keys;
 * this check reports each once, naming the key, the value and the fix.
 */
function valueTypes(config: PlatformConfig): Problem[] {
    return releases(config).flatMap((r) => valueTypeProblems(r.section, r.values, { ...VALUE_KEYS[r.section], ...featureKeys(r.chart) }));
}

export const chartValueChecks: Check[] = [{ name: "chart-value-types", run: valueTypes }];
