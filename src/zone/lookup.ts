/**
 * Authoritative lookup: (zones, qname, qtype) -> sections + result kind.
 *
 * Algorithm (RFC 1034 §4.3.2, RFC 4592, RFC 6604, RFC 8482):
 *  1. Exact match in the name index. A node at or below a delegation cut gives a referral
 *     (except DS at the cut itself, which the parent answers).
 *  2. Otherwise walk up to the closest encloser. No encloser: not our zone -> REFUSED.
 *     Encloser below a cut -> referral. Encloser with a `*` child -> answer from the wildcard,
 *     with the query name as owner. Else NXDOMAIN.
 *  3. At the answering node: the RRset of qtype; ANY -> one RRset; a CNAME is followed within
 *     the zone (loops and long chains stop), and the rcode is that of the last name in the chain.
 *     No data -> NODATA. Negative answers carry the SOA with TTL min(SOA TTL, MINIMUM).
 *  4. Additional section: in-zone A/AAAA of NS, MX and SRV targets (glue for referrals).
 *
 * Results depend only on the immutable zones, so they are memoised per node and qtype.
 */
import { keyOf, parentKey, toWire } from "../proto/name.js";
import { readWireName, targetOffset } from "../proto/rdata.js";
import { T } from "../proto/types.js";
import { type RRset, targetOf, type Zone, type ZoneNode } from "./zone.js";
import type { ZoneSet } from "./zoneset.js";

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

export type ResultKind = "success" | "nxdomain" | "nodata" | "delegation" | "refused" | "servfail";

export interface RR {
  /** Owner in wire form; null means "the query name" (encoded as a pointer to the question). */
  owner: Buffer | null;
  type: number;
  ttl: number;
  rdata: Buffer;
}

export interface LookupResult {
  kind: ResultKind;
  rcode: number;
  /** Authoritative answer flag: false only for referrals and REFUSED. */
  aa: boolean;
  answer: RR[];
  authority: RR[];
  additional: RR[];
  /** True when the additional section carries glue a referral cannot work without. */
  glueRequired: boolean;
  /** Zone that answered (undefined for REFUSED). */
  zone?: Zone;
  /** Slot for the wire encoding, filled once by the DNS layer. */
  encoded?: unknown;
}

const MAX_CHAIN = 12;
const MEMO_LIMIT = 32;
const MEMO_REFERRAL = -1;

export const REFUSED_RESULT: LookupResult = {
  kind: "refused",
  rcode: RCODE.REFUSED,
  aa: false,
  answer: [],
  authority: [],
  additional: [],
  glueRequired: false,
};

export function lookup(zones: ZoneSet, qname: string, qtype: number): LookupResult {
  const exact = zones.index.get(qname);
  if (exact) {
    if (exact.cut && !(exact.cut === exact && qtype === T.DS)) return referral(exact.cut);
    return memoised(exact, qtype);
  }
  const encloser = closestEncloser(zones, qname);
  if (!encloser) return REFUSED_RESULT;
  if (encloser.cut) return referral(encloser.cut);
  if (encloser.wildcard) return memoised(encloser.wildcard, qtype);
  return nxdomain(encloser.zone);
}

function closestEncloser(zones: ZoneSet, qname: string): ZoneNode | undefined {
  for (let k = parentKey(qname); k !== null; k = parentKey(k)) {
    const node = zones.index.get(k);
    if (node) return node;
  }
  return undefined;
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

function rrsOf(set: RRset, owner: Buffer | null): RR[] {
  return set.rdatas.map((rdata) => ({ owner, type: set.type, ttl: set.ttl, rdata }));
}

function soaRR(zone: Zone): RR {
  return { owner: zone.apex.wire, type: T.SOA, ttl: zone.negativeTtl, rdata: zone.soa.rdatas[0]! };
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

function chase(zone: Zone, first: RRset, qtype: number): LookupResult {
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
    } else if (node.cut && !(node.cut === node && qtype === T.DS)) {
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

function isInZone(zone: Zone, key: string): boolean {
  const o = zone.originKey;
  return o === "" || key === o || key.endsWith(`.${o}`);
}

function closestInZone(zone: Zone, key: string): ZoneNode {
  for (let k = parentKey(key); k !== null; k = parentKey(k)) {
    const node = zone.nodes.get(k);
    if (node) return node;
  }
  return zone.apex;
}

function positive(zone: Zone, answer: RR[]): LookupResult {
  return {
    kind: "success",
    rcode: RCODE.NOERROR,
    aa: true,
    answer,
    authority: [],
    additional: additionalFor(zone, answer),
    glueRequired: false,
    zone,
  };
}

function negative(zone: Zone, kind: "nodata" | "nxdomain", answer: RR[]): LookupResult {
  return {
    kind,
    rcode: kind === "nxdomain" ? RCODE.NXDOMAIN : RCODE.NOERROR,
    aa: true,
    answer,
    authority: [soaRR(zone)],
    additional: [],
    glueRequired: false,
    zone,
  };
}

const nodataByZone = new WeakMap<Zone, LookupResult>();

/** NODATA for a name that exists only through a binding outside the zone file (a pool name). */
export function nodataResult(zone: Zone): LookupResult {
  let r = nodataByZone.get(zone);
  if (!r) {
    r = negative(zone, "nodata", []);
    nodataByZone.set(zone, r);
  }
  return r;
}

function nxdomain(zone: Zone): LookupResult {
  let r = zone.memo as LookupResult | undefined;
  if (!r) {
    r = negative(zone, "nxdomain", []);
    zone.memo = r;
  }
  return r;
}

function referral(cut: ZoneNode): LookupResult {
  const hit = cut.memo?.get(MEMO_REFERRAL) as LookupResult | undefined;
  if (hit) return hit;
  const ns = cut.rrset(T.NS)!;
  const authority = rrsOf(ns, cut.wire);
  const additional: RR[] = [];
  let glueRequired = false;
  const seen = new Set<string>();
  for (let i = 0; i < ns.rdatas.length; i++) {
    const key = keyOf(targetOf(ns, i));
    if (seen.has(key)) continue;
    seen.add(key);
    const node = cut.zone.nodes.get(key);
    if (!node) continue;
    const before = additional.length;
    pushAddresses(node, additional);
    // RFC 9471: glue for names below the cut is required; without it the referral is useless.
    if (additional.length > before && node.cut === cut) glueRequired = true;
  }
  const result: LookupResult = {
    kind: "delegation",
    rcode: RCODE.NOERROR,
    aa: false,
    answer: [],
    authority,
    additional,
    glueRequired,
    zone: cut.zone,
  };
  cut.memo ??= new Map();
  cut.memo.set(MEMO_REFERRAL, result);
  return result;
}

function pushAddresses(node: ZoneNode, out: RR[]): void {
  const a = node.rrset(T.A);
  if (a) out.push(...rrsOf(a, node.wire));
  const aaaa = node.rrset(T.AAAA);
  if (aaaa) out.push(...rrsOf(aaaa, node.wire));
}

/** In-zone addresses of NS/MX/SRV targets, which the client would ask for next (RFC 1035 §3.3). */
function additionalFor(zone: Zone, answer: readonly RR[]): RR[] {
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
