import type * as k8s from "@kubernetes/client-node";
import { apiMessage, Kube, KubeconfigError, statusCode, transportFailure } from "../gates/kube";
import { kubeletDomain } from "../gates/kubelet";
import { HELM_OWNER_SELECTOR, HELM_SECRET_TYPE, HelmRelease, latestRevisions, releaseFromSecret } from "./helm";
import { kindKey, LiveCluster, LiveCrd, LiveObject } from "./live";

// Discovery: GET requests only, each bounded by the command's deadline
// (Kube.limit). A read the adoption cannot do without stops the command
// (exit 2, like a kubeconfig error); one it can do without becomes a note.

/** The API server could not be reached, or did not answer before the deadline. */
export class UnreachableError extends Error {}

/** What discovery reads beyond the fixed set: the plan's kinds and objects. */
export interface DiscoveryTargets {
    /** group/kind of every custom resource the plan creates, plus those looked at for Flux and BGP v1. */
    kinds: { group: string; kind: string }[];
    /** Core objects the plan creates (Secrets, Namespaces), read one by one. */
    core: { kind: "Secret" | "Namespace"; name: string; namespace?: string }[];
    /** Where the plan puts Cilium and CoreDNS, for their ConfigMap and Deployment when no release says otherwise. */
    ciliumNamespace: string;
}

type Managed = { metadata?: { managedFields?: Array<{ manager?: string }> } };

function managers(o: Managed | undefined): string[] {
    return [...new Set((o?.metadata?.managedFields ?? []).map((f) => f.manager).filter((m): m is string => !!m))];
}

/** One request: a transport failure stops everything, 404 is "absent", RBAC and other refusals are essential or a note. */
async function read<T>(what: string, essential: boolean, notes: string[], kube: Kube, request: () => Promise<T>): Promise<T | undefined> {
    try {
        return await request();
    } catch (e) {
        const transport = transportFailure(e);
        if (transport) {
            const why =
                transport === "unanswered"
                    ? "did not answer in time (--timeout)"
                    : transport === "tls"
                      ? "does not verify against the kubeconfig's certificate-authority"
                      : "is unreachable from this machine";
            throw new UnreachableError(
                `the API server ${kube.server} (context ${kube.context}) ${why}: ${apiMessage(e)} (reading ${what})`,
            );
        }
        const code = statusCode(e);
        if (code === undefined) throw e;
        if (code === 404) return undefined;
        const denied = code === 401 || code === 403;
        const message = `${what}: ${denied ? "not allowed" : `HTTP ${code}`}: ${apiMessage(e)}`;
        if (essential)
            throw new KubeconfigError(
                `cannot read ${message}; adopting needs read access to the whole cluster: use the admin kubeconfig that deploys the platform (talosctl kubeconfig)`,
            );
        notes.push(`not read: ${message}`);
        return undefined;
    }
}

function liveObject(o: Record<string, unknown>, crd: LiveCrd, version: string): LiveObject {
    const meta = (o.metadata ?? {}) as k8s.V1ObjectMeta;
    return {
        group: crd.group,
        version,
        kind: crd.kind,
        name: meta.name ?? "",
        namespace: meta.namespace,
        labels: meta.labels ?? {},
        annotations: meta.annotations ?? {},
        managers: managers(o as Managed),
        spec: o.spec as Record<string, unknown> | undefined,
        status: o.status as Record<string, unknown> | undefined,
    };
}

/** `--flag=value` and `--flag value` from a container's command line, split on commas. */
export function flagValues(args: string[], flag: string): string[] | undefined {
    for (let i = 0; i < args.length; i++) {
        if (args[i].startsWith(`--${flag}=`))
            return args[i]
                .slice(flag.length + 3)
                .split(",")
                .filter(Boolean);
        if (args[i] === `--${flag}` && i + 1 < args.length) return args[i + 1].split(",").filter(Boolean);
    }
    return undefined;
}

function crdOf(c: k8s.V1CustomResourceDefinition): LiveCrd | undefined {
    const names = c.spec?.names;
    if (!c.spec?.group || !names?.kind || !names.plural) return undefined;
    return {
        name: c.metadata?.name ?? "",
        group: c.spec.group,
        kind: names.kind,
        plural: names.plural,
        namespaced: c.spec.scope === "Namespaced",
        served: (c.spec.versions ?? []).filter((v) => v.served).map((v) => v.name),
    };
}

/**
 * Reads everything the adoption compares: versions, nodes and their kubelets'
 * cluster domain, control-plane flags, Helm releases, Cilium's settings,
 * kube-proxy, CoreDNS, and the objects of the plan's kinds (and Flux's and
 * BGP v1's) in every served version. `progress` gets one line per stage.
 */
