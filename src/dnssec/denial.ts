/**
 * Compact denial of existence (RFC 9824), so answers are proven without a precomputed NSEC chain
 * and the zone cannot be walked:
 *  - NODATA: an NSEC at the name whose next name is its immediate successor (`\000.name`) and
 *    whose bitmap lists the types the name has, without the one asked for, plus RRSIG and NSEC.
 *  - NXDOMAIN: answered as NODATA (rcode NOERROR) with the NXNAME pseudo-type in the bitmap.
 *  - A wildcard answer: the RRSIG's labels field says the answer was synthesised; the proof that
 *    the query name does not exist is a minimally covering NSEC (RFC 4470) whose owner and next
 *    name share nothing below the closest encloser with the query name, so a validator derives
 *    the right closest encloser from it (RFC 4035 §5.3.4).
 */
import { bitmapOf } from "../proto/rdata-fields.js";
import { T } from "../proto/types.js";
import { lowerName } from "./canonical.js";

/** NSEC RDATA: next owner name and type bitmap (RFC 4034 §4.1). */
export function nsecRdata(next: Buffer, types: Iterable<number>): Buffer {
  return Buffer.concat([lowerName(next), bitmapOf(types)]);
}

/**
 * The bitmap of a NODATA proof: the name's types without `qtype`, plus RRSIG and NSEC. A query
 * for RRSIG itself is denied with a bitmap without RRSIG: lbdns keeps no RRSIG RRset to give.
 */
export function nodataTypes(types: Iterable<number>, qtype: number): number[] {
  const out = new Set<number>([T.RRSIG, T.NSEC]);
  for (const t of types) out.add(t);
  out.delete(qtype === T.NSEC ? -1 : qtype);
  return [...out].sort((a, b) => a - b);
}

/**
 * The name right after `name` in canonical order (RFC 4471 §3.1.2): `\000.name`, or when that
 * would be too long, the first label's last octet incremented.
 */
export function successor(name: Buffer): Buffer {
  if (name.length + 2 <= 255) return Buffer.concat([Buffer.from([1, 0]), name]);
  const out = Buffer.from(name);
  const len = out[0]!;
  for (let i = len; i >= 1; i--) {
    if (out[i]! < 0xff) {
      out[i] = out[i]! + 1;
      if (out[i]! >= 0x41 && out[i]! <= 0x5a) out[i] = 0x5b; // upper case sorts as lower case
      return out;
    }
  }
  return out;
}

/**
 * The covering NSEC's owner and next name for a name that does not exist below `encloser`, its
 * closest encloser: `label` is the query name's label just below the encloser. The range holds
 * only that label's subtree (which does not exist, or the encloser would be closer): from a
 * sibling that sorts just before it (RFC 4471 §3.1.3, padded with \255 so nothing is between),
 * to `label\000`, which sorts after the whole subtree.
 */
export function coveringRange(encloser: Buffer, label: Buffer): { owner: Buffer; next: Buffer } {
  const lower = lowerName(label);
  const room = Math.min(63, 255 - encloser.length - 1);
  const next =
    lower.length < room
      ? Buffer.concat([Buffer.from([lower.length + 1]), lower, Buffer.from([0]), encloser])
      : Buffer.concat([Buffer.from([1, 0]), Buffer.from([lower.length]), lower, encloser]);
  return { owner: predecessorLabel(lower, room, encloser), next };
}

function predecessorLabel(label: Buffer, room: number, encloser: Buffer): Buffer {
  let pred: Buffer;
  const last = label[label.length - 1]!;
  if (last === 0) {
    // `x\000` comes right after `x`: drop the octet.
    pred = label.subarray(0, label.length - 1);
  } else {
    const dec = last - 1;
    // Upper-case octets compare as lower case, so one of them cannot stand for 0x41-0x5a.
    const octet = dec >= 0x41 && dec <= 0x5a ? 0x40 : dec;
    pred = Buffer.concat([label.subarray(0, label.length - 1), Buffer.from([octet])]);
    if (pred.length < room) pred = Buffer.concat([pred, Buffer.alloc(room - pred.length, 0xff)]);
  }
  if (pred.length === 0) return encloser;
  return Buffer.concat([Buffer.from([pred.length]), pred, encloser]);
}
