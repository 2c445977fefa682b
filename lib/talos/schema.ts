import Ajv2020, { ErrorObject, ValidateFunction } from "ajv/dist/2020";
import * as fs from "node:fs";
import * as path from "node:path";

// The Talos v1.13 machine-configuration schema, vendored unmodified from
// siderolabs/talos (MPL-2.0; lib/talos/SOURCES.md). Compiled once, and only
// when a stack names a Talos configuration.

/** The Talos release whose config schema is vendored. */
export const TALOS_SCHEMA_VERSION = "v1.13.9";

/** The schema file, relative to the repository root (it is data, so the build does not copy it). */
export const TALOS_SCHEMA_FILE = "lib/talos/config.schema.json";

/** The repository: the nearest directory above this file with a package.json (it runs from lib/ or dist/lib/). */
function repositoryRoot(): string {
    for (let dir = __dirname; ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "package.json"))) return dir;
        if (path.dirname(dir) === dir) throw new Error(`no package.json above ${__dirname}`);
    }
}

interface Compiled {
    ajv: Ajv2020;
    /** Schema references by document: `v1alpha1` for the legacy main document, `<apiVersion>/<kind>` for the others. */
    byKind: Map<string, string>;
    /** Compiled on first use: compiling all of them takes seconds. */
    validators: Map<string, ValidateFunction>;
}

let compiled: Compiled | undefined;

function compile(): Compiled {
    if (compiled) return compiled;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const schema = JSON.parse(fs.readFileSync(path.join(repositoryRoot(), TALOS_SCHEMA_FILE), "utf8")) as Record<string, any>;
    // The file is fixed (its SHA-256 is tested), so checking it against the meta-schema and
    // optimising the generated code would only cost time: about a second of the plan's.
    const ajv = new Ajv2020({
        allErrors: true,
        strict: true,
        strictRequired: false,
        strictTypes: false,
        validateSchema: false,
        code: { optimize: false },
    });
    // Editor annotations of the upstream schema.
    ajv.addVocabulary(["markdownDescription", "x-intellij-html-description"]);
    // The one format the schema uses; Talos parses the endpoint as a URL.
    ajv.addFormat("uri", (v: string) => URL.canParse(v));
    ajv.addSchema(schema);
    const byKind = new Map<string, string>();
    for (const ref of schema.oneOf as { $ref: string }[]) {
        const def = schema.$defs[ref.$ref.replace("#/$defs/", "")];
        const props = def.properties ?? {};
        const key = props.version ? String(props.version.enum[0]) : `${props.apiVersion.enum[0]}/${props.kind.enum[0]}`;
        byKind.set(key, `${schema.$id}${ref.$ref}`);
    }
    compiled = { ajv, byKind, validators: new Map() };
    return compiled;
}

function validatorFor(kind: string): ValidateFunction | undefined {
    const c = compile();
    const ref = c.byKind.get(kind);
    if (ref === undefined) return undefined;
    let v = c.validators.get(kind);
    if (!v) c.validators.set(kind, (v = c.ajv.getSchema(ref)!));
    return v;
}

/** The kinds of document the schema knows, as `<apiVersion>/<kind>` (and `v1alpha1`). */
export function talosDocumentKinds(): string[] {
    return [...compile().byKind.keys()];
}

/** A document's kind key: `v1alpha1` for the main document, else `<apiVersion>/<kind>`; undefined when it says neither. */
export function documentKind(doc: Record<string, unknown>): string | undefined {
    if (typeof doc.version === "string") return doc.version;
    if (typeof doc.apiVersion === "string" && typeof doc.kind === "string") return `${doc.apiVersion}/${doc.kind}`;
    return undefined;
}

/** `/cluster/network/podSubnets/0` → `cluster.network.podSubnets[0]`. */
export function dottedPath(pointer: string): string {
    return pointer
        .split("/")
        .slice(1)
        .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
        .reduce((out, s) => (/^\d+$/.test(s) ? `${out}[${s}]` : out ? `${out}.${s}` : s), "");
}

/**
 * Fields Talos v1.13 still decodes (deprecated, `docgen:nodoc` in
 * pkg/machinery/config/types/v1alpha1/v1alpha1_types.go at v1.13.9) but its
 * JSON Schema leaves out: the Go structs' yaml fields with no property in the
 * schema's definition of the struct, at the one place each struct sits in the
 * v1alpha1 document. `talosctl validate` accepts them, and so does this;
 * their contents are not checked.
 */
export const UNDOCUMENTED_FIELDS: readonly string[] = [
    "persist",
    ...["network", "disks", "env", "time", "registries", "systemDiskEncryption"].map((f) => `machine.${f}`),
    ...["extraKernelArgs", "extensions", "bootloader"].map((f) => `machine.install.${f}`),
    ...["rbac", "stableHostname", "apidCheckExtKeyUsage"].map((f) => `machine.features.${f}`),
    "cluster.allowSchedulingOnMasters",
    "cluster.apiServer.disablePodSecurityPolicy",
    "cluster.etcd.subnet",
];

/** An unknown-field error for a field Talos still decodes. */
function undocumented(e: ErrorObject, kind: string): boolean {
    if (kind !== "v1alpha1" || e.keyword !== "additionalProperties") return false;
    const parent = dottedPath(e.instancePath);
    return UNDOCUMENTED_FIELDS.includes(`${parent ? `${parent}.` : ""}${String(e.params.additionalProperty)}`);
}

/**
 * One line per schema error: where, and what the schema says. Never the
 * value: a machine configuration holds keys and tokens, and an error may sit
 * right next to one.
 */
function describe(e: ErrorObject): string {
    const where = dottedPath(e.instancePath) || "(document)";
    switch (e.keyword) {
        case "additionalProperties":
            return `${where ? `${where}.` : ""}${String(e.params.additionalProperty)}: is not a field of Talos ${TALOS_SCHEMA_VERSION} here`;
        case "enum":
            return `${where}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
        default:
            return `${where}: ${e.message ?? e.keyword}`;
    }
}

/**
 * Validates one document of a machine configuration against the Talos
 * schema. Returns the problems, each naming a field, never its value.
 */
export function validateTalosDocument(doc: Record<string, unknown>): string[] {
    const kind = documentKind(doc);
    if (kind === undefined)
        return ["(document): has neither `version: v1alpha1` nor `apiVersion` and `kind`: it is not a Talos config document"];
    const validate = validatorFor(kind);
    if (!validate) return [`(document): ${kind} is not a config document of Talos ${TALOS_SCHEMA_VERSION}`];
    if (validate(doc)) return [];
    // oneOf/anyOf add a summary line after the branch errors; the branch errors say more.
    const errors = (validate.errors ?? []).filter((e) => e.keyword !== "oneOf" && e.keyword !== "anyOf" && !undocumented(e, kind));
    return [...new Set(errors.map(describe))];
}
