/**
 * The canonical form a signature covers (RFC 4034 §6, as amended by RFC 6840 §5.1): owner and
 * the names inside the RDATA of the older types lower-cased and uncompressed, the records of an
 * RRset sorted by their RDATA octets, duplicates dropped, every TTL the original TTL.
 *
 * Zone RDATA is already uncompressed; only its case is changed here. In a wire name a length
 * octet is at most 63, below 'A' (65), so a name is lower-cased by lower-casing every octet.
 */
import { endOfWireName } from "../proto/name.js";
import { T } from "../proto/types.js";

/** RDATA layouts whose names are lower-cased: fixed octets to keep, a name, or a character-string. */
type Part = number | "name" | "string";

const LAYOUTS = new Map<number, readonly Part[]>([
  [T.NS, ["name"]],
  [T.MD, ["name"]],
  [T.MF, ["name"]],
  [T.CNAME, ["name"]],
  [T.SOA, ["name", "name"]],
  [T.MB, ["name"]],
  [T.MG, ["name"]],
  [T.MR, ["name"]],
  [T.PTR, ["name"]],
  [T.MINFO, ["name", "name"]],
  [T.MX, [2, "name"]],
  [T.RP, ["name", "name"]],
  [T.AFSDB, [2, "name"]],
  [T.RT, [2, "name"]],
  [26, [2, "name", "name"]], // PX
  [T.NAPTR, [4, "string", "string", "string", "name"]],
  [T.KX, [2, "name"]],
  [T.SRV, [6, "name"]],
  [T.DNAME, ["name"]],
  [T.RRSIG, [18, "name"]],
]);

function lowerRange(b: Buffer, from: number, to: number): void {
  for (let i = from; i < to && i < b.length; i++) {
    const c = b[i]!;
    if (c >= 0x41 && c <= 0x5a) b[i] = c | 0x20;
  }
}

/** A wire name lower-cased (a copy). */
export function lowerName(wire: Buffer): Buffer {
  const out = Buffer.from(wire);
  lowerRange(out, 0, out.length);
  return out;
}

/** The RDATA with its embedded names lower-cased where RFC 4034 §6.2 says so (a copy, or the same buffer). */
export function canonicalRdata(type: number, rdata: Buffer): Buffer {
  const layout = LAYOUTS.get(type);
  if (layout === undefined) return rdata;
  const out = Buffer.from(rdata);
  let o = 0;
  for (const part of layout) {
    if (o >= out.length) break;
    if (part === "name") {
      const end = endOfWireName(out, o);
      lowerRange(out, o, end);
      o = end;
    } else if (part === "string") o += out[o]! + 1;
    else o += part;
  }
  return out;
}

/**
 * The records of an RRset as a signature covers them (RFC 4034 §3.1.8.1), after the RRSIG
 * RDATA without its signature: owner | type | class IN | original TTL | RDLENGTH | RDATA, sorted.
 */
export function rrsetData(owner: Buffer, type: number, ttl: number, rdatas: readonly Buffer[]): Buffer {
  const lowered = lowerName(owner);
  const sorted = rdatas.map((r) => canonicalRdata(type, r)).sort(Buffer.compare);
  const unique = sorted.filter((r, i) => i === 0 || !r.equals(sorted[i - 1]!));
  let size = 0;
  for (const r of unique) size += lowered.length + 10 + r.length;
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (const r of unique) {
    o += lowered.copy(out, o);
    out.writeUInt16BE(type, o);
    out.writeUInt16BE(1, o + 2);
    out.writeUInt32BE(ttl, o + 4);
    out.writeUInt16BE(r.length, o + 8);
    o += 10;
    o += r.copy(out, o);
  }
  return out;
}

/** Labels of a wire name, not counting the root or a leading `*` (RFC 4034 §3.1.3). */
export function signatureLabels(owner: Buffer): number {
  let n = 0;
  for (let o = 0; owner[o]! !== 0; o += owner[o]! + 1) n++;
  if (owner[0] === 1 && owner[1] === 0x2a) n--;
  return n;
}

/**
 * Canonical name order (RFC 4034 §6.1): labels compared from the root end, each as lower-cased
 * octets, a label that is a prefix of another sorting first. Negative, 0 or positive.
 */
export function compareNames(a: Buffer, b: Buffer): number {
  const la = labelsOf(a);
  const lb = labelsOf(b);
  for (let i = 1; i <= Math.min(la.length, lb.length); i++) {
    const c = Buffer.compare(la[la.length - i]!, lb[lb.length - i]!);
    if (c !== 0) return c;
  }
  return la.length - lb.length;
}

/** The lower-cased labels of a wire name, without length octets or the root. */
export function labelsOf(wire: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; wire[o]! !== 0; o += wire[o]! + 1)
    out.push(lowerName(wire.subarray(o + 1, o + 1 + wire[o]!)));
  return out;
}
