/**
 * Referrals at a zone cut (RFC 1034 §4.3.2 step 3b): the cut's NS RRset in the authority
 * section, not authoritative, with the addresses of its in-zone name servers as glue.
 */
import { keyOf } from "../proto/name.js";
import { RCODE } from "../proto/rcode.js";
import type { RR } from "../proto/sections.js";
import { T } from "../proto/types.js";
import { pushAddresses } from "./additional.js";
import type { LookupResult } from "./result.js";
import { rrsOf, targetOf, type ZoneNode } from "./zone.js";

/** Memo key of a cut's referral among its per-qtype results. */
const MEMO_REFERRAL = -1;

/** Whether a query for `qtype` at `node` is answered by the referral of its cut (DS at the cut is the parent's). */
export function referredBy(node: ZoneNode, qtype: number): ZoneNode | null {
  const cut = node.cut;
  return cut && !(cut === node && qtype === T.DS) ? cut : null;
}

export function referral(cut: ZoneNode): LookupResult {
  const hit = cut.memo?.get(MEMO_REFERRAL) as LookupResult | undefined;
  if (hit) return hit;
  const ns = cut.rrset(T.NS)!;
  const authority = rrsOf(ns, cut.wire);
  // RFC 9471: glue for names below the cut is required (without it the referral is useless), so
  // it goes first, and a response too small for it is truncated; sibling glue may be dropped.
  const required: RR[] = [];
  const sibling: RR[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < ns.rdatas.length; i++) {
    const key = keyOf(targetOf(ns, i));
    if (seen.has(key)) continue;
    seen.add(key);
    const node = cut.zone.nodes.get(key);
    if (node) pushAddresses(node, node.cut === cut ? required : sibling);
  }
  const additional = [...required, ...sibling];
  const glueRequired = required.length > 0;
  const result: LookupResult = {
    kind: "delegation",
    rcode: RCODE.NOERROR,
    aa: false,
    answer: [],
    authority,
    additional,
    glueRequired,
    requiredAdditional: required.length,
    anchor: cut.wire,
    zone: cut.zone,
  };
  cut.memo ??= new Map();
  cut.memo.set(MEMO_REFERRAL, result);
  return result;
}
