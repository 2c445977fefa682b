import { expect } from "chai";
import { crdErrors, valuesErrors } from "./schemas";
import { ciliumValues } from "../lib/values/cilium";
import { certManagerValues } from "../lib/values/cert-manager";
import { fluxInstance, gitRepository } from "../lib/values/flux";
import { validateConfig } from "../lib/config";
import { devSections, raw } from "./helpers";

describe("schema checker", () => {
    it("catches a misspelled field in a strict CRD schema", () => {
        const obj = {
            apiVersion: "source.toolkit.fluxcd.io/v1",
            kind: "GitRepository",
            metadata: { name: "x" },
            spec: { url: "https://x", intervall: "1m" },
        };
        expect(crdErrors(obj)).to.include(`/spec must NOT have additional properties {"additionalProperty":"intervall"}`);
    });
});

describe("foundation objects against upstream schemas", () => {
    const config = validateConfig(raw(devSections())).config!;

    it("the Cilium values validate against Cilium 1.19.4's values.schema.json", () => {
        expect(valuesErrors("cilium", "1.19.4", ciliumValues(config.cluster, config.cilium, config.gateway))).to.deep.equal([]);
    });

    it("the cert-manager values validate against v1.21.1's values.schema.json", () => {
        expect(
            valuesErrors(
                "cert-manager",
                "v1.21.1",
                certManagerValues(config.certManager, config.cluster, { gatewayApi: config.gateway.enabled }),
            ),
        ).to.deep.equal([]);
    });

    it("the FluxInstance and GitRepository conform to their strict CRD schemas", () => {
        expect(crdErrors(fluxInstance(config.cluster, config.flux))).to.deep.equal([]);
        expect(crdErrors(gitRepository(config.flux))).to.deep.equal([]);
    });
});
