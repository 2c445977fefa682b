import { bgpStep } from "./bgp";
import { certificatesSteps } from "./certificates";
import { crdsStep } from "./crds";
import { dnsSteps } from "./dns";
import { gatewaySteps } from "./gateway";
import { gatewayApiCrdsSteps } from "./gateway-api-crds";
import { gitopsSteps } from "./gitops";
import { defaultCertificateSteps, ingressSteps } from "./ingress";
import { l2Step } from "./l2";
import { networkSteps } from "./network";
import { AnnouncementFields, GateName, GateOptions, UsageError } from "./options";
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
        case "gateway-api-crds": {
            const g = o as GateOptions["gateway-api-crds"];
            if (g.mode !== "install" && g.mode !== "existing") throw new UsageError(`--mode takes install or existing, not ${g.mode}`);
            return gatewayApiCrdsSteps(g);
        }
        case "network":
            return networkSteps(o as GateOptions["network"]);
        case "dns":
            return dnsSteps(o as GateOptions["dns"]);
        case "certificates":
            return certificatesSteps(o as GateOptions["certificates"]);
        case "ingress": {
            const i = o as GateOptions["ingress"];
            // ingress-nginx's steps, the Gateway's, the announcements the in-cluster probes cannot see (SOCKET_LB_NOTE),
            // and last ingress-nginx's default certificate, which may take an ACME order's minutes.
            return [...(i.ingressNginx ? ingressSteps(i) : []), ...gatewaySteps(i), ...announcementSteps(i), ...defaultCertificateSteps(i)];
        }
        case "gateway":
            return gatewaySteps(o as GateOptions["gateway"]);
        case "announcements":
            return announcementSteps(o as GateOptions["announcements"]);
        default:
            return gitopsSteps(o as GateOptions["gitops"]);
    }
}
