/**
 * Is a member available right now, and if not, why (docs/pools.md)?
 * Available = state active, probe passing (when configured), a fresh report with status up,
 * and utilization below the shed threshold. Shedding has hysteresis: a shed member is re-admitted
 * only below max-utilization - 0.1, so a member hovering at the threshold does not flap.
 * A member with a passing probe and no fresh report is available as probe-only, at load 0.
 */

import type { ProbeState } from "../health/probe.js";
import type { HealthEntry } from "../health/table.js";

export type Reason =
  | "available"
  | "probe-only"
  | "disabled"
  | "drained"
  | "probe-down"
  | "no-report"
  | "stale"
  | "down"
  | "drain"
  | "busy"
  | "shed";

export interface Assessment {
  reason: Reason;
  available: boolean;
  load: number | null;
  capacity: number;
  utilization: number;
  /** Age of the report in ms, null without one. */
  ageMs: number | null;
  /** Monotonic time at which this assessment expires by staleness (Infinity: it does not). */
  freshUntil: number;
  shed: boolean;
}

export interface AssessInput {
  state: "active" | "drain" | "disabled";
  capacity: number;
  hasProbe: boolean;
}

export const SHED_HYSTERESIS = 0.1;

export function assess(
  m: AssessInput,
  entry: HealthEntry | undefined,
  probe: ProbeState | undefined,
  now: number,
  staleAfterMs: number,
  maxUtilization: number,
  wasShed: boolean,
): Assessment {
  const ageMs = entry ? now - entry.receivedAt : null;
  const fresh = entry !== undefined && ageMs! < staleAfterMs;
  const capacity = (fresh ? entry.report.capacity : undefined) ?? m.capacity;
  const load = fresh ? entry.report.load : null;
  const utilization = load === null ? 0 : load / capacity;
  let reason: Reason;
  let freshUntil = Infinity;
  let shed = wasShed;
  if (m.state === "disabled") reason = "disabled";
  else if (m.state === "drain") reason = "drained";
  else if (m.hasProbe && probe?.up !== true) reason = "probe-down";
  else if (!fresh) {
    reason = m.hasProbe ? "probe-only" : entry ? "stale" : "no-report";
    if (m.hasProbe) shed = false;
  } else {
    freshUntil = entry.receivedAt + staleAfterMs;
    const status = entry.report.status;
    if (status !== "up") reason = status;
    else {
      shed = utilization >= (wasShed ? maxUtilization - SHED_HYSTERESIS : maxUtilization);
      reason = shed ? "shed" : "available";
    }
  }
  // One literal with every field in one order: this runs for every member of a pool on every
  // report, so all assessments share one shape and nothing else is allocated.
  return {
    reason,
    available: reason === "available" || reason === "probe-only",
    load,
    capacity,
    utilization,
    ageMs,
    freshUntil,
    shed,
  };
}

/**
 * What operators see: no internal clock values, and the report's age now in whole ms (an
 * assessment is from the pool's last rebuild, so its own age is out of date by the time anyone looks).
 */
export function publicView(
  a: Assessment,
  entry: HealthEntry | undefined,
  now: number,
): Omit<Assessment, "freshUntil"> {
  const { freshUntil: _internal, ...rest } = a;
  return { ...rest, ageMs: entry === undefined ? null : Math.round(now - entry.receivedAt) };
}
