import { clusterChecks } from "./cluster";
import { gitopsChecks } from "./gitops";
import { networkChecks } from "./network";
import { secretChecks } from "./secrets";
import type { Check } from "./types";

/** Every cross-check, by domain. Order only affects the order of the report. */
export const CHECKS: Check[] = [...clusterChecks, ...networkChecks, ...secretChecks, ...gitopsChecks];
