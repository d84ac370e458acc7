/** What every pool runtime shares: the health inputs, per-member state that survives reloads, and answer counters. */
import type { Logger } from "pino";
import type { ProbeSet } from "../health/probe.js";
import type { HealthTable } from "../health/table.js";
import type { EncodedSections } from "../proto/sections.js";
import { type AssessInput, type Assessment, assess } from "./availability.js";

/** Where an answer came from, in the order they are tried (docs/pools.md). */
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
  /** EDNS options for the response (an Extended DNS Error saying why this is a fallback). */
  options?: Buffer | null;
}

/** State of a member that must outlive snapshot rebuilds and reloads. */
export interface MemberState {
  shed: boolean;
  /** The reason of the last assessment, to see a member come back after being down. */
  lastReason?: string;
  /** When a member came back after being down: its weight ramps up from here (slow start). */
  rampStart?: number | null;
}

export interface PoolEnv {
  table: HealthTable;
  probes: ProbeSet | null;
  members: Map<string, MemberState>;
  /** Answer counters by "pool\u0000source\u0000member", read by metrics and status. */
  counters: Map<string, Counter>;
  log: Logger;
  /**
   * True while the server starts and its health view loads: pools then pass through fallback
   * before their reports arrive, and a line per pool for that would bury the log (serve logs one
   * summary once the view is loaded instead).
   */
  quiet?: boolean;
}

/** The key of an answer counter in env.counters. */
export function counterKey(pool: string, source: AnswerSource, member = ""): string {
  return `${pool}\u0000${source}\u0000${member}`;
}

export function counterFor(env: PoolEnv, pool: string, source: AnswerSource, member = ""): Counter {
  const key = counterKey(pool, source, member);
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

/**
 * Assesses one member from the health table and its probe, carrying its shed state across
 * rebuilds. A pool that holds the member's state (from memberState) passes it, saving a lookup.
 */
export function assessMember(
  env: PoolEnv,
  id: string,
  input: AssessInput,
  now: number,
  staleAfterMs: number,
  maxUtilization: number,
  state: MemberState = memberState(env, id),
): Assessment {
  const a = assess(
    input,
    env.table.get(id),
    env.probes?.get(id),
    now,
    staleAfterMs,
    maxUtilization,
    state.shed,
  );
  state.shed = a.shed;
  return a;
}

/** The earliest freshUntil after `now` among the assessments, at most `next`. */
export function earliestExpiry(list: readonly Assessment[], now: number, next = Infinity): number {
  for (const x of list) if (x.freshUntil > now && x.freshUntil < next) next = x.freshUntil;
  return next;
}

/** Fires once at a given time (when the earliest fresh report goes stale), so stale members leave on time. */
export class ExpiryTimer {
  private timer: NodeJS.Timeout | null = null;
  private armedFor = Infinity;

  /** Arms for `at` (monotonic ms; Infinity disarms). */
  schedule(now: number, at: number, fire: () => void): void {
    // Most reports leave the earliest expiry where it was (another member's): keep that timer
    // rather than re-arming one per report.
    if (at === this.armedFor && this.timer !== null) return;
    this.clear();
    if (at === Infinity || at <= now) return;
    this.armedFor = at;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.armedFor = Infinity;
        fire();
      },
      Math.max(1, Math.ceil(at - now) + 1),
    );
    this.timer.unref();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
  }
}
