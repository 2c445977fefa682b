import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfigInput, resolveSection } from "../lib/config";
import type { ClusterConfig } from "../lib/config/cluster";
import { secretConfig } from "../lib/config/stack";
import { releaseArgs, RELEASE_OPTIONS } from "../lib/helm";
import { typeToken } from "../lib/phases";
import { bgpSecretsNamespace, ciliumValues } from "../lib/values/cilium";
import { bgpAuthSecretName, blockText, ciliumObjects, CiliumObject, peerName, requiredCrds } from "../lib/values/cilium-objects";
import { CrdWait, CrdWaitSettings } from "./crd-wait";

export interface CiliumArgs {
    /** The Talos facts Cilium's values derive from. */
    cluster: ClusterConfig;
    /**
     * Chart and feature settings (`talos-platform:cilium`).
     * @default chart cilium 1.19.4 from https://helm.cilium.io into kube-system, no pools, no BGP, no L2 announcements
     */
    config?: PlatformConfigInput["cilium"];
    /** How long to wait for Cilium's operator to register its CRDs, and the cluster's identity. @default 2m, polled every 2s */
    crdWait?: CrdWaitSettings;
    /**
     * Protects the release, the pools, and the BGP and L2 objects and Secrets: Pulumi refuses to delete
     * or replace them (every pod's network, every LoadBalancer address hangs on them).
     * @default true
     */
    protect?: boolean;
    /**
     * The `gateway` section: enabled, Cilium serves Gateway API. Its CRDs must
     * exist before this release (the GatewayApiCrds component).
     * @default off
     */
    gateway?: PlatformConfigInput["gateway"];
}

export interface PoolSummary {
    name: string;
    /** CIDRs, or start-stop ranges. */
    blocks: string[];
}

export interface BgpPeerSummary {
    name: string;
    address: string;
    asn: number;
    localASN: number;
    peerConfig: string;
}

/** The network phase: Cilium as CNI and kube-proxy replacement, its LoadBalancer pools, BGP and L2 announcements. */
export class Cilium extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;
    readonly releaseStatus: pulumi.Output<string>;
    /** The LoadBalancer pools, once deployed. */
    readonly pools: pulumi.Output<PoolSummary[]>;
    /** The BGP peers, once their cluster config is deployed. */
    readonly bgpPeers: pulumi.Output<BgpPeerSummary[]>;

    constructor(name: string, args: CiliumArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("network", "Cilium"), name, {}, opts);
        const config = resolveSection("cilium", args.config);
        const values = ciliumValues(args.cluster, config, resolveSection("gateway", args.gateway));
        const objects = ciliumObjects(args.cluster, config);
        const protect = args.protect ?? true;

        this.release = new k8s.helm.v3.Release(`${name}-release`, releaseArgs("cilium", config, values), {
            parent: this,
            protect,
            ...RELEASE_OPTIONS,
        });
        this.releaseStatus = this.release.status.status;

        const cr = (role: string, obj: CiliumObject<unknown>, dependsOn: pulumi.Resource[]) =>
            new k8s.apiextensions.CustomResource(`${name}-${role}`, obj as k8s.apiextensions.CustomResourceArgs, {
                parent: this,
                dependsOn,
                protect,
            });
        let poolResources: k8s.apiextensions.CustomResource[] = [];
        let clusterConfig: k8s.apiextensions.CustomResource | undefined;

        const crds = requiredCrds(objects);
        if (crds.length) {
            // Cilium's operator registers these CRDs once it runs, not the
            // chart: an installed release does not mean they exist yet.
            const crdWait = new CrdWait(
                `${name}-crds`,
                {
                    phase: "network",
                    crds,
                    after: [this.release],
                    // An upgrade may bring new CRD versions: check them again.
                    version: `${config.chart}@${config.version}`,
                    context: args.cluster.kubeContext,
                    ...args.crdWait,
                },
                { parent: this },
            );
            const crdsReady = [crdWait];
            poolResources = objects.pools.map((p) => cr(`pool-${p.metadata.name}`, p, crdsReady));
            for (const l2 of objects.l2Policies) cr(`l2-${l2.metadata.name}`, l2, crdsReady);

            if (objects.bgp) {
                const secretsNamespace = bgpSecretsNamespace(values);
                // The Secrets' namespace may be one the release creates.
                const releaseInstalled = [this.release];
                const secrets = new Map<string, k8s.core.v1.Secret>();
                for (const pc of config.bgp!.peerConfigs) {
                    if (!pc.authSecret) continue;
                    const secretName = bgpAuthSecretName(pc);
                    secrets.set(
                        pc.name,
                        new k8s.core.v1.Secret(
                            `${name}-${secretName}`,
                            {
                                metadata: { name: secretName, namespace: secretsNamespace },
                                type: "Opaque",
                                // Cilium reads the MD5 password from the key "password".
                                stringData: { password: secretConfig(pc.authSecret) },
                            },
                            { parent: this, dependsOn: releaseInstalled, protect },
                        ),
                    );
                }
                clusterConfig = cr("bgp-cluster-config", objects.bgp.clusterConfig, crdsReady);
                for (const pc of objects.bgp.peerConfigs) {
                    // Without its Secret, Cilium would peer with an empty password.
                    const secret = secrets.get(pc.metadata.name);
                    const peerConfigReady = secret ? [...crdsReady, secret] : crdsReady;
                    cr(`bgp-peer-config-${pc.metadata.name}`, pc, peerConfigReady);
                }
                for (const adv of objects.bgp.advertisements) cr(`bgp-advertisement-${adv.metadata.name}`, adv, crdsReady);
            }
        }

        const pools: PoolSummary[] = config.loadBalancerPools.map((p) => ({ name: p.name, blocks: p.blocks.map(blockText) }));
        const peers: BgpPeerSummary[] = (config.bgp?.peers ?? []).map((p) => ({
            name: peerName(p),
            address: p.address,
            asn: p.asn,
            localASN: config.bgp!.localASN,
            peerConfig: p.peerConfig,
        }));
        // Resolved from the objects' ids, so they report what exists, not what was asked for.
        this.pools = pulumi.all(poolResources.map((r) => r.id)).apply(() => pools);
        this.bgpPeers = clusterConfig ? clusterConfig.id.apply(() => peers) : pulumi.output(peers);
        this.registerOutputs({ releaseStatus: this.releaseStatus, pools: this.pools, bgpPeers: this.bgpPeers });
    }
}
