import { z } from "zod";
import { addressFamily, isAddress } from "../net";
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
        /**
         * Top-level secret key holding a Cloudflare API token with the permissions
         * cert-manager's Cloudflare guide asks for: Zone:DNS:Edit and Zone:Zone:Read
         * (without Zone:Zone:Read cert-manager cannot look the zone up). No
         * .describe() on this field: it clones the schema, which would lose the
         * concealment of a secret pasted here.
         */
        apiTokenSecret: secretKeyName,
        /** Zones this solver answers for. @default [] (every zone) */
        dnsZones: z.array(dnsZone).default([]),
    }),
});

/**
 * A resolver as cert-manager's --dns01-recursive-nameservers takes it (its
 * controller options validation): host:port, [IPv6]:port, or the https://
 * URL of a DNS-over-HTTPS (RFC 8484) server.
 */
export function isRecursiveNameserver(v: string): boolean {
    if (v.startsWith("https://")) {
        try {
            return new URL(v).hostname !== "";
        } catch {
            return false;
        }
    }
    const port = (p: string) => /^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535;
    const v6 = /^\[([^\]]+)\]:([^:]*)$/.exec(v);
    if (v6) return addressFamily(v6[1]) === "ipv6" && port(v6[2]);
    const host = /^([^:[\]\s/]+):([^:]*)$/.exec(v);
    return host !== null && port(host[2]);
}

/** The fix for a resolver cert-manager would refuse: the commonest slip is a bare address. */
function nameserverFix(v: unknown): string {
    if (typeof v === "string" && isAddress(v)) return `add the port: ${addressFamily(v) === "ipv6" ? `[${v}]:53` : `${v}:53`}`;
    return "write host:port (8.8.8.8:53, [2606:4700:4700::1111]:53) or the https:// URL of a DNS-over-HTTPS server";
}

const recursiveNameserver = z.string().superRefine((v, ctx) => {
    if (!isRecursiveNameserver(v))
        ctx.addIssue({ code: "custom", message: "is not a resolver cert-manager takes", params: { fix: nameserverFix(v) }, input: v });
});

/** The resolvers cert-manager's DNS-01 documentation shows for its self-check: Google's and Cloudflare's public ones. */
export const PUBLIC_RESOLVERS = ["8.8.8.8:53", "1.1.1.1:53"];

/**
 * Where cert-manager's DNS-01 self-check asks whether the challenge record
 * is visible ("Setting Nameservers for DNS01 Self Check" in cert-manager's
 * DNS01 docs). By default it asks the resolvers in its /etc/resolv.conf, which
 * is CoreDNS, and CoreDNS answers every name in the cluster domain itself.
 */
export const dns01SelfCheckSchema = z.strictObject({
    /** Recursive resolvers the self-check asks (--dns01-recursive-nameservers). @default 8.8.8.8:53, 1.1.1.1:53 */
    nameservers: z
        .array(recursiveNameserver)
        .min(1)
        .default(PUBLIC_RESOLVERS)
        .describe(
            "Recursive resolvers cert-manager's DNS-01 self-check asks instead of the cluster's CoreDNS (--dns01-recursive-nameservers, " +
                "with --dns01-recursive-nameservers-only): host:port or an https:// DNS-over-HTTPS URL. They must see the public zone.",
        ),
    /**
     * auto: only when an ACME issuer's zones or a certificate's names overlap
     * cluster.dnsDomain (the preflight rule dns01-cluster-domain says so);
     * always: whenever cert-manager runs (split-horizon DNS). @default auto
     */
    use: z
        .enum(["auto", "always"])
        .default("auto")
        .describe(
            "auto: pass the resolvers to cert-manager only when an ACME issuer's dnsZones or a certificate's names overlap cluster.dnsDomain; " +
                "always: pass them whenever (e.g. split-horizon DNS).",
        ),
});
export type Dns01SelfCheckConfig = z.output<typeof dns01SelfCheckSchema>;

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
    /**
     * Replicas of cert-manager's webhook, spread across nodes. Its
     * failurePolicy is Fail, so at least 2 survive a drain; cert-manager's
     * best-practice guide (High Availability) recommends 3 or more in production.
     * @default 2
     */
    webhookReplicas: z
        .number()
        .int()
        .min(2)
        .default(2)
        .describe(
            "Replicas of the cert-manager webhook, spread across nodes (at least 2: its failurePolicy is Fail). " +
                "cert-manager's best-practice guide recommends 3 or more in production.",
        ),
    /** cert-manager's DNS-01 self-check resolvers. @default public resolvers, used when names overlap cluster.dnsDomain */
    dns01SelfCheck: dns01SelfCheckSchema
        .prefault({})
        .describe("Which resolvers cert-manager's DNS-01 self-check asks, and when (see docs/dns01-cluster-domain.md)."),
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
