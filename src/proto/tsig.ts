/**
 * TSIG (RFC 8945) as far as a server with no keys needs it: a signed request is answered NOTAUTH
 * with an unsigned TSIG record whose error is BADKEY (§5.2.1), never with an unsigned answer a
 * client would take for the signed one it asked for. NSD and Knot answer the same.
 *
 * The response's TSIG echoes the request's key name, algorithm, time signed, fudge and original
 * ID, with an empty MAC and no other data (§5.3.2 leaves the MAC out for BADKEY).
 */

const CLASS_ANY = 255;
const TYPE_TSIG = 250;
export const BADKEY = 17;

/** Offset past an uncompressed name at `o` (TSIG names are never compressed), or -1. */
function nameEnd(buf: Buffer, o: number, end: number): number {
  for (let total = 0; total <= 255; ) {
    if (o >= end) return -1;
    const len = buf[o]!;
    if (len === 0) return o + 1;
    if (len > 63) return -1;
    total += len + 1;
    o += len + 1;
  }
  return -1;
}

/**
 * The response's TSIG record for the request's TSIG record at [start, end), or null when that
 * record is malformed (then the request is a FORMERR).
 */
export function badKeyRecord(buf: Buffer, start: number, end: number): Buffer | null {
  const owner = nameEnd(buf, start, end);
  if (owner < 0 || owner + 10 > end) return null;
  const rdata = owner + 10;
  const alg = nameEnd(buf, rdata, end);
  // time signed (6), fudge (2), MAC size (2), MAC, original ID (2), error (2), other length (2), other
  if (alg < 0 || alg + 10 > end) return null;
  const macSize = buf.readUInt16BE(alg + 8);
  const afterMac = alg + 10 + macSize;
  if (afterMac + 6 > end) return null;
  const otherLen = buf.readUInt16BE(afterMac + 4);
  if (afterMac + 6 + otherLen !== end) return null;
  const ownerBytes = buf.subarray(start, owner);
  const algAndTimes = buf.subarray(rdata, alg + 8); // algorithm, time signed, fudge
  const rdlen = algAndTimes.length + 2 + 6;
  const out = Buffer.alloc(ownerBytes.length + 10 + rdlen);
  let o = ownerBytes.copy(out, 0);
  o = out.writeUInt16BE(TYPE_TSIG, o);
  o = out.writeUInt16BE(CLASS_ANY, o);
  o = out.writeUInt32BE(0, o);
  o = out.writeUInt16BE(rdlen, o);
  o += algAndTimes.copy(out, o);
  o = out.writeUInt16BE(0, o); // MAC size
  o = out.writeUInt16BE(buf.readUInt16BE(afterMac), o); // original ID
  o = out.writeUInt16BE(BADKEY, o);
  out.writeUInt16BE(0, o); // other length
  return out;
}
