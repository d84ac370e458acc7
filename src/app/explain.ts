/**
 * `lbdns explain`: the answer lbdns would give now for a name and type, and why. For a pool name
 * it lists every member with its reason (available, stale, shed, drained...) and its share of
 * answers; the answer shown is the best-ranked one (headroom and weighted policies draw among the
 * available members by their share).
 */
import { UserError } from "../lib/errors.js";
import { clientOf } from "../pools/client.js";
import type { PoolSet } from "../pools/pool-set.js";
import type { EncodedSections } from "../proto/encode.js";
import { sectionsOf } from "../proto/encode.js";
import { keyOf, parseName, presentName } from "../proto/name.js";
import { formatRdata, readWireName } from "../proto/rdata.js";
import { typeCode, typeName } from "../proto/types.js";
import { lookup, nodataResult } from "../zone/lookup.js";
import type { ZoneSet } from "../zone/zoneset.js";

const RCODES: Record<number, string> = {
  0: "NOERROR",
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
};

export class ExplainError extends UserError {}

/** Decodes precomputed sections into presentation lines; `qname` stands for the question pointer. */
export function sectionLines(
  s: EncodedSections,
  qname: string,
): { answer: string[]; authority: string[]; additional: string[] } {
  const lines: string[] = [];
  const b = s.bytes;
  let o = 0;
  for (let i = 0; i < s.an + s.ns + s.ar; i++) {
    let owner: string;
    if (b[o]! >= 0xc0) {
      owner = qname;
      o += 2;
    } else {
      const labels = readWireName(b, o);
      owner = presentName(labels);
      o += labels.reduce((n, l) => n + l.length + 1, 1);
    }
    const type = b.readUInt16BE(o);
    const ttl = b.readUInt32BE(o + 4);
    const len = b.readUInt16BE(o + 8);
    lines.push(
      `${owner}\t${ttl}\tIN\t${typeName(type)}\t${formatRdata(type, b.subarray(o + 10, o + 10 + len))}`,
    );
    o += 10 + len;
  }
  return {
    answer: lines.slice(0, s.an),
    authority: lines.slice(s.an, s.an + s.ns),
    additional: lines.slice(s.an + s.ns),
  };
}

export function explain(
  zones: ZoneSet,
  pools: PoolSet | null,
  name: string,
  typeText = "A",
  clientIp?: string,
) {
  let key: string;
  let qname: string;
  try {
    const labels = parseName(name.endsWith(".") ? name : `${name}.`, null);
    key = keyOf(labels);
    qname = presentName(labels);
  } catch (e) {
    throw new ExplainError((e as Error).message);
  }
  const qtype = typeCode(typeText);
  if (qtype === undefined) throw new ExplainError(`'${typeText}' is not a record type`);
  const pool = pools?.byKey.get(key);
  const peeked = pool?.peek(qtype) ?? null;
  let client:
    | { ip: string; depends: boolean; region?: string | null; candidates?: string[]; sticky?: string | null }
    | undefined;
  if (clientIp !== undefined) {
    const c = clientOf(null, clientIp);
    if (c === null) throw new ExplainError(`'${clientIp}' is not an IP address`);
    client =
      pool?.kind === "a" && pool.needsClient
        ? { ip: clientIp, depends: true, ...pool.decide(qtype, c) }
        : { ip: clientIp, depends: false };
  }
  if (pool && peeked) {
    return {
      name: qname,
      type: typeName(qtype),
      rcode: RCODES[peeked.rcode] ?? String(peeked.rcode),
      from: `pool '${pool.name}'`,
      source: pool.kind === "a" ? pool.source(qtype) : "mx",
      policy: pool.kind === "a" ? pool.config.policy : "mx",
      members: pool.kind === "a" ? pool.describe(qtype) : pool.describe(),
      ...(client ? { client } : {}),
      ...sectionLines(peeked.sections, qname),
    };
  }
  let result = lookup(zones, key, qtype);
  if (pool && result.kind === "nxdomain" && result.zone) result = nodataResult(result.zone);
  return {
    name: qname,
    type: typeName(qtype),
    rcode: RCODES[result.rcode] ?? String(result.rcode),
    from: result.zone ? `zone ${presentName(result.zone.origin)} (${result.kind})` : "no zone (refused)",
    ...(client ? { client } : {}),
    ...sectionLines(sectionsOf(result), qname),
  };
}
