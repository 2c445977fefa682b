import { expect } from "chai";
import fc from "fast-check";
import { reservedClusterIP } from "../lib/checks/dns";
import { poolRanges } from "../lib/checks/ingress";
import { contained } from "../lib/checks/network";
import { nodeBlocks } from "../lib/checks/node-ipam";
import {
    addressFamily,
    addressValue,
    contains,
    hasHostBits,
    isAddress,
    nthAddress,
    overlaps,
    parseCidr,
    parseRange,
    Range,
} from "../lib/net";

// Property tests of the address math (lib/net.ts and the checks built on it)
// against a reference model written here from the RFCs: an address is a
// number of 32 or 128 bits, a CIDR the numbers that share its first `prefix`
// bits. The model shares no code with lib/: it renders addresses to text
// itself (RFC 791 dotted quads, RFC 4291 and RFC 5952 for IPv6) and does all
// arithmetic on BigInt. Runs are bounded so the suite stays fast; a failure
// prints its seed and the smallest counterexample fast-check found.

const RUNS = { numRuns: 300 };

type Family = "ipv4" | "ipv6";
const BITS: Record<Family, number> = { ipv4: 32, ipv6: 128 };

/** The addresses a /prefix of the family spans, as the model sees them. */
function block(family: Family, prefix: number): bigint {
    return 1n << BigInt(BITS[family] - prefix);
}

function netOf(family: Family, value: bigint, prefix: number): { start: bigint; end: bigint } {
    const size = block(family, prefix);
    const start = value - (value % size);
    return { start, end: start + size - 1n };
}

function v4Text(v: bigint): string {
    return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join(".");
}

function v6Groups(v: bigint): number[] {
    return Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(112 - 16 * i)) & 0xffffn));
}

/** RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups (the first, on a tie) as "::". */
function v6Canonical(v: bigint): string {
    const g = v6Groups(v);
    let best = { at: -1, len: 1 };
    for (let i = 0; i < 8;) {
        if (g[i] !== 0) {
            i++;
            continue;
        }
        let j = i;
        while (j < 8 && g[j] === 0) j++;
        if (j - i > best.len) best = { at: i, len: j - i };
        i = j;
    }
    const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
    if (best.at < 0) return hex(g);
    return `${hex(g.slice(0, best.at))}::${hex(g.slice(best.at + best.len))}`;
}

/** Every way the model writes an address: IPv4 as a dotted quad; IPv6 canonical, full with leading zeros, or full without. */
function renderings(family: Family, v: bigint): string[] {
    if (family === "ipv4") return [v4Text(v)];
    const g = v6Groups(v);
    return [v6Canonical(v), g.map((x) => x.toString(16).padStart(4, "0")).join(":"), g.map((x) => x.toString(16)).join(":")];
}

const family = fc.constantFrom<Family>("ipv4", "ipv6");

/** An address of the family, drawn so that the ends of the space and runs of zero groups come up often. */
const address = (f: Family) =>
    fc.oneof(
        fc.bigInt({ min: 0n, max: (1n << BigInt(BITS[f])) - 1n }),
        fc.constantFrom(0n, 1n, (1n << BigInt(BITS[f])) - 1n, (1n << BigInt(BITS[f])) - 2n),
        // Sparse values: a few set 16-bit groups, the rest zero.
        fc
            .array(fc.tuple(fc.nat({ max: BITS[f] / 16 - 1 || 1 }), fc.integer({ min: 0, max: 0xffff })), { maxLength: 3 })
            .map((gs) => gs.reduce((acc, [i, x]) => acc | (BigInt(x) << BigInt(16 * i)), 0n) & ((1n << BigInt(BITS[f])) - 1n)),
    );

const cidrOf = (f: Family) =>
    fc.record({
        family: fc.constant(f),
        value: address(f),
        prefix: fc.integer({ min: 0, max: BITS[f] }),
        form: fc.nat({ max: 2 }),
    });
const anyCidr = family.chain(cidrOf);

