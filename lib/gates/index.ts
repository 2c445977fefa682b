import { certificatesSteps } from "./certificates";
import { crdsStep } from "./crds";
import { dnsSteps } from "./dns";
import { gitopsSteps } from "./gitops";
import { ingressSteps } from "./ingress";
import { networkSteps } from "./network";
import type { GateName, GateOptions } from "./options";
import type { Step } from "./run";

/** The steps of one gate, in the order the recovery chain needs them. */
export function gateSteps<G extends GateName>(gate: G, options: GateOptions[G]): Step[] {
    const o = options as GateOptions[GateName];
    switch (gate) {
        case "crds":
            return [crdsStep((o as GateOptions["crds"]).crds, undefined, "their operator or chart")];
        case "network":
            return networkSteps(o as GateOptions["network"]);
        case "dns":
            return dnsSteps(o as GateOptions["dns"]);
        case "certificates":
            return certificatesSteps(o as GateOptions["certificates"]);
        case "ingress":
            return ingressSteps(o as GateOptions["ingress"]);
        default:
            return gitopsSteps(o as GateOptions["gitops"]);
    }
}
