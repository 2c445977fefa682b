import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { CONFIG_NAMESPACE } from "../problems";
import { concealValue } from "./issues";

/** A name a section can give a secret key by (e.g. cloudflareApiToken). */
export const KEY_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

// Prefixes of well-known API tokens: GitHub, GitLab, Slack, OpenAI-style keys.
export const TOKEN_PREFIX = /^(gh[pousr]_|github_pat_|glpat-|xox[abprs]-|sk-)/;

/**
 * Does a string that fits KEY_NAME look like a credential rather than a
 * name? Names are words (fluxGitToken, CLOUDFLARE_API_TOKEN, bgp-peer-1);
 * a random token splits into many one- or two-character runs of lower case,
 * upper case and digits, averaging under three characters each.
 */
export function looksLikeCredential(v: string): boolean {
    if (TOKEN_PREFIX.test(v)) return true;
    const runs = v.match(/[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+/g) ?? [];
    return v.length >= 16 && v.replace(/[-_]/g, "").length < 3 * runs.length;
}

const KEY_NAME_FIX = "name a key of its own, e.g. cloudflareApiToken, and set it with pulumi config set --secret talos-platform:<name>";

/**
 * The name of a top-level config key that holds a secret, e.g.
 * "cloudflareApiToken" for `pulumi config set --secret
 * talos-platform:cloudflareApiToken`. Sections reference secrets by name so
 * that no section, and no Helm values map, ever holds one. A value that is
 * refused is never shown: it may be the secret itself, pasted here.
 */
export const secretKeyName = concealValue(
    z.string().superRefine((v, ctx) => {
        if (!KEY_NAME.test(v)) {
            ctx.addIssue({ code: "custom", message: "is not a config key name", params: { fix: KEY_NAME_FIX }, input: v });
        } else if (looksLikeCredential(v)) {
            ctx.addIssue({
                code: "custom",
                message: "looks like a secret value, not the name of the config key that holds it",
                params: {
                    fix: "set the secret as a key of its own (pulumi config set --secret talos-platform:<name>) and write that name here, e.g. cloudflareApiToken",
                },
                input: v,
            });
        }
    }),
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
