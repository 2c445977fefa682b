import { bgpStep } from "./bgp";
import { certificatesSteps } from "./certificates";
import { crdsStep } from "./crds";
import { dnsSteps } from "./dns";
import { gitopsSteps } from "./gitops";
import { defaultCertificateSteps, ingressSteps } from "./ingress";
import { l2Step } from "./l2";
import { networkSteps } from "./network";
import type { AnnouncementFields, GateName, GateOptions } from "./options";
import type { Step } from "./run";

/** What announces LoadBalancer addresses outside the cluster, for what the config announces: BGP, L2, both or nothing. */
export function announcementSteps(o: AnnouncementFields): Step[] {
    return [...(o.bgpClusterConfig ? [bgpStep(o)] : []), ...(o.l2Pools?.length ? [l2Step(o)] : [])];
}

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
            // The in-cluster probe cannot see announcements (SOCKET_LB_NOTE): the gate checks them itself.
            return [
                ...ingressSteps(o as GateOptions["ingress"]),
                ...announcementSteps(o as GateOptions["ingress"]),
                ...defaultCertificateSteps(o as GateOptions["ingress"]),
            ];
        case "announcements":
            return announcementSteps(o as GateOptions["announcements"]);
        default:
            return gitopsSteps(o as GateOptions["gitops"]);
    }
}
