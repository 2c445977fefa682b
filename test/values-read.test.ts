import { expect } from "chai";
import { isIllTyped, KIND, readValue, switchOn, valueTypeProblems } from "../lib/values/read";

describe("typed reads of merged chart values", () => {
    const values = { service: { clusterIPs: ["10.96.0.10", 3], name: "kube-dns" }, labels: { a: "1" }, flag: "false", servers: "oops" };

    it("returns a value only when it has its kind", () => {
        expect(readValue(values, "service.name", KIND.string)).to.equal("kube-dns");
        expect(readValue(values, "labels", KIND.stringMap)).to.deep.equal({ a: "1" });
        expect(readValue(values, "service.clusterIPs", KIND.strings)).to.equal(undefined);
        expect(readValue(values, "service.missing", KIND.string)).to.equal(undefined);
        expect(readValue(values, "service.name.deeper", KIND.string)).to.equal(undefined);
        expect(isIllTyped(values, "service.clusterIPs", KIND.strings)).to.equal(true);
        expect(isIllTyped(values, "service.missing", KIND.strings)).to.equal(false);
    });

    it("reports each ill-typed key once, at the innermost offending element, under <section>.values", () => {
        const problems = valueTypeProblems("coredns", values, {
            "service.clusterIPs": KIND.strings,
            "service.name": KIND.string,
            servers: KIND.maps,
            "service.name.deeper": KIND.string,
        });
        expect(problems.map((p) => [p.path, p.message, p.value])).to.deep.equal([
            ["talos-platform:coredns.values.service.clusterIPs[1]", "must be a string, not a number", 3],
            ["talos-platform:coredns.values.servers", "must be a list of maps, not a string", "oops"],
            ["talos-platform:coredns.values.service.name", "must be a map, not a string", "kube-dns"],
        ]);
        expect(problems.every((p) => p.severity === "error" && p.fix)).to.equal(true);
    });

    it("reads a switch the way Helm's `if` does: unset is the chart default, and a non-empty string is on", () => {
        expect(switchOn(values, "flag", false)).to.equal(true);
        expect(switchOn(values, "missing", true)).to.equal(true);
        expect(switchOn({ x: false }, "x", true)).to.equal(false);
        expect(switchOn({ x: "" }, "x", true)).to.equal(false);
        expect(switchOn({ x: 0 }, "x", true)).to.equal(false);
        expect(switchOn({ x: {} }, "x", true)).to.equal(false);
    });
});
