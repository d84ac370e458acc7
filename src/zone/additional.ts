/**
 * Additional section processing (RFC 1035 §3.3, RFC 2181 §5.4.1): the in-zone A and AAAA records
 * of NS, MX and SRV targets, which the client would ask for next.
 */
import { keyOf } from "../proto/name.js";
import { readWireName, targetOffset } from "../proto/rdata.js";
import type { RR } from "../proto/sections.js";
import { T } from "../proto/types.js";
import { rrsOf, type Zone, type ZoneNode } from "./zone.js";

/** Appends a node's address records, A before AAAA. */
export function pushAddresses(node: ZoneNode, out: RR[]): void {
  const a = node.rrset(T.A);
  if (a) out.push(...rrsOf(a, node.wire));
  const aaaa = node.rrset(T.AAAA);
  if (aaaa) out.push(...rrsOf(aaaa, node.wire));
}

export function additionalFor(zone: Zone, answer: readonly RR[]): RR[] {
  const out: RR[] = [];
  const seen = new Set<string>();
  for (const rr of answer) {
    if (rr.type !== T.NS && rr.type !== T.MX && rr.type !== T.SRV) continue;
    const node = zone.nodes.get(keyOf(readWireName(rr.rdata, targetOffset(rr.type)!)));
    if (!node || seen.has(node.key)) continue;
    seen.add(node.key);
    pushAddresses(node, out);
  }
  return out;
}
