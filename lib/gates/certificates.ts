import { urlHost } from "../net";
import { blockedAfter, Diagnosis } from "./diagnosis";
import { apiMessage, statusCode } from "./kube";
import type { CertificatesOptions } from "./options";
import type { Step, StepResult } from "./run";
import { workloadStep } from "./workloads";

/**
 * The Certificate `cmctl check api` creates with dry-run: it passes only
 * when the CRDs are served and the API server can call the webhook over TLS
 * with the CA the cainjector injected. Nothing is stored.
 */
export function apiCheckCertificate(namespace: string) {
    return {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { generateName: "talos-platform-apicheck-", namespace },
        spec: {
            dnsNames: ["talos-platform-apicheck.example"],
            secretName: "talos-platform-apicheck",
            issuerRef: { name: "talos-platform-apicheck" },
        },
    };
}

/** The same classes of failure `cmctl check api` tells apart, from the API server's message. */
export function diagnoseCertificateApi(code: number | undefined, message: string, o: CertificatesOptions): Diagnosis {
    const webhook = `Deployment ${o.namespace}/${o.deployment}`;
    const blocks = blockedAfter("certificates", ["ClusterIssuers and every Certificate"]);
    const d = (link: string, cause: string, fix: string): Diagnosis => ({
        link,
        evidence: [`dry-run create Certificate: ${message}`],
        cause,
        fix,
        blocks,
    });
    // A missing namespace is a 404 too, with its own message; the CRDs' absence is the API server not knowing the path.
    const namespace = /namespaces? "([^"]+)" not found/.exec(message);
    if (code === 404 && namespace) {
        return d(
            `namespace ${namespace[1]}`,
            `the namespace ${namespace[1]} does not exist: the certificates phase has not installed cert-manager there`,
            `check the cert-manager release, and that talos-platform:certManager.namespace (${o.namespace}) is where it runs`,
        );
    }
    if (code === 404 || /could not find the requested resource|no matches for kind "Certificate"/.test(message)) {
        return d(
            "cert-manager CRDs",
            "the cert-manager CRDs are not installed",
            "install the chart with crds.enabled: true (the default here)",
        );
    }
    if (/service "[^"]*" not found/.test(message)) {
        return d(
            `API server → webhook Service`,
            "the cert-manager webhook Service does not exist yet",
            `check the release in ${o.namespace}`,
        );
    }
    if (/connect: connection refused/.test(message)) {
        return d(
            `API server → webhook pods (${webhook})`,
            "the webhook Service has no ready pod behind it",
            `check ${webhook}: its pods' logs say why they are not ready`,
        );
    }
    if (/x509: |certificate signed by unknown authority/.test(message)) {
        return d(
            "cainjector → webhook CA bundle",
            "the API server does not trust the webhook's certificate: the cainjector has not injected the CA bundle yet",
            `check the cainjector in ${o.namespace}; if it crash-loops on ${urlHost(o.serviceIp)}:443 the network link is broken`,
        );
    }
    if (/i\/o timeout|context deadline exceeded|no route to host/.test(message)) {
        return d(
            `API server → webhook pods (${webhook})`,
            "the API server cannot reach the webhook pods over the pod network; on Talos the API server runs on the host network, so Cilium must route host → pod",
            "check Cilium on the control-plane nodes",
        );
    }
    return d(
        "cert-manager API",
        "the dry-run create failed for a reason cmctl would not classify either",
        `check ${webhook} and the API server's message above`,
    );
}

/**
 * The API server's authorizer refusing the checker (`User "x" cannot create
 * resource ...`), as opposed to an admission webhook denying the object,
 * which is a 403 too but says something about cert-manager's API.
 */
export function isRbacDenial(code: number, message: string): boolean {
    return code === 401 || (code === 403 && /cannot \w+ resource/.test(message));
}

function apiCheckStep(o: CertificatesOptions): Step {
    return {
        name: "cert-manager API answers (dry-run Certificate: CRDs, webhook, CA injection)",
        async check({ kube }): Promise<StepResult> {
            try {
                await kube.custom.createNamespacedCustomObject({
                    group: "cert-manager.io",
                    version: "v1",
                    namespace: o.namespace,
                    plural: "certificates",
                    body: apiCheckCertificate(o.namespace),
                    dryRun: "All",
                });
                return { ok: true, detail: "a dry-run Certificate passed the webhook" };
            } catch (e) {
                const code = statusCode(e);
                // Transport errors, and RBAC refusing the checker itself, are the gate runner's to judge.
                if (code === undefined || isRbacDenial(code, apiMessage(e))) throw e;
                const message = apiMessage(e);
                return { ok: false, waiting: message, diagnosis: diagnoseCertificateApi(code, message, o) };
            }
        },
    };
}

export function certificatesSteps(o: CertificatesOptions): Step[] {
    return [
        workloadStep({
            kind: "Deployment",
            namespace: o.namespace,
            name: o.deployment,
            phase: "certificates",
            role: "cert-manager webhook",
            serviceIp: o.serviceIp,
        }),
        apiCheckStep(o),
    ];
}
