import { PlatformConfig, RawConfig, resolveSection, SectionName, SECTIONS, validateConfig } from "../config";
import { readStackFile } from "../plan/stackfile";
import { CONFIG_NAMESPACE, describeProblem } from "../problems";
import { ConfigError } from "./options";

/**
 * The validated config of a Pulumi.<stack>.yaml file, for the checker run by
 * hand. Pulumi's own runs pass explicit flags instead (see components/gate.ts).
 */
export function stackFileConfig(file: string, stack: string): PlatformConfig {
    let input;
    try {
        input = readStackFile(file, stack);
    } catch (e) {
        throw new ConfigError((e as Error).message);
    }
    const raw: RawConfig = { sections: {}, otherKeys: {} };
    const prefix = `${CONFIG_NAMESPACE}:`;
    for (const [full, value] of Object.entries(input.config)) {
        if (!full.startsWith(prefix)) continue;
        const key = full.slice(prefix.length);
        const secret = (input.secretKeys ?? []).includes(full);
        if (key in SECTIONS && !secret) raw.sections[key] = value;
        else raw.otherKeys[key] = { secret };
    }
    const { config, problems } = validateConfig(raw);
    if (!config) {
        const errors = problems.filter((p) => p.severity === "error").map((p) => `  ${describeProblem(p)}`);
        throw new ConfigError(`${file} has config errors; fix them first (npm run plan shows them all):\n${errors.join("\n")}`);
    }
    return config;
}

/**
 * The config the checker assumes without a stack file: every section's
 * defaults, and no kube-proxy replacement expected. Cross-checks do not
 * apply: nothing is deployed from it.
 */
export function defaultConfig(): PlatformConfig {
    const cluster = { name: "cluster", apiEndpoint: "https://127.0.0.1:6443", nodeSubnets: ["192.0.2.0/24"], kubeProxyDisabled: false };
    // The Git source has no default; only its host is read here (the dns
    // gate's default external name), and flags override it.
    const flux = { source: { url: "https://github.com/example/unset" } };
    const given: Partial<Record<SectionName, unknown>> = { cluster, flux };
    const sections = Object.keys(SECTIONS) as SectionName[];
    return Object.fromEntries(sections.map((name) => [name, resolveSection(name, given[name])])) as PlatformConfig;
}
