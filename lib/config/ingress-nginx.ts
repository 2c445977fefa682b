import { z } from "zod";
import { chartFields } from "./common";

export const ingressNginxSchema = z.strictObject({
    ...chartFields({
        chart: "ingress-nginx",
        repository: "https://kubernetes.github.io/ingress-nginx",
        version: "4.15.1",
        namespace: "ingress-nginx",
    }),
});
export type IngressNginxConfig = z.output<typeof ingressNginxSchema>;
