import { z } from "zod";
import { chartFields, cidr, k8sName } from "./common";
import { labelSelectorSchema } from "./selectors";

/** One block of a LoadBalancer pool: a CIDR, or a start/stop range. */
export const poolBlockSchema = z.union([z.strictObject({ cidr }), z.strictObject({ start: z.string().min(1), stop: z.string().min(1) })]);
export type PoolBlock = z.output<typeof poolBlockSchema>;

/** A CiliumLoadBalancerIPPool. */
export const lbPoolSchema = z.strictObject({
    name: k8sName,
    /** IPv4 and IPv6 CIDRs or start/stop ranges. */
    blocks: z.array(poolBlockSchema).min(1),
    /**
     * Which Services draw from this pool. Cilium matches it against the
     * Service's labels; annotations select nothing.
     * @default every Service (no selector)
     */
    serviceSelector: labelSelectorSchema.optional(),
    /** Hand out the first and last address of each CIDR. @default Cilium's default (yes) */
    allowFirstLastIPs: z.boolean().optional(),
});
export type LbPoolConfig = z.output<typeof lbPoolSchema>;

export const ciliumSchema = z.strictObject({
    ...chartFields({ chart: "cilium", repository: "https://helm.cilium.io", version: "1.19.4", namespace: "kube-system" }),
    /** LoadBalancer IP pools (LB IPAM). @default [] (LoadBalancer Services get no address) */
    loadBalancerPools: z.array(lbPoolSchema).default([]),
});
export type CiliumConfig = z.output<typeof ciliumSchema>;
