/**
 * Authoritative lookup: (zones, qname, qtype) -> sections + result kind (result.ts).
 *
 * Algorithm (RFC 1034 §4.3.2, RFC 4592, RFC 6604, RFC 8482):
 *  1. Exact match in the name index. A node at or below a delegation cut gives a referral
 *     (referral.ts; DS at the cut itself is answered here, as the parent's data).
 *  2. Otherwise the closest encloser (encloser.ts). No encloser: not our zone -> REFUSED.
 *     Encloser below a cut -> referral. Encloser with a `*` child -> answer from the wildcard,
 *     with the query name as owner. Else NXDOMAIN.
 *  3. At the answering node: the RRset of qtype; ANY -> one RRset; a CNAME is followed within
 *     the zone (cname.ts). No data -> NODATA.
 *  4. Additional section: in-zone A/AAAA of NS, MX and SRV targets (additional.ts).
 *
 * Results depend only on the immutable zones, so they are memoised per node and qtype.
 */
import { T } from "../proto/types.js";
import { chase } from "./cname.js";
import { closestEncloser } from "./encloser.js";
import { referral, referredBy } from "./referral.js";
import { type LookupResult, nodataResult, nxdomainResult, positive, REFUSED_RESULT } from "./result.js";
import { rrsOf, type ZoneNode } from "./zone.js";
import type { ZoneSet } from "./zoneset.js";

export { type LookupResult, nodataResult, type ResultKind } from "./result.js";

const MEMO_LIMIT = 32;

export function lookup(zones: ZoneSet, qname: string, qtype: number): LookupResult {
  const exact = zones.index.get(qname);
  if (exact) {
    const cut = referredBy(exact, qtype);
    return cut ? referral(cut) : memoised(exact, qtype);
  }
  const encloser = closestEncloser(zones, qname);
  if (!encloser) return REFUSED_RESULT;
  if (encloser.cut) return referral(encloser.cut);
  if (encloser.wildcard) return memoised(encloser.wildcard, qtype);
  return nxdomainResult(encloser.zone);
}

function memoised(node: ZoneNode, qtype: number): LookupResult {
  const hit = node.memo?.get(qtype) as LookupResult | undefined;
  if (hit) return hit;
  const result = answerAt(node, qtype);
  // Plain NODATA is one shared result per zone, so qtypes a node lacks add nothing to its memo.
  if (result === nodataResult(node.zone)) return result;
  node.memo ??= new Map();
  if (node.memo.size < MEMO_LIMIT) node.memo.set(qtype, result);
  return result;
}

/** Answer for the node that owns (or synthesises) the query name. */
function answerAt(node: ZoneNode, qtype: number): LookupResult {
  const zone = node.zone;
  if (qtype === T.ANY) {
    // RFC 8482 §4.1: one RRset is a complete answer to ANY.
    const first = node.rrsets[0];
    if (!first) return nodataResult(zone);
    return positive(zone, rrsOf(first, null));
  }
  const set = node.rrset(qtype);
  if (set) return positive(zone, rrsOf(set, null));
  const cname = node.rrset(T.CNAME);
  if (cname) return chase(zone, cname, qtype);
  return nodataResult(zone);
}
