import { bgpChecks } from "./bgp";
import { ciliumChecks } from "./cilium";
import { clusterChecks } from "./cluster";
import { networkChecks } from "./network";
import { secretChecks } from "./secrets";
import type { Check } from "./types";

/** Every cross-check, by domain. Order only affects the order of the report. */
export const CHECKS: Check[] = [...clusterChecks, ...networkChecks, ...ciliumChecks, ...bgpChecks, ...secretChecks];
