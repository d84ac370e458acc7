/**
 * Additional section processing (RFC 1035 §3.3, RFC 2181 §5.4.1): the in-zone A and AAAA records
 * of NS, MX and SRV targets, which the client would ask for next.
 */
import { keyOf, toWire } from "../proto/name.js";
import { readWireName, targetOffset } from "../proto/rdata.js";
import type { RR } from "../proto/sections.js";
import { T } from "../proto/types.js";
import { redirectedBy } from "./dname.js";
import { closestInZone, isInZone } from "./encloser.js";
import { rrsOf, type Zone, type ZoneNode } from "./zone.js";

/** Appends a node's address records, A before AAAA, owned by `owner` (default: the node's name). */
export function pushAddresses(node: ZoneNode, out: RR[], owner: Buffer = node.wire): void {
  const a = node.rrset(T.A);
  if (a) out.push(...rrsOf(a, owner));
  const aaaa = node.rrset(T.AAAA);
  if (aaaa) out.push(...rrsOf(aaaa, owner));
}

/**
 * The addresses of the targets, from the zone; a target that exists only through a wildcard
 * gets the addresses a query for it would (RFC 4592), as Knot gives them.
 */
export function additionalFor(zone: Zone, answer: readonly RR[]): RR[] {
  const out: RR[] = [];
  const seen = new Set<string>();
  for (const rr of answer) {
    if (rr.type !== T.NS && rr.type !== T.MX && rr.type !== T.SRV) continue;
    const target = readWireName(rr.rdata, targetOffset(rr.type)!);
    const key = keyOf(target);
    if (seen.has(key)) continue;
    seen.add(key);
    const node = zone.nodes.get(key);
    if (node && !node.nsec3Only) {
      pushAddresses(node, out);
      continue;
    }
    if (!isInZone(zone, key)) continue;
    const encloser = closestInZone(zone, key);
    if (encloser.wildcard && !encloser.cut && !redirectedBy(encloser, false))
      pushAddresses(encloser.wildcard, out, toWire(target));
  }
  return out;
}
