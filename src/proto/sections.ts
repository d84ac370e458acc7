/**
 * The answer, authority and additional sections of a response, as records and as wire bytes.
 *
 * Sections are encoded once (per zone node and qtype, per pool member) into one buffer, which a
 * response then copies whole. An owner equal to the query name is written as a pointer to the
 * question (0xC00C), so the encoded bytes do not depend on the query, wildcard answers included.
 */
import { CLASS_IN } from "./types.js";

export interface RR {
  /** Owner in wire form; null means "the query name" (encoded as a pointer to the question). */
  owner: Buffer | null;
  type: number;
  ttl: number;
  rdata: Buffer;
}

/** Records by section, with a slot for their encoding (filled once, on first use). */
export interface Sections {
  answer: RR[];
  authority: RR[];
  additional: RR[];
  /** True when the additional section carries glue a referral cannot work without. */
  glueRequired: boolean;
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
}

export const EMPTY_SECTIONS: EncodedSections = Object.freeze({
  bytes: Buffer.alloc(0),
  an: 0,
  ns: 0,
  ar: 0,
  essential: 0,
  glueRequired: false,
});

function rrLength(rr: RR): number {
  return (rr.owner === null ? 2 : rr.owner.length) + 10 + rr.rdata.length;
}

function writeRR(rr: RR, out: Buffer, offset: number): number {
  let o = offset;
  if (rr.owner === null) {
    out.writeUInt16BE(0xc00c, o);
    o += 2;
  } else {
    o += rr.owner.copy(out, o);
  }
  out.writeUInt16BE(rr.type, o);
  out.writeUInt16BE(CLASS_IN, o + 2);
  out.writeUInt32BE(rr.ttl, o + 4);
  out.writeUInt16BE(rr.rdata.length, o + 8);
  o += 10;
  return o + rr.rdata.copy(out, o);
}

export function encodeSections(
  answer: readonly RR[],
  authority: readonly RR[],
  additional: readonly RR[],
  glueRequired = false,
): EncodedSections {
  let size = 0;
  for (const rr of answer) size += rrLength(rr);
  for (const rr of authority) size += rrLength(rr);
  const essential = size;
  for (const rr of additional) size += rrLength(rr);
  const bytes = Buffer.alloc(size);
  let o = 0;
  for (const rr of answer) o = writeRR(rr, bytes, o);
  for (const rr of authority) o = writeRR(rr, bytes, o);
  for (const rr of additional) o = writeRR(rr, bytes, o);
  return { bytes, an: answer.length, ns: authority.length, ar: additional.length, essential, glueRequired };
}

/** The encoded sections, computed once and kept on the (immutable) sections object. */
export function sectionsOf(s: Sections): EncodedSections {
  s.encoded ??= encodeSections(s.answer, s.authority, s.additional, s.glueRequired);
  return s.encoded;
}

/** One record of encoded sections, located in `bytes`; `owner` is null for the question pointer. */
export interface EncodedRecord {
  section: "answer" | "authority" | "additional";
  /** Offset of the record's first byte (its owner). */
  start: number;
  /** Offset of the type field, just past the owner. */
  fields: number;
  /** Offset just past the record. */
  end: number;
  owner: Buffer | null;
  type: number;
  ttl: number;
  rdata: Buffer;
}

/**
 * The records of encoded sections, in order. Owners here are uncompressed names or the 2-byte
 * pointer to the question, which is all encodeSections writes.
 */
export function* encodedRecords(s: EncodedSections): Generator<EncodedRecord> {
  const b = s.bytes;
  let o = 0;
  for (let i = 0; i < s.an + s.ns + s.ar; i++) {
    const start = o;
    let owner: Buffer | null = null;
    if (b[o]! >= 0xc0) o += 2;
    else {
      while (b[o]! !== 0) o += b[o]! + 1;
      o += 1;
      owner = b.subarray(start, o);
    }
    const len = b.readUInt16BE(o + 8);
    const end = o + 10 + len;
    yield {
      section: i < s.an ? "answer" : i < s.an + s.ns ? "authority" : "additional",
      start,
      fields: o,
      end,
      owner,
      type: b.readUInt16BE(o),
      ttl: b.readUInt32BE(o + 4),
      rdata: b.subarray(o + 10, end),
    };
    o = end;
  }
}
