/**
 * One query in, one response out (or nothing, for packets that must be dropped):
 * decode (proto/decode.ts) -> resolve (resolve.ts: zone lookup or pool) -> encode
 * (proto/encode.ts). Synchronous, over in-memory state only.
 */

import type { Pool } from "../pools/pool.js";
import type { Query } from "../proto/decode.js";
import { decodeQuery, type Edns } from "../proto/decode.js";
import { buildResponse, TCP_LIMIT, udpLimit } from "../proto/encode.js";
import { RCODE } from "../proto/rcode.js";
import { EMPTY_SECTIONS } from "../proto/sections.js";
import type { ZoneSet } from "../zone/zoneset.js";
import type { CookieJar } from "./cookies.js";
import { Resolver } from "./resolve.js";
import { QueryStats } from "./stats.js";

export type Transport = "udp" | "tcp";

export type QueryObserver = (query: Query, rcode: number, transport: Transport) => void;

export const DEFAULT_MAX_QUERY_BYTES = 4096;

export class Responder {
  readonly stats = new QueryStats();
  readonly resolver = new Resolver();
  /**
   * Identity of the last answer built (the same object for identical answers: a memoised lookup
   * result, a pool, or the shared empty sections of errors), and the end of its question. Response
   * rate limiting groups responses by it.
   */
  lastAnswer: object = EMPTY_SECTIONS;
  lastQuestionEnd = 12;
  /** The last query carried a valid server cookie (RFC 7873): rate limiting lets it pass. */
  lastCookieValid = false;
  /** Server cookies (cookies.ts); null answers no COOKIE option. */
  cookies: CookieJar | null = null;
  /**
   * Larger messages are dropped unread. A query is one question plus an OPT record (ECS, cookie,
   * padding), far below this; anything bigger is not a query we would answer.
   */
  maxQueryBytes = DEFAULT_MAX_QUERY_BYTES;

  constructor(
    zones: ZoneSet,
    private readonly observe: QueryObserver | null = null,
    private readonly onError: (err: Error) => void = () => {},
  ) {
    this.resolver.setState(zones, new Map());
  }

  /** Swaps in new zones and pools together; each query sees either the old pair or the new one. */
  setState(zones: ZoneSet, pools: ReadonlyMap<string, Pool>): void {
    this.resolver.setState(zones, pools);
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
      const response = buildResponse(
        buf,
        decoded.id,
        decoded.flags,
        decoded.questionEnd,
        decoded.edns,
        decoded.rcode,
        false,
        EMPTY_SECTIONS,
        limit,
        0,
        this.withCookie(buf, decoded.edns, remote, null),
      );
      return decoded.tsig ? withBadKey(response, decoded.tsig) : response;
    }
    const q = decoded.query;
    const limit = transport === "tcp" ? TCP_LIMIT : udpLimit(q);
    this.lastQuestionEnd = q.questionEnd;
    let r: ReturnType<Resolver["resolve"]>;
    try {
      r = this.resolver.resolve(q, remote, true, transport === "tcp");
    } catch (err) {
      // A bug must cost one SERVFAIL, not the process or a silent timeout.
      this.onError(err as Error);
      r = this.resolver.refuse(RCODE.SERVFAIL);
    }
    this.stats.count(transport, r.rcode, q.qtype);
    this.lastAnswer = r.identity;
    if (this.observe) this.observe(q, r.rcode, transport);
    return buildResponse(
      buf,
      q.id,
      q.flags,
      q.questionEnd,
      q.edns,
      r.rcode,
      r.aa,
      r.sections,
      limit,
      r.scope,
      this.withCookie(buf, q.edns, remote, r.options),
    );
  }

  /** `options` with our COOKIE option added when the query has one (and notes whether it was valid). */
  private withCookie(
    buf: Buffer,
    edns: Edns | null,
    remote: string | undefined,
    options: Buffer | null,
  ): Buffer | null {
    this.lastCookieValid = false;
    if (this.cookies === null || edns === null || edns.cookieAt < 0) return options;
    const reply = this.cookies.reply(buf, edns.cookieAt, edns.cookieLength, remote);
    if (reply === null) return options;
    this.lastCookieValid = reply.valid;
    return options === null ? reply.option : Buffer.concat([options, reply.option]);
  }
}

/** The response with the BADKEY TSIG record appended, last (RFC 8945 §5.2.1, proto/tsig.ts). */
function withBadKey(response: Buffer, record: Buffer): Buffer {
  const out = Buffer.concat([response, record]);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return out;
}
