import type { IngressNginxConfig } from "../config/ingress-nginx";
import { mergeValues, Values } from "../merge";

/** ingress-nginx chart values; `ingressNginx.values` merged last. */
export function ingressNginxValues(ingress: IngressNginxConfig): Values {
    const computed: Values = {
        controller: {
            replicaCount: 2,
            ingressClassResource: { name: "nginx", default: true },
            service: { type: "LoadBalancer" },
            admissionWebhooks: { enabled: true },
            metrics: { enabled: true },
        },
    };
    return mergeValues(computed, ingress.values);
}
