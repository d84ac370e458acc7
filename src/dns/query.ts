/**
 * Query decoding: header, the single question, and the EDNS0 OPT record (RFC 6891).
 *
 * Only what answering needs is decoded; everything else is bounds-checked and skipped. The
 * outcome is either a query, a reason to answer with an error rcode (FORMERR, NOTIMP), or a
 * reason to drop the packet (too short for a header, or a response: answering responses invites
 * loops and reflection).
 */
import { readQuestionName } from "../zone/name.js";
import { T } from "../zone/types.js";

export interface Edns {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
  /** Offset and length of the OPT RDATA (options) in the query buffer. */
  optionsStart: number;
  optionsEnd: number;
}

export interface Query {
  id: number;
  /** Raw flags word of the query. */
  flags: number;
  opcode: number;
  qname: string;
  qtype: number;
  qclass: number;
  /** Offset just past the question (the question is copied verbatim into the response). */
  questionEnd: number;
  edns: Edns | null;
}

export type Decoded =
  | { ok: true; query: Query }
  | { ok: false; drop: true }
  | {
      ok: false;
      drop: false;
      rcode: number;
      id: number;
      flags: number;
      /** Question end when the question could be read, so it can be echoed; else 0. */
      questionEnd: number;
      edns: Edns | null;
    };

const DROP: Decoded = Object.freeze({ ok: false, drop: true }) as Decoded;
const FORMERR = 1;
const NOTIMP = 4;

export function decodeQuery(buf: Buffer): Decoded {
  if (buf.length < 12) return DROP;
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & 0x8000) return DROP; // QR=1: a response, never answered
  const opcode = (flags >> 11) & 0xf;
  const qdcount = buf.readUInt16BE(4);
  const ancount = buf.readUInt16BE(6);
  const nscount = buf.readUInt16BE(8);
  const arcount = buf.readUInt16BE(10);
  const fail = (rcode: number, questionEnd = 0, edns: Edns | null = null): Decoded => ({
    ok: false,
    drop: false,
    rcode,
    id,
    flags,
    questionEnd,
    edns,
  });
  if (qdcount !== 1) return fail(opcode === 0 ? FORMERR : NOTIMP);
  const name = readQuestionName(buf, 12);
  if (name === null || name.end + 4 > buf.length) return fail(FORMERR);
  const qtype = buf.readUInt16BE(name.end);
  const qclass = buf.readUInt16BE(name.end + 2);
  const questionEnd = name.end + 4;
  if (opcode !== 0) return fail(NOTIMP, questionEnd);
  if (ancount !== 0 || nscount !== 0) return fail(FORMERR, questionEnd);

  let edns: Edns | null = null;
  let o = questionEnd;
  for (let i = 0; i < arcount; i++) {
    const nameEnd = skipName(buf, o);
    if (nameEnd < 0 || nameEnd + 10 > buf.length) return fail(FORMERR, questionEnd);
    const type = buf.readUInt16BE(nameEnd);
    const rdlen = buf.readUInt16BE(nameEnd + 8);
    const rdataStart = nameEnd + 10;
    const rdataEnd = rdataStart + rdlen;
    if (rdataEnd > buf.length) return fail(FORMERR, questionEnd);
    if (type === T.OPT) {
      // RFC 6891 §6.1.1: one OPT, owned by the root.
      if (edns !== null || nameEnd !== o + 1) return fail(FORMERR, questionEnd);
      if (!optionsWellFormed(buf, rdataStart, rdataEnd)) return fail(FORMERR, questionEnd);
      const ttl = buf.readUInt32BE(nameEnd + 4);
      edns = {
        udpSize: buf.readUInt16BE(nameEnd + 2),
        version: (ttl >>> 16) & 0xff,
        dnssecOk: (ttl & 0x8000) !== 0,
        optionsStart: rdataStart,
        optionsEnd: rdataEnd,
      };
    }
    o = rdataEnd;
  }
  return { ok: true, query: { id, flags, opcode, qname: name.key, qtype, qclass, questionEnd, edns } };
}

/** Offset past a possibly compressed name, or -1. A pointer ends the name (no following). */
function skipName(buf: Buffer, offset: number): number {
  let o = offset;
  for (let total = 0; total <= 255; ) {
    if (o >= buf.length) return -1;
    const len = buf[o]!;
    if (len === 0) return o + 1;
    if ((len & 0xc0) === 0xc0) return o + 2 <= buf.length ? o + 2 : -1;
    if (len > 63) return -1;
    total += len + 1;
    o += len + 1;
  }
  return -1;
}

function optionsWellFormed(buf: Buffer, start: number, end: number): boolean {
  let o = start;
  while (o < end) {
    if (o + 4 > end) return false;
    o += 4 + buf.readUInt16BE(o + 2);
  }
  return o === end;
}
