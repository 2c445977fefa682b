import { credentialKind, REFERENCE_KEY, SECRET_KEY } from "../checks/values-secrets";
import { isPlainObject, valueAt, Values } from "../merge";
import { SECRET_PLACEHOLDER } from "../plan/model";

// Live Helm values (the release's user-supplied config) against the values
// the plan passes. Live values are plaintext in the release Secret and may
// hold credentials: a leaf that looks like one is never shown, only its path.

/** Keys that hold a credential besides the ones the config check knows: basic auth, credential blobs. */
const MORE_SECRET_KEYS = /(credentials?|passphrase|auth)$/i;

export interface ValueDiff {
    /** Dotted path, e.g. ipam.mode. */
    path: string;
    /** The live value ("[secret]" when it looks like a credential); absent when the live release does not set it. */
    live?: unknown;
    /** The planned value, likewise. */
    planned?: unknown;
    secret: boolean;
    /** Why this difference matters, for the ones that change how the cluster works. */
    note?: string;
    /** A difference that is unsafe to apply to a running cluster as it is. */
    unsafe?: boolean;
}

function isSecret(path: string[], value: unknown): boolean {
    if (value === SECRET_PLACEHOLDER) return true;
    const leaf = path[path.length - 1] ?? "";
    if (REFERENCE_KEY.test(leaf)) return false;
    if (path.some((k) => SECRET_KEY.test(k) || MORE_SECRET_KEYS.test(k))) return true;
    return typeof value === "string" && credentialKind(leaf, value) !== undefined;
}

function leaves(v: unknown, path: string[], out: Map<string, { path: string[]; value: unknown }>): void {
    if (isPlainObject(v) && Object.keys(v).length) {
        for (const [k, child] of Object.entries(v)) leaves(child, [...path, k], out);
    } else if (path.length) out.set(path.join("."), { path, value: v });
}

/** Helm's --set writes true for "true": compare what the chart would see. */
function normalize(v: unknown): unknown {
    if (v === "true") return true;
    if (v === "false") return false;
    return v;
}

const same = (a: unknown, b: unknown) => JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));

/** Every leaf that differs, secrets redacted; arrays compare whole. */
export function diffValues(live: Values, planned: Values): ValueDiff[] {
    const a = new Map<string, { path: string[]; value: unknown }>();
    const b = new Map<string, { path: string[]; value: unknown }>();
    leaves(live, [], a);
    leaves(planned, [], b);
    const out: ValueDiff[] = [];
    for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
        const l = a.get(key);
        const p = b.get(key);
        if (l && p && same(l.value, p.value) && p.value !== SECRET_PLACEHOLDER) continue;
        const secret = (!!l && isSecret(l.path, l.value)) || (!!p && isSecret(p.path, p.value));
        const d: ValueDiff = { path: key, secret };
        if (l) d.live = secret ? SECRET_PLACEHOLDER : l.value;
        if (p) d.planned = secret ? SECRET_PLACEHOLDER : p.value;
        out.push(d);
    }
    return out;
}

const asBool = (v: unknown) => normalize(v) === true;

/**
 * Why a Cilium value difference matters. `liveDefault` stands in for an
 * unset live value: the chart's default, which the running agent uses.
 */
export function ciliumNotes(diffs: ValueDiff[]): ValueDiff[] {
    for (const d of diffs) {
        if (d.secret) continue;
        if (d.path === "kubeProxyReplacement") {
            if (asBool(d.planned) && !asBool(d.live))
                d.note =
                    "the Week 4 fix: with kube-proxy disabled in Talos, Cilium must program the Service ClusterIPs (10.96.0.1 among them), or pods reach no Service";
            else if (!asBool(d.planned) && asBool(d.live))
                d.note = "Cilium stops programming Services: only safe where kube-proxy runs (Talos cluster.proxy.disabled: false)";
        } else if (d.path === "ipam.mode") {
            d.unsafe = true;
            d.note = `not safe on a running cluster: Cilium's docs say not to change the IPAM mode of an existing cluster (existing pods lose connectivity); keep ${String(d.live ?? "cluster-pool")} with talos-platform:cilium.values.ipam.mode`;
        } else if (d.path === "k8sServiceHost" || d.path === "k8sServicePort") {
            d.note =
                "deliberate: Cilium reaches the API server through KubePrism (localhost:7445 on every Talos node) instead of the control-plane VIP, so it keeps working while the VIP moves";
        } else if (d.path === "ipv6.enabled" && asBool(d.planned) && !asBool(d.live)) {
            d.unsafe = true;
            d.note = "turns IPv6 on in a running IPv4 cluster (see the cilium-ipv6 finding)";
        } else if (d.path === "bgpControlPlane.enabled") {
            d.note = asBool(d.planned)
                ? "BGP control plane on: the plan's v2 objects peer"
                : "BGP control plane off: no route to the LoadBalancer pools is announced";
        }
    }
    return diffs;
}

/** A value as the release uses it: the live one, else the chart default the caller knows. */
export function valueOr(values: Values, path: string, fallback: unknown): unknown {
    const v = valueAt(values, path);
    return v === undefined ? fallback : v;
}
