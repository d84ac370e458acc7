/**
 * One query in, one response out (or nothing, for packets that must be dropped).
 * decode -> zone lookup -> answer -> encode; synchronous, over in-memory state only.
 */
import { clientOf, clientScope } from "../pools/client.js";
import type { Pool } from "../pools/pool-set.js";
import { decodeQuery, type Query } from "../proto/decode.js";
import { buildResponse, EMPTY_SECTIONS, sectionsOf, TCP_LIMIT, udpLimit } from "../proto/encode.js";
import { CLASS_ANY, CLASS_IN, T } from "../proto/types.js";
import { lookup, nodataResult, RCODE } from "../zone/lookup.js";
import type { ZoneSet } from "../zone/zoneset.js";

export type Transport = "udp" | "tcp";

export type QueryObserver = (query: Query, rcode: number, transport: Transport) => void;

export const DEFAULT_MAX_QUERY_BYTES = 4096;

/** Upper bounds (seconds) of the answer-time histogram: a memory answer takes microseconds. */
export const LATENCY_BUCKETS = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1,
];

/** Query counts by transport and rcode, and by qtype; plain numbers, read by metrics when scraped. */
export class QueryStats {
  /** [transport 0=udp 1=tcp][rcode 0..23] */
  readonly byRcode = [new Float64Array(24), new Float64Array(24)];
  readonly byType = new Map<number, number>();
  /** [transport][bucket]: answers per histogram bucket (not cumulative; the last is +Inf). */
  readonly latency = [
    new Float64Array(LATENCY_BUCKETS.length + 1),
    new Float64Array(LATENCY_BUCKETS.length + 1),
  ];
  readonly latencySum = new Float64Array(2);
  dropped = 0;

  count(transport: Transport, rcode: number, qtype: number): void {
    this.byRcode[transport === "udp" ? 0 : 1]![rcode < 24 ? rcode : 23]!++;
    this.byType.set(qtype, (this.byType.get(qtype) ?? 0) + 1);
  }

  /** Time from a query's arrival to its answer being handed to the socket, in milliseconds. */
  took(transport: Transport, ms: number): void {
    const t = transport === "udp" ? 0 : 1;
    const seconds = ms / 1000;
    let b = 0;
    while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]!) b++;
    this.latency[t]![b]!++;
    this.latencySum[t]! += seconds;
  }
}

export class Responder {
  readonly stats = new QueryStats();
  /**
   * Identity of the last answer built (the same object for identical answers: a memoised lookup
   * result, a pool, or the shared empty sections of errors), and the end of its question. Response
   * rate limiting groups responses by it.
   */
  lastAnswer: object = EMPTY_SECTIONS;
  lastQuestionEnd = 12;
  /**
   * Larger messages are dropped unread. A query is one question plus an OPT record (ECS, cookie,
   * padding), far below this; anything bigger is not a query we would answer.
   */
  maxQueryBytes = DEFAULT_MAX_QUERY_BYTES;
  private zones: ZoneSet;
  private pools: ReadonlyMap<string, Pool> = new Map();

  constructor(
    zones: ZoneSet,
    private readonly observe: QueryObserver | null = null,
    private readonly onError: (err: Error) => void = () => {},
  ) {
    this.zones = zones;
  }

  /** Swaps in new zones and pools together; each query sees either the old pair or the new one. */
  setState(zones: ZoneSet, pools: ReadonlyMap<string, Pool>): void {
    this.zones = zones;
    this.pools = pools;
  }

  /** `remote` is the resolver's address; pools that answer by who asks use it (or the ECS option). */
  answer(buf: Buffer, transport: Transport, remote?: string): Buffer | null {
    if (buf.length > this.maxQueryBytes) {
      this.stats.dropped++;
      return null;
    }
    const decoded = decodeQuery(buf);
    if (!decoded.ok) {
      if (decoded.drop) {
        this.stats.dropped++;
        return null;
      }
      this.stats.count(transport, decoded.rcode, 0);
      this.lastAnswer = EMPTY_SECTIONS;
      this.lastQuestionEnd = decoded.questionEnd || 12;
      const limit = transport === "tcp" ? TCP_LIMIT : 512;
      return buildResponse(
        buf,
        decoded.id,
        decoded.flags,
        decoded.questionEnd,
        decoded.edns,
        decoded.rcode,
        false,
        EMPTY_SECTIONS,
        limit,
      );
    }
    const q = decoded.query;
    const limit = transport === "tcp" ? TCP_LIMIT : udpLimit(q);
    const refusal = refusalOf(q);
    this.lastQuestionEnd = q.questionEnd;
    this.lastAnswer = EMPTY_SECTIONS;
    if (refusal !== RCODE.NOERROR) {
      this.stats.count(transport, refusal, q.qtype);
      if (this.observe) this.observe(q, refusal, transport);
      return buildResponse(buf, q.id, q.flags, q.questionEnd, q.edns, refusal, false, EMPTY_SECTIONS, limit);
    }
    try {
      const pool = this.pools.get(q.qname);
      if (pool !== undefined) {
        const client = pool.kind === "a" && pool.needsClient ? clientOf(q.edns, remote) : null;
        const a = pool.answer(q.qtype, client);
        if (a !== null) {
          this.stats.count(transport, a.rcode, q.qtype);
          this.lastAnswer = pool;
          if (this.observe) this.observe(q, a.rcode, transport);
          // ECS scope: the client prefix the answer depended on, 0 when it did not (RFC 7871 §7.2.1).
          const scope = client !== null && a.rcode === RCODE.NOERROR ? clientScope(client) : 0;
          return buildResponse(
            buf,
            q.id,
            q.flags,
            q.questionEnd,
            q.edns,
            a.rcode,
            a.aa,
            a.sections,
            limit,
            scope,
          );
        }
      }
      let result = lookup(this.zones, q.qname, q.qtype);
      // A pool name exists even when the zone file has no records for it.
      if (pool !== undefined && result.kind === "nxdomain" && result.zone) result = nodataResult(result.zone);
      this.stats.count(transport, result.rcode, q.qtype);
      this.lastAnswer = result;
      if (this.observe) this.observe(q, result.rcode, transport);
      return buildResponse(
        buf,
        q.id,
        q.flags,
        q.questionEnd,
        q.edns,
        result.rcode,
        result.aa,
        sectionsOf(result),
        limit,
      );
    } catch (err) {
      // A bug must cost one SERVFAIL, not the process or a silent timeout.
      this.onError(err as Error);
      this.stats.count(transport, RCODE.SERVFAIL, q.qtype);
      return buildResponse(
        buf,
        q.id,
        q.flags,
        q.questionEnd,
        q.edns,
        RCODE.SERVFAIL,
        false,
        EMPTY_SECTIONS,
        limit,
      );
    }
  }
}

/** The rcode for a query that is well formed but not answered from zone data (NOERROR: answer it). */
function refusalOf(q: Query): number {
  if (q.edns && q.edns.version > 0) return RCODE.BADVERS; // RFC 6891 §6.1.3
  const t = q.qtype;
  if (t === T.OPT || t === 0) return RCODE.FORMERR;
  if (t === T.AXFR || t === T.IXFR) return RCODE.REFUSED; // no zone transfers to anyone
  if (t >= 128 && t <= 254) return RCODE.NOTIMP; // MAILA, MAILB, TKEY, TSIG as a question
  if (q.qclass !== CLASS_IN && q.qclass !== CLASS_ANY) return RCODE.REFUSED; // CHAOS etc.: no such zones
  return RCODE.NOERROR;
}
