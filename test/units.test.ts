import { expect } from "chai";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { durationMs } from "../lib/config/common";
import { mergeValues, valueAt } from "../lib/merge";
import { contains, hasHostBits, nthAddress, overlaps, parseCidr, parseRange } from "../lib/net";
import { redactSecrets, unwrapSecrets } from "../lib/plan/run";

describe("address math", () => {
    it("parses both families and rejects malformed CIDRs", () => {
        expect(parseCidr("10.96.0.0/12")).to.include({ family: "ipv4", prefix: 12, network: "10.96.0.0" });
        expect(parseCidr("fd47:25e1:2f96:51:1000::/108")).to.include({ family: "ipv6", prefix: 108 });
        for (const bad of ["10.96.0.0/33", "10.96.0/12", "10.96.0.0", "fd47::/129", "nope/8"])
            expect(parseCidr(bad), bad).to.equal(undefined);
    });

    it("finds the kubernetes Service and CoreDNS addresses of a Service subnet", () => {
        expect(nthAddress(parseCidr("10.96.0.0/12")!, 1)).to.equal("10.96.0.1");
        expect(nthAddress(parseCidr("10.96.0.0/12")!, 10)).to.equal("10.96.0.10");
        expect(nthAddress(parseCidr("fd47:25e1:2f96:51:1000::/108")!, 10)).to.equal("fd47:25e1:2f96:51:1000::a");
        expect(nthAddress(parseCidr("10.0.0.0/30")!, 10)).to.equal(undefined);
    });

    it("detects overlap only within one family", () => {
        const a = parseCidr("10.96.0.0/12")!;
        expect(overlaps(a, parseCidr("10.100.0.0/16")!)).to.equal(true);
        expect(overlaps(a, parseCidr("10.244.0.0/16")!)).to.equal(false);
        expect(overlaps(parseCidr("::/0")!, a)).to.equal(false);
    });

    it("knows host bits, containment and ranges", () => {
        expect(hasHostBits(parseCidr("fd47:25e1:2f96:51:2000::/64")!)).to.equal(true);
        expect(hasHostBits(parseCidr("10.96.0.0/12")!)).to.equal(false);
        expect(contains(parseCidr("172.29.51.0/24")!, "172.29.51.1")).to.equal(true);
        expect(contains(parseCidr("172.29.51.0/24")!, "172.29.52.1")).to.equal(false);
        expect(parseRange("172.29.51.100", "172.29.51.150")).to.include({ family: "ipv4" });
        expect(parseRange("172.29.51.150", "172.29.51.100")).to.equal(undefined);
        expect(parseRange("172.29.51.1", "fd00::1")).to.equal(undefined);
    });
});

describe("values merge", () => {
    it("merges maps, replaces lists and scalars, and deletes keys set to null, like Helm", () => {
        const base = { a: { b: 1, c: [1, 2] }, d: "x", e: true };
        const merged = mergeValues(base, { a: { c: [3] }, d: null, f: 1 });
        expect(merged).to.deep.equal({ a: { b: 1, c: [3] }, e: true, f: 1 });
        expect(base.a.c).to.deep.equal([1, 2]);
        expect(valueAt(merged, "a.b")).to.equal(1);
        expect(valueAt(merged, "a.b.z")).to.equal(undefined);
    });
});

describe("durations", () => {
    it("reads Go durations", () => {
        expect(durationMs("2m")).to.equal(120_000);
        expect(durationMs("1h30m")).to.equal(5_400_000);
        expect(durationMs("1.5s")).to.equal(1500);
    });
});

describe("secret handling in recorded inputs", () => {
    const wrapped = { [specialSigKey]: specialSecretSig, value: { token: "hunter2" } };

    it("replaces every secret with [secret] in plan output", () => {
        const out = redactSecrets({ stringData: wrapped, list: [wrapped], plain: "x" });
        expect(out).to.deep.equal({ stringData: "[secret]", list: ["[secret]"], plain: "x" });
        expect(JSON.stringify(out)).to.not.contain("hunter2");
    });

    it("hands policies the plaintext, as CrossGuard does", () => {
        expect(unwrapSecrets({ s: wrapped })).to.deep.equal({ s: { token: "hunter2" } });
    });
});
