/**
 * Query decoding: header, the single question, and the EDNS0 OPT record (RFC 6891).
 *
 * Only what answering needs is decoded; everything else is bounds-checked and skipped. The
 * outcome is either a query, a reason to answer with an error rcode (FORMERR, NOTIMP), or a
 * reason to drop the packet (too short for a header, or a response: answering responses invites
 * loops and reflection).
 */
import { readQuestionName } from "./name.js";
import { badKeyRecord } from "./tsig.js";
import { T } from "./types.js";

/** EDNS Client Subnet from the query (RFC 7871): the client network a resolver asks for. */
export interface ClientSubnet {
  family: 1 | 2;
  sourcePrefix: number;
  /** The address, zero-padded to 4 or 16 bytes. */
  address: Buffer;
}

export interface Edns {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
  ecs: ClientSubnet | null;
  /** The query asks for the server's NSID (RFC 5001 §2.1: an empty NSID option). */
  nsid: boolean;
  /** Offset of the COOKIE option's data (RFC 7873 §4), or -1, and its length (8, or 16 to 40). */
  cookieAt: number;
  cookieLength: number;
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
      /** NOTAUTH for a signed request: the BADKEY TSIG record to end the response with (proto/tsig.ts). */
      tsig?: Buffer;
    };

const DROP: Decoded = Object.freeze({ ok: false, drop: true }) as Decoded;
const NOERROR = 0;
const FORMERR = 1;
const NOTIMP = 4;
const NOTAUTH = 9;

/** An error outcome; a plain function, since a closure here would be allocated for every query. */
function failed(
  id: number,
  flags: number,
  rcode: number,
  questionEnd = 0,
  edns: Edns | null = null,
): Decoded {
  return { ok: false, drop: false, rcode, id, flags, questionEnd, edns };
}

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
  if (qdcount > 1) return failed(id, flags, opcode === 0 ? FORMERR : NOTIMP);
  // With no question the only valid query is one asking for a cookie (RFC 7873 §5.4), so the
  // records are read from just past the header.
  let key = "";
  let qtype = 0;
  let qclass = 0;
  let questionEnd = 12;
  if (qdcount === 1) {
    const name = readQuestionName(buf, 12);
    if (name === null || name.end + 4 > buf.length) return failed(id, flags, FORMERR);
    key = name.key;
    qtype = buf.readUInt16BE(name.end);
    qclass = buf.readUInt16BE(name.end + 2);
    questionEnd = name.end + 4;
  }

  // The authority section is skipped (an IXFR query carries the client's SOA there, RFC 1995
  // §3); the OPT record is read even for opcodes we do not implement, so their NOTIMP carries
  // one back (RFC 6891 §6.1.1).
  let edns: Edns | null = null;
  let tsig: { start: number; end: number } | null = null;
  let o = questionEnd;
  const before = ancount + nscount;
  for (let i = 0; i < before + arcount; i++) {
    const nameEnd = skipName(buf, o);
    if (nameEnd < 0 || nameEnd + 10 > buf.length) return failed(id, flags, FORMERR, questionEnd);
    const type = buf.readUInt16BE(nameEnd);
    const rdlen = buf.readUInt16BE(nameEnd + 8);
    const rdataStart = nameEnd + 10;
    const rdataEnd = rdataStart + rdlen;
    if (rdataEnd > buf.length) return failed(id, flags, FORMERR, questionEnd);
    if (type === T.TSIG) {
      // RFC 8945 §5.1: one TSIG, the very last record of the additional section.
      if (i !== before + arcount - 1 || i < before) return failed(id, flags, FORMERR, questionEnd, edns);
      tsig = { start: o, end: rdataEnd };
    }
    if (type === T.OPT && i >= before) {
      // RFC 6891 §6.1.1: one OPT, owned by the root.
      if (edns !== null || nameEnd !== o + 1) return failed(id, flags, FORMERR, questionEnd);
      const seen = scanOptions(buf, rdataStart, rdataEnd);
      if (seen < 0) return failed(id, flags, FORMERR, questionEnd);
      const ttl = buf.readUInt32BE(nameEnd + 4);
      edns = {
        udpSize: buf.readUInt16BE(nameEnd + 2),
        version: (ttl >>> 16) & 0xff,
        dnssecOk: (ttl & 0x8000) !== 0,
        ecs: null,
        nsid: (seen & SEEN_NSID) !== 0,
        cookieAt: -1,
        cookieLength: 0,
        optionsStart: rdataStart,
        optionsEnd: rdataEnd,
      };
      if (rdataEnd > rdataStart) {
        const cookie = cookieOf(buf, rdataStart, rdataEnd);
        if (cookie >= 0) {
          edns.cookieAt = cookie;
          edns.cookieLength = buf.readUInt16BE(cookie - 2);
        }
        const ecs = clientSubnet(buf, rdataStart, rdataEnd);
        // RFC 7871 §7.1.2: a malformed ECS option gets FORMERR (our OPT still goes back).
        if (ecs === false) return failed(id, flags, FORMERR, questionEnd, { ...edns, ecs: null });
        edns.ecs = ecs;
      }
    }
    o = rdataEnd;
  }
  // A signed request is checked before anything else is done with it (RFC 8945 §5.2), and we
  // hold no keys: NOTAUTH with BADKEY, whatever the opcode.
  if (tsig !== null) {
    const record = badKeyRecord(buf, tsig.start, tsig.end);
    if (record === null) return failed(id, flags, FORMERR, questionEnd, edns);
    return { ...failed(id, flags, NOTAUTH, qdcount === 0 ? 0 : questionEnd, edns), tsig: record } as Decoded;
  }
  if (opcode !== 0) return failed(id, flags, NOTIMP, qdcount === 0 ? 0 : questionEnd, edns);
  if (qdcount === 0)
    return failed(id, flags, edns !== null && edns.cookieAt >= 0 ? NOERROR : FORMERR, 0, edns);
  if (ancount !== 0 || (nscount !== 0 && qtype !== T.IXFR))
    return failed(id, flags, FORMERR, questionEnd, edns);
  return { ok: true, query: { id, flags, opcode, qname: key, qtype, qclass, questionEnd, edns } };
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

