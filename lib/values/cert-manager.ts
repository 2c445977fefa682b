import type { CertManagerConfig } from "../config/cert-manager";
import { mergeValues, Values } from "../merge";

/** cert-manager chart values; `certManager.values` merged last. */
export function certManagerValues(certManager: CertManagerConfig): Values {
    const computed: Values = {
        // Keep the CRDs on uninstall: deleting them deletes every Certificate.
        crds: { enabled: true, keep: true },
        replicaCount: 1,
        webhook: { replicaCount: 1 },
        cainjector: { enabled: true },
    };
    return mergeValues(computed, certManager.values);
}
