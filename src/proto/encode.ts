/**
 * Response encoding: the 12-byte header, the question copied verbatim from the query (so its case
 * is preserved), the precomputed sections (sections.ts), and the OPT record. Nothing here depends
 * on zone data, so one call per query copies bytes and writes a header.
 */
import type { ClientSubnet, Query } from "./decode.js";
import { copySections, type EncodedSections } from "./sections.js";
import { T } from "./types.js";

export const EDNS_PAYLOAD = 1232;
export const PLAIN_UDP_LIMIT = 512;
export const TCP_LIMIT = 65535;
const OPT_SIZE = 11;

/** Largest response the client can take over UDP (RFC 6891 §6.2.5: below 512 means 512). */
export function udpLimit(q: Query): number {
  if (!q.edns) return PLAIN_UDP_LIMIT;
  const size = Math.max(q.edns.udpSize, PLAIN_UDP_LIMIT);
  return Math.min(size, EDNS_PAYLOAD);
}

/**
 * Builds a response. When the whole answer does not fit `limit`, additional RRsets are dropped
 * from the end, whole; dropping required glue sets TC=1 (RFC 9471 §3). When the answer and
 * authority themselves do not fit, the response carries only the question with TC=1, so the
 * client retries over TCP (RFC 2181 §9, RFC 7766).
 */
export function buildResponse(
  query: Buffer,
  id: number,
  queryFlags: number,
  questionEnd: number,
  edns: { dnssecOk: boolean; ecs?: ClientSubnet | null } | null,
  rcode: number,
  aa: boolean,
  sections: EncodedSections,
  limit: number,
  ecsScope = 0,
  options: Buffer | null = null,
): Buffer {
  // Positional arguments rather than an options object: this runs once per query.
  const qlen = questionEnd > 12 ? questionEnd - 12 : 0;
  const ecs = edns?.ecs ?? null;
  const ecsLen = ecs ? 8 + Math.ceil(ecs.sourcePrefix / 8) : 0;
  const extraLen = options === null ? 0 : options.length;
  const optLen = edns ? OPT_SIZE + ecsLen + extraLen : 0;
  const fixed = 12 + qlen + optLen;
  let bodyLen = sections.bytes.length;
  let ar = sections.ar;
  let tc = false;
  let an = sections.an;
  let ns = sections.ns;
  if (fixed + bodyLen > limit) {
    const cuts = sections.cuts;
    let k = cuts.length - 1;
    while (k >= 0 && fixed + cuts[k]! > limit) k--;
    if (k >= 0) {
      // Required glue that does not fit still leaves what fits, with TC (RFC 9471 §3, as Knot).
      bodyLen = cuts[k]!;
      ar = sections.cutCounts[k]!;
      tc = k < sections.minCut;
    } else {
      tc = true;
      bodyLen = 0;
      an = 0;
      ns = 0;
      ar = 0;
    }
  }
  const out = Buffer.allocUnsafe(fixed + bodyLen);
  const flags =
    0x8000 |
    (queryFlags & 0x7800) | // opcode
    (aa ? 0x0400 : 0) |
    (tc ? 0x0200 : 0) |
    // RD is echoed for QUERY only; CD never (RFC 4035 §3.1.6: an authoritative server clears it).
    ((queryFlags & 0x7800) === 0 ? queryFlags & 0x0100 : 0) |
    (rcode & 0xf);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(qlen > 0 ? 1 : 0, 4);
  out.writeUInt16BE(an, 6);
  out.writeUInt16BE(ns, 8);
  out.writeUInt16BE(ar + (edns ? 1 : 0), 10);
  let o = 12;
  if (qlen > 0) o += query.copy(out, 12, 12, questionEnd);
  if (bodyLen > 0) {
    copySections(sections, out, o, bodyLen, qlen - 4);
    o += bodyLen;
  }
  if (edns) {
    out[o] = 0; // root owner
    out.writeUInt16BE(T.OPT, o + 1);
    out.writeUInt16BE(EDNS_PAYLOAD, o + 3);
    // TTL field: extended rcode (upper 8 bits of the 12-bit rcode), version 0, DO echoed (RFC 3225).
    out[o + 5] = (rcode >> 4) & 0xff;
    out[o + 6] = 0;
    out.writeUInt16BE(edns.dnssecOk ? 0x8000 : 0, o + 7);
    out.writeUInt16BE(ecsLen + extraLen, o + 9);
    if (ecs) {
      // RFC 7871 §7.2.1: family, source prefix and address as asked; scope = what the answer depends on.
      const bytes = ecsLen - 8;
      out.writeUInt16BE(8, o + 11);
      out.writeUInt16BE(4 + bytes, o + 13);
      out.writeUInt16BE(ecs.family, o + 15);
      out[o + 17] = ecs.sourcePrefix;
      out[o + 18] = Math.min(ecsScope, ecs.sourcePrefix);
      ecs.address.copy(out, o + 19, 0, bytes);
    }
    if (options !== null) options.copy(out, o + 11 + ecsLen);
  }
  return out;
}

/** An Extended DNS Error option (RFC 8914 §2), ready to append to an OPT record. */
export function edeOption(infoCode: number, text = ""): Buffer {
  const t = Buffer.from(text, "utf8");
  const b = Buffer.alloc(6 + t.length);
  b.writeUInt16BE(15, 0);
  b.writeUInt16BE(2 + t.length, 2);
  b.writeUInt16BE(infoCode, 4);
  t.copy(b, 6);
  return b;
}
