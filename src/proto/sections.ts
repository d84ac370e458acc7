/**
 * The answer, authority and additional sections of a response, as records and as wire bytes.
 *
 * Sections are encoded once (per zone node and qtype, per pool member) into one buffer, which a
 * response then copies whole. Names are compressed (RFC 1035 §4.1.4): owners, and the names in
 * the RDATA of the RFC 1035 types, the only ones a server may compress (RFC 3597 §4).
 *
 * The bytes must serve every query the answer is for, whose names differ. So a name points only
 * at (a) an earlier name in the sections, (b) a suffix of the answer's anchor, the name every
 * such query ends with (the node for an exact match, the closest encloser for a wildcard, the
 * cut for a referral, the apex for a zone's NXDOMAIN), or (c) the whole question (0xC00C, for
 * owners equal to the query name). Encoding assumes the question name is the anchor; a longer
 * question moves every (a) and (b) target by the difference, so those pointers are listed as
 * fixups, and a response adds the difference to each: one addition per pointer instead of a
 * compression pass per query.
 */
import { endOfWireName } from "./name.js";
import { CLASS_IN } from "./types.js";

export interface RR {
  /** Owner in wire form; null means "the query name" (encoded as a pointer to the question). */
  owner: Buffer | null;
  type: number;
  ttl: number;
  rdata: Buffer;
  /** Class, IN unless said (CHAOS answers are CH). */
  klass?: number;
}

/** Records by section, with a slot for their encoding (filled once, on first use). */
export interface Sections {
  answer: RR[];
  authority: RR[];
  additional: RR[];
  /** True when the additional section starts with glue a referral cannot work without. */
  glueRequired: boolean;
  /** How many records at the start of the additional section are that glue (default: all of them). */
  requiredAdditional?: number;
  /** Wire form of the name every query these sections answer ends with (see the header); none: no question suffix is used. */
  anchor?: Buffer | null;
  encoded?: EncodedSections;
}

export interface EncodedSections {
  bytes: Buffer;
  an: number;
  ns: number;
  ar: number;
  /** Length of answer + authority: what is left when the additional section is dropped. */
  essential: number;
  glueRequired: boolean;
  /** Length of the question name the encoding assumes (the anchor's, 1 for the root). */
  qnameLength: number;
  /** Offsets in `bytes` of pointers that move with the question's length. */
  fixups: Uint16Array;
  /**
   * Where the sections may be cut to fit: byte lengths at the end of the answer and authority,
   * then after each additional RRset, with the additional records kept at each (`cutCounts`).
   * A cut before `minCut` drops required glue, so it is not allowed: the answer is truncated instead.
   */
  cuts: Uint32Array;
  cutCounts: Uint16Array;
  minCut: number;
}

const NO_FIXUPS = new Uint16Array(0);

export const EMPTY_SECTIONS: EncodedSections = Object.freeze({
  bytes: Buffer.alloc(0),
  an: 0,
  ns: 0,
  ar: 0,
  essential: 0,
  glueRequired: false,
  qnameLength: 1,
  fixups: NO_FIXUPS,
  cuts: new Uint32Array([0]),
  cutCounts: new Uint16Array([0]),
  minCut: 0,
});

/** RDATA layouts of the types whose names may be compressed: a name, or a run of fixed bytes. */
const COMPRESSIBLE: Record<number, (number | "name")[]> = {
  2: ["name"], // NS
  3: ["name"], // MD
  4: ["name"], // MF
  5: ["name"], // CNAME
  6: ["name", "name", 20], // SOA
  7: ["name"], // MB
  8: ["name"], // MG
  9: ["name"], // MR
  12: ["name"], // PTR
  14: ["name", "name"], // MINFO
  15: [2, "name"], // MX
};

/** The highest offset a pointer may target, leaving room for a question up to 255 octets longer. */
const MAX_TARGET = 0x3fff - 256;

/** Builds the wire form of a set of sections, compressing as the header says. */
class Writer {
  private buf = Buffer.alloc(512);
  length = 0;
  private readonly fixups: number[] = [];
  private readonly names = new Map<string, number>();
  /** Offset of the sections in the message the encoding assumes. */
  private readonly base: number;

