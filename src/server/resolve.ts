/**
 * The one routing function: a decoded query and who asks -> the answer, its identity and where
 * it came from. The responder, response rate limiting and `lbdns explain` all call it, so what
 * explain shows is what that client would get.
 *
 *  1. Answers that need no zone data: EDNS version > 0 (BADVERS), CHAOS TXT identity and version
 *     (identity.ts), zone transfers (not yet: NOTIMP, REFUSED or NOTAUTH), classes we serve no
 *     zone for (REFUSED).
 *  2. A pool bound to the name answers the types it serves (A/AAAA, MX); pools that answer by who
 *     asks (regions, stickiness) get the client from ECS or the resolver's address.
 *  3. Otherwise the zone lookup. A pool name with no records in the zone file still exists, so it
 *     gets NODATA rather than NXDOMAIN. REFUSED outside our zones carries EDE 20.
 *  4. DO=1 to a signed zone (signed online, or pre-signed): the signed form of that answer.
 *  5. An NSID option in the query gets ours back (RFC 5001), when one is set.
 *
 * The result is written into one object that the resolver reuses: reading it allocates nothing,
 * and it is valid until the next call.
 */
import { clientOf, clientScope } from "../pools/client.js";
import type { Pool } from "../pools/pool.js";
import type { Query } from "../proto/decode.js";
import { edeOption } from "../proto/encode.js";
import { RCODE } from "../proto/rcode.js";
import { EMPTY_SECTIONS, type EncodedSections, sectionsOf } from "../proto/sections.js";
import { CLASS_ANY, CLASS_CH, CLASS_IN, T } from "../proto/types.js";
import { type LookupResult, lookup, nodataResult } from "../zone/lookup.js";
import type { Unsigned } from "../zone/signed.js";
import { ZoneSet } from "../zone/zoneset.js";
import { chaosAnswers, nsidOption, type ServerIdentity } from "./identity.js";

export interface Resolution {
  rcode: number;
  aa: boolean;
  sections: EncodedSections;
  /**
   * The same object for identical answers (a memoised lookup result, a pool, or the shared empty
   * sections of refusals): response rate limiting counts responses by it.
   */
  identity: object;
  /** ECS scope: the client prefix the answer depended on, 0 when it did not (RFC 7871 §7.2.1). */
  scope: number;
  /** The pool that answered, or null. */
  pool: Pool | null;
  /** The zone lookup that answered, or null (a pool answer or a refusal). */
  result: LookupResult | null;
  /** EDNS options to add to the response's OPT record (an Extended DNS Error), or null. */
  options: Buffer | null;
}

/** The types a pool name answers beside its zone records: NODATA proofs must not deny them. */
const POOL_TYPES: Record<Pool["kind"], readonly number[]> = { a: [T.A, T.AAAA], mx: [T.MX] };
const NO_TYPES: readonly number[] = [];

/** RFC 8914 §4.21: REFUSED because we are not authoritative for the name. */
const NOT_AUTHORITATIVE = edeOption(20);

export class Resolver {
  private zones: ZoneSet = new ZoneSet([]);
  private pools: ReadonlyMap<string, Pool> = new Map();
  private chaos = new Map<string, EncodedSections>();
  private nsid: Buffer | null = null;
  /** Reused for every signed answer, so asking for one allocates nothing. */
  private readonly unsigned: Unsigned = {
    kind: "success",
    rcode: RCODE.NOERROR,
    sections: EMPTY_SECTIONS,
    anchor: null,
    identity: EMPTY_SECTIONS,
    pool: false,
    extraTypes: [],
  };
  private readonly out: Resolution = {
    rcode: RCODE.NOERROR,
    aa: false,
    sections: EMPTY_SECTIONS,
    identity: EMPTY_SECTIONS,
    scope: 0,
    pool: null,
    result: null,
    options: null,
  };

  /** Swaps in new zones and pools together; each query sees either the old pair or the new one. */
  setState(zones: ZoneSet, pools: ReadonlyMap<string, Pool>): void {
    this.zones = zones;
    this.pools = pools;
  }

  /** Sets what CHAOS TXT queries and NSID requests are told (identity.ts). */
  setIdentity(id: ServerIdentity): void {
    this.chaos = chaosAnswers(id);
    this.nsid = id.nsid === null ? null : nsidOption(id.nsid);
  }

  /**
   * `remote`: the resolver's address (pools that answer by who asks use it, or the query's ECS).
   * `commit` false resolves without side effects: no answer is counted and no policy state
   * (the next draw, the round-robin turn) moves, so explain can show the next answer unchanged.
   */
  resolve(q: Query, remote: string | undefined, commit = true, tcp = false): Resolution {
    const out = this.out;
    out.scope = 0;
    out.pool = null;
    out.result = null;
    out.options = null;
    this.answer(q, remote, commit, tcp);
    if (q.edns?.dnssecOk) this.sign(q);
    if (this.nsid !== null && q.edns?.nsid)
      out.options = out.options === null ? this.nsid : Buffer.concat([out.options, this.nsid]);
    return out;
  }

