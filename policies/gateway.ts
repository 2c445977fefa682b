import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { valueAt } from "../lib/merge";
import { CILIUM_GATEWAY_CLASS } from "../lib/config/gateway";
import { GATEWAY_API_V1 } from "../lib/values/gateway";
import { chartName } from "./ingress";
import { validateCustomResourceOfType } from "./kit";

// Gateway API objects as the engine receives them: what Cilium would refuse
// or leave unprogrammed, caught before anything is deployed.

export interface ListenerProps {
    name?: string;
    hostname?: string;
    port?: number;
    protocol?: string;
    tls?: { mode?: string; certificateRefs?: { name?: string }[] };
}

export interface GatewayProps {
    metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
    spec?: { gatewayClassName?: string; listeners?: ListenerProps[]; infrastructure?: { annotations?: Record<string, string> } };
}

export const GATEWAY_TYPE = `kubernetes:${GATEWAY_API_V1}:Gateway`;
const GATEWAY_CLASS_TYPE = `kubernetes:${GATEWAY_API_V1}:GatewayClass`;

export function gatewayId(g: GatewayProps): string {
    return `Gateway ${g.metadata?.namespace ?? "default"}/${g.metadata?.name ?? "?"}`;
}

/** Whether a Cilium release in the stack creates the GatewayClass `cilium` (gatewayAPI.enabled, gatewayClass.create not "false"). */
function ciliumCreatesClass(resources: PolicyResource[]): boolean {
    return resources.some((r) => {
        if (r.type !== "kubernetes:helm.sh/v3:Release" || chartName(r.props.chart) !== "cilium") return false;
        const values = r.props.values as Record<string, unknown> | undefined;
        const enabled = valueAt(values ?? {}, "gatewayAPI.enabled");
        const create = valueAt(values ?? {}, "gatewayAPI.gatewayClass.create");
        return (enabled === true || enabled === "true") && create !== "false" && create !== false;
    });
}

/** A Gateway of a class nothing creates is never accepted: no controller looks at it. */
export const gatewayClassExists: StackValidationPolicy = {
    name: "gateway-class-exists",
    description:
        "Every Gateway names a GatewayClass the stack creates: a GatewayClass resource, or `cilium` from a Cilium release with gatewayAPI.enabled.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const classes = new Set(
            args.resources.filter((r) => r.type === GATEWAY_CLASS_TYPE).map((r) => (r.props as GatewayProps).metadata?.name),
        );
        if (ciliumCreatesClass(args.resources)) classes.add(CILIUM_GATEWAY_CLASS);
        for (const r of args.resources.filter((x) => x.type === GATEWAY_TYPE)) {
            const g = r.props as GatewayProps;
            const cls = g.spec?.gatewayClassName;
            if (!cls) report(`${gatewayId(g)} names no GatewayClass (spec.gatewayClassName): no controller would accept it.`, r.urn);
            else if (!classes.has(cls))
                report(
                    `${gatewayId(g)} names GatewayClass ${cls}, which nothing in the stack creates` +
                        (classes.size ? ` (it creates ${[...classes].join(", ")})` : "") +
                        `: no controller would accept it. Fix: use ${CILIUM_GATEWAY_CLASS} with Cilium's gatewayAPI.enabled, or create the class.`,
                    r.urn,
                );
        }
    },
};

/** HTTPS ends TLS at the Gateway: without a certificate the listener is never programmed. */
export const gatewayHttpsCertificate: ResourceValidationPolicy = {
    name: "gateway-https-certificate",
    description: "Every HTTPS listener of a Gateway references a certificate (tls.certificateRefs).",
    enforcementLevel: "mandatory",
    validateResource: validateCustomResourceOfType<GatewayProps>(GATEWAY_API_V1, "Gateway", (g, _args, report) => {
        for (const l of g.spec?.listeners ?? []) {
            if (l.protocol !== "HTTPS") continue;
            if (!l.tls?.certificateRefs?.length)
                report(
                    `${gatewayId(g)} listener ${l.name ?? "?"} is HTTPS without a certificate (tls.certificateRefs): Cilium would not program it. Fix: reference a TLS Secret, or let cert-manager issue one (an issuer on the listener).`,
                );
        }
    }),
};

/** Gateway API lets HTTPS and TLS share a port (both terminate or pass TLS by SNI); any other two protocols conflict. */
function compatible(a: string, b: string): boolean {
    const tls = new Set(["HTTPS", "TLS"]);
    return a === b || (tls.has(a) && tls.has(b));
}

export const gatewayListenerPortProtocol: ResourceValidationPolicy = {
    name: "gateway-listener-port-protocol",
    description:
        "No Gateway listener takes a port another listener of the Gateway uses with a different protocol (HTTPS and TLS may share one).",
    enforcementLevel: "mandatory",
    validateResource: validateCustomResourceOfType<GatewayProps>(GATEWAY_API_V1, "Gateway", (g, _args, report) => {
        const byPort = new Map<number, ListenerProps>();
        for (const l of g.spec?.listeners ?? []) {
            if (typeof l.port !== "number" || !l.protocol) continue;
            const first = byPort.get(l.port);
            if (!first) byPort.set(l.port, l);
            else if (!compatible(first.protocol!, l.protocol))
                report(
                    `${gatewayId(g)} listener ${l.name ?? "?"} takes port ${l.port} for ${l.protocol}, which listener ${first.name ?? "?"} takes for ${first.protocol}: Gateway API marks both Conflicted. Fix: move one of them to another port.`,
                );
        }
    }),
};

export const gatewayPolicies = [gatewayClassExists, gatewayHttpsCertificate, gatewayListenerPortProtocol];
