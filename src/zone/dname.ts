/**
 * DNAME redirection (RFC 6672): a DNAME at an owner redirects every name below the owner (not
 * the owner itself) to the same name below the target. The answer carries the DNAME and a CNAME
 * synthesised for the name asked, with the DNAME's TTL (§3.1), and continues at the new name;
 * when the new name would exceed 255 octets the answer is YXDOMAIN (§2.2). A DNAME above a
 * delegation cut occludes the cut, and a cut above a DNAME occludes the DNAME: the higher wins.
 */
import { labelCount, MAX_NAME_WIRE, parseName, toWire, wireLength } from "../proto/name.js";
import type { RR } from "../proto/sections.js";
import { T } from "../proto/types.js";
import { rrsOf, targetOf, type ZoneNode } from "./zone.js";

/**
 * The DNAME owner that redirects a name at `node` (`exact`: the name is the node's own) or below
 * it, unless a delegation cut higher up comes first.
 */
export function redirectedBy(node: ZoneNode, exact: boolean): ZoneNode | null {
  const d = !exact && node.has(T.DNAME) ? node : node.dname;
  if (d === null) return null;
  const cut = node.cut;
  return cut !== null && labelCount(cut.key) <= labelCount(d.key) ? null : d;
}

export interface Redirection {
  /** The DNAME RR and the synthesised CNAME (owned by `name`, or the question when null). */
  records: RR[];
  /** The name to continue at, or null when it would be too long (YXDOMAIN). */
  target: Buffer[] | null;
}

/** Redirects `name` (labels, or the key when only that is known) below the DNAME owner `d`. */
export function redirect(d: ZoneNode, name: Buffer[], owner: Buffer | null): Redirection {
  const set = d.rrset(T.DNAME)!;
  const records = rrsOf(set, d.wire);
  const prefix = name.slice(0, name.length - labelCount(d.key));
  const target = [...prefix, ...targetOf(set, 0)];
  if (wireLength(target) > MAX_NAME_WIRE) return { records, target: null };
  records.push({ owner, type: T.CNAME, ttl: set.ttl, rdata: toWire(target) });
  return { records, target };
}

/** A query name's labels from its key (keys keep unusual octets as \DDD, which parseName reads back). */
export function labelsOfKey(key: string): Buffer[] {
  return key === "" ? [] : parseName(`${key}.`, null);
}
