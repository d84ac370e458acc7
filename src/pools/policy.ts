/**
 * Selection policies (docs/pools.md) as pure functions over the available candidates. The
 * expensive part (weights, ranking) is computed when the pool's snapshot is rebuilt, that is when
 * a report arrives; a query only draws a number and binary-searches, with no allocation.
 *
 * - headroom: weighted random, weight = capacity x (1 - utilization): "lowest load relative to
 *   capacity" without herding every resolver onto one server between two reports. The draws come
 *   from a low-discrepancy sequence (nextDraw), not independent random numbers, so any run of
 *   answers matches the weights within one answer per member: the load spreading simulator
 *   (bench/sim-model.ts) puts the peak member at about 1.13x ideal with Math.random, 1.10x with these.
 * - sticky (with headroom or weighted): weighted rendezvous over the same members, with weight
 *   capacity x factor (stickyWeight); load is left out on purpose, since a weight that moves
 *   with load moves clients with it.
 * - least-loaded: the lowest utilization (ties: larger capacity, then configured order).
 * - round-robin: rotate. weighted: random by static weight. failover: first in configured order.
 */

export type Policy = "headroom" | "least-loaded" | "round-robin" | "weighted" | "failover";

export interface Candidate {
  utilization: number;
  capacity: number;
  weight: number;
  /** Multiplies the random policies' weight: slow start ramps, response-time weighting (default 1). */
  factor?: number;
}

/** Headroom weight of one candidate: capacity x (1 - utilization), scaled by its factor. */
export function headroomWeight(c: Candidate): number {
  return c.capacity * Math.max(0, 1 - c.utilization) * (c.factor ?? 1);
}

/** Sticky rendezvous weight: capacity and slow-start factor, not load, so clients stay put. */
export function stickyWeight(c: Candidate): number {
  return Math.max(c.capacity * (c.factor ?? 1), 1e-6);
}

/**
 * The next draw in [0, 1) after `prev`: an additive recurrence by the golden ratio's fraction,
 * whose points fill [0, 1) evenly for any run length, so weighted picks track their weights.
 */
export function nextDraw(prev: number): number {
  const next = prev + 0.6180339887498949;
  return next >= 1 ? next - 1 : next;
}

/**
 * Cumulative weights for the random policies; null for the deterministic ones. `into`: an array
 * of the right length to refill instead of allocating one.
 */
export function cumulativeWeights(
  policy: Policy,
  candidates: readonly Candidate[],
  into?: Float64Array,
): Float64Array | null {
  if (policy !== "headroom" && policy !== "weighted") return null;
  const out = into ?? new Float64Array(candidates.length);
  let total = 0;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    const w = policy === "headroom" ? headroomWeight(c) : c.weight * (c.factor ?? 1);
    total += Math.max(w, 0);
    out[i] = total;
  }
  if (total === 0) for (let i = 0; i < out.length; i++) out[i] = i + 1; // all saturated: spread evenly
  return out;
}

/** Index of the weight interval that `r` in [0, 1) falls into. */
export function pickWeighted(cumulative: Float64Array, r: number): number {
  const target = r * cumulative[cumulative.length - 1]!;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Preference order: who answers first for the deterministic policies, and who fills extra answers. */
export function ranking(policy: Policy, candidates: readonly Candidate[]): number[] {
  const idx = candidates.map((_, i) => i);
  if (policy === "failover" || policy === "round-robin" || policy === "weighted") return idx;
  return idx.sort((a, b) => {
    const ca = candidates[a]!;
    const cb = candidates[b]!;
    if (policy === "headroom") {
      const ha = ca.capacity * (1 - ca.utilization);
      const hb = cb.capacity * (1 - cb.utilization);
      if (ha !== hb) return hb - ha;
    }
    return ca.utilization - cb.utilization || cb.capacity - ca.capacity || a - b;
  });
}
