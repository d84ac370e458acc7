/**
 * Member slots: one per member and per stream manager of an address pool, holding what the pool
 * knows of it (configuration, the assessment of the last rebuild, its weight factor) and its
 * ready answers. The pool keeps one array of slots, not parallel arrays indexed alike.
 */
import ipaddr from "ipaddr.js";
import { fnv1a, mix32 } from "../../lib/hash.js";
import { T } from "../../proto/types.js";
import type { Assessment } from "../availability.js";
import { assessMember, type MemberState, memberState, type PoolAnswer, type PoolEnv } from "../runtime.js";
import type { AddressPoolConfig } from "../schema.js";

export type Family = 4 | 6;

export interface Slot {
  readonly id: string | undefined;
  readonly region: string | undefined;
  /** Per-member key for rendezvous hashing. */
  readonly seed: number;
  readonly addresses: Readonly<Record<Family, Buffer[]>>;
  readonly capacity: number;
  readonly weight: number;
  readonly state: "active" | "drain" | "disabled";
  readonly hasProbe: boolean;
  /** State that outlives rebuilds and reloads (env.members), held here to save a lookup per rebuild. */
  readonly memory: MemberState | null;
  /** The assessment of the last rebuild. */
  assessment: Assessment;
  /** Multiplies the member's weight in the random policies: slow start and RTT weighting. */
  factor: number;
  /** Ready answers by family and TTL: encoded once, reused by every rebuild. */
  answers: Record<Family, Map<number, PoolAnswer>> | null;
}

export function qtypeOf(fam: Family): number {
  return fam === 4 ? T.A : T.AAAA;
}

export function addressBytes(list: readonly string[]): Record<Family, Buffer[]> {
  const out = { 4: [] as Buffer[], 6: [] as Buffer[] };
  for (const a of list) {
    const parsed = ipaddr.parse(a);
    out[parsed.kind() === "ipv4" ? 4 : 6].push(Buffer.from(parsed.toByteArray()));
  }
  return out;
}

/** Not assessed yet: what a slot holds until the pool's first rebuild. */
const UNASSESSED: Assessment = Object.freeze({
  reason: "no-report",
  available: false,
  load: null,
  capacity: 0,
  utilization: 0,
  ageMs: null,
  freshUntil: Infinity,
  shed: false,
});

export function memberSlots(config: AddressPoolConfig, env: PoolEnv): Slot[] {
  return config.members.map((m) => ({
    id: m.id,
    region: m.region,
    seed: mix32(fnv1a(m.id)),
    addresses: addressBytes(m.address),
    capacity: m.capacity,
    weight: m.weight,
    state: m.state,
    hasProbe: m.check !== undefined,
    memory: memberState(env, m.id),
    assessment: UNASSESSED,
    factor: 1,
    answers: null,
  }));
}

export function streamManagerSlots(config: AddressPoolConfig, env: PoolEnv): Slot[] {
  return config["stream-managers"].map((s) => ({
    id: s.id,
    region: undefined,
    seed: 0,
    addresses: addressBytes(s.address),
    capacity: s.capacity,
    weight: 1,
    state: "active",
    hasProbe: false,
    memory: s.id === undefined ? null : memberState(env, s.id),
    assessment: UNASSESSED,
    factor: 1,
    answers: null,
  }));
}

/** Assesses a slot now; a stream manager without an id has no health data and is always answerable. */
export function judge(
  slot: Slot,
  env: PoolEnv,
  now: number,
  staleAfterMs: number,
  maxUtilization: number,
): Assessment {
  if (slot.id === undefined) {
    return {
      reason: "available",
      available: true,
      load: null,
      capacity: slot.capacity,
      utilization: 0,
      ageMs: null,
      freshUntil: Infinity,
      shed: false,
    };
  }
  return assessMember(env, slot.id, slot, now, staleAfterMs, maxUtilization, slot.memory ?? undefined);
}

/** The slot's ready answer for a family and TTL, from its cache (a rebuild must not re-encode it). */
export function slotAnswer(
  slot: Slot,
  fam: Family,
  ttl: number,
  encode: (addresses: readonly Buffer[], qtype: number, ttl: number) => PoolAnswer,
): PoolAnswer {
  slot.answers ??= { 4: new Map(), 6: new Map() };
  let a = slot.answers[fam].get(ttl);
  if (a === undefined) {
    a = encode(slot.addresses[fam], qtypeOf(fam), ttl);
    slot.answers[fam].set(ttl, a);
  }
  return a;
}

/** The earliest time after `now` at which a slot's fresh report goes stale. */
export function earliestStale(slots: readonly Slot[], now: number, next = Infinity): number {
  for (const s of slots) {
    const at = s.assessment.freshUntil;
    if (at > now && at < next) next = at;
  }
  return next;
}
