import { isPlainObject } from "../merge";
import { PHASES, phaseOfType } from "../phases";
import type { Finding, Plan, PlanPhase, PlanResource } from "./model";

/** A --base file that is not a plan: the user's mistake, reported with the fix. */
export class BasePlanError extends Error {}

const MAKE_ONE = "make one with `npm run -s plan -- --format json --out FILE` on the base commit";

/** `urn:pulumi:<stack>::<project>::<type>::<name>`, read back; URNs are what every plan version has. */
function urnParts(urn: string): { stack?: string; project?: string; type?: string; name?: string } {
    const m = /^urn:pulumi:([^:]*)::([^:]*)::(.*)::([^:]*)$/.exec(urn);
    if (!m) return {};
    return { stack: m[1], project: m[2], type: m[3].split("$").pop(), name: m[4] };
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/**
 * Reads the JSON plan of an earlier program version. Plans only ever gain
 * fields (cluster, subphases, secrets, …), so a field an older plan lacks
 * gets the value that version meant: none. Only what every plan has, a
 * resources list with URNs, is required.
 */
export function parseBasePlan(text: string, shown: string): Plan {
    let json: unknown;
    try {
        json = JSON.parse(text);
    } catch (e) {
        throw new BasePlanError(`${shown} is not JSON (${(e as Error).message}); --base takes a JSON plan: ${MAKE_ONE}`);
    }
    if (!isPlainObject(json) || !Array.isArray(json.resources)) {
        throw new BasePlanError(`${shown} is not a talos-platform plan: it has no "resources" list; ${MAKE_ONE}`);
    }
    const raw = json.resources as unknown[];
    const bad = raw.findIndex((r) => !isPlainObject(r) || typeof r.urn !== "string");
    if (bad >= 0) throw new BasePlanError(`${shown}: resources[${bad}] has no "urn"; ${MAKE_ONE}`);

    const first = urnParts(raw.length ? ((raw[0] as { urn: string }).urn ?? "") : "");
    const resources: PlanResource[] = (raw as Array<Record<string, unknown>>).map((r) => {
        const urn = r.urn as string;
        const parts = urnParts(urn);
        return {
            urn,
            type: typeof r.type === "string" ? r.type : (parts.type ?? ""),
            name: typeof r.name === "string" ? r.name : (parts.name ?? urn),
            parent: typeof r.parent === "string" ? r.parent : null,
            dependsOn: strings(r.dependsOn),
            phase: (PHASES as readonly unknown[]).includes(r.phase) ? (r.phase as PlanResource["phase"]) : null,
            inputs: isPlainObject(r.inputs) ? r.inputs : {},
        };
    });
    // A plan without phases on its resources: each takes its own or its nearest ancestor's.
    if (!raw.some((r) => isPlainObject(r) && "phase" in r)) {
        const byUrn = new Map(resources.map((r) => [r.urn, r]));
        for (const r of resources) {
            for (let cur: PlanResource | undefined = r; cur && !r.phase; cur = cur.parent ? byUrn.get(cur.parent) : undefined)
                r.phase = phaseOfType(cur.type) ?? null;
        }
    }
    const phases: PlanPhase[] = PHASES.map((name) => {
        const given = Array.isArray(json.phases) ? (json.phases as unknown[]).find((p) => isPlainObject(p) && p.name === name) : undefined;
        const p = isPlainObject(given) ? given : {};
        return {
            name,
            gate: typeof p.gate === "string" ? p.gate : null,
            resources: Array.isArray(p.resources) ? strings(p.resources) : resources.filter((r) => r.phase === name).map((r) => r.urn),
            subphases: Array.isArray(p.subphases)
                ? (p.subphases as unknown[]).filter(isPlainObject).map((s) => ({ name: String(s.name), resources: strings(s.resources) }))
                : [],
        };
    });
    const findings = (Array.isArray(json.findings) ? json.findings : []).filter(
        (f): f is Finding => isPlainObject(f) && typeof f.rule === "string" && typeof f.resource === "string",
    );
    const errors = Array.isArray(json.errors) ? (json.errors as Plan["errors"]) : [];
    const plan: Plan = {
        project: typeof json.project === "string" ? json.project : (first.project ?? "talos-platform"),
        stack: typeof json.stack === "string" ? json.stack : (first.stack ?? ""),
        ok: typeof json.ok === "boolean" ? json.ok : errors.length === 0 && !findings.some((f) => f.severity === "mandatory"),
        errors,
        findings,
        phases,
        resources,
    };
    if (isPlainObject(json.cluster)) plan.cluster = json.cluster as unknown as Plan["cluster"];
    if (Array.isArray(json.secrets)) plan.secrets = json.secrets as Plan["secrets"];
    if (isPlainObject(json.config)) plan.config = json.config;
    return plan;
}
