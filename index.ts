import * as k8s from "@pulumi/kubernetes";
import { CertManager } from "./components/cert-manager";
import { Cilium } from "./components/cilium";
import { ClusterIssuers } from "./components/cluster-issuers";
import { CoreDns } from "./components/coredns";
import { Flux } from "./components/flux";
import { Gate } from "./components/gate";
import { Gateway } from "./components/gateway";
import { GatewayApiCrds } from "./components/gateway-api-crds";
import { IngressNginx } from "./components/ingress-nginx";
import type { Phase } from "./lib/phases";
import { loadConfig } from "./lib/config/stack";
import { gateOptions, phaseDigest } from "./lib/gates/targets";
import { gatewayNamespaceExists } from "./lib/values/gateway";
import { ownershipOf } from "./lib/checks/gitops-owners";

// Wiring only: the recovery order network → dns → certificates → ingress →
// gitops. Each phase depends on the previous phase's gate, never on
// creation order.
export = async () => {
    // Throws one error listing every problem before any resource exists.
    const config = loadConfig();
    const cluster = config.cluster;

    const provider = new k8s.Provider("kubernetes", { context: cluster.kubeContext });
    const opts = { provider };
    const gates = gateOptions(config);
    const gate = (phase: Phase) => ({ phase, options: gates[phase], triggers: [phaseDigest(config, phase)] });

    // Operators register their CRDs once running; those waits share the phase gate's budget.
    const crdWait = (phase: Phase) => ({ timeout: config.gates[phase].timeout, pollInterval: config.gates.pollInterval });

    // Cilium's operator starts its Gateway API controller only if the Gateway API
    // CRDs exist when it starts: they go in first.
    const gatewayApi = config.gateway.enabled
        ? [new GatewayApiCrds("gateway-api", { config: config.gateway, check: gates["gateway-api-crds"] }, opts)]
        : [];
    const cilium = new Cilium(
        "cilium",
        { cluster, config: config.cilium, crdWait: crdWait("network"), gateway: config.gateway },
        { ...opts, dependsOn: gatewayApi },
    );
    const networkGate = new Gate("network-gate", { ...gate("network"), after: [cilium] });

    // CoreDNS lists Services through the kubernetes ClusterIP; without Cilium
    // programming it, CoreDNS never syncs (the report's DNS failure).
    const networkReady = [networkGate];
    const coredns = new CoreDns("coredns", { cluster, config: config.coredns }, { ...opts, dependsOn: networkReady });
    // With Talos running CoreDNS the component is empty, so the gate waits for the network itself.
    const dnsGate = new Gate("dns-gate", { ...gate("dns"), after: [coredns] }, { dependsOn: networkReady });

    // The webhook reaches the API server by name, and ACME DNS-01 resolves
    // public names: both need working DNS.
    const dnsReady = [dnsGate];
    const certManager = new CertManager(
        "cert-manager",
        { cluster, config: config.certManager, gatewayApi: config.gateway.enabled },
        { ...opts, dependsOn: dnsReady },
    );
    const certificatesGate = new Gate("certificates-gate", { ...gate("certificates"), after: [certManager] }, { dependsOn: dnsReady });
    // cert-manager's webhook admits ClusterIssuers: create them only once the gate has seen it answer.
    const issuers = new ClusterIssuers("cluster-issuers", { config: config.certManager }, { ...opts, dependsOn: [certificatesGate] });

    // ingress-nginx's admission webhook needs a certificate, and its default
    // certificate names an issuer, which must be Ready; so do the Gateway's
    // listeners, through cert-manager's gateway-shim.
    const certificatesReady = [certificatesGate, issuers];
    const pools = config.cilium.loadBalancerPools;
    const ingress = config.ingressNginx.enabled
        ? [new IngressNginx("ingress-nginx", { config: config.ingressNginx, pools }, { ...opts, dependsOn: certificatesReady })]
        : [];
    const gateway = config.gateway.enabled
        ? [
              new Gateway(
                  "gateway",
                  { config: config.gateway, pools, createNamespace: !gatewayNamespaceExists(config) },
                  { ...opts, dependsOn: certificatesReady },
              ),
          ]
        : [];
    const ingressGate = new Gate("ingress-gate", { ...gate("ingress"), after: [...ingress, ...gateway] }, { dependsOn: certificatesReady });

    // Flux clones over DNS and egress, and what it deploys expects
    // certificates and ingress to be in place.
    const ingressReady = [ingressGate];
    const flux = new Flux(
        "flux",
        { cluster, config: config.flux, crdWait: crdWait("gitops"), ownership: ownershipOf(config) },
        { ...opts, dependsOn: ingressReady },
    );
    new Gate("gitops-gate", { ...gate("gitops"), after: [flux] }, { dependsOn: ingressReady });

    return {
        ciliumStatus: cilium.releaseStatus,
        ciliumPools: cilium.pools,
        ciliumBgpPeers: cilium.bgpPeers,
        corednsManaged: coredns.release !== undefined,
    };
};