export async function discover(kube: Kube, targets: DiscoveryTargets, progress: (line: string) => void): Promise<LiveCluster> {
    const notes: string[] = [];
    const get = <T>(what: string, essential: boolean, request: () => Promise<T>) => read(what, essential, notes, kube, request);

    progress("reading the Kubernetes version, the nodes and the cluster's identity");
    const version = await get("the API server's version (GET /version)", true, () => kube.version.getCode());
    const nodeList = await get("nodes", true, () => kube.core.listNode());
    const kubeSystem = await get("namespace kube-system", false, () => kube.core.readNamespace({ name: "kube-system" }));

    progress("reading each kubelet's cluster domain (nodes/<node>/proxy/configz)");
    const nodes: LiveCluster["nodes"] = [];
    for (const n of nodeList?.items ?? []) {
        const name = n.metadata?.name ?? "";
        const domain = await get(`kubelet configuration of node ${name}`, false, () => kubeletDomain(kube, name));
        nodes.push({
            name,
            kubeletVersion: n.status?.nodeInfo?.kubeletVersion ?? "",
            podCIDRs: n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : []),
            clusterDomain: domain?.clusterDomain,
            unreadable: domain?.unreadable,
        });
    }

    progress("reading the control plane's pod and Service subnets");
    const cm = await get("kube-controller-manager pods in kube-system", false, () =>
        kube.core.listNamespacedPod({ namespace: "kube-system", labelSelector: "k8s-app=kube-controller-manager" }),
    );
    let controllerManager: LiveCluster["controllerManager"];
    for (const pod of cm?.items ?? []) {
        const c = pod.spec?.containers?.[0];
        const args = [...(c?.command ?? []), ...(c?.args ?? [])];
        const clusterCidr = flagValues(args, "cluster-cidr");
        if (!clusterCidr) continue;
        controllerManager = {
            pod: `kube-system/${pod.metadata?.name}`,
            clusterCidr,
            serviceCidr: flagValues(args, "service-cluster-ip-range") ?? [],
        };
        break;
    }
    const services: LiveCluster["services"] = [];
    for (const [namespace, name] of [
        ["default", "kubernetes"],
        ["kube-system", "kube-dns"],
    ]) {
        const svc = await get(`Service ${namespace}/${name}`, false, () => kube.core.readNamespacedService({ namespace, name }));
        if (svc) services.push({ namespace, name, clusterIPs: svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : []) });
    }

    progress("reading Helm releases (Secrets labelled owner=helm, in every namespace)");
    const secrets = await get("Helm release Secrets in every namespace", true, () =>
        kube.core.listSecretForAllNamespaces({ labelSelector: HELM_OWNER_SELECTOR }),
    );
    const decoded: HelmRelease[] = [];
    for (const s of secrets?.items ?? []) {
        if (s.type !== HELM_SECRET_TYPE) continue;
        const r = releaseFromSecret({
            name: s.metadata?.name ?? "",
            namespace: s.metadata?.namespace ?? "",
            data: s.data,
            managers: managers(s),
        });
        if ("error" in r) notes.push(`not read: ${r.error}`);
        else decoded.push(r);
    }
    const releases = latestRevisions(decoded);

    progress("reading Cilium's settings, kube-proxy and CoreDNS");
    const ciliumRelease = releases.find((r) => r.chart.name === "cilium");
    const ciliumNamespace = ciliumRelease?.namespace ?? targets.ciliumNamespace;
    const cmap = await get(`ConfigMap ${ciliumNamespace}/cilium-config`, false, () =>
        kube.core.readNamespacedConfigMap({ namespace: ciliumNamespace, name: "cilium-config" }),
    );
    const kp = await get("DaemonSet kube-system/kube-proxy", false, () =>
        kube.apps.readNamespacedDaemonSet({ namespace: "kube-system", name: "kube-proxy" }),
    );
    const dns = await get("Deployment kube-system/coredns", false, () =>
        kube.apps.readNamespacedDeployment({ namespace: "kube-system", name: "coredns" }),
    );
    const helmName = dns?.metadata?.annotations?.["meta.helm.sh/release-name"];
    const helmNs = dns?.metadata?.annotations?.["meta.helm.sh/release-namespace"];

    progress("reading CustomResourceDefinitions and the objects of the plan's kinds");
    const crdList = await get("CustomResourceDefinitions", true, () => kube.ext.listCustomResourceDefinition());
    const wanted = new Set(targets.kinds.map((k) => kindKey(k.group, k.kind)));
    const crds = (crdList?.items ?? []).map(crdOf).filter((c): c is LiveCrd => !!c && wanted.has(kindKey(c.group, c.kind)));
    const objects: LiveObject[] = [];
    for (const crd of crds) {
        // Every object of a CRD is served in each of its served versions; one list sees them all.
        const version = crd.served[0];
        if (!version) continue;
        const list = (await get(`${crd.kind} objects (${crd.group}/${version})`, false, () =>
            kube.custom.listClusterCustomObject({ group: crd.group, version, plural: crd.plural }),
        )) as { items?: Record<string, unknown>[] } | undefined;
        for (const o of list?.items ?? []) objects.push(liveObject(o, crd, version));
    }
    for (const t of targets.core) {
        const o =
            t.kind === "Secret"
                ? await get(`Secret ${t.namespace}/${t.name}`, false, () =>
                      kube.core.readNamespacedSecret({ namespace: t.namespace ?? "default", name: t.name }),
                  )
                : await get(`Namespace ${t.name}`, false, () => kube.core.readNamespace({ name: t.name }));
        if (!o) continue;
        objects.push({
            group: "",
            version: "v1",
            kind: t.kind,
            name: t.name,
            namespace: t.namespace,
            labels: o.metadata?.labels ?? {},
            annotations: o.metadata?.annotations ?? {},
            managers: managers(o),
        });
    }

    return {
        server: kube.server,
        context: kube.context,
        kubernetesVersion: version?.gitVersion ?? "",
        identity: kubeSystem?.metadata?.uid,
        nodes,
        controllerManager,
        services,
        releases,
        cilium: cmap ? { namespace: ciliumNamespace, config: cmap.data ?? {} } : undefined,
        kubeProxy: kp ? { namespace: "kube-system", name: "kube-proxy" } : undefined,
        coredns: dns
            ? { namespace: "kube-system", name: "coredns", helmRelease: helmName ? `${helmNs ?? "kube-system"}/${helmName}` : undefined }
            : undefined,
        crds,
        objects,
        notes,
    };
}
