/**
 * What moves a member's weight and its answers' TTL besides its load:
 * - slow start: a member back from down gets weight x (time since / slow-start), at least 5%;
 * - weigh-rtt: weight x (mean rttMs of the pool / the member's rttMs);
 * - adaptive TTL (`ttl: {min, max}`): the short TTL near the shed threshold or within a minute of
 *   a change in who is available, the long one while load is calm.
 */
import type { HealthTable } from "../../health/table.js";
import type { Assessment } from "../availability.js";
import type { Slot } from "./slots.js";

const RAMP_FROM = new Set(["down", "stale", "probe-down", "drain", "busy", "drained", "disabled"]);
export const RECENT_CHANGE_MS = 60_000;
/** How far below max-utilization adaptive TTL already answers short. */
const NEAR_SHED = 0.2;

/** The slot's weight factor now; advances its slow-start ramp (kept in its memory across rebuilds). */
export function weightFactor(
  slot: Slot,
  now: number,
  slowStartMs: number,
  table: HealthTable,
  meanRtt: number,
): number {
  let factor = 1;
  const a = slot.assessment;
  const st = slot.memory;
  if (st !== null) {
    if (a.available && st.lastReason !== undefined && RAMP_FROM.has(st.lastReason)) st.rampStart = now;
    if (st.lastReason !== a.reason) st.lastReason = a.reason;
    if (st.rampStart != null && slowStartMs > 0) {
      const f = (now - st.rampStart) / slowStartMs;
      if (f >= 1 || !a.available) st.rampStart = null;
      else factor = Math.max(0.05, f);
    }
  }
  const rtt = meanRtt > 0 && slot.id !== undefined ? rttOf(table, slot.id) : undefined;
  if (rtt !== undefined && rtt > 0) factor *= meanRtt / rtt;
  return factor;
}

function rttOf(table: HealthTable, id: string): number | undefined {
  return table.get(id)?.report.metrics?.["rttMs"];
}

/** Mean reported rttMs over the slots that report one (0 when none does). */
export function meanRtt(slots: readonly Slot[], table: HealthTable): number {
  let sum = 0;
  let n = 0;
  for (const s of slots) {
    const v = s.id === undefined ? undefined : rttOf(table, s.id);
    if (v !== undefined && v > 0) {
      sum += v;
      n++;
    }
  }
  return n > 0 ? sum / n : 0;
}

/** When the next slow-start step is due (Infinity: no slot is ramping). */
export function nextRampStep(slots: readonly Slot[], now: number, slowStartMs: number): number {
  if (slowStartMs <= 0) return Infinity;
  for (const s of slots) if (s.memory?.rampStart != null) return now + Math.min(1_000, slowStartMs / 20);
  return Infinity;
}

export class AdaptiveTtl {
  readonly min: number;
  readonly max: number;
  /** When the set of available members last changed. */
  lastChangeAt = -Infinity;

  constructor(
    ttl: number | { min: number; max: number },
    private readonly maxUtilization: number,
  ) {
    this.min = typeof ttl === "number" ? ttl : Math.min(ttl.min, ttl.max);
    this.max = typeof ttl === "number" ? ttl : Math.max(ttl.min, ttl.max);
  }

  ttlFor(a: Assessment, now: number): number {
    if (this.min === this.max) return this.min;
    const near = a.utilization >= this.maxUtilization - NEAR_SHED;
    return near || now - this.lastChangeAt < RECENT_CHANGE_MS ? this.min : this.max;
  }

  /** When the recent-change window ends and long TTLs may return (Infinity: nothing to wait for). */
  nextWake(now: number): number {
    return this.min !== this.max && now - this.lastChangeAt < RECENT_CHANGE_MS
      ? this.lastChangeAt + RECENT_CHANGE_MS
      : Infinity;
  }
}
