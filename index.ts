import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CertManager } from "./components/cert-manager";
import { Cilium } from "./components/cilium";
import { ClusterIssuers } from "./components/cluster-issuers";
import { CoreDns } from "./components/coredns";
import { DestroyGuard } from "./components/destroy-guard";
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
import { dns01FallthroughZones, dns01RecursiveNameservers } from "./lib/values/dns01";
import { identityTrigger, moveAllowed, PROVIDER_CLUSTER_IDENTIFIER, releaseNamespaces } from "./lib/lifecycle/binding";
import { destroyGuardMessage } from "./lib/lifecycle/destroy";
import { NO_GATE_RUNS, watchGateCommands } from "./lib/lifecycle/gate-runs";
import { bindCluster } from "./lib/lifecycle/source";

// Wiring only: the recovery order network → dns → certificates → ingress →
// gitops. Each phase depends on the previous phase's gate, never on
// creation order.
export = async () => {
    // Throws one error listing every problem before any resource exists.
    const config = loadConfig();
    const cluster = config.cluster;
    // Before anything that could change the cluster: is the kubeconfig's cluster this stack's?
    const { binding, recorded } = await bindCluster(config);
    const gateCommands = watchGateCommands();

    const provider = new k8s.Provider("kubernetes", { context: binding.context, clusterIdentifier: PROVIDER_CLUSTER_IDENTIFIER });
    const opts = { provider };
    const gates = gateOptions(config);
    // A rebuilt cluster changes the identity, so every gate runs again, in order.
    const clusterIdentity = identityTrigger(binding.uid);
    const gate = (phase: Phase) => ({ phase, options: gates[phase], triggers: [phaseDigest(config, phase), clusterIdentity] });

    // Operators register their CRDs once running; those waits share the phase gate's budget.
    const crdWait = (phase: Phase) => ({ timeout: config.gates[phase].timeout, pollInterval: config.gates.pollInterval, clusterIdentity });
    const { protect } = config.lifecycle;

    // Cilium's operator starts its Gateway API controller only if the Gateway API
    // CRDs exist when it starts: they go in first. Network phase: protected too.
    const gatewayApi = config.gateway.enabled
        ? [new GatewayApiCrds("gateway-api", { config: config.gateway, check: gates["gateway-api-crds"], clusterIdentity, protect }, opts)]
        : [];
    const cilium = new Cilium(
        "cilium",
        {
            cluster,
            config: config.cilium,
            crdWait: crdWait("network"),
            protect: protect && !moveAllowed(config, "cilium"),
            gateway: config.gateway,
        },
        { ...opts, dependsOn: gatewayApi },
    );
    const networkGate = new Gate("network-gate", { ...gate("network"), after: [cilium] });

    // CoreDNS lists Services through the kubernetes ClusterIP; without Cilium
    // programming it, CoreDNS never syncs (the report's DNS failure).
    const networkReady = [networkGate];
    // An ACME zone that overlaps the cluster domain: its public names must not end at CoreDNS.
    const fallthrough = dns01FallthroughZones(config);
    const coredns = new CoreDns(
        "coredns",
        { cluster, config: config.coredns, fallthrough, protect: protect && !moveAllowed(config, "coredns") },
        { ...opts, dependsOn: networkReady },
    );
    // With Talos running CoreDNS the component is empty, so the gate waits for the network itself.
    const dnsGate = new Gate("dns-gate", { ...gate("dns"), after: [coredns] }, { dependsOn: networkReady });

    // The webhook reaches the API server by name, and ACME DNS-01 resolves
    // public names: both need working DNS.
    const dnsReady = [dnsGate];
    const recursiveNameservers = dns01RecursiveNameservers(config);
    const certManager = new CertManager(
        "cert-manager",
        { cluster, config: config.certManager, recursiveNameservers, gatewayApi: config.gateway.enabled },
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
        { cluster, config: config.flux, crdWait: crdWait("gitops"), keepFluxOnDelete: protect, ownership: ownershipOf(config) },
        { ...opts, dependsOn: ingressReady },
    );
    const gitopsGate = new Gate("gitops-gate", { ...gate("gitops"), after: [flux] }, { dependsOn: ingressReady });

    // Depends on everything, so `pulumi destroy` deletes it first: armed, it stops the destroy there.
    const everything = [
        ...gatewayApi,
        cilium,
        networkGate,
        coredns,
        dnsGate,
        certManager,
        certificatesGate,
        issuers,
        ...ingress,
        ...gateway,
        ingressGate,
        flux,
        gitopsGate,
    ];
    new DestroyGuard("destroy-guard", { guards: everything, armed: protect, message: destroyGuardMessage(config) });

    if (recorded.gatesChecked === gateCommands.digest()) void pulumi.log.info(NO_GATE_RUNS);

    return {
        ciliumStatus: cilium.releaseStatus,
        ciliumPools: cilium.pools,
        ciliumBgpPeers: cilium.bgpPeers,
        corednsManaged: coredns.release !== undefined,
        // Read back by the next `pulumi up` (lib/lifecycle/source.ts): which cluster, which namespaces, which gates ran.
        ...(binding.record ? { clusterBinding: binding.record } : {}),
        releaseNamespaces: releaseNamespaces(config),
        gatesChecked: gateCommands.checked(),
    };
};
