import { stringify } from "yaml";
import { z } from "zod";
import { CONFIG_NAMESPACE } from "../problems";
import { SECTIONS, SectionName } from "./index";
import { TALOS_FACTS } from "../talos/facts";
import { KEY_NAME } from "./secrets";

// The JSON Schema of a whole Pulumi.<stack>.yaml, generated from the zod
// schemas that validate it, so an editor and the program cannot disagree
// about a key. `npm run gen:schema` writes it to schema/stack.schema.json and
// renders docs/configuration.md from the same object (lib/config/reference.ts).

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonSchema = Record<string, any>;

/** The checked-in schema, relative to the repository root. */
export const STACK_SCHEMA_FILE = "schema/stack.schema.json";

/** The stack file's top-level keys, as Pulumi's ProjectStack (sdk/go/common/workspace/project.go) reads them. */
const STACK_FILE_KEYS: Record<string, JsonSchema> = {
    secretsprovider: {
        type: "string",
        description:
            "The stack's secrets provider, as `pulumi stack init --secrets-provider` or `pulumi stack change-secrets-provider` set it (e.g. `passphrase`, `awskms://…`). Absent for the Pulumi Cloud's own.",
    },
    encryptedkey: {
        type: "string",
        description: "The data key of the stack's secrets, encrypted by a cloud secrets provider. Pulumi writes it.",
    },
    encryptionsalt: {
        type: "string",
        description: "The salt of the passphrase secrets provider. Pulumi writes it.",
    },
    environment: {
        anyOf: [{ type: "array", items: { type: "string" } }, { type: "object" }],
        description:
            "Pulumi ESC environments the stack imports: a list of names, or an inline definition. Keys they provide are not in this file, so the offline plan (`npm run plan`), which reads only this file's `config:`, does not see them.",
    },
    mainEnvironment: {
        type: "string",
        description:
            "The one Pulumi ESC environment (`<project>/<env>[@<version>]`) that holds the stack's configuration and receives `pulumi config set`. The offline plan does not read it.",
    },
};

/**
 * Secret keys by the names this project's docs and dev stack use. Sections
 * name their secrets, so any name that fits KEY_NAME works; these are listed
 * so that an editor completes the usual ones.
 */
export const CONVENTIONAL_SECRETS: Record<string, string> = {
    cloudflareApiToken:
        "The Cloudflare API token (Zone:DNS:Edit) for DNS-01 challenges, named by `certManager.issuers[].acme.cloudflare.apiTokenSecret`.",
    fluxGitToken: "The token Flux clones the Git repository with over HTTPS, named by `flux.source.httpsToken.tokenSecret`.",
    fluxSshKey: "The private SSH deploy key Flux clones the Git repository with, named by `flux.source.sshKey.privateKeySecret`.",
    bgpPassword: "The TCP MD5 password of BGP sessions, named by `cilium.bgp.peerConfigs[].authSecret`.",
};

const secureValue = z
    .strictObject({
        secure: z
            .string()
            .min(1)
            .describe("The ciphertext `pulumi config set --secret` wrote; only the stack's secrets provider reads it."),
    })
    .describe(
        "A secret, stored encrypted: set it with `pulumi config set --secret talos-platform:<name> <value>`, never by hand. A section names it; it never appears in plan output or logs.",
    );

/**
 * One zod schema as JSON Schema, describing what a user writes (`io:
 * "input"`): keys with defaults are optional, and a prefault becomes the
 * key's `default`. Refinements (CIDRs, addresses, cross-field checks) have
 * no JSON Schema form and are left out, except where a schema states them
 * itself through `.meta()` (patterns, issuer kinds): `npm run plan` checks
 * the rest.
 */
export function toJsonSchema(schema: z.ZodType): JsonSchema {
    const json = z.toJSONSchema(schema, {
        target: "draft-07",
        io: "input",
        // A transform or a custom type would otherwise become {}, which accepts anything: stop instead.
        unrepresentable: "throw",
        override: ({ zodSchema, jsonSchema }) => {
            const def = zodSchema._zod.def;
            // A prefault is an input to parse, not always a valid one (flux.source's {} lets the
            // problem name the missing url): offer no default that the program refuses, and
            // call the key required, as it is.
            if (def.type === "prefault" && "default" in jsonSchema && !z.safeParse(zodSchema, undefined).success) {
                delete jsonSchema.default;
            }
            if (def.type === "object" && jsonSchema.properties) {
                const shape = (def as z.core.$ZodObjectDef).shape;
                const required = Object.keys(shape).filter((key) => !z.safeParse(shape[key], undefined).success);
                // cluster.talosConfig states the Talos facts: with it, they may be left out here.
                const fromTalos = "talosConfig" in shape ? required.filter((k) => (TALOS_FACTS as readonly string[]).includes(k)) : [];
                const always = required.filter((k) => !fromTalos.includes(k));
                if (always.length) jsonSchema.required = always;
                if (fromTalos.length)
                    Object.assign(jsonSchema, { if: { not: { required: ["talosConfig"] } }, then: { required: fromTalos } });
            }
        },
    }) as JsonSchema;
    delete json.$schema;
    return json;
}

/** Sections whose absence is an error (the others parse from nothing). */
export function requiredSections(): SectionName[] {
    return (Object.keys(SECTIONS) as SectionName[]).filter((name) => !SECTIONS[name].safeParse(undefined).success);
}

