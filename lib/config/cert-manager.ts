import { z } from "zod";
import { configPath } from "../problems";
import { chartFields, duration, k8sName, must } from "./common";
import { SecretRef, secretKeyName } from "./secrets";

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;

export const ACME_SERVERS = {
    staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
    production: "https://acme-v02.api.letsencrypt.org/directory",
} as const;

function isAcmeServer(v: string): boolean {
    if (v in ACME_SERVERS) return true;
    try {
        return new URL(v).protocol === "https:";
    } catch {
        return false;
    }
}

const dnsZone = must(
    z.string(),
    (v) => DNS_NAME.test(v),
    "is not a DNS zone",
    "write the zone in lower case without a wildcard, e.g. example.com; a zone already covers its subdomains",
);

/** A ClusterIssuer that signs with the requesting certificate's own key: the root of a private CA. */
const selfSignedSchema = z.strictObject({});

/** A ClusterIssuer signing with a CA whose certificate the named self-signed issuer issues. */
const caSchema = z.strictObject({
    /** The self-signed issuer (by name) that signs the CA certificate. */
    signedBy: k8sName,
    /** @default "talos-platform CA" */
    commonName: z.string().min(1).max(64).default("talos-platform CA"),
    /** Secret holding the CA key pair, in cert-manager's cluster resource namespace. @default <issuer name>-keypair */
    secretName: k8sName.optional(),
    /** Lifetime of the CA certificate. @default 87600h (10 years) */
    duration: duration.default("87600h"),
});

/** An ACME ClusterIssuer solving DNS-01 challenges through Cloudflare. */
const acmeSchema = z.strictObject({
    /** staging, production (Let's Encrypt) or the https URL of another ACME directory. */
    server: must(
        z.string(),
        isAcmeServer,
        "is not an ACME server",
        "use staging or production (Let's Encrypt), or the https URL of an ACME directory",
    ),
    /** Account e-mail for expiry notices. @default none */
    email: must(z.string(), (v) => /^[^@\s]+@[^@\s]+$/.test(v), "is not an e-mail address", "write it as name@example.com").optional(),
    cloudflare: z.strictObject({
        /** Top-level secret key holding a Cloudflare API token with Zone:DNS:Edit. */
        apiTokenSecret: secretKeyName,
        /** Zones this solver answers for. @default [] (every zone) */
        dnsZones: z.array(dnsZone).default([]),
    }),
});

export const ISSUER_TYPES = ["selfSigned", "ca", "acme"] as const;

/**
 * One ClusterIssuer, shaped like cert-manager's own spec: a name and
 * exactly one of selfSigned, ca, acme.
 */
export const issuerSchema = z
    .strictObject({
        name: k8sName,
        selfSigned: selfSignedSchema.optional(),
        ca: caSchema.optional(),
        acme: acmeSchema.optional(),
    })
    .superRefine((v, ctx) => {
        const set = ISSUER_TYPES.filter((t) => v[t] !== undefined);
        if (set.length !== 1) {
            ctx.addIssue({
                code: "custom",
                message: set.length ? `sets ${set.join(" and ")}; an issuer is exactly one kind` : "sets no issuer kind",
                params: { fix: `give it exactly one of ${ISSUER_TYPES.join(", ")}` },
                input: v,
            });
        }
    });
export type IssuerConfig = z.output<typeof issuerSchema>;

export const certManagerSchema = z.strictObject({
    ...chartFields({ chart: "cert-manager", repository: "https://charts.jetstack.io", version: "v1.21.1", namespace: "cert-manager" }),
    /** ClusterIssuers, created after the certificates gate and each waited on until Ready. @default [] */
    issuers: z.array(issuerSchema).default([]),
    /**
     * The ClusterIssuer for Ingresses annotated kubernetes.io/tls-acme
     * (cert-manager's ingress-shim). @default none
     */
    defaultIssuer: k8sName.optional(),
});
export type CertManagerConfig = z.output<typeof certManagerSchema>;

export function issuerType(issuer: IssuerConfig): (typeof ISSUER_TYPES)[number] {
    return ISSUER_TYPES.find((t) => issuer[t] !== undefined) ?? "selfSigned";
}

/** The secret keys the issuers name, for the secret-reference check. */
export function certManagerSecretRefs(certManager: CertManagerConfig | undefined): SecretRef[] {
    return (certManager?.issuers ?? []).flatMap((issuer, i) =>
        issuer.acme
            ? [
                  {
                      path: configPath(["certManager", "issuers", i, "acme", "cloudflare", "apiTokenSecret"]),
                      key: issuer.acme.cloudflare.apiTokenSecret,
                  },
              ]
            : [],
    );
}
