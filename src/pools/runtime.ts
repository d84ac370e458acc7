/** What every pool runtime shares: the health inputs, per-member state that survives reloads, and answer counters. */
import type { Logger } from "pino";
import type { EncodedSections } from "../dns/wire.js";
import type { ProbeSet } from "../health/probe.js";
import type { HealthTable } from "../health/table.js";

/** Where an answer came from, in the order they are tried (DESIGN.md §5). */
export type AnswerSource = "member" | "stream-manager" | "fallback" | "static" | "servfail" | "mx";

export interface Counter {
  n: number;
}

/** A ready-to-send answer: rcode, AA and the encoded sections, and the counter it bumps. */
export interface PoolAnswer {
  rcode: number;
  aa: boolean;
  sections: EncodedSections;
  counter: Counter;
}

/** State of a member that must outlive snapshot rebuilds and reloads. */
export interface MemberState {
  shed: boolean;
}

export interface PoolEnv {
  table: HealthTable;
  probes: ProbeSet | null;
  members: Map<string, MemberState>;
  /** Answer counters by "pool\u0000source\u0000member", read by metrics and status. */
  counters: Map<string, Counter>;
  log: Logger;
}

export function counterFor(env: PoolEnv, pool: string, source: AnswerSource, member = ""): Counter {
  const key = `${pool}\u0000${source}\u0000${member}`;
  let c = env.counters.get(key);
  if (!c) {
    c = { n: 0 };
    env.counters.set(key, c);
  }
  return c;
}

export function memberState(env: PoolEnv, id: string): MemberState {
  let s = env.members.get(id);
  if (!s) {
    s = { shed: false };
    env.members.set(id, s);
  }
  return s;
}
