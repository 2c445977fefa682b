import type { Values } from "../merge";
import { configPath, error, Problem } from "../problems";
import { isIllTyped, KIND, readValue, switchOn } from "../values/read";

/** A chart's autoscaler: when on, it sets the replica count, from `minKey` up. */
export interface Autoscaler {
    enabledKey: string;
    minKey: string;
    /** The chart's default minimum, which applies when minKey is unset. */
    chartMin: number;
    /** A switch (with the chart's default) under which the autoscaler itself never goes below 2. */
    keepsTwoKey?: [string, boolean];
}

export interface ReplicaRule {
    section: string;
    /** "CoreDNS", for messages. */
    what: string;
    replicasKey: string;
    /** The chart's default count, which applies when replicasKey is unset (deleted with null). */
    chartReplicas: number;
    autoscalers: Autoscaler[];
    /** What one replica costs: "one node drain would stop DNS". */
    risk: string;
    fix: string;
}

/**
 * At least two replicas, after the escape hatch: the replica count, or the
 * minimum of every autoscaler that is on. A value of the wrong kind is left
 * to the type check, so "3" is reported as a string, not as too few.
 */
export function minReplicaProblems(rule: ReplicaRule, values: Values): Problem[] {
    const fail = (key: string, got: number, unset: boolean) =>
        error(
            configPath([rule.section, "values", ...key.split(".")]),
            `leaves ${rule.what} with ${got} replica${got === 1 ? "" : "s"}${unset ? " (the chart's default)" : ""}; ${rule.risk}`,
            rule.fix,
            got,
        );
    const scaling = rule.autoscalers.filter((a) => switchOn(values, a.enabledKey, false));
    if (scaling.length) {
        return scaling.flatMap((a) => {
            if (a.keepsTwoKey && switchOn(values, ...a.keepsTwoKey)) return [];
            if (isIllTyped(values, a.minKey, KIND.count)) return [];
            const set = readValue(values, a.minKey, KIND.count);
            const min = set ?? a.chartMin;
            return min >= 2 ? [] : [fail(a.minKey, min, set === undefined)];
        });
    }
    if (isIllTyped(values, rule.replicasKey, KIND.count)) return [];
    const set = readValue(values, rule.replicasKey, KIND.count);
    const n = set ?? rule.chartReplicas;
    return n >= 2 ? [] : [fail(rule.replicasKey, n, set === undefined)];
}
