import { expect } from "chai";
import { featureKeys } from "../lib/checks/crd-order";
import type { Values } from "../lib/merge";
import { CERT_MANAGER_VALUE_KEYS } from "../lib/values/cert-manager";
import { CILIUM_VALUE_KEYS } from "../lib/values/cilium-services";
import { COREDNS_VALUE_KEYS } from "../lib/values/coredns";
import { INGRESS_NGINX_VALUE_KEYS } from "../lib/values/ingress-nginx";
import { KIND, ValueKeys, ValueKind } from "../lib/values/read";
import { unknownChartKeys } from "./chart-keys";
import { valuesErrors } from "./schemas";

// The keys the rules read must be keys the pinned charts have: a misspelled
// one would make a rule silently read nothing.

const SAMPLES = new Map<ValueKind, unknown>([
    [KIND.string, "LoadBalancer"],
    [KIND.switch, true],
    [KIND.count, 2],
    [KIND.strings, []],
    [KIND.stringMap, {}],
    [KIND.map, {}],
    [KIND.maps, []],
    [KIND.countOrPercent, 1],
]);

/** Values that set every key of `keys` to a sample of its kind. */
function sampleValues(keys: ValueKeys, override: Record<string, unknown> = {}): Values {
    const out: Values = {};
    for (const [dotted, kind] of Object.entries(keys)) {
        const parts = dotted.split(".");
        let cur = out;
        for (const p of parts.slice(0, -1)) cur = (cur[p] ??= {}) as Values;
        cur[parts[parts.length - 1]] = dotted in override ? override[dotted] : SAMPLES.get(kind);
    }
    return out;
}

describe("values keys the rules read", () => {
    it("exist in the Cilium 1.19.4 and cert-manager v1.21.1 charts, with the kinds their schemas give them", () => {
        const cilium = sampleValues(
            { ...CILIUM_VALUE_KEYS, ...featureKeys("cilium") },
            {
                "hubble.tls.auto.method": "certmanager",
                "clustermesh.apiserver.tls.auto.method": "certmanager",
                "hubble.peerService.clusterDomain": "cluster.local",
                "ingressController.service.name": "cilium-ingress",
                "ingressController.service.externalTrafficPolicy": "Local",
                "clustermesh.apiserver.service.externalTrafficPolicy": "Local",
            },
        );
        expect(valuesErrors("cilium", "1.19.4", cilium)).to.deep.equal([]);
        // Cilium's schema allows unknown keys; its values.yaml names every key it has.
        expect(unknownChartKeys("cilium", "1.19.4", cilium)).to.deep.equal([]);
        expect(
            valuesErrors("cert-manager", "v1.21.1", sampleValues({ ...CERT_MANAGER_VALUE_KEYS, ...featureKeys("cert-manager") })),
        ).to.deep.equal([]);
    });

    it("exist in the ingress-nginx 4.15.1 and CoreDNS 1.46.2 values files", () => {
        expect(
            unknownChartKeys("ingress-nginx", "4.15.1", sampleValues({ ...INGRESS_NGINX_VALUE_KEYS, ...featureKeys("ingress-nginx") })),
        ).to.deep.equal([]);
        // fullnameOverride is read by the chart's _helpers.tpl but not listed in values.yaml.
        expect(
            unknownChartKeys("coredns", "1.46.2", sampleValues({ ...COREDNS_VALUE_KEYS, ...featureKeys("coredns") }), ["fullnameOverride"]),
        ).to.deep.equal([]);
    });

    it("would catch a misspelled key", () => {
        expect(unknownChartKeys("coredns", "1.46.2", sampleValues({ "autoscaler.minimum": KIND.count }))).to.deep.equal([
            "autoscaler.minimum",
        ]);
        expect(unknownChartKeys("cilium", "1.19.4", sampleValues({ "ingressController.servce.labels": KIND.stringMap }))).to.deep.equal([
            "ingressController.servce",
        ]);
        expect(valuesErrors("cert-manager", "v1.21.1", sampleValues({ "webhook.replicaCont": KIND.count }))).to.not.deep.equal([]);
    });
});
