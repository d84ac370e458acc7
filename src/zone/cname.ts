/**
 * CNAME chasing within the zone (RFC 1034 §4.3.2 step 3a, RFC 6604): follow the chain while its
 * targets are in the zone, through wildcards, and stop at a loop, a long chain, a delegation or
 * the zone's edge (the resolver continues from there). The rcode is that of the last name.
 */
import { keyOf, toWire } from "../proto/name.js";
import { T } from "../proto/types.js";
import { closestInZone, isInZone } from "./encloser.js";
import { referredBy } from "./referral.js";
import { type LookupResult, negative, positive } from "./result.js";
import { type RRset, rrsOf, targetOf, type Zone } from "./zone.js";

const MAX_CHAIN = 12;

export function chase(zone: Zone, first: RRset, qtype: number): LookupResult {
  const answer = rrsOf(first, null);
  const seen = new Set<string>();
  let target = targetOf(first, 0);
  for (let step = 0; step < MAX_CHAIN; step++) {
    const key = keyOf(target);
    if (seen.has(key)) break;
    seen.add(key);
    const owner = toWire(target);
    let node = zone.nodes.get(key);
    if (!node) {
      if (!isInZone(zone, key)) break; // out of zone: the resolver continues from here
      const encloser = closestInZone(zone, key);
      if (encloser.cut) break;
      if (!encloser.wildcard) return negative(zone, "nxdomain", answer);
      node = encloser.wildcard;
    } else if (referredBy(node, qtype)) {
      break;
    }
    const set = node.rrset(qtype);
    if (set) {
      answer.push(...rrsOf(set, owner));
      return positive(zone, answer);
    }
    const next = node.rrset(T.CNAME);
    if (!next) return negative(zone, "nodata", answer);
    answer.push(...rrsOf(next, owner));
    target = targetOf(next, 0);
  }
  return positive(zone, answer);
}