/** The text the model writes for a CIDR draw. */
function cidrText(c: { family: Family; value: bigint; prefix: number; form: number }): string {
    const forms = renderings(c.family, c.value);
    return `${forms[c.form % forms.length]}/${c.prefix}`;
}

/** An address near a range's ends (one before, the first, the last, one after) or anywhere, within the family's space. */
function probeNear(f: Family, start: bigint, end: bigint) {
    const max = (1n << BigInt(BITS[f])) - 1n;
    return fc
        .oneof(fc.constantFrom(start - 1n, start, end, end + 1n), fc.bigInt({ min: start, max: end }), fc.bigInt({ min: 0n, max }))
        .filter((v) => v >= 0n && v <= max);
}

describe("address math against a BigInt reference model (fast-check)", () => {
    it("reads every rendering of an address as the same number and family", () => {
        fc.assert(
            fc.property(
                family.chain((f) => fc.tuple(fc.constant(f), address(f))),
                ([f, v]) => {
                    for (const text of renderings(f, v)) {
                        expect(addressValue(text), text).to.deep.equal({ family: f, value: v });
                        expect(addressFamily(text), text).to.equal(f);
                        expect(isAddress(text), text).to.equal(true);
                        // A CIDR is not an address.
                        expect(isAddress(`${text}/${BITS[f]}`), text).to.equal(false);
                    }
                },
            ),
            RUNS,
        );
    });

    it("parses a CIDR to the range its prefix spans, its network address, and whether host bits are set", () => {
        fc.assert(
            fc.property(anyCidr, (c) => {
                const text = cidrText(c);
                const parsed = parseCidr(text);
                const { start, end } = netOf(c.family, c.value, c.prefix);
                expect(parsed, text).to.not.equal(undefined);
                expect({ family: parsed!.family, prefix: parsed!.prefix, start: parsed!.start, end: parsed!.end }, text).to.deep.equal({
                    family: c.family,
                    prefix: c.prefix,
                    start,
                    end,
                });
                expect(parsed!.network, text).to.equal(c.family === "ipv4" ? v4Text(start) : v6Canonical(start));
                expect(hasHostBits(parsed!), text).to.equal(c.value !== start);
            }),
            RUNS,
        );
    });

    it("refuses a prefix longer than the family's address", () => {
        fc.assert(
            fc.property(
                family.chain((f) => fc.tuple(fc.constant(f), address(f), fc.integer({ min: BITS[f] + 1, max: 999 }))),
                ([f, v, prefix]) => {
                    expect(parseCidr(`${renderings(f, v)[0]}/${prefix}`)).to.equal(undefined);
                },
            ),
            RUNS,
        );
    });

    it("contains an address exactly when it lies between the first and the last address, both included", () => {
        fc.assert(
            fc.property(
                anyCidr.chain((c) => {
                    const { start, end } = netOf(c.family, c.value, c.prefix);
                    return fc.tuple(fc.constant(c), probeNear(c.family, start, end));
                }),
                ([c, probe]) => {
                    const range = parseCidr(cidrText(c))!;
                    const text = renderings(c.family, probe)[0];
                    expect(contains(range, text), `${cidrText(c)} ∋ ${text}`).to.equal(probe >= range.start && probe <= range.end);
                },
            ),
            RUNS,
        );
    });

    it("never finds an address in a range of the other family", () => {
        fc.assert(
            fc.property(anyCidr, address("ipv4"), address("ipv6"), (c, v4, v6) => {
                const range = parseCidr(cidrText(c))!;
                const other = c.family === "ipv4" ? renderings("ipv6", v6)[0] : v4Text(v4);
                expect(contains(range, other)).to.equal(false);
            }),
            RUNS,
        );
    });

    it("reads a start/stop pair as the range from start to stop, and refuses one that runs backwards or mixes families", () => {
        fc.assert(
            fc.property(
                family.chain((f) => fc.tuple(fc.constant(f), address(f), address(f))),
                fc.boolean(),
                ([f, a, b], mixed) => {
                    const start = renderings(f, a)[0];
                    const stop = mixed ? (f === "ipv4" ? "::1" : "10.0.0.1") : renderings(f, b)[0];
                    const r = parseRange(start, stop);
                    if (mixed || a > b) expect(r, `${start}-${stop}`).to.equal(undefined);
                    else expect(r, `${start}-${stop}`).to.deep.equal({ family: f, start: a, end: b });
                },
            ),
            RUNS,
        );
    });

    it("says two ranges overlap exactly when they share an address, whichever comes first", () => {
        const range = (f: Family) =>
            fc.tuple(address(f), address(f)).map(([a, b]): Range => ({ family: f, start: a < b ? a : b, end: a < b ? b : a }));
        const nearby = (f: Family) =>
            range(f).chain((x) =>
                fc
                    .oneof(
                        range(f),
                        // The other range starting or ending at, or one past, this one's ends.
                        fc
                            .tuple(fc.constantFrom(x.start - 1n, x.start, x.end, x.end + 1n), address(f))
                            .map(([edge, other]): Range => ({
                                family: f,
                                start: edge < other ? edge : other,
                                end: edge < other ? other : edge,
                            }))
                            .filter((r) => r.start >= 0n && r.end < 1n << BigInt(BITS[f])),
                    )
                    .map((y) => [x, y] as const),
            );
        fc.assert(
            fc.property(family.chain(nearby), fc.boolean(), ([a, b], swapFamily) => {
                const shared = (a.start > b.start ? a.start : b.start) <= (a.end < b.end ? a.end : b.end);
                expect(overlaps(a, b)).to.equal(shared);
                expect(overlaps(b, a)).to.equal(shared);
                const other: Range = { ...b, family: b.family === "ipv4" ? "ipv6" : "ipv4" };
                if (swapFamily) expect(overlaps(a, other)).to.equal(false);
            }),
            RUNS,
        );
    });

    it("says a CIDR lies inside another exactly when its range does, and CIDRs either nest or do not overlap", () => {
        fc.assert(
            fc.property(
                family.chain((f) => fc.tuple(cidrOf(f), cidrOf(f))),
                ([x, y]) => {
                    const a = parseCidr(cidrText(x))!;
                    const b = parseCidr(cidrText(y))!;
                    const inside = a.start >= b.start && a.end <= b.end;
                    expect(contained(a, b)).to.equal(inside);
                    if (overlaps(a, b)) expect(contained(a, b) || contained(b, a)).to.equal(true);
                    // IPv4 and IPv6 are separate address spaces: no range lies inside one of the other family.
                    expect(contained(a, { ...b, family: b.family === "ipv4" ? "ipv6" : "ipv4" })).to.equal(false);
                },
            ),
            RUNS,
        );
    });

    it("gives the n-th address of a subnet, and none past its end", () => {
        fc.assert(
            fc.property(anyCidr, fc.oneof(fc.nat({ max: 20 }), fc.nat()), (c, n) => {
                const parsed = parseCidr(cidrText(c))!;
                const v = parsed.start + BigInt(n);
                const expected = v > parsed.end ? undefined : c.family === "ipv4" ? v4Text(v) : v6Canonical(v);
                expect(nthAddress(parsed, n), `${cidrText(c)} #${n}`).to.equal(expected);
            }),
            RUNS,
        );
    });

    it("counts a pod subnet's node blocks, and those its Service subnets take, block by block", () => {
        // Node masks at most 10 bits longer than the pod prefix: the model walks every block.
        const scenario = family.chain((f) =>
            fc
                .record({ pod: cidrOf(f), extra: fc.integer({ min: 0, max: 10 }) })
                .filter(({ pod, extra }) => pod.prefix + extra <= BITS[f])
                .chain(({ pod, extra }) => {
                    const mask = pod.prefix + extra;
                    const { start, end } = netOf(f, pod.value, pod.prefix);
                    // Service subnets inside the pod subnet (at any prefix at least as long), or anywhere.
                    const inside = fc
                        .record({ prefix: fc.integer({ min: pod.prefix, max: BITS[f] }), at: fc.bigInt({ min: start, max: end }) })
                        .map((s) => ({ family: f, value: s.at, prefix: s.prefix, form: 0 }));
                    return fc.tuple(fc.constant(pod), fc.constant(mask), fc.array(fc.oneof(inside, cidrOf(f)), { maxLength: 3 }));
                }),
        );
        fc.assert(
            fc.property(scenario, ([pod, mask, services]) => {
                const podCidr = parseCidr(cidrText(pod))!;
                const svc = services.map((s) => parseCidr(cidrText(s))!);
                const size = block(pod.family, mask);
                const total = 1n << BigInt(mask - pod.prefix);
                const taken = new Set<bigint>();
                for (let i = 0n; i < total; i++) {
                    const from = podCidr.start + i * size;
                    const to = from + size - 1n;
                    // A block is taken when a Service subnet that lies inside the pod subnet shares an address with it.
                    if (svc.some((s) => s.start >= podCidr.start && s.end <= podCidr.end && s.start <= to && from <= s.end)) taken.add(i);
                }
                expect(nodeBlocks(podCidr, mask, svc)).to.deep.equal({ total, taken: BigInt(taken.size) });
            }),
            { numRuns: 150 },
        );
    });

    it("hands out a CIDR pool's first and last address only when allowFirstLastIPs is not false, or the block has at most two", () => {
        fc.assert(
            fc.property(anyCidr, fc.constantFrom<boolean | undefined>(true, false, undefined), (c, allow) => {
                const text = cidrText(c);
                const [r] = poolRanges({ name: "p", blocks: [{ cidr: text }], allowFirstLastIPs: allow } as never);
                const { start, end } = netOf(c.family, c.value, c.prefix);
                const trim = allow === false && end - start + 1n > 2n ? 1n : 0n;
                expect(r, text).to.deep.equal({ family: c.family, start: start + trim, end: end - trim });
            }),
            RUNS,
        );
    });

    it("refuses as a ClusterIP the subnet's first address, an IPv4 subnet's last, and the primary subnet's second, nothing else", () => {
        fc.assert(
            fc.property(
                anyCidr.chain((c) => {
                    const { start, end } = netOf(c.family, c.value, c.prefix);
                    return fc.tuple(
                        fc.constant(c),
                        fc.oneof(fc.constantFrom(start, start + 1n, start + 2n, end - 1n, end), fc.bigInt({ min: start, max: end })),
                        fc.boolean(),
                    );
                }),
                ([c, ip, primary]) => {
                    const subnet = parseCidr(cidrText(c))!;
                    if (ip < subnet.start || ip > subnet.end) return;
                    const text = renderings(c.family, ip)[0];
                    const reserved =
                        ip === subnet.start || (c.family === "ipv4" && ip === subnet.end) || (primary && ip === subnet.start + 1n);
                    expect(reservedClusterIP(subnet, text, primary) !== undefined, `${text} in ${cidrText(c)}`).to.equal(reserved);
                },
            ),
            RUNS,
        );
    });
});

describe("parseCidr's memory of what it parsed", () => {
    it("answers a text again with the same frozen range, and still parses right after many distinct texts", () => {
        const first = parseCidr("10.96.0.0/12")!;
        expect(parseCidr("10.96.0.0/12")).to.equal(first);
        expect(Object.isFrozen(first)).to.equal(true);
        expect(() => ((first as { prefix: number }).prefix = 8)).to.throw(TypeError);
        // Past any bound: 3,000 distinct texts, then the first one again, and one it never saw.
        for (let i = 0; i < 3000; i++) parseCidr(`10.${i >> 8}.${i & 255}.0/24`);
        expect(parseCidr("10.96.0.0/12")).to.deep.include({ family: "ipv4", prefix: 12, network: "10.96.0.0" });
        expect(parseCidr("10.96.0.0/12")!.end - parseCidr("10.96.0.0/12")!.start).to.equal(2n ** 20n - 1n);
        expect(parseCidr("fd00::/8")).to.deep.include({ family: "ipv6", prefix: 8 });
        expect(parseCidr("10.96.0.0/33")).to.equal(undefined);
    });
});
