/**
 * What every pool is to the rest of lbdns: something bound to owner names that answers some
 * qtypes from its members' health, and shows why (docs/pools.md). Address pools (address/) and MX
 * pools (mx.ts) implement it; the resolver, status, metrics, explain and the admin API use only this.
 */
import type { Assessment } from "./availability.js";
import type { Client } from "./client.js";
import type { AnswerSource, PoolAnswer } from "./runtime.js";

/** One member (or stream manager) as operators see it: its assessment and its share of answers now. */
export interface MemberView extends Omit<Assessment, "freshUntil"> {
  id: string;
  role: "member" | "stream-manager";
  addresses: string[];
  answered: number;
  /** Share of answers this member would get now (0..1; the first address when answers > 1). */
  share: number;
  region?: string | undefined;
}

/** A name listed in an MX answer, and why. */
export interface ListedMx {
  host: string;
  preference: number;
  role: "primary" | "standby" | "relay" | "static";
}

/** A pool's state for status, metrics, explain and GET /v1/status. */
export interface PoolStatus {
  name: string;
  type: "a" | "mx";
  names: string[];
  policy: string;
  /** Where answers come from now; null: the pool has no address of the family, the zone answers. */
  source: AnswerSource | null;
  members: MemberView[];
  /** MX pools: the MX set being answered. */
  mx?: ListedMx[];
}

/** Which members a client's answers come from (region tier) and, for sticky pools, which one. */
export interface ClientChoice {
  region: string | null;
  candidates: string[];
  sticky: string | null;
}

export interface Pool {
  readonly name: string;
  readonly kind: "a" | "mx";
  /** The owner names it answers, as name-index keys. */
  readonly keys: readonly string[];
  /** Whether answers depend on who asks (regions, stickiness): the resolver finds the client only then. */
  readonly needsClient: boolean;
  /**
   * The ready answer for a qtype, or null to let the zone answer. `commit` false leaves counters
   * and policy state (the next draw, the round-robin turn) as they are.
   */
  answer(qtype: number, client?: Client | null, commit?: boolean): PoolAnswer | null;
  /** Where answers of a qtype come from now. */
  source(qtype: number): AnswerSource | null;
  /** Recomputes the answers after a member's health changed (`changed`: that member, if known). */
  rebuild(changed?: string): void;
  memberIds(): string[];
  status(qtype?: number): PoolStatus;
  /** The members a client is answered from; null when answers do not depend on the client. */
  choiceFor(qtype: number, client: Client): ClientChoice | null;
  dispose(): void;
}
