import * as pulumi from "@pulumi/pulumi";
import { configBaseDir } from "../cwd";
import { ConfigError, CONFIG_NAMESPACE, describeProblem } from "../problems";
import { PlatformConfig, RawConfig, SECTIONS, validateConfig, Validation } from "./index";
import { foreignKeyProblems } from "./keys";

// isConfigSecret is exported by the SDK's runtime but left out of its
// typings; it is the only way to learn whether a key was set with --secret.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

/** Reads every talos-platform: key from the running stack. */
export function readStackConfig(): RawConfig {
    const prefix = CONFIG_NAMESPACE + ":";
    const raw: RawConfig = { sections: {}, otherKeys: {}, baseDir: configBaseDir() };
    for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
        if (!fullKey.startsWith(prefix)) continue;
        const key = fullKey.slice(prefix.length);
        const secret = runtimeConfig.isConfigSecret(fullKey);
        if (key in SECTIONS && !secret) raw.sections[key] = parseJsonOrText(text);
        else raw.otherKeys[key] = { secret };
    }
    return raw;
}

function parseJsonOrText(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/**
 * validateConfig over the talos-platform: keys, plus the checks of the
 * stack's keys in other namespaces. Without `raw`, both come from the running
 * stack; with it, only `keys` are checked.
 */
export function validateStack(raw?: RawConfig, keys: readonly string[] = raw ? [] : Object.keys(pulumi.runtime.allConfig())): Validation {
    const validation = validateConfig(raw ?? readStackConfig());
    const problems = [...foreignKeyProblems(keys), ...validation.problems];
    return { ...validation, config: problems.some((p) => p.severity === "error") ? undefined : validation.config, problems };
}

/**
 * Validates the whole stack configuration before any resource exists.
 * Errors throw one ConfigError listing all of them; warnings are logged.
 */
export function loadConfig(raw?: RawConfig): PlatformConfig {
    const { config, problems } = validateStack(raw);
    for (const w of problems.filter((p) => p.severity === "warning")) {
        void pulumi.log.warn(describeProblem(w));
    }
    if (!config) throw new ConfigError(problems);
    return config;
}

/** The secret's value, as a Pulumi secret. */
export function secretConfig(key: string): pulumi.Output<string> {
    return new pulumi.Config(CONFIG_NAMESPACE).requireSecret(key);
}
