// The cluster facts a Talos configuration states, where each one stands in
// it, and Talos' own default where it states nothing. Only these values
// leave the reader: a machine configuration also holds the cluster's CA
// keys and bootstrap tokens, which are parsed and dropped.

/** The keys of talos-platform:cluster that a Talos configuration can state. */
export const TALOS_FACTS = [
    "name",
    "apiEndpoint",
    "dnsDomain",
    "podSubnets",
    "serviceSubnets",
    "kubeProxyDisabled",
    "coreDnsDisabled",
    "kubePrism",
    "forwardKubeDNSToHost",
] as const;
export type TalosFactName = (typeof TALOS_FACTS)[number];

/** Each fact's field in a Talos v1alpha1 machine configuration. */
export const MACHINE_CONFIG_FIELD: Record<TalosFactName, string[]> = {
    name: ["cluster", "clusterName"],
    apiEndpoint: ["cluster", "controlPlane", "endpoint"],
    dnsDomain: ["cluster", "network", "dnsDomain"],
    podSubnets: ["cluster", "network", "podSubnets"],
    serviceSubnets: ["cluster", "network", "serviceSubnets"],
    kubeProxyDisabled: ["cluster", "proxy", "disabled"],
    coreDnsDisabled: ["cluster", "coreDNS", "disabled"],
    kubePrism: ["machine", "features", "kubePrism"],
    forwardKubeDNSToHost: ["machine", "features", "hostDNS", "forwardKubeDNSToHost"],
};

/** What Talos runs when a machine configuration leaves a field out (pkg/machinery/config/types/v1alpha1, v1.13). */
export const TALOS_DEFAULTS: Partial<Record<TalosFactName, unknown>> = {
    dnsDomain: "cluster.local",
    podSubnets: ["10.244.0.0/16"],
    serviceSubnets: ["10.96.0.0/12"],
    kubeProxyDisabled: false,
    coreDnsDisabled: false,
    // A machine configuration without the section runs no KubePrism; `talosctl gen config` writes it for Talos ≥ 1.6.
    kubePrism: { enabled: false, port: 7445 },
    forwardKubeDNSToHost: false,
};

export interface TalosFact {
    value: unknown;
    /** `<file>:<field>`: where it stands, or the field that is left out when `defaulted`. */
    at: string;
    /** The file leaves it out, and this is Talos' (or talhelper's generator's) default. */
    defaulted: boolean;
}

export type TalosFacts = Partial<Record<TalosFactName, TalosFact>>;

/** What reading a Talos configuration gives: its facts, or what is wrong with it (never a value from it). */
export interface TalosRead {
    facts: TalosFacts;
    /** `<file>…: <problem>` lines; any one means the facts are not to be used. */
    problems: string[];
    /** Which kind of file it was. */
    kind: "machine-config" | "talconfig";
}

export function valueAt(doc: unknown, path: readonly string[]): unknown {
    let cur = doc;
    for (const key of path) {
        if (cur === null || typeof cur !== "object" || Array.isArray(cur)) return undefined;
        cur = (cur as Record<string, unknown>)[key];
    }
    return cur;
}

/**
 * The facts of one v1alpha1 document, each at its field. `shown` is the file
 * as the user named it; `defaultsFrom` says where a left-out field's default comes from.
 */
export function documentFacts(doc: Record<string, unknown>, shown: string, defaults = TALOS_DEFAULTS): TalosFacts {
    const facts: TalosFacts = {};
    for (const fact of TALOS_FACTS) {
        const field = MACHINE_CONFIG_FIELD[fact];
        let value = valueAt(doc, field);
        if (fact === "kubePrism") {
            const given = value as { enabled?: boolean; port?: number } | undefined;
            const fallback = defaults.kubePrism as { enabled: boolean; port: number };
            value = given ? { enabled: given.enabled ?? false, port: given.port || fallback.port } : undefined;
        }
        const empty = value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length);
        if (!empty) facts[fact] = { value, at: `${shown}:${field.join(".")}`, defaulted: false };
        else if (fact in defaults)
            facts[fact] = { value: structuredClone(defaults[fact]), at: `${shown}:${field.join(".")}`, defaulted: true };
    }
    return facts;
}
