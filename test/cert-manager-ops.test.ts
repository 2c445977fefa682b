import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { validateConfig } from "../lib/config";
import { caCertificate, certManagerValues } from "../lib/values/cert-manager";
import { defaultCertificate } from "../lib/values/ingress-nginx";
import { byName, devSections, Json, newErrors, ofType, planDev, raw } from "./helpers";
import { crdErrors, SCHEMAS, valuesErrors } from "./schemas";

function check(edit?: (s: Record<string, Json>) => void) {
    const s = devSections();
    edit?.(s);
    return validateConfig(raw(s));
}
/** The errors an edit of the dev stack brings; a warning the test did not name fails it (see newErrors). */
const errors = (edit: (s: Record<string, Json>) => void, warnings: string[] = []) => newErrors(edit, { warnings });

/** The Certificate CRD's own words on rotationPolicy (cert-manager v1.21.1, vendored). */
const ROTATION = JSON.parse(fs.readFileSync(path.join(SCHEMAS, "json-strict", "cert-manager.io_v1", "Certificate.json"), "utf8")).properties
    .spec.properties.privateKey.properties.rotationPolicy;

describe("cert-manager operations", () => {
    describe("the CA's key", () => {
        const config = check().config!;
        const ca = caCertificate(config.certManager.issuers[1], config.certManager)!;

        it("never rotates at renewal: the CRD's Never, since cert-manager 1.18 defaults to Always", () => {
            expect(ROTATION.description).to.contain("The default was changed from `Never` to `Always` in cert-manager >=v1.18.0");
            expect(ROTATION.enum).to.include("Never");
            expect((ca.spec.privateKey as Json).rotationPolicy).to.equal("Never");
            expect(crdErrors(ca)).to.deep.equal([]);
        });

        it("would be refused by the CRD in any other spelling", () => {
            const wrong = structuredClone(ca);
            (wrong.spec.privateKey as Json).rotationPolicy = "never";
            expect(crdErrors(wrong).join("\n")).to.contain("rotationPolicy");
        });

        it("is the only one pinned: leaf certificates keep cert-manager's default and rotate", () => {
            expect(defaultCertificate(config.ingressNginx)!.spec).to.not.have.property("privateKey");
        });

        it("reaches the plan on the CA Certificate", async () => {
            const plan = await planDev();
            const certs = ofType(plan, "kubernetes:cert-manager.io/v1:Certificate").filter((c) => (c.inputs.spec as Json).isCA);
            expect(certs.map((c) => (c.inputs.spec as Json).privateKey.rotationPolicy)).to.deep.equal(["Never"]);
        });
    });

    describe("webhook replicas", () => {
        const replicas = (edit?: (s: Record<string, Json>) => void) => {
            const c = check(edit).config!;
            return (certManagerValues(c.certManager, c.cluster) as Json).webhook;
        };

        it("default to 2, spread across nodes with a budget of one", () => {
            const w = replicas();
            expect(w.replicaCount).to.equal(2);
            expect(w.podDisruptionBudget).to.deep.equal({ enabled: true, minAvailable: 1 });
        });

        it("take cert-manager's best-practice 3, within the chart's schema", () => {
            const c = check((s) => (s.certManager.webhookReplicas = 3)).config!;
            const v = certManagerValues(c.certManager, c.cluster) as Json;
            expect(v.webhook.replicaCount).to.equal(3);
            expect(v.replicaCount, "the controller keeps its 2").to.equal(2);
            expect(valuesErrors("cert-manager", "v1.21.1", v)).to.deep.equal([]);
        });

        it("refuse fewer than 2 at the typed key, and accept exactly 2", () => {
            // A schema minimum: the section does not parse, and the checks that read it wait for the fix.
            const p = errors((s) => (s.certManager.webhookReplicas = 1), ["checks-skipped"]);
            expect(p.map((x) => [x.path, x.message])).to.deep.equal([["talos-platform:certManager.webhookReplicas", "must be at least 2"]]);
            expect(errors((s) => (s.certManager.webhookReplicas = 2))).to.deep.equal([]);
        });

        it("point a single replica set through the values at the typed key", () => {
            const p = errors((s) => (s.certManager.values = { webhook: { replicaCount: 1 } }));
            expect(p.map((x) => x.path)).to.deep.equal(["talos-platform:certManager.values.webhook.replicaCount"]);
            expect(p[0].fix).to.contain("talos-platform:certManager.webhookReplicas");
        });

        it("reach the release in the plan", async () => {
            const plan = await planDev((s) => (s.certManager.webhookReplicas = 3));
            expect((byName(plan, "cert-manager-release").inputs.values as Json).webhook.replicaCount).to.equal(3);
        });
    });
});
