/**
 * Following an alias within the zone (RFC 1034 §4.3.2 step 3a, RFC 6604, RFC 6672 §3): from a
 * CNAME or a DNAME-synthesised CNAME, look the target up in the zone and keep going while the
 * chain stays inside it, through wildcards and further DNAMEs. It stops at a loop, a long chain,
 * or the zone's edge (the resolver continues from there); a chain that reaches a delegated name
 * ends with that delegation's referral. The rcode is that of the last name.
 */
import { keyOf, toWire } from "../proto/name.js";
import { RCODE } from "../proto/rcode.js";
import type { RR } from "../proto/sections.js";
import { T } from "../proto/types.js";
import { redirect, redirectedBy } from "./dname.js";
import { closestInZone, isInZone } from "./encloser.js";
import { referral, referredBy } from "./referral.js";
import { type LookupResult, negative, positive } from "./result.js";
import { type RRset, rrsOf, targetOf, type Zone, type ZoneNode } from "./zone.js";

const MAX_CHAIN = 12;

/** `start`: the key of the name whose CNAME `first` is, so a loop back to it stops there. */
export function chase(zone: Zone, start: string, first: RRset, qtype: number, anchor: Buffer): LookupResult {
  return follow(zone, rrsOf(first, null), targetOf(first, 0), qtype, anchor, new Set([start]));
}

/** Where a name of the chain lands in the zone, as an explicit kind. */
type Landing =
  | { at: "outside" }
  | { at: "redirect"; owner: ZoneNode }
  | { at: "cut"; cut: ZoneNode }
  | { at: "nxdomain" }
  | { at: "node"; node: ZoneNode };

function land(zone: Zone, key: string, qtype: number): Landing {
  const node = zone.nodes.get(key);
  if (node && !node.nsec3Only) {
    const owner = redirectedBy(node, true);
    if (owner) return { at: "redirect", owner };
    const cut = referredBy(node, qtype);
    return cut ? { at: "cut", cut } : { at: "node", node };
  }
  if (!isInZone(zone, key)) return { at: "outside" };
  const encloser = closestInZone(zone, key);
  const owner = redirectedBy(encloser, false);
  if (owner) return { at: "redirect", owner };
  if (encloser.cut) return { at: "cut", cut: encloser.cut };
  return encloser.wildcard ? { at: "node", node: encloser.wildcard } : { at: "nxdomain" };
}

/** Continues a chain whose records so far are `answer`, at `target`. */
export function follow(
  zone: Zone,
  answer: RR[],
  target: Buffer[],
  qtype: number,
  anchor: Buffer,
  seen: Set<string>,
): LookupResult {
  for (let step = 0; step < MAX_CHAIN; step++) {
    const key = keyOf(target);
    if (seen.has(key)) break;
    seen.add(key);
    const owner = toWire(target);
    const l = land(zone, key, qtype);
    if (l.at === "outside") break; // the resolver continues from here
    if (l.at === "cut") return intoDelegation(zone, answer, l.cut, anchor);
    if (l.at === "nxdomain") return negative(zone, "nxdomain", answer, anchor);
    if (l.at === "redirect") {
      const next = redirect(l.owner, target, owner);
      answer.push(...next.records);
      if (next.target === null) return yxdomain(zone, answer, anchor);
      target = next.target;
      continue;
    }
    const set = l.node.rrset(qtype);
    if (set) {
      answer.push(...rrsOf(set, owner));
      return positive(zone, answer, anchor);
    }
    const next = l.node.rrset(T.CNAME);
    if (!next) return negative(zone, "nodata", answer, anchor);
    answer.push(...rrsOf(next, owner));
    target = targetOf(next, 0);
  }
  return positive(zone, answer, anchor);
}

/** A chain that reaches a delegated name ends with that delegation's referral (its NS and glue). */
function intoDelegation(zone: Zone, answer: RR[], cut: ZoneNode, anchor: Buffer): LookupResult {
  const ref = referral(cut);
  return {
    ...positive(zone, answer, anchor),
    authority: ref.authority,
    additional: ref.additional,
    glueRequired: ref.glueRequired,
    requiredAdditional: ref.requiredAdditional ?? 0,
  };
}

/** RFC 6672 §2.2: the substituted name would be longer than 255 octets. */
export function yxdomain(zone: Zone, answer: RR[], anchor: Buffer): LookupResult {
  return { ...positive(zone, answer, anchor), kind: "success", rcode: RCODE.YXDOMAIN, additional: [] };
}
