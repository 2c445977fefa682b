import { z } from "zod";

/** A Kubernetes LabelSelector, as Cilium's CRDs take it. */
export const labelSelectorSchema = z
    .strictObject({
        matchLabels: z
            .record(z.string(), z.string())
            .optional()
            .meta({ description: "Labels an object must carry, each with exactly this value.", defaultText: "no label required" }),
        matchExpressions: z
            .array(
                z.strictObject({
                    key: z.string().min(1).describe("The label's key."),
                    operator: z
                        .enum(["In", "NotIn", "Exists", "DoesNotExist"])
                        .describe(
                            "`In`/`NotIn`: the label's value is (not) one of `values`; `Exists`/`DoesNotExist`: the label is (not) there.",
                        ),
                    values: z
                        .array(z.string())
                        .optional()
                        .meta({ description: "The values `In` and `NotIn` compare with.", defaultText: "none" }),
                }),
            )
            .optional()
            .meta({ description: "Requirements on labels, all of which must hold.", defaultText: "none" }),
    })
    // Named, so that the reference documents its keys once rather than under every key that takes one.
    .meta({ title: "label selector" });
export type LabelSelector = z.output<typeof labelSelectorSchema>;

/** Does `selector` select an object with `labels`? An empty selector selects everything. */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
    if (!selector) return true;
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
    for (const e of selector.matchExpressions ?? []) {
        const has = Object.prototype.hasOwnProperty.call(labels, e.key);
        const inValues = has && (e.values ?? []).includes(labels[e.key]);
        if (e.operator === "In" && !inValues) return false;
        if (e.operator === "NotIn" && inValues) return false;
        if (e.operator === "Exists" && !has) return false;
        if (e.operator === "DoesNotExist" && has) return false;
    }
    return true;
}
