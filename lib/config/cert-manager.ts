import { z } from "zod";
import { chartFields } from "./common";

export const certManagerSchema = z.strictObject({
    ...chartFields({ chart: "cert-manager", repository: "https://charts.jetstack.io", version: "v1.21.1", namespace: "cert-manager" }),
});
export type CertManagerConfig = z.output<typeof certManagerSchema>;