  constructor(anchor: Buffer | null) {
    const qname = anchor ?? Buffer.from([0]);
    this.base = 12 + qname.length + 4;
    if (anchor) {
      // Every suffix of the anchor, at its place in the assumed question.
      for (let o = 0; anchor[o]! !== 0; o += anchor[o]! + 1) this.names.set(keyAt(anchor, o), 12 + o);
    }
    this.qnameLength = qname.length;
  }

  readonly qnameLength: number;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.length);
    this.length += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v, this.length);
    this.length += 4;
  }

  raw(b: Buffer, start = 0, end = b.length): void {
    this.room(end - start);
    b.copy(this.buf, this.length, start, end);
    this.length += end - start;
  }

  /** An uncompressed wire name from `b` at `o`, written compressed; returns the offset past it in `b`. */
  name(b: Buffer, o: number): number {
    for (;;) {
      const len = b[o]!;
      if (len === 0) {
        this.room(1);
        this.buf[this.length++] = 0;
        return o + 1;
      }
      const key = keyAt(b, o);
      const target = this.names.get(key);
      if (target !== undefined) {
        this.fixups.push(this.length);
        this.u16(0xc000 | target);
        return endOfWireName(b, o);
      }
      const here = this.base + this.length;
      if (here <= MAX_TARGET) this.names.set(key, here);
      this.raw(b, o, o + len + 1);
      o += len + 1;
    }
  }

  rr(rr: RR): void {
    if (rr.owner === null) this.u16(0xc00c);
    else this.name(rr.owner, 0);
    this.u16(rr.type);
    this.u16(rr.klass ?? CLASS_IN);
    this.u32(rr.ttl);
    const layout = COMPRESSIBLE[rr.type];
    if (layout === undefined) {
      this.u16(rr.rdata.length);
      this.raw(rr.rdata);
      return;
    }
    const lengthAt = this.length;
    this.u16(0);
    let o = 0;
    for (const part of layout) {
      if (part === "name") o = this.name(rr.rdata, o);
      else {
        this.raw(rr.rdata, o, o + part);
        o += part;
      }
    }
    this.buf.writeUInt16BE(this.length - lengthAt - 2, lengthAt);
  }

  done(): { bytes: Buffer; fixups: Uint16Array } {
    return {
      bytes: Buffer.from(this.buf.subarray(0, this.length)),
      fixups: this.fixups.length === 0 ? NO_FIXUPS : Uint16Array.from(this.fixups),
    };
  }
}

/** Lower-cased key of the wire name suffix at `o` (uncompressed). */
function keyAt(b: Buffer, o: number): string {
  return b.toString("latin1", o, endOfWireName(b, o)).toLowerCase();
}

/**
 * Additional records form RRsets of consecutive records with one owner and type; the RRSIGs
 * that follow an RRset (a signed answer) go with it, so a cut never splits a set from them.
 */
function sameSet(a: RR, b: RR): boolean {
  return (
    (a.type === b.type || b.type === RRSIG) &&
    (a.owner === b.owner || (a.owner !== null && b.owner !== null && a.owner.equals(b.owner)))
  );
}

const RRSIG = 46;

export function encodeSections(
  answer: readonly RR[],
  authority: readonly RR[],
  additional: readonly RR[],
  glueRequired = false,
  anchor: Buffer | null = null,
  requiredAdditional = glueRequired ? additional.length : 0,
): EncodedSections {
  const w = new Writer(anchor);
  for (const rr of answer) w.rr(rr);
  for (const rr of authority) w.rr(rr);
  const essential = w.length;
  const cuts = [essential];
  const counts = [0];
  let minCut = 0;
  additional.forEach((rr, i) => {
    w.rr(rr);
    const last = i === additional.length - 1 || !sameSet(rr, additional[i + 1]!);
    if (!last) return;
    cuts.push(w.length);
    counts.push(i + 1);
    if (i + 1 <= requiredAdditional) minCut = cuts.length - 1;
  });
  const { bytes, fixups } = w.done();
  return {
    bytes,
    an: answer.length,
    ns: authority.length,
    ar: additional.length,
    essential,
    glueRequired,
    qnameLength: w.qnameLength,
    fixups,
    cuts: Uint32Array.from(cuts),
    cutCounts: Uint16Array.from(counts),
    minCut,
  };
}

