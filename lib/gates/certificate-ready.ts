import { blockedAfter, Diagnosis, notFound } from "./diagnosis";
import { Condition, readOptional } from "./kube";
import type { Step, StepResult } from "./run";

// The ingress phase's default TLS certificate, issued (ACME DNS-01 takes
// minutes). Waited for here rather than with pulumi.com/waitFor: Pulumi's
// await treats Ready=False as "not yet" and waits out its whole timeout
// (10 minutes) with nothing to say, where this step reads the Certificate's
// and its Challenges' messages and names the broken link.

export interface CertificateObject {
    metadata?: { name?: string; namespace?: string; generation?: number };
    spec?: { dnsNames?: string[]; issuerRef?: { name?: string; kind?: string } };
    status?: { conditions?: Condition[]; notAfter?: string; failedIssuanceAttempts?: number; lastFailureTime?: string };
}

export interface ChallengeObject {
    metadata?: { name?: string; namespace?: string };
    spec?: { dnsName?: string; wildcard?: boolean; type?: string };
    status?: { state?: string; reason?: string; presented?: boolean };
}

/** What the step needs to know: where the Certificate is. */
export interface CertificateTarget {
    namespace: string;
    certificate: string;
}

const condition = (c: CertificateObject, type: string) => c.status?.conditions?.find((x) => x.type === type);

const line = (type: string, c: Condition | undefined) =>
    `${type}=${c?.status ?? "Unknown"}${c?.reason ? ` (${c.reason})` : ""}${c?.message ? `: ${c.message}` : ""}`;

/**
 * Ready for its current spec: Ready=True from a controller that has seen the
 * latest generation. A Ready left from before a spec change (new names)
 * says nothing about the names now asked for.
 */
export function certificateReadiness(c: CertificateObject): { ready: boolean; summary: string } {
    const ready = condition(c, "Ready");
    const generation = c.metadata?.generation;
    const observed = ready?.observedGeneration;
    if (generation !== undefined && observed !== undefined && observed < generation) {
        return {
            ready: false,
            summary: `${line("Ready", ready)}; but for generation ${observed} < ${generation}: not issued for the current spec yet`,
        };
    }
    return { ready: ready?.status === "True", summary: line("Ready", ready) };
}

/**
 * cert-manager gave up on this issuance: Issuing=False after a failed
 * request. It retries with a backoff that starts at an hour, so waiting
 * the gate's few minutes cannot help.
 */
export function issuanceFailed(c: CertificateObject): boolean {
    const issuing = condition(c, "Issuing");
    return issuing?.status === "False" && (c.status?.lastFailureTime !== undefined || /will be retried/.test(issuing.message ?? ""));
}

export type CertificateFailure = "issuer" | "no-solver" | "dns-provider" | "rate-limit" | "self-check" | "acme-rejected" | "other";