const NSID_OPTION = 3;
const COOKIE_OPTION = 10;
const SEEN_NSID = 1;

/**
 * Checks the options' framing; -1 when malformed, else which options of interest are there. A
 * COOKIE whose length cannot be a client cookie with or without a server cookie (not 8, nor 16
 * to 40) is malformed too (RFC 7873 §5.2.2).
 */
function scanOptions(buf: Buffer, start: number, end: number): number {
  let seen = 0;
  let o = start;
  while (o < end) {
    if (o + 4 > end) return -1;
    const code = buf.readUInt16BE(o);
    const len = buf.readUInt16BE(o + 2);
    if (code === NSID_OPTION) seen |= SEEN_NSID;
    if (code === COOKIE_OPTION && len !== 8 && (len < 16 || len > 40)) return -1;
    o += 4 + len;
  }
  return o === end ? seen : -1;
}

/** Where the COOKIE option's data is, or -1 (the options are already known to be well formed). */
function cookieOf(buf: Buffer, start: number, end: number): number {
  for (let o = start; o + 4 <= end; o += 4 + buf.readUInt16BE(o + 2))
    if (buf.readUInt16BE(o) === COOKIE_OPTION) return o + 4;
  return -1;
}

const ECS_OPTION = 8;

/** The ECS option among the OPT options, null without one, false when malformed (RFC 7871 §6). */
function clientSubnet(buf: Buffer, start: number, end: number): ClientSubnet | null | false {
  for (let o = start; o + 4 <= end; ) {
    const code = buf.readUInt16BE(o);
    const len = buf.readUInt16BE(o + 2);
    const data = o + 4;
    o = data + len;
    if (code !== ECS_OPTION) continue;
    if (len < 4) return false;
    const family = buf.readUInt16BE(data);
    const source = buf[data + 2]!;
    const scope = buf[data + 3]!;
    const size = family === 1 ? 4 : family === 2 ? 16 : 0;
    if (size === 0 || source > size * 8 || scope !== 0) return false;
    const bytes = Math.ceil(source / 8);
    if (len !== 4 + bytes) return false;
    const address = Buffer.alloc(size);
    buf.copy(address, 0, data + 4, data + 4 + bytes);
    // Bits beyond the source prefix must be zero.
    if (source % 8 !== 0 && (address[bytes - 1]! & (0xff >> (source % 8))) !== 0) return false;
    return { family: family as 1 | 2, sourcePrefix: source, address };
  }
  return null;
}
