import * as path from "node:path";
import type { RawConfig } from "../lib/config";
import type { Plan, PlanResource } from "../lib/plan/model";
import { PlanInput, runPlan } from "../lib/plan/run";
import { readStackFile } from "../lib/plan/stackfile";

export const ROOT = path.resolve(__dirname, "..");

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** The dev stack's talos-platform sections, as plain objects keyed without the namespace. */
export function devSections(): Record<string, Json> {
    const input = readStackFile(path.join(ROOT, "Pulumi.dev.yaml"), "dev");
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(input.config)) out[k.replace(/^talos-platform:/, "")] = structuredClone(v);
    return out;
}

/** Runs the program offline on the dev stack, after `edit` changes its sections. */
export async function planDev(edit?: (sections: Record<string, Json>) => void, extra?: Partial<PlanInput>): Promise<Plan> {
    const sections = devSections();
    edit?.(sections);
    return runPlan({ stack: "dev", ...extra, config: { ...sections, ...(extra?.config ?? {}) } });
}

export function raw(sections: Record<string, Json>, otherKeys: RawConfig["otherKeys"] = {}): RawConfig {
    return { sections, otherKeys };
}

export function byName(plan: Plan, name: string): PlanResource {
    const r = plan.resources.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; have ${plan.resources.map((x) => x.name).join(", ")}`);
    return r;
}

export function ofType(plan: Plan, type: string): PlanResource[] {
    return plan.resources.filter((r) => r.type === type);
}

/** A resource and all its ancestors, nearest first. */
export function lineage(plan: Plan, r: PlanResource): PlanResource[] {
    const out: PlanResource[] = [];
    for (let cur: PlanResource | undefined = r; cur; cur = plan.resources.find((x) => x.urn === cur!.parent)) out.push(cur);
    return out;
}