  private answer(q: Query, remote: string | undefined, commit: boolean, tcp: boolean): Resolution {
    const out = this.out;
    if (q.edns && q.edns.version > 0) return this.refuse(RCODE.BADVERS); // RFC 6891 §6.1.3
    if (q.qclass === CLASS_CH) return this.chaosAnswer(q);
    const refusal = this.refusalOf(q, tcp);
    if (refusal !== RCODE.NOERROR) return this.refuse(refusal);
    const pool = this.pools.get(q.qname);
    if (pool !== undefined) {
      const client = pool.needsClient ? clientOf(q.edns, remote) : null;
      const a = pool.answer(q.qtype, client, commit);
      if (a !== null) {
        out.rcode = a.rcode;
        out.aa = a.aa;
        out.sections = a.sections;
        out.identity = pool;
        out.pool = pool;
        out.options = a.options ?? null;
        out.scope = client !== null && a.rcode === RCODE.NOERROR ? clientScope(client) : 0;
        return out;
      }
    }
    let result = lookup(this.zones, q.qname, q.qtype);
    if (pool !== undefined && result.kind === "nxdomain" && result.zone) result = nodataResult(result.zone);
    out.rcode = result.rcode;
    out.aa = result.aa;
    out.sections = sectionsOf(result);
    out.identity = result;
    out.result = result;
    if (result.kind === "refused") out.options = NOT_AUTHORITATIVE;
    return out;
  }

  /**
   * DO=1 to a signed zone: the signed form of the answer (zone/signed.ts online, presigned.ts for
   * a pre-signed file), made once per distinct answer and kept, so this is a lookup in the common
   * case. Compact denial answers NXDOMAIN as NOERROR, so the rcode comes from it.
   */
  private sign(q: Query): void {
    const out = this.out;
    if (out.rcode !== RCODE.NOERROR && out.rcode !== RCODE.NXDOMAIN) return;
    const pool = out.pool;
    const zone = out.result?.zone ?? (pool !== null ? this.zones.zoneOf(q.qname) : undefined);
    const signing = zone?.dnssec;
    if (signing == null) return;
    const u = this.unsigned;
    u.kind = out.result?.kind ?? (out.sections.an > 0 ? "success" : "nodata");
    u.rcode = out.rcode;
    u.sections = out.sections;
    u.anchor = out.result?.anchor ?? null;
    u.identity = out.result ?? out.sections;
    u.pool = pool !== null;
    const bound = pool ?? this.pools.get(q.qname);
    u.extraTypes = bound === undefined ? NO_TYPES : POOL_TYPES[bound.kind];
    const signed = signing.answer(u, q.qname, q.qtype);
    out.sections = signed.sections;
    out.rcode = signed.rcode;
  }

  /** CHAOS TXT: who we are (identity.ts); every other CHAOS question is REFUSED. */
  private chaosAnswer(q: Query): Resolution {
    const sections = this.chaos.get(q.qname);
    if (sections === undefined) return this.refuse(RCODE.REFUSED);
    const out = this.out;
    out.rcode = RCODE.NOERROR;
    out.aa = true;
    out.sections = q.qtype === T.TXT || q.qtype === T.ANY ? sections : EMPTY_SECTIONS;
    out.identity = sections;
    return out;
  }

  /** An answer with no data: a refusal, or SERVFAIL when answering failed. */
  refuse(rcode: number): Resolution {
    const out = this.out;
    out.rcode = rcode;
    out.aa = false;
    out.sections = EMPTY_SECTIONS;
    out.identity = EMPTY_SECTIONS;
    out.scope = 0;
    out.pool = null;
    out.result = null;
    out.options = null;
    return out;
  }

  /**
   * The rcode for a query that is well formed but not answered from zone data (NOERROR: answer
   * it). Meta and reserved types (OPT, TSIG, MAILA, 128-254...) are not refused: they are types
   * no name has, answered NODATA or NXDOMAIN as NSD and Knot do.
   */
  private refusalOf(q: Query, tcp: boolean): number {
    if (q.qtype === T.AXFR || q.qtype === T.IXFR) {
      // No transfers yet. Over UDP an AXFR is not implemented (RFC 5936 §4.2); for a zone we do
      // not serve, NOTAUTH; for one we do, REFUSED.
      if (q.qtype === T.AXFR && !tcp) return RCODE.NOTIMP;
      return this.zones.zones.has(q.qname) ? RCODE.REFUSED : RCODE.NOTAUTH;
    }
    if (q.qclass !== CLASS_IN && q.qclass !== CLASS_ANY) return RCODE.REFUSED; // CHAOS etc.: no such zones
    return RCODE.NOERROR;
  }
}
