import type { Values } from "../merge";

/** A custom resource as a component registers it. */
export interface K8sObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: Values;
}

const WAIT_KEY = "pulumi.com/waitFor";
const WAIT_VALUE = "condition=Ready";

/**
 * Pulumi's Kubernetes provider (≥ 4.18) then reports the object created only
 * once its controller says Ready, so whatever depends on it starts after that.
 */
export const WAIT_FOR_READY: Record<string, string> = { [WAIT_KEY]: WAIT_VALUE };

/** Undefined when the object waits for Ready; otherwise why it must. */
export function waitForReadyProblem(obj: {
    kind?: string;
    metadata?: { name?: string; annotations?: Record<string, string> };
}): string | undefined {
    const got = obj.metadata?.annotations?.[WAIT_KEY];
    if (got === WAIT_VALUE) return undefined;
    return (
        `${obj.kind ?? "object"} '${obj.metadata?.name ?? "?"}' has ${WAIT_KEY} ${JSON.stringify(got ?? null)}, so Pulumi would report it ` +
        `created before it is Ready and start what depends on it early: set the annotation to '${WAIT_VALUE}'.`
    );
}
