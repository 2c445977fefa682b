import { CONFIG_NAMESPACE, error, Problem, warning } from "../problems";
import { suggestion } from "./issues";

const KUBE_CONTEXT = `${CONFIG_NAMESPACE}:cluster.kubeContext`;

/**
 * Checks the stack's keys outside talos-platform:, which no schema sees.
 * A misspelled namespace would leave its section silently unread, and
 * kubernetes: keys configure only Pulumi's default provider, which this
 * program never uses: index.ts builds its own from cluster.kubeContext.
 * Shared by `pulumi up` (lib/config/stack.ts) and the offline plan.
 */
export function foreignKeyProblems(keys: readonly string[]): Problem[] {
    const problems: Problem[] = [];
    for (const key of keys) {
        const colon = key.indexOf(":");
        if (colon < 0) continue;
        const namespace = key.slice(0, colon);
        const rest = key.slice(colon + 1);
        if (namespace === CONFIG_NAMESPACE) continue;
        // The same typo rule as for keys inside the namespace.
        if (suggestion(namespace, [CONFIG_NAMESPACE])) {
            problems.push(
                error(
                    key,
                    `is in the namespace ${namespace}, which nothing reads, so this key has no effect`,
                    `did you mean ${CONFIG_NAMESPACE}:${rest}? Rename the key`,
                ),
            );
        } else if (namespace === "kubernetes") {
            const fix =
                rest === "context"
                    ? `set the context as ${KUBE_CONTEXT} (pulumi config set --path ${KUBE_CONTEXT} <context>) and remove ${key}`
                    : `remove it: the provider reads the kubeconfig from KUBECONFIG or ~/.kube/config, and its context from ${KUBE_CONTEXT}`;
            problems.push(
                warning(
                    "provider-config-ignored",
                    key,
                    `has no effect: this program deploys through a Kubernetes provider of its own, configured by ${KUBE_CONTEXT}, which ignores kubernetes: keys`,
                    fix,
                ),
            );
        }
    }
    return problems;
}
