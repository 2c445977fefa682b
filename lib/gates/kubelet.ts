import { apiMessage, Kube, statusCode } from "./kube";

// The cluster domain each kubelet actually runs with, from its live
// configuration. Pods get their DNS search path (<ns>.svc.<domain>) from the
// kubelet, not from CoreDNS: a CoreDNS serving another domain still answers
// a probe that names its own domain, while every pod's *.svc names fail.

export interface KubeletDomain {
    node: string;
    /** kubeletconfig.clusterDomain, when the configuration could be read. */
    clusterDomain?: string;
    /** Why it could not be read: RBAC (nodes/proxy), or the kubelet not answering through the API server. */
    unreadable?: string;
}

/** The path the API server proxies to a kubelet's /configz. */
export function configzPath(node: string): string {
    return `/api/v1/nodes/${node}/proxy/configz`;
}

/** Reads one kubelet's /configz through the API server. Transport failures propagate: they are the API server's, not the kubelet's. */
export async function kubeletDomain(kube: Kube, node: string): Promise<KubeletDomain> {
    let body: unknown;
    try {
        body = await kube.core.connectGetNodeProxyWithPath({ name: node, path: "configz" });
    } catch (e) {
        const code = statusCode(e);
        if (code === undefined) throw e;
        const why = code === 401 || code === 403 ? "the kubeconfig's user may not get nodes/proxy" : `HTTP ${code}`;
        return { node, unreadable: `${why}: ${apiMessage(e)}` };
    }
    try {
        const parsed = (typeof body === "string" ? JSON.parse(body) : body) as { kubeletconfig?: { clusterDomain?: unknown } };
        const domain = parsed?.kubeletconfig?.clusterDomain;
        if (typeof domain === "string" && domain !== "") return { node, clusterDomain: domain.replace(/\.$/, "") };
        return { node, unreadable: "its /configz names no kubeletconfig.clusterDomain" };
    } catch {
        return { node, unreadable: "its /configz is not JSON" };
    }
}

/** Every node's kubelet domain, read one node at a time (a cluster has a handful). */
export async function kubeletDomains(kube: Kube, nodes: string[]): Promise<KubeletDomain[]> {
    const out: KubeletDomain[] = [];
    for (const node of nodes) out.push(await kubeletDomain(kube, node));
    return out;
}

/** The kubelets whose domain differs from `expected`, as evidence lines; empty when every readable one agrees. */
export function domainMismatches(domains: KubeletDomain[], expected: string): string[] {
    return domains
        .filter((d) => d.clusterDomain !== undefined && d.clusterDomain !== expected)
        .map((d) => `node ${d.node}: kubelet clusterDomain ${d.clusterDomain} (GET ${configzPath(d.node)})`);
}
