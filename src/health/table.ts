/**
 * The in-memory health view: the latest report per member and when it arrived.
 *
 * Freshness is counted from when a *new* report arrived (a `ts` or content not seen before for
 * that member), on this server's monotonic clock. Re-reading the same report (a resync) does not
 * refresh it, and the agent's `ts` is never compared with our clock, so a dead agent goes stale on
 * time whatever its clock says. Bad reports never replace good data, and are logged through a
 * global limit (lib/log-limit.ts).
 */
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import { LimitedLog } from "../lib/log-limit.js";
import { parseReport, type Report } from "./report.js";

export interface HealthEntry {
  report: Report;
  /** Monotonic milliseconds (performance.now()) when this report first arrived. */
  receivedAt: number;
}

export type HealthListener = (member: string) => void;

export const monotonicNow = (): number => performance.now();

export class HealthTable {
  private readonly entries = new Map<string, HealthEntry>();
  private readonly listeners: HealthListener[] = [];
  private known: ReadonlySet<string> | null = null;
  rejected = 0;
  /** Warnings about bad input, bounded overall (a flood of garbage keys costs a few lines). */
  readonly warnings: LimitedLog;

  constructor(
    log: Logger,
    readonly clock: () => number = monotonicNow,
  ) {
    this.warnings = new LimitedLog(log, clock);
  }

  /** Member ids that pools.yaml defines; reports for others are ignored. */
  setKnownMembers(ids: ReadonlySet<string>): void {
    this.known = ids;
    for (const id of this.entries.keys()) if (!ids.has(id)) this.entries.delete(id);
  }

  get(member: string): HealthEntry | undefined {
    return this.entries.get(member);
  }

  members(): IterableIterator<[string, HealthEntry]> {
    return this.entries.entries();
  }

  onChange(listener: HealthListener): void {
    this.listeners.push(listener);
  }

  /** Offers a report from `source` (a Redis key, "pubsub", "admin"...). Returns why it was refused, or null. */
  /** Whether pools.yaml defines the member (every member counts until it is known what pools.yaml says). */
  isKnown(member: string): boolean {
    return this.known === null || this.known.has(member);
  }

  /**
   * `member`: the member the source may speak for (the one its Redis key names, which ACLs
   * restrict per agent); a report naming another is rejected, so no key can speak for a member
   * whose key its writer cannot write.
   */
  offerText(text: string, source: string, ageMs = 0, member?: string): string | null {
    const parsed = parseReport(text);
    if (!parsed.ok) {
      this.reject(source, parsed.reason);
      return parsed.reason;
    }
    if (member !== undefined && parsed.report.member !== member) {
      const reason = `a report for '${parsed.report.member}' in the key of '${member}'`;
      this.reject(source, reason);
      return reason;
    }
    return this.offer(parsed.report, source, ageMs);
  }

  /** `ageMs`: how long ago the report first arrived elsewhere (a primary handing its view on). */
  offer(report: Report, source: string, ageMs = 0): string | null {
    if (this.known && !this.known.has(report.member)) {
      const reason = `unknown member '${report.member}'`;
      this.reject(source, reason);
      return reason;
    }
    const old = this.entries.get(report.member);
    if (old && sameReport(old.report, report)) return null;
    this.entries.set(report.member, { report, receivedAt: this.clock() - Math.max(0, ageMs) });
    for (const l of this.listeners) l(report.member);
    return null;
  }

  private reject(source: string, reason: string): void {
    this.rejected++;
    this.warnings.warn({ source, reason }, "ignoring bad health report");
  }
}

function sameReport(a: Report, b: Report): boolean {
  return a.ts === b.ts && a.status === b.status && a.load === b.load && a.capacity === b.capacity;
}
