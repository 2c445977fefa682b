import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { valueAt } from "../lib/merge";

/** The chart name of a release, with or without an OCI or repository prefix. */
export function chartName(chart: unknown): string {
    return typeof chart === "string" ? (chart.split("/").pop() ?? chart) : "";
}

const RETIRED =
    "ingress-nginx was retired in March 2026 and gets no more releases or security fixes; it still works, but plan the move to Gateway API";

/** The notice without a Gateway in the stack: where to start. */
export const INGRESS_NGINX_RETIRED =
    `${RETIRED}: turn on the gateway section (talos-platform:gateway), and Cilium serves a Gateway next to ingress-nginx, on an address of its own, ` +
    "with its certificates from cert-manager; move the routes, then DNS, then set talos-platform:ingressNginx.enabled to false (docs/gateway-api.md). " +
    "Keep the controller off the public edge until then.";

/** Whether a Gateway listener's host name takes `name`: the same name, or a wildcard one label above it. */
export function listenerTakes(hostname: string, name: string): boolean {
    if (hostname === name) return true;
    if (!hostname.startsWith("*.")) return false;
    const suffix = hostname.slice(1);
    // *.example.com takes app.example.com (one label), and *.example.com itself.
    return name.endsWith(suffix) && !name.slice(0, -suffix.length).includes(".");
}

const LB_IPS = "lbipam.cilium.io/ips";

interface LiveGateway {
    id: string;
    address?: string;
    hostnames: string[];
}

function gatewaysIn(resources: PolicyResource[]): LiveGateway[] {
    return resources
        .filter((r) => r.type === "kubernetes:gateway.networking.k8s.io/v1:Gateway")
        .map((r) => {
            const p = r.props as {
                metadata?: { name?: string; namespace?: string };
                spec?: { listeners?: { hostname?: string }[]; infrastructure?: { annotations?: Record<string, string> } };
            };
            return {
                id: `${p.metadata?.namespace ?? "default"}/${p.metadata?.name ?? "?"}`,
                address: p.spec?.infrastructure?.annotations?.[LB_IPS],
                hostnames: (p.spec?.listeners ?? []).map((l) => l.hostname).filter((h): h is string => typeof h === "string"),
            };
        });
}

/** The DNS names of the Certificate behind ingress-nginx's --default-ssl-certificate (NAMESPACE/SECRET), when the stack creates it. */
function defaultCertificateNames(resources: PolicyResource[], values: unknown): string[] {
    const ref = valueAt((values ?? {}) as Record<string, unknown>, "controller.extraArgs.default-ssl-certificate");
    if (typeof ref !== "string" || !ref.includes("/")) return [];
    const [namespace, secret] = ref.split("/");
    const cert = resources.find((r) => {
        const p = r.props as { metadata?: { namespace?: string }; spec?: { secretName?: string } };
        return (
            r.type === "kubernetes:cert-manager.io/v1:Certificate" && p.metadata?.namespace === namespace && p.spec?.secretName === secret
        );
    });
    const names = (cert?.props as { spec?: { dnsNames?: unknown } } | undefined)?.spec?.dnsNames;
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === "string") : [];
}

/** What is left to move from one ingress-nginx release to the stack's Gateways, one clause each. */
export function leftToMove(resources: PolicyResource[], release: PolicyResource, gateways: LiveGateway[]): string[] {
    const values = (release.props.values ?? {}) as Record<string, unknown>;
    const cls = valueAt(values, "controller.ingressClassResource.name") ?? valueAt(values, "controller.ingressClass") ?? "nginx";
    const isDefault = valueAt(values, "controller.ingressClassResource.default") === true;
    const targets = gateways.map((g) => `${g.id}${g.address ? ` (${g.address})` : ""}`).join(", ");
    const clauses = [
        `the routes: every Ingress of class ${String(cls)}${isDefault ? " and, as it is the default class, every Ingress without ingressClassName" : ""}, each as an HTTPRoute on ${targets} (ingress2gateway converts them)`,
    ];
    const hostnames = gateways.flatMap((g) => g.hostnames);
    const uncovered = defaultCertificateNames(resources, values).filter((n) => !hostnames.some((h) => listenerTakes(h, n)));
    if (uncovered.length)
        clauses.push(
            `the names ${uncovered.join(", ")}: ingress-nginx's default certificate serves them, and no Gateway listener takes them yet`,
        );
    // The annotation's key has dots of its own: read it by hand, not by a dotted path.
    const annotations = valueAt(values, "controller.service.annotations") as Record<string, unknown> | undefined;
    const address = annotations?.[LB_IPS];
    const to = gateways.find((g) => g.address)?.address;
    clauses.push(
        `DNS: the names that resolve to ${typeof address === "string" ? `${address} (ingress-nginx)` : "ingress-nginx's address"}, to ${to ?? "the Gateway's address"}`,
    );
    return clauses;
}

/**
 * ingress-nginx still runs, so the notice advises and never blocks. With a
 * Gateway in the stack, it says what is left to move before ingress-nginx can go.
 */
export const ingressNginxRetired: StackValidationPolicy = {
    name: "ingress-nginx-retired",
    description:
        "Advises that ingress-nginx is retired upstream and points to the gateway section; with a Gateway in the stack, says what is left to move.",
    enforcementLevel: "advisory",
    validateStack: (args, report) => {
        const gateways = gatewaysIn(args.resources);
        for (const r of args.resources) {
            if (r.type !== "kubernetes:helm.sh/v3:Release" || chartName(r.props.chart) !== "ingress-nginx") continue;
            if (!gateways.length) {
                report(INGRESS_NGINX_RETIRED, r.urn);
                continue;
            }
            report(
                `${RETIRED}. Its successor runs next to it (talos-platform:gateway); left to move: ${leftToMove(args.resources, r, gateways).join("; ")}. ` +
                    "Then set talos-platform:ingressNginx.enabled to false (docs/gateway-api.md).",
                r.urn,
            );
        }
    },
};

export const ingressPolicies = [ingressNginxRetired];