/** Which link the messages of a Certificate and its Challenges point at, the most specific first. */
export function certificateFailure(messages: string[]): CertificateFailure {
    const text = messages.join("\n");
    if (/Referenced "?(Cluster)?Issuer"? not found|issuer .*(not found|not ready)|IssuerNotReady/i.test(text)) return "issuer";
    if (/no configured challenge solvers|valid solver configuration|couldn't find a solver/i.test(text)) return "no-solver";
    if (/rateLimited|too many (certificates|failed authorizations|new orders|registrations)/i.test(text)) return "rate-limit";
    if (/cloudflare|requires permission|Authentication error|Invalid request headers|\b(401|403)\b/i.test(text)) return "dns-provider";
    if (/challenge propagation|not yet propagated|propagat/i.test(text)) return "self-check";
    if (/order is in "(invalid|errored)" state|urn:ietf:params:acme:error|authorization error/i.test(text)) return "acme-rejected";
    return "other";
}

/** The Challenges cert-manager made for this Certificate's names (a wildcard's Challenge names the domain below it). */
export function challengesFor(c: CertificateObject, all: ChallengeObject[]): ChallengeObject[] {
    const names = new Set((c.spec?.dnsNames ?? []).map((n) => n.replace(/^\*\./, "")));
    return all.filter((ch) => ch.spec?.dnsName !== undefined && names.has(ch.spec.dnsName));
}

const challengeLine = (ch: ChallengeObject) =>
    `Challenge ${ch.metadata?.namespace}/${ch.metadata?.name} (${ch.spec?.type ?? "?"} for ${ch.spec?.wildcard ? "*." : ""}${ch.spec?.dnsName}): ` +
    `${ch.status?.state || "no state yet"}${ch.status?.presented ? ", record presented" : ""}${ch.status?.reason ? `: ${ch.status.reason}` : ""}`;

/** Why the Certificate is not Ready, from its conditions and its Challenges' states. */
export function diagnoseCertificate(c: CertificateObject, challenges: ChallengeObject[] | string, o: CertificateTarget): Diagnosis {
    const id = `Certificate ${o.namespace}/${o.certificate}`;
    const issuer = c.spec?.issuerRef?.name ?? "its issuer";
    const evidence = [`${id}: ${certificateReadiness(c).summary}`];
    const issuing = condition(c, "Issuing");
    if (issuing) evidence.push(`${id}: ${line("Issuing", issuing)}`);
    if (typeof challenges === "string") evidence.push(challenges);
    else evidence.push(...challenges.map(challengeLine));
    const messages = [
        ...(c.status?.conditions ?? []).map((x) => x.message ?? ""),
        ...(typeof challenges === "string" ? [] : challenges.map((ch) => ch.status?.reason ?? "")),
    ];
    const blocks = blockedAfter("ingress", [
        "TLS for hosts without a certificate of their own: the controller serves its self-signed fake one",
    ]);
    const d = (link: string, cause: string, fix: string): Diagnosis => ({ link, evidence, cause, fix, blocks });
    switch (certificateFailure(messages)) {
        case "issuer":
            return d(
                `${id} → ClusterIssuer ${issuer}`,
                `the ClusterIssuer ${issuer} does not exist or is not Ready`,
                `check kubectl get clusterissuer ${issuer} -o yaml; its name must be a talos-platform:certManager.issuers entry`,
            );
        case "no-solver":
            return d(
                `ClusterIssuer ${issuer} → solver`,
                `no DNS-01 solver of ${issuer} selects these names: its dnsZones leave them out`,
                `add the names' zone to talos-platform:certManager.issuers[].acme.cloudflare.dnsZones of ${issuer}`,
            );
        case "rate-limit":
            return d(
                `cert-manager → ACME server (${issuer})`,
                "the ACME server refuses more orders for these names for now (rate limit)",
                "wait for the time the message names; test against the staging server (acme.server: staging) until issuance works",
            );
        case "dns-provider":
            return d(
                `cert-manager → Cloudflare API (${issuer})`,
                "Cloudflare refused the request: the token lacks a permission, or cert-manager asked for the wrong zone " +
                    "because the resolvers it asks answer for the cluster domain themselves",
                "give the token Zone:DNS:Edit and Zone:Zone:Read on the zone (the secret key that " +
                    "talos-platform:certManager.issuers[].acme.cloudflare.apiTokenSecret names); if it has both, see talos-platform:certManager.dns01SelfCheck",
            );
        case "self-check":
            return d(
                `cert-manager DNS-01 self-check (${issuer})`,
                "cert-manager does not see the _acme-challenge TXT record yet: it has not propagated, or the resolvers cert-manager asks " +
                    "cannot see the public zone (a name inside the cluster domain, answered by the cluster's CoreDNS)",
                "wait a little longer if it was presented just now; otherwise check talos-platform:certManager.dns01SelfCheck " +
                    "(the preflight rule dns01-cluster-domain says when the program sets it) and that the record exists: dig TXT _acme-challenge.<name> @1.1.1.1",
            );
        case "acme-rejected":
            return d(
                `ACME server → _acme-challenge record (${issuer})`,
                "the ACME server looked for the challenge record and did not find it, or refused the order",
                "read the Challenge's reason above; cert-manager retries the issuance after a backoff (cmctl renew to retry now)",
            );
        default:
            return d(
                `${id} issuance`,
                issuanceFailed(c)
                    ? "cert-manager's issuance failed; the Certificate's messages say why"
                    : "cert-manager has not issued it yet; the Certificate's and its Challenges' messages say how far it got",
                `kubectl -n ${o.namespace} describe certificate ${o.certificate}, then its CertificateRequest, Order and Challenges`,
            );
    }
}

/** A step that waits for the Certificate to be Ready, and fails at once when cert-manager has given up for now. */
export function certificateReadyStep(o: CertificateTarget): Step {
    const id = `Certificate ${o.namespace}/${o.certificate}`;
    return {
        name: `default TLS certificate issued (${id} Ready)`,
        async check({ kube }): Promise<StepResult> {
            const cert = (await readOptional(
                kube.custom.getNamespacedCustomObject({
                    group: "cert-manager.io",
                    version: "v1",
                    namespace: o.namespace,
                    plural: "certificates",
                    name: o.certificate,
                }),
            )) as CertificateObject | undefined;
            if (!cert) return notFound(id, "ingress", "the ingress phase has not created the default certificate");
            const { ready, summary } = certificateReadiness(cert);
            if (ready) return { ok: true, detail: `${summary}${cert.status?.notAfter ? ` (valid until ${cert.status.notAfter})` : ""}` };
            // The Challenges only add detail: a checker that may not list them still judges the Certificate.
            let challenges: ChallengeObject[] | string;
            try {
                const list = ((await readOptional(
                    kube.custom.listNamespacedCustomObject({
                        group: "acme.cert-manager.io",
                        version: "v1",
                        namespace: o.namespace,
                        plural: "challenges",
                    }),
                )) ?? {}) as { items?: ChallengeObject[] };
                challenges = challengesFor(cert, list.items ?? []);
            } catch (e) {
                challenges = `Challenges in ${o.namespace}: not readable (${(e as Error).message.split("\n")[0]})`;
            }
            const failed = issuanceFailed(cert);
            return {
                ok: false,
                final: failed,
                waiting: failed ? `issuance failed: ${condition(cert, "Issuing")?.message ?? summary}` : summary,
                diagnosis: diagnoseCertificate(cert, challenges, o),
            };
        },
    };
}