/** `talos-platform:<name>` for any other name than those listed as properties: a secret key. */
function secretKeyPattern(): string {
    const listed = [...Object.keys(SECTIONS), ...Object.keys(CONVENTIONAL_SECRETS)].join("|");
    return `^${CONFIG_NAMESPACE}:(?!(?:${listed})$)${KEY_NAME.source.replace(/^\^/, "")}`;
}

/**
 * The stack file's schema with the documentation-only metadata still in
 * (`defaultText`, `details`): what docs/configuration.md is rendered from.
 */
export function annotatedStackSchema(): JsonSchema {
    const secret = toJsonSchema(secureValue);
    const sections = Object.fromEntries(
        Object.entries(SECTIONS).map(([name, schema]) => [`${CONFIG_NAMESPACE}:${name}`, toJsonSchema(schema)]),
    );
    const secrets = Object.fromEntries(
        Object.entries(CONVENTIONAL_SECRETS).map(([name, what]) => [
            `${CONFIG_NAMESPACE}:${name}`,
            { ...secret, description: `${what} Set it with \`pulumi config set --secret ${CONFIG_NAMESPACE}:${name}\`.` },
        ]),
    );
    const required = requiredSections().map((name) => `${CONFIG_NAMESPACE}:${name}`);
    return {
        $schema: "http://json-schema.org/draft-07/schema#",
        title: "talos-platform stack file (Pulumi.<stack>.yaml)",
        description:
            "A Pulumi stack file of talos-platform. Generated from the program's config schema (lib/config) by `npm run gen:schema`; the reference is docs/configuration.md.",
        type: "object",
        properties: {
            config: {
                type: "object",
                description: `The stack's configuration. This program reads the \`${CONFIG_NAMESPACE}:\` keys: the sections, and secret keys the sections name. Keys of other namespaces have no effect.`,
                properties: { ...sections, ...secrets },
                patternProperties: {
                    [secretKeyPattern()]: {
                        ...secret,
                        description: `A secret key a section names, under a name of your choice: set it with \`pulumi config set --secret ${CONFIG_NAMESPACE}:<name>\`. A plain-text key here is a mistake, most likely a misspelled section, which the plan refuses.`,
                    },
                    "^kubernetes:": {
                        description: `Has no effect: this program deploys through a Kubernetes provider of its own, configured by ${CONFIG_NAMESPACE}:cluster.kubeContext (the kubeconfig comes from KUBECONFIG or ~/.kube/config). The plan warns about every such key (provider-config-ignored).`,
                    },
                    "^pulumi:": {
                        description: "Pulumi's own settings, such as `pulumi:tags`. This program reads none of them.",
                    },
                },
                additionalProperties: false,
            },
            ...STACK_FILE_KEYS,
        },
        additionalProperties: false,
        // The required sections may also come from a Pulumi ESC environment, which this file only names.
        if: { type: "object", not: { anyOf: [{ required: ["environment"] }, { required: ["mainEnvironment"] }] } },
        then: { type: "object", required: ["config"], properties: { config: { type: "object", required } } },
    };
}

/** Documentation-only metadata: rendered into the reference page, folded into `description` or dropped in the published schema. */
const DOC_ONLY = ["defaultText", "details"];

/** A value as a YAML flow scalar or collection, the way a user writes it in the stack file. */
export function yamlInline(value: unknown): string {
    return stringify(value, { collectionStyle: "flow", flowCollectionPadding: false, lineWidth: 0 }).trimEnd();
}

/** What happens when the key is not set, for a reader: its default value and what that does. */
export function defaultSentence(node: JsonSchema): string | undefined {
    const value = node.default !== undefined ? `\`${yamlInline(node.default)}\`` : undefined;
    const text = node.defaultText as string | undefined;
    if (value && text) return `${value} (${text})`;
    return value ?? text;
}

/**
 * The schema as checked in: each description carries its default, as
 * plain text and as Markdown (`markdownDescription`, which VS Code's YAML
 * extension renders in hovers); documentation-only metadata is gone.
 */
export function publishedStackSchema(annotated: JsonSchema = annotatedStackSchema()): JsonSchema {
    return publish(annotated);
}

/** Keywords whose value is a map of schemas (its keys are names, not keywords). */
const SCHEMA_MAPS = ["properties", "patternProperties", "definitions", "$defs"];
/** Keywords whose value is a schema, or a list of schemas. */
const SCHEMAS = ["items", "additionalProperties", "anyOf", "oneOf", "allOf", "not", "if", "then", "else"];

function publish(node: JsonSchema): JsonSchema {
    const out: JsonSchema = {};
    for (const [key, value] of Object.entries(node)) {
        if (DOC_ONLY.includes(key)) continue;
        if (SCHEMA_MAPS.includes(key)) {
            out[key] = Object.fromEntries(Object.entries<JsonSchema>(value).map(([name, schema]) => [name, publish(schema)]));
        } else if (SCHEMAS.includes(key) && value !== null && typeof value === "object") {
            out[key] = Array.isArray(value) ? value.map(publish) : publish(value);
        } else {
            out[key] = value;
        }
    }
    if (typeof out.description === "string") {
        const def = defaultSentence(node);
        const prose = out.description;
        out.markdownDescription = def ? `${prose}\n\nDefault: ${def}.` : prose;
        out.description = def ? `${prose} Default: ${def}.` : prose;
    }
    return out;
}

/** The file's text: stable key order, two-space indentation, a final newline. */
export function stackSchemaText(annotated: JsonSchema = annotatedStackSchema()): string {
    return JSON.stringify(publishedStackSchema(annotated), null, 2) + "\n";
}
