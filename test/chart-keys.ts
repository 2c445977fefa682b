import { chartData } from "../lib/charts/catalog";
import { unknownKeys } from "../lib/checks/chart-values";

/**
 * Keys of `values` that the chart's key tree, as the program carries it
 * (lib/charts/data, checked against the vendored values.yaml by
 * chart-data.test.ts), neither has nor leaves open: what the plan's
 * `unknown-chart-value` warning names. `templateOnly` adds keys the
 * templates read that the carried data does not list.
 */
export function unknownChartKeys(chart: string, version: string, values: unknown, templateOnly: string[] = []): string[] {
    const data = chartData(chart, version);
    if (!data) throw new Error(`no chart data carried for ${chart} ${version}`);
    return unknownKeys(data.keys.keys, values as Record<string, unknown>, [...data.keys.templateKeys, ...templateOnly]).map((p) =>
        p.join("."),
    );
}
