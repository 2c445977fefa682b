import { Address4, Address6 } from "ip-address";

// Address math for subnets and pools, on ip-address so both families share
// one code path through BigInt ranges.

export type Family = "ipv4" | "ipv6";

export interface Range {
    family: Family;
    start: bigint;
    end: bigint;
}

export interface Cidr extends Range {
    text: string;
    prefix: number;
    /** The canonical network address, e.g. 10.96.0.0 for 10.96.1.0/12. */
    network: string;
}

function parseAddress(text: string): Address4 | Address6 | undefined {
    if (text.includes("/")) return undefined;
    if (Address4.isValid(text)) return new Address4(text);
    if (Address6.isValid(text)) return new Address6(text);
    return undefined;
}

export function addressFamily(text: string): Family | undefined {
    const a = parseAddress(text);
    if (!a) return undefined;
    return a instanceof Address4 ? "ipv4" : "ipv6";
}

export function isAddress(text: string): boolean {
    return parseAddress(text) !== undefined;
}

export function addressValue(text: string): { family: Family; value: bigint } | undefined {
    const a = parseAddress(text);
    if (!a) return undefined;
    return { family: a instanceof Address4 ? "ipv4" : "ipv6", value: a.bigInt() };
}

/**
 * The CIDRs parsed so far. The checks ask for the same few subnets again and
 * again (each pool against each subnet), and ip-address parses with regular
 * expressions: about 2 s of the test suite's CPU went there. Bounded, for a
 * caller that parses many distinct texts (the property tests).
 */
const parsed = new Map<string, Readonly<Cidr> | undefined>();
const PARSED_MAX = 1024;

/** Parses "a.b.c.d/n" or "x::/n". Undefined when the text is not a CIDR. The result is frozen: it is shared. */
export function parseCidr(text: string): Readonly<Cidr> | undefined {
    if (parsed.has(text)) return parsed.get(text);
    if (parsed.size >= PARSED_MAX) parsed.clear();
    const c = parseCidrAfresh(text);
    parsed.set(text, c && Object.freeze(c));
    return c;
}

function parseCidrAfresh(text: string): Cidr | undefined {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
    if (!m) return undefined;
    const prefix = Number(m[2]);
    let a: Address4 | Address6;
    if (Address4.isValid(m[1]) && prefix <= 32) a = new Address4(text.trim());
    else if (Address6.isValid(m[1]) && prefix <= 128) a = new Address6(text.trim());
    else return undefined;
    const v4 = a instanceof Address4;
    const start = a.startAddress();
    return {
        text,
        family: v4 ? "ipv4" : "ipv6",
        prefix,
        start: start.bigInt(),
        end: a.endAddress().bigInt(),
        network: v4 ? start.correctForm() : (start as Address6).correctForm(),
    };
}

/** True when the address part has bits set beyond the prefix (10.96.1.0/12). */
export function hasHostBits(c: Cidr): boolean {
    const a = addressValue(c.text.split("/")[0]);
    return a !== undefined && a.value !== c.start;
}

export function overlaps(a: Range, b: Range): boolean {
    return a.family === b.family && a.start <= b.end && b.start <= a.end;
}

export function contains(r: Range, address: string): boolean {
    const a = addressValue(address);
    return a !== undefined && a.family === r.family && a.value >= r.start && a.value <= r.end;
}

/** The n-th address of a subnet: 1 is the kubernetes Service, 10 is CoreDNS. */
export function nthAddress(c: Cidr, n: number): string | undefined {
    const v = c.start + BigInt(n);
    if (v > c.end) return undefined;
    return c.family === "ipv4" ? Address4.fromBigInt(v).correctForm() : Address6.fromBigInt(v).correctForm();
}

/** A start/stop pair as Cilium LB IPAM takes it. Undefined when invalid. */
export function parseRange(start: string, stop: string): Range | undefined {
    const a = addressValue(start);
    const b = addressValue(stop);
    if (!a || !b || a.family !== b.family || a.value > b.value) return undefined;
    return { family: a.family, start: a.value, end: b.value };
}

/** An address as a URL or `host:port` writes it: IPv6 in brackets. */
export function urlHost(address: string): string {
    return address.includes(":") ? `[${address}]` : address;
}