/** The encoded sections, computed once and kept on the (immutable) sections object. */
export function sectionsOf(s: Sections): EncodedSections {
  s.encoded ??= encodeSections(
    s.answer,
    s.authority,
    s.additional,
    s.glueRequired,
    s.anchor ?? null,
    s.requiredAdditional ?? (s.glueRequired ? s.additional.length : 0),
  );
  return s.encoded;
}

/**
 * Copies `length` bytes of the sections to `out` at `at`, moving the fixup pointers for a
 * question name of `qnameLength` octets. The response builder and encodedRecords share it.
 */
export function copySections(
  s: EncodedSections,
  out: Buffer,
  at: number,
  length: number,
  qnameLength: number,
): void {
  s.bytes.copy(out, at, 0, length);
  const delta = qnameLength - s.qnameLength;
  if (delta === 0) return;
  const fixups = s.fixups;
  for (let i = 0; i < fixups.length; i++) {
    const f = fixups[i]!;
    if (f >= length) break;
    out.writeUInt16BE(0xc000 | ((out.readUInt16BE(at + f) & 0x3fff) + delta), at + f);
  }
}

/** One record of encoded sections, with its names expanded as a client would read them. */
export interface EncodedRecord {
  section: "answer" | "authority" | "additional";
  /** Offset in `bytes` of the record's first byte (its owner). */
  start: number;
  /** Offset in `bytes` of the type field, just past the owner. */
  fields: number;
  /** Offset in `bytes` just past the record. */
  end: number;
  /** The owner, uncompressed. */
  owner: Buffer;
  type: number;
  ttl: number;
  /** The RDATA, with any compressed names expanded. */
  rdata: Buffer;
}

/** The uncompressed name at `o` in `msg`, following pointers (which point backwards only). */
function expandName(msg: Buffer, o: number): { name: Buffer; end: number } {
  const parts: Buffer[] = [];
  let end = -1;
  for (let hops = 0; hops < 128; hops++) {
    const len = msg[o]!;
    if (len >= 0xc0) {
      if (end < 0) end = o + 2;
      o = msg.readUInt16BE(o) & 0x3fff;
      continue;
    }
    parts.push(msg.subarray(o, o + len + 1));
    if (len === 0) return { name: Buffer.concat(parts), end: end < 0 ? o + 1 : end };
    o += len + 1;
  }
  throw new Error("compression loop in encoded sections");
}

/**
 * The records of encoded sections as a response to a question for `qname` (wire form) would
 * carry them, in order. For views and tests, not the query path.
 */
export function* encodedRecords(
  s: EncodedSections,
  qname: Buffer = Buffer.from([0]),
): Generator<EncodedRecord> {
  const base = 12 + qname.length + 4;
  const msg = Buffer.alloc(base + s.bytes.length);
  qname.copy(msg, 12);
  copySections(s, msg, base, s.bytes.length, qname.length);
  let o = base;
  for (let i = 0; i < s.an + s.ns + s.ar; i++) {
    const start = o;
    const owner = expandName(msg, o);
    o = owner.end;
    const type = msg.readUInt16BE(o);
    const ttl = msg.readUInt32BE(o + 4);
    const len = msg.readUInt16BE(o + 8);
    const rdStart = o + 10;
    const end = rdStart + len;
    const layout = COMPRESSIBLE[type];
    let rdata = msg.subarray(rdStart, end);
    if (layout) {
      const parts: Buffer[] = [];
      let r = rdStart;
      for (const part of layout) {
        if (part === "name") {
          const n = expandName(msg, r);
          parts.push(n.name);
          r = n.end;
        } else {
          parts.push(msg.subarray(r, r + part));
          r += part;
        }
      }
      rdata = Buffer.concat(parts);
    }
    yield {
      section: i < s.an ? "answer" : i < s.an + s.ns ? "authority" : "additional",
      start: start - base,
      fields: o - base,
      end: end - base,
      owner: owner.name,
      type,
      ttl,
      rdata,
    };
    o = end;
  }
}
