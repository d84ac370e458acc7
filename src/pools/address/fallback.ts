/**
 * The answer when no member can answer (docs/pools.md): the available stream managers, else the
 * fallback ("busy") addresses, else the zone's static records at the pool's name, else SERVFAIL.
 * Everything after the stream managers depends only on configuration and zones, so it is made once.
 */
import { edeOption } from "../../proto/encode.js";
import { RCODE } from "../../proto/rcode.js";
import { encodeSections } from "../../proto/sections.js";
import { lookup } from "../../zone/lookup.js";
import type { ZoneSet } from "../../zone/zoneset.js";
import { type AnswerSource, counterFor, type PoolAnswer, type PoolEnv } from "../runtime.js";
import { type Family, qtypeOf, type Slot } from "./slots.js";

export interface Fallback {
  answer: PoolAnswer;
  source: AnswerSource;
}

/** Encodes addresses as a pool answer counted under `source` (and `member`). */
export type AddressAnswer = (
  addresses: readonly Buffer[],
  qtype: number,
  source: AnswerSource,
  member?: string,
  ttl?: number,
) => PoolAnswer;

export class FallbackChain {
  private readonly fixed: Partial<Record<Family, Fallback>> = {};

  constructor(
    private readonly pool: string,
    private readonly ownerKey: string,
    private readonly streamManagers: readonly Slot[],
    private readonly fallbackAddresses: Readonly<Record<Family, Buffer[]>>,
    private readonly answers: number,
    private readonly zones: ZoneSet,
    private readonly env: PoolEnv,
    private readonly encode: AddressAnswer,
  ) {}

  /** The fallback for a family now (after the stream managers' last assessment). */
  for(fam: Family): Fallback {
    const qtype = qtypeOf(fam);
    if (this.streamManagers.length > 0) {
      const up = this.streamManagers.filter((s) => s.assessment.available && s.addresses[fam].length > 0);
      if (up.length > 0) {
        const addrs = up.slice(0, this.answers).flatMap((s) => s.addresses[fam]);
        return { answer: this.encode(addrs, qtype, "stream-manager"), source: "stream-manager" };
      }
    }
    let fixed = this.fixed[fam];
    if (fixed === undefined) {
      fixed = this.fixedFor(fam, qtype);
      this.fixed[fam] = fixed;
    }
    return fixed;
  }

  /** RFC 8914 §4.1 (Other): why a client gets this answer, for the operator reading a dig. */
  private why(what: string): Buffer {
    return edeOption(0, `pool ${this.pool}: no member available; ${what}`);
  }

  private fixedFor(fam: Family, qtype: number): Fallback {
    if (this.fallbackAddresses[fam].length > 0) {
      const answer = this.encode(this.fallbackAddresses[fam], qtype, "fallback");
      return {
        answer: { ...answer, options: this.why("answering its fallback addresses") },
        source: "fallback",
      };
    }
    const r = lookup(this.zones, this.ownerKey, qtype);
    if (r.kind === "success" && r.answer.length > 0) {
      return {
        answer: {
          rcode: r.rcode,
          aa: r.aa,
          // Re-encoded without the name's own suffixes: the answer serves every name of the pool.
          sections: encodeSections(r.answer, r.authority, r.additional, r.glueRequired),
          counter: counterFor(this.env, this.pool, "static"),
          options: this.why("answering the zone's records"),
        },
        source: "static",
      };
    }
    return {
      answer: {
        rcode: RCODE.SERVFAIL,
        aa: false,
        sections: encodeSections([], [], []),
        counter: counterFor(this.env, this.pool, "servfail"),
        options: this.why("no fallback configured"),
      },
      source: "servfail",
    };
  }
}
