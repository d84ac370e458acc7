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
 *     the zone (cname.ts). No data -> NODATA. A name below a DNAME owner is redirected first
 *     (dname.ts), unless a delegation above it comes first.
 *  4. Additional section: in-zone A/AAAA of NS, MX and SRV targets (additional.ts).
 *
 * Results depend only on the immutable zones, so they are memoised per node and qtype.
 */
import { parentKey } from "../proto/name.js";
import { T } from "../proto/types.js";
import { chase, follow, yxdomain } from "./cname.js";
import { labelsOfKey, redirect, redirectedBy } from "./dname.js";
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
    // RFC 4035 §3.1.4.1: DS at a child apex is the parent's, when we serve the parent too.
    if (qtype === T.DS && exact === exact.zone.apex) {
      const parent = parentSide(zones, exact);
      if (parent) return memoised(parent, qtype);
    }
    if (exact.dname !== null) {
      const d = redirectedBy(exact, true);
      if (d) return redirected(d, qname, qtype);
    }
    const cut = referredBy(exact, qtype);
    return cut ? referral(cut) : memoised(exact, qtype);
  }
  const encloser = closestEncloser(zones, qname);
  if (!encloser) return REFUSED_RESULT;
  const d = redirectedBy(encloser, false);
  if (d) return redirected(d, qname, qtype);
  if (encloser.cut) return referral(encloser.cut);
  if (encloser.wildcard) return memoised(encloser.wildcard, qtype);
  return nxdomainResult(encloser.zone);
}

/** The parent zone's node for a child zone's apex (its delegation point), if we serve the parent. */
function parentSide(zones: ZoneSet, apex: ZoneNode): ZoneNode | undefined {
  const above = parentKey(apex.key);
  const parentZone = above === null ? undefined : zones.zoneOf(above);
  return parentZone?.nodes.get(apex.key);
}

/**
 * A name below a DNAME owner (dname.ts): the DNAME, the CNAME synthesised for the query name, and
 * the rest of the chain. It depends on the query name, so it is built per query, not memoised.
 */
function redirected(d: ZoneNode, qname: string, qtype: number): LookupResult {
  const r = redirect(d, labelsOfKey(qname), null);
  if (r.target === null) return yxdomain(d.zone, r.records, d.wire);
  if (qtype === T.CNAME) return positive(d.zone, r.records, d.wire);
  return follow(d.zone, r.records, r.target, qtype, d.wire, new Set([qname]));
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

/**
 * The name every query answered at `node` ends with: the node itself, or for a wildcard the
 * closest encloser it stands for (RFC 4592), whatever the query's first labels are.
 */
function anchorOf(node: ZoneNode): Buffer {
  return node.key.startsWith("*.") || node.key === "*" ? node.wire.subarray(2) : node.wire;
}

/** Answer for the node that owns (or synthesises) the query name. */
function answerAt(node: ZoneNode, qtype: number): LookupResult {
  const zone = node.zone;
  const anchor = anchorOf(node);
  if (qtype === T.ANY) {
    // RFC 8482 §4.1: one RRset is a complete answer to ANY; the addresses when there are some
    // (as NSD and Knot choose), else the first in the file.
    const first = node.rrset(T.A) ?? node.rrsets[0];
    if (!first) return nodataResult(zone);
    return positive(zone, rrsOf(first, null), anchor);
  }
  const set = node.rrset(qtype);
  if (set) return positive(zone, rrsOf(set, null), anchor);
  const cname = node.rrset(T.CNAME);
  if (cname) return chase(zone, node.key, cname, qtype, anchor);
  return nodataResult(zone);
}
