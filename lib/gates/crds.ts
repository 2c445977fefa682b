import type * as k8s from "@kubernetes/client-node";
import type { Phase } from "../phases";
import { blockedAfter } from "./diagnosis";
import { readOptional } from "./kube";
import type { Step, StepResult } from "./run";

/** "Established=True", or why not, from a CRD's conditions. */
export function crdState(crd: k8s.V1CustomResourceDefinition | undefined): { established: boolean; detail: string } {
    if (!crd) return { established: false, detail: "not found" };
    const cond = (type: string) => crd.status?.conditions?.find((c) => c.type === type);
    const established = cond("Established");
    if (established?.status === "True") return { established: true, detail: "Established" };
    const names = cond("NamesAccepted");
    if (names?.status === "False")
        return { established: false, detail: `NamesAccepted=False: ${names.message ?? names.reason ?? ""}`.trim() };
    return {
        established: false,
        detail: `Established=${established?.status ?? "unknown"}${established?.message ? `: ${established.message}` : ""}`,
    };
}

/** Waits until every named CRD (plural.group) exists and is Established. */
export function crdsStep(crds: string[], phase: Phase | undefined, installer: string): Step {
    return {
        name: `CRDs established (${crds.length})`,
        async check({ kube }): Promise<StepResult> {
            const states = await Promise.all(
                crds.map(async (name) => ({ name, ...crdState(await readOptional(kube.ext.readCustomResourceDefinition({ name }))) })),
            );
            const missing = states.filter((s) => !s.established);
            if (!missing.length) return { ok: true, detail: crds.join(", ") };
            return {
                ok: false,
                waiting: missing.map((s) => `${s.name} ${s.detail}`).join(", "),
                diagnosis: {
                    link: `CRDs registered by ${installer}`,
                    evidence: missing.map((s) => `CustomResourceDefinition ${s.name}: ${s.detail}`),
                    cause: missing.every((s) => s.detail === "not found")
                        ? `${installer} has not registered them: it is not running, or it is a version without these kinds`
                        : "the API server has not accepted the CRDs (see the conditions above)",
                    blocks: phase ? blockedAfter(phase, ["objects of these kinds in this phase"]) : ["objects of these kinds"],
                },
            };
        },
    };
}
