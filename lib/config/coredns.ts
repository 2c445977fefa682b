import { z } from "zod";
import { chartFields } from "./common";

export const corednsSchema = z.strictObject({
    ...chartFields({ chart: "coredns", repository: "https://coredns.github.io/helm", version: "1.46.2", namespace: "kube-system" }),
});
export type CorednsConfig = z.output<typeof corednsSchema>;
