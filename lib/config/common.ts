import { z } from "zod";
import { parseCidr } from "../net";
import { example, keepExample } from "./issues";

/**
 * Attaches a check whose failure carries a fix. The fix travels in the
 * issue's params so the loader can print key, value, problem and fix.
 */
export function must<T extends z.ZodType>(schema: T, test: (v: z.output<T>) => boolean, message: string, fix: string) {
    return keepExample(
        schema,
        schema.superRefine((v, ctx) => {
            if (!test(v)) ctx.addIssue({ code: "custom", message, params: { fix }, input: v });
        }),
    );
}

const PINNED = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

export function isPinnedVersion(v: unknown): boolean {
    return typeof v === "string" && PINNED.test(v);
}

/** The fix for an unpinned version of `what` (e.g. "the cilium chart", "Flux"), with an example when one is known. */
export function pinnedVersionFix(what: string, example?: string): string {
    const version = example ? `an exact version such as ${example}` : "an exact version (MAJOR.MINOR.PATCH)";
    return `use ${version}; ranges, wildcards and tags like 'latest' let ${what} change between two deployments`;
}

/**
 * A check that is one regular expression, which JSON Schema can state as
 * well (`pattern`), so an editor flags the value too (npm run gen:schema).
 */
export function matching(re: RegExp, message: string, fix: string) {
    return must(z.string(), (v) => re.test(v), message, fix).meta({ pattern: re.source });
}

/** An exact version of `what`: a range or "latest" lets the platform drift between two `up`s. */
export function pinnedVersion(what: string, example: string) {
    return matching(PINNED, `is not a pinned version of ${what}`, pinnedVersionFix(what, example));
}

const GO_DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;

/** True for a duration as Flux and Go write it: 90s, 2m, 1h30m. */
export function isDuration(v: string): boolean {
    return GO_DURATION.test(v);
}

/** A duration as Flux and Go write it: 90s, 2m, 1h30m. */
export const duration = example(
    matching(GO_DURATION, "is not a duration", "write a number with a unit (ms, s, m, h), e.g. 90s, 2m or 1h30m"),
    { value: "90s", note: "a number with a unit: ms, s, m, h" },
);

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function durationMs(d: string): number {
    let total = 0;
    for (const m of d.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2]];
    return total;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A Kubernetes object name that must also be a DNS label (namespaces, Services). */
export const k8sName = must(
    z.string(),
    (v) => v.length <= 63 && DNS_LABEL.test(v),
    "is not a valid Kubernetes name",
    "use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit",
).meta({ pattern: DNS_LABEL.source, maxLength: 63 });

export const cidr = must(
    z.string(),
    (v) => parseCidr(v) !== undefined,
    "is not a CIDR",
    "write an address and a prefix length, e.g. 10.244.0.0/16 or fd00:10:244::/64",
);

/** The escape hatch: merged last over the computed chart values. */
export const helmValues = z.record(z.string(), z.unknown());

export interface ChartDefaults {
    chart: string;
    repository: string;
    version: string;
    namespace: string;
}

/**
 * The fields every chart-backed component shares. `values` is deep-merged
 * last, so it can override anything this program computes; the preflight
 * checks run on the merged result.
 */
export function chartFields(d: ChartDefaults) {
    return {
        chart: z.string().min(1).default(d.chart).describe("Name of the Helm chart to install."),
        repository: z
            .string()
            .min(1)
            .default(d.repository)
            .describe("Where the chart comes from: a Helm repository URL, or an `oci://` registry path."),
        version: pinnedVersion(`the ${d.chart} chart`, d.version)
            .default(d.version)
            .describe(
                "Exact chart version (`MAJOR.MINOR.PATCH`, optionally with a `v` and a pre-release suffix). Ranges, wildcards and `latest` are refused: they let the platform change between two deployments.",
            ),
        namespace: k8sName.default(d.namespace).describe("Namespace of the Helm release and of the objects it installs."),
        values: helmValues
            .default({})
            .describe(
                "The escape hatch: chart values deep-merged last over the values this program computes (maps merge, lists replace, `null` deletes), so it can override anything. The preflight checks run on the merged values, and so does a check against the pinned chart itself (see the offline plan's Chart values, docs/plan.md): a value its `values.schema.json` refuses is an error; a key its `values.yaml` neither sets nor documents is the warning `unknown-chart-value`, with the nearest key; a value the chart version refuses (a deprecated alias next to the key this program sets) is an error; a version the program carries no chart data for is the advisory `chart-values-unchecked`. A credential here would be readable in the stack file, the state and the plan: a PEM private key or a token with a known prefix is an error, and a random-looking string under a key named like a credential is the warning `secret-in-values`. Point the chart at a Kubernetes Secret instead (its `existingSecret`-style key).",
            ),
    };
}

export interface ChartConfig {
    chart: string;
    repository: string;
    version: string;
    namespace: string;
    values: Record<string, unknown>;
}
