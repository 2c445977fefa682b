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
    signedBy: k8sName.describe("The self-signed issuer, by name, that signs the CA certificate."),
    commonName: z.string().min(1).max(64).default("talos-platform CA").describe("The CA certificate's common name."),
    secretName: k8sName.optional().meta({
        description: "Secret holding the CA key pair, in cert-manager's cluster resource namespace.",
        defaultText: "`<issuer name>-keypair`",
    }),
    duration: duration.default("87600h").meta({ description: "Lifetime of the CA certificate.", defaultText: "10 years" }),
});

/** An ACME ClusterIssuer solving DNS-01 challenges through Cloudflare. */
const acmeSchema = z.strictObject({
    server: must(
        z.string(),
        isAcmeServer,
        "is not an ACME server",
        "use staging or production (Let's Encrypt), or the https URL of an ACME directory",
    ).describe("`staging` or `production` (Let's Encrypt), or the https URL of another ACME directory."),
    email: must(z.string(), (v) => /^[^@\s]+@[^@\s]+$/.test(v), "is not an e-mail address", "write it as name@example.com")
        .optional()
        .meta({ description: "Account e-mail for expiry notices.", defaultText: "none" }),
    cloudflare: z
        .strictObject({
            apiTokenSecret: secretKeyName.describe(
                "Name of the top-level secret key holding a Cloudflare API token with Zone:DNS:Edit, e.g. `cloudflareApiToken` for `pulumi config set --secret talos-platform:cloudflareApiToken`. The token goes into the Secret `<issuer>-cloudflare-api-token` in cert-manager's cluster resource namespace, never into Helm values or plan output.",
            ),
            dnsZones: z.array(dnsZone).default([]).meta({
                description: "Zones this solver answers for, in lower case and without a wildcard: a zone covers its subdomains.",
                defaultText: "every zone",
            }),
        })
        .describe("The DNS-01 solver: Cloudflare."),
});

export const ISSUER_TYPES = ["selfSigned", "ca", "acme"] as const;

/**
 * One ClusterIssuer, shaped like cert-manager's own spec: a name and
 * exactly one of selfSigned, ca, acme.
 */
export const issuerSchema = z
    .strictObject({
        name: k8sName.describe("The ClusterIssuer's name."),
        selfSigned: selfSignedSchema
            .optional()
            .describe("A self-signed issuer (`selfSigned: {}`): each certificate is signed with its own key. The root of a private CA."),
        ca: caSchema.optional().describe("A CA issuer: a CA certificate issued by `signedBy`, then an issuer that signs with it."),
        acme: acmeSchema.optional().describe("An ACME issuer, such as Let's Encrypt, solving DNS-01 challenges through Cloudflare."),
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
    })
    // The refinement above, as JSON Schema states it.
    .meta({ oneOf: ISSUER_TYPES.map((t) => ({ required: [t] })) });
export type IssuerConfig = z.output<typeof issuerSchema>;

export const certManagerSchema = z
    .strictObject({
        ...chartFields({
            chart: "cert-manager",
            repository: "https://charts.jetstack.io",
            version: "v1.21.1",
            namespace: "cert-manager",
        }),
        issuers: z.array(issuerSchema).default([]).meta({
            description:
                "ClusterIssuers, each a `name` and exactly one of `selfSigned`, `ca`, `acme`. They are created by their own component after the certificates gate, each annotated `pulumi.com/waitFor: condition=Ready`, and the ingress phase waits for them.",
            defaultText: "none",
        }),
        defaultIssuer: k8sName.optional().meta({
            description:
                "The ClusterIssuer cert-manager's ingress-shim uses for Ingresses annotated `kubernetes.io/tls-acme`; it must name a configured issuer.",
            defaultText: "none",
        }),
    })
    .meta({
        title: "Certificates phase: cert-manager",
        description: "cert-manager, with its CRDs, webhook and cainjector, and the ClusterIssuers.",
        details: [
            "cert-manager installs its CRDs through the chart with `crds.keep` (an uninstall keeps every Certificate), plus webhook and cainjector. Controller, webhook and cainjector run 2 replicas each, spread across nodes, with a PodDisruptionBudget of `minAvailable: 1`: the webhook's failurePolicy is Fail, so with a single replica one node drain would block every write of a cert-manager object. Two is the least that survives a drain; cert-manager's best-practice guide recommends 3 or more webhook replicas in production (`values.webhook.replicaCount`). Fewer than 2 webhook replicas, or a budget that allows no eviction, is refused.",
            "The Cloudflare token (Zone:DNS:Edit) is set with `pulumi config set --secret talos-platform:cloudflareApiToken` and named by `apiTokenSecret`; it goes into a Kubernetes Secret `<issuer>-cloudflare-api-token` in cert-manager's cluster resource namespace and never into Helm values or plan output.",
        ],
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
