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
                "Name of the top-level secret key holding a Cloudflare API token with Zone:DNS:Edit and Zone:Zone:Read (cert-manager's Cloudflare guide; without Zone:Zone:Read cert-manager cannot look the zone up and every challenge fails), e.g. `cloudflareApiToken` for `pulumi config set --secret talos-platform:cloudflareApiToken`. The token goes into the Secret `<issuer>-cloudflare-api-token` in cert-manager's cluster resource namespace, never into Helm values or plan output.",
            ),
            dnsZones: z.array(dnsZone).default([]).meta({
                description: "Zones this solver answers for, in lower case and without a wildcard: a zone covers its subdomains.",
                defaultText: "every zone",
            }),
        })
        .describe("The DNS-01 solver: Cloudflare."),
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
        webhookReplicas: z
            .number()
            .int()
            .min(2)
            .default(2)
            .describe(
                "Replicas of the cert-manager webhook, spread across nodes: at least 2, since its failurePolicy is Fail and a single replica would block every write of a cert-manager object during a node drain. cert-manager's best-practice guide (High Availability) recommends 3 or more in production.",
            ),
        dns01SelfCheck: dns01SelfCheckSchema.prefault({}).meta({
            description:
                "Which resolvers cert-manager's DNS-01 self-check asks, and when. By default it asks the resolvers in its /etc/resolv.conf (CoreDNS), which answer every name in the cluster domain themselves. See docs/phases.md#dns-01-under-a-cluster-domain-that-is-part-of-a-public-zone.",
            defaultText:
                "the public resolvers 8.8.8.8:53 and 1.1.1.1:53, passed only when an ACME DNS-01 name overlaps `cluster.dnsDomain`",
        }),
    })
    .meta({
        title: "Certificates phase: cert-manager",
        description: "cert-manager, with its CRDs, webhook and cainjector, and the ClusterIssuers.",
        details: [
            "cert-manager installs its CRDs through the chart with `crds.enabled` and `crds.keep` (an uninstall keeps every Certificate), plus webhook and cainjector; a version before v1.15.0, which has no `crds.enabled`, is refused, and so is the deprecated `installCRDs` in `values` (the chart refuses it next to `crds.enabled`). Controller, webhook and cainjector run 2 replicas each, spread across nodes, with a PodDisruptionBudget of `minAvailable: 1`: the webhook's failurePolicy is Fail, so with a single replica one node drain would block every write of a cert-manager object. Two is the least that survives a drain; cert-manager's best-practice guide recommends 3 or more webhook replicas in production (`webhookReplicas`). Fewer than 2 webhook replicas, or a budget that allows no eviction, is refused.",
            "A `ca` issuer's CA Certificate keeps its key at renewal (`privateKey.rotationPolicy: Never`; since cert-manager 1.18 the default is `Always`, which would leave earlier leaf certificates outside the trust bundle). Rotating the CA key is a deliberate act: docs/phases.md#rotating-the-ca-key-on-purpose.",
            "When an ACME DNS-01 zone (`dnsZones`) or a name of the default certificate overlaps `cluster.dnsDomain`, the controller gets `--dns01-recursive-nameservers-only --dns01-recursive-nameservers=<dns01SelfCheck.nameservers>`, since CoreDNS answers every name in the cluster domain itself; the rule `dns01-cluster-domain` says so.",
            "The Cloudflare token (Zone:DNS:Edit and Zone:Zone:Read) is set with `pulumi config set --secret talos-platform:cloudflareApiToken` and named by `apiTokenSecret`; it goes into a Kubernetes Secret `<issuer>-cloudflare-api-token` in cert-manager's cluster resource namespace and never into Helm values or plan output.",
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
