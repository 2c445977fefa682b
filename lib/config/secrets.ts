import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { CONFIG_NAMESPACE } from "../problems";
import { must } from "./common";

/**
 * The name of a top-level config key that holds a secret, e.g.
 * "cloudflareApiToken" for `pulumi config set --secret
 * talos-platform:cloudflareApiToken`. Sections reference secrets by name so
 * that no section, and no Helm values map, ever holds one.
 */
export const secretKeyName = must(
    z.string(),
    (v) => /^[A-Za-z][A-Za-z0-9_-]*$/.test(v),
    "is not a config key name",
    "name a key of its own, e.g. cloudflareApiToken, and set it with pulumi config set --secret talos-platform:<name>",
);

/** A place in a section that names a secret key. */
export interface SecretRef {
    /** The referencing field, e.g. talos-platform:certManager.acme.cloudflare.apiTokenSecret */
    path: string;
    /** The secret key it names, without the namespace. */
    key: string;
}

/** The secret's value, as a Pulumi secret. */
export function secretConfig(key: string): pulumi.Output<string> {
    return new pulumi.Config(CONFIG_NAMESPACE).requireSecret(key);
}
