import type { CiliumConfig } from "../config/cilium";
import type { ClusterConfig } from "../config/cluster";
import { parseCidr } from "../net";
import { ciliumValues } from "./cilium";
import { KIND, readValue, switchOn, ValueKeys } from "./read";
import { EmittedService, mergedMaps } from "./services";

// The Services the Cilium chart (1.19) renders that can be of type
// LoadBalancer, read from the merged values the way its templates are:
// cilium-ingress-service.yaml and clustermesh-apiserver/service.yaml.

/** The Cilium values keys the cross-phase checks read (the network checks read their own). */
export const CILIUM_VALUE_KEYS = {
    "ingressController.enabled": KIND.switch,
    "ingressController.hostNetwork.enabled": KIND.switch,
    "ingressController.service.name": KIND.string,
    "ingressController.service.type": KIND.string,
    "ingressController.service.labels": KIND.stringMap,
    "ingressController.service.annotations": KIND.stringMap,
    "ingressController.service.externalTrafficPolicy": KIND.string,
    "clustermesh.useAPIServer": KIND.switch,
    "clustermesh.annotations": KIND.stringMap,
    "clustermesh.apiserver.service.externallyCreated": KIND.switch,
    "clustermesh.apiserver.service.type": KIND.string,
    "clustermesh.apiserver.service.labels": KIND.stringMap,
    "clustermesh.apiserver.service.annotations": KIND.stringMap,
    "clustermesh.apiserver.service.externalTrafficPolicy": KIND.string,
    "hubble.enabled": KIND.switch,
    "hubble.relay.enabled": KIND.switch,
    "hubble.peerService.clusterDomain": KIND.string,
    // The Gateway's Service: its traffic policy is Cilium's, for every Gateway.
    "gatewayAPI.enabled": KIND.switch,
    "gatewayAPI.externalTrafficPolicy": KIND.string,
} satisfies ValueKeys;

export function ciliumServices(cluster: ClusterConfig, cilium: CiliumConfig): EmittedService[] {
    const v = ciliumValues(cluster, cilium);
    // Neither template sets ipFamilies, so the Service is single-stack in the cluster's first family.
    const primary = parseCidr(cluster.serviceSubnets[0] ?? "")?.family;
    const families = primary ? [primary] : undefined;
    const out: EmittedService[] = [];
    if (switchOn(v, "ingressController.enabled", false)) {
        // Rendered in dedicated mode too: it is the shared listener's Service.
        const labels = mergedMaps(v, ["ingressController.service.labels"]);
        const annotations = mergedMaps(v, ["ingressController.service.annotations"]);
        out.push({
            section: "cilium",
            labelsKey: "ingressController.service.labels",
            annotationsKey: "ingressController.service.annotations",
            typeKey: "ingressController.service.type",
            namespace: cilium.namespace,
            name: readValue(v, "ingressController.service.name", KIND.string) || "cilium-ingress",
            type: switchOn(v, "ingressController.hostNetwork.enabled", false)
                ? "ClusterIP"
                : (readValue(v, "ingressController.service.type", KIND.string) ?? "LoadBalancer"),
            labels: { "cilium.io/ingress": "true", ...labels.map },
            annotations: annotations.map,
            families,
            trafficPolicyKey: "ingressController.service.externalTrafficPolicy",
            externalTrafficPolicy: readValue(v, "ingressController.service.externalTrafficPolicy", KIND.string) || "Cluster",
            wellTyped: labels.ok && annotations.ok,
        });
    }
    if (switchOn(v, "clustermesh.useAPIServer", false) && !switchOn(v, "clustermesh.apiserver.service.externallyCreated", false)) {
        const labels = mergedMaps(v, ["clustermesh.apiserver.service.labels"]);
        const annotations = mergedMaps(v, ["clustermesh.annotations", "clustermesh.apiserver.service.annotations"]);
        out.push({
            section: "cilium",
            labelsKey: "clustermesh.apiserver.service.labels",
            annotationsKey: "clustermesh.apiserver.service.annotations",
            typeKey: "clustermesh.apiserver.service.type",
            namespace: cilium.namespace,
            name: "clustermesh-apiserver",
            type: readValue(v, "clustermesh.apiserver.service.type", KIND.string) ?? "NodePort",
            labels: {
                "k8s-app": "clustermesh-apiserver",
                "app.kubernetes.io/part-of": "cilium",
                "app.kubernetes.io/name": "clustermesh-apiserver",
                ...labels.map,
            },
            annotations: annotations.map,
            families,
            trafficPolicyKey: "clustermesh.apiserver.service.externalTrafficPolicy",
            externalTrafficPolicy: readValue(v, "clustermesh.apiserver.service.externalTrafficPolicy", KIND.string) || "Cluster",
            wellTyped: labels.ok && annotations.ok,
        });
    }
    return out;
}
