/**
 * The snapshot a query reads: per address family, the available members (a tier) with their
 * cumulative weights, preference order and ready answers, built when a report arrives so a query
 * costs a draw and a binary search. A pool that prefers the client's region also holds one tier
 * per region: the first region in the client's order (own region, then region-order or the
 * others) with available members below spill-at, else the first with any, else every member.
 */
import { type Candidate, cumulativeWeights, type Policy, ranking, stickyWeight } from "../policy.js";
import type { AnswerSource, PoolAnswer } from "../runtime.js";
import type { Slot } from "./slots.js";

/** A set to choose from: eligible slots, with weights and ready answers at the same positions. */
export interface Tier {
  eligible: Slot[];
  answers: PoolAnswer[];
  candidates: Candidate[];
  cumulative: Float64Array | null;
  /**
   * Preference order (orderOf). Made at build for the deterministic policies, which pick from it;
   * the random ones need it only for extra answers and status, so it waits until asked.
   */
  order: number[] | null;
  /** Capacity weights (x factor) for sticky rendezvous picks. */
  weights: Float64Array;
  /** Region this tier answers from (null: all members). */
  region: string | null;
}

export interface FamilySnapshot extends Tier {
  /** The pool has at least one address of this family somewhere. */
  configured: boolean;
  /** Per client region, when the pool prefers the client's region. */
  byRegion: Map<string, Tier> | null;
  /** Answer when no member is eligible (or always, in stream-manager mode). */
  fallback: PoolAnswer;
  fallbackSource: AnswerSource;
}

export interface TierRules {
  policy: Policy;
  sticky: boolean;
  /** The slot's ready answer in this family (at its TTL now). */
  answerOf: (slot: Slot) => PoolAnswer;
}

const NO_WEIGHTS = new Float64Array(0);

function candidateOf(s: Slot): Candidate {
  return {
    utilization: s.assessment.utilization,
    capacity: s.assessment.capacity,
    weight: s.weight,
    factor: s.factor,
  };
}

export function buildTier(eligible: Slot[], region: string | null, rules: TierRules): Tier {
  const candidates = eligible.map(candidateOf);
  const cumulative = cumulativeWeights(rules.policy, candidates);
  return {
    eligible,
    answers: eligible.map(rules.answerOf),
    candidates,
    cumulative,
    order: cumulative === null ? ranking(rules.policy, candidates) : null,
    weights: rules.sticky ? stickyWeights(candidates) : NO_WEIGHTS,
    region,
  };
}

export function orderOf(t: Tier, policy: Policy): number[] {
  t.order ??= ranking(policy, t.candidates);
  return t.order;
}

/** One slot's new load in a tier, its eligibility unchanged: its weight, answer and the order. */
export function updateInTier(t: Tier, slot: Slot, rules: TierRules): void {
  const p = t.eligible.indexOf(slot);
  if (p < 0) return;
  const c = t.candidates[p]!;
  c.utilization = slot.assessment.utilization;
  c.capacity = slot.assessment.capacity;
  c.factor = slot.factor;
  t.answers[p] = rules.answerOf(slot);
  if (t.cumulative !== null) {
    cumulativeWeights(rules.policy, t.candidates, t.cumulative);
    t.order = null; // made again when next asked
  } else t.order = ranking(rules.policy, t.candidates);
  if (rules.sticky) t.weights[p] = stickyWeight(c);
}

/** One tier per client region (see the header); only the tier that is used gets built. */
export function regionTiers(
  eligible: Slot[],
  members: readonly Slot[],
  regionOrder: Record<string, string[]>,
  spillAt: number,
  rules: TierRules,
): Map<string, Tier> {
  const names = [...new Set(members.flatMap((m) => (m.region ? [m.region] : [])))];
  const out = new Map<string, Tier>();
  for (const r of new Set([...names, ...Object.keys(regionOrder)])) {
    const order = regionOrder[r] ?? [r, ...names.filter((x) => x !== r)];
    let first: { slots: Slot[]; region: string } | null = null;
    let chosen: { slots: Slot[]; region: string } | null = null;
    for (const region of order) {
      const slots = eligible.filter((s) => s.region === region);
      if (slots.length === 0) continue;
      let load = 0;
      let capacity = 0;
      for (const s of slots) {
        load += s.assessment.load ?? 0;
        capacity += s.assessment.capacity;
      }
      if (load / capacity < spillAt) {
        chosen = { slots, region };
        break;
      }
      first ??= { slots, region };
    }
    const use = chosen ?? first;
    out.set(r, use === null ? buildTier(eligible, null, rules) : buildTier(use.slots, use.region, rules));
  }
  return out;
}

function stickyWeights(candidates: readonly Candidate[]): Float64Array {
  const out = new Float64Array(candidates.length);
  for (let i = 0; i < candidates.length; i++) out[i] = stickyWeight(candidates[i]!);
  return out;
}
