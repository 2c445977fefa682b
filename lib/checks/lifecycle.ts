import type { PlatformConfig } from "../config";
import { MOVE_OUTAGE } from "../lifecycle/binding";
import { DELETION_POLICY_EFFECT } from "../lifecycle/destroy";
import { configPath, Problem, warning } from "../problems";
import type { Check } from "./types";

/**
 * Settings that let an update or a destroy take something away from a
 * running cluster: said in the plan, before `pulumi up`. Partial: each
 * warning reads only the sections it names, and a section that did not
 * parse (undefined here) skips only its own.
 */
function lifecycleWarnings(config: Partial<PlatformConfig>): Problem[] {
    const problems: Problem[] = [];
    if (!config.lifecycle) return problems;
    if (!config.lifecycle.protect) {
        problems.push(
            warning(
                "protection-off",
                configPath(["lifecycle", "protect"]),
                "is false: the network phase and CoreDNS are not protected, the FluxInstance goes with the platform (the Flux Operator then uninstalls Flux), and `pulumi destroy` removes everything this program deployed",
                "set it back to true unless this cluster's platform is being torn down on purpose (docs/destroy.md)",
                false,
            ),
        );
    }
    config.lifecycle.allowNamespaceMove.forEach((section, i) => {
        const namespace = config[section]?.namespace;
        if (namespace === undefined) return;
        problems.push(
            warning(
                "namespace-move-allowed",
                configPath(["lifecycle", "allowNamespaceMove", i]),
                `lets the ${section} release be uninstalled and then installed in ${namespace} when its namespace differs from the one the last \`pulumi up\` recorded: ${MOVE_OUTAGE[section]}; its section is not protected meanwhile`,
                "remove the entry once the move is done",
                section,
            ),
        );
    });
    // With flux.sync the program creates no Kustomization: the policy that matters is the repository's.
    if (!config.flux || config.flux.sync) return problems;
    const policy = config.flux.deletionPolicy;
    const pruning = config.flux.phases.some((p) => p.kustomizations.some((k) => k.prune));
    if (policy === "Delete" || policy === "WaitForTermination" || (policy === "MirrorPrune" && pruning)) {
        problems.push(
            warning(
                "flux-deletes-workloads",
                configPath(["flux", "deletionPolicy"]),
                `is ${policy}: deleting a Kustomization (\`pulumi destroy\`, or one removed from flux.phases) deletes what it applied: ${DELETION_POLICY_EFFECT[policy]}`,
                "use Orphan unless this cluster's workloads are being removed on purpose",
                policy,
            ),
        );
    }
    return problems;
}

export const lifecycleChecks: Check[] = [{ name: "lifecycle-settings", partial: true, run: lifecycleWarnings }];
