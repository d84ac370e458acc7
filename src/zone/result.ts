/**
 * Lookup results: sections plus an explicit kind (success, nxdomain, nodata, delegation, refused).
 * Results depend only on the immutable zones, so they are built once and shared; negative answers
 * carry the SOA with TTL min(SOA TTL, SOA MINIMUM) (RFC 2308 §5).
 */
import { RCODE } from "../proto/rcode.js";
import type { RR, Sections } from "../proto/sections.js";
import { T } from "../proto/types.js";
import { additionalFor } from "./additional.js";
import type { Zone } from "./zone.js";

export type ResultKind = "success" | "nxdomain" | "nodata" | "delegation" | "refused" | "servfail";

/** Sections plus what kind of answer they are; the encoding is kept in the `encoded` slot. */
export interface LookupResult extends Sections {
  kind: ResultKind;
  rcode: number;
  /** Authoritative answer flag: false only for referrals and REFUSED. */
  aa: boolean;
  /** Zone that answered (undefined for REFUSED). */
  zone?: Zone;
}

export const REFUSED_RESULT: LookupResult = {
  kind: "refused",
  rcode: RCODE.REFUSED,
  aa: false,
  answer: [],
  authority: [],
  additional: [],
  glueRequired: false,
};

function soaRR(zone: Zone): RR {
  return { owner: zone.apex.wire, type: T.SOA, ttl: zone.negativeTtl, rdata: zone.soa.rdatas[0]! };
}

/** `anchor`: the name every query this result answers ends with (see proto/sections.ts). */
export function positive(zone: Zone, answer: RR[], anchor: Buffer): LookupResult {
  return {
    kind: "success",
    rcode: RCODE.NOERROR,
    aa: true,
    answer,
    authority: [],
    additional: additionalFor(zone, answer),
    glueRequired: false,
    anchor,
    zone,
  };
}

/** NXDOMAIN or NODATA with the SOA; `answer` holds the CNAME chain that led here, if any. */
export function negative(
  zone: Zone,
  kind: "nodata" | "nxdomain",
  answer: RR[],
  anchor: Buffer = zone.apex.wire,
): LookupResult {
  return {
    kind,
    rcode: kind === "nxdomain" ? RCODE.NXDOMAIN : RCODE.NOERROR,
    aa: true,
    answer,
    authority: [soaRR(zone)],
    additional: [],
    glueRequired: false,
    anchor,
    zone,
  };
}

const nodataByZone = new WeakMap<Zone, LookupResult>();

/** Plain NODATA: one shared result per zone (also for a name that exists only as a pool name). */
export function nodataResult(zone: Zone): LookupResult {
  let r = nodataByZone.get(zone);
  if (!r) {
    r = negative(zone, "nodata", []);
    nodataByZone.set(zone, r);
  }
  return r;
}

/** Plain NXDOMAIN: one shared result per zone, kept in the zone's memo slot. */
export function nxdomainResult(zone: Zone): LookupResult {
  let r = zone.memo as LookupResult | undefined;
  if (!r) {
    r = negative(zone, "nxdomain", []);
    zone.memo = r;
  }
  return r;
}
