/**
 * Warnings that outsiders can cause (garbage or oversized reports in Redis, forged reports) are
 * logged at most `burst` lines per window across all sources, so a million bad keys cost a few
 * log lines, not gigabytes. What was held back is counted (for metrics) and summed up in one line
 * when the next window opens.
 */
import type { Logger } from "pino";

export class LimitedLog {
  private windowStart = Number.NEGATIVE_INFINITY;
  private inWindow = 0;
  private heldBack = 0;
  /** Lines not written since start, for lbdns_log_lines_suppressed_total. */
  suppressed = 0;

  constructor(
    private readonly log: Logger,
    private readonly clock: () => number,
    private readonly burst = 20,
    private readonly windowMs = 60_000,
  ) {}

  warn(fields: Record<string, unknown>, msg: string): void {
    const now = this.clock();
    if (now - this.windowStart >= this.windowMs) {
      if (this.heldBack > 0)
        this.log.warn(
          { suppressed: this.heldBack, seconds: Math.round((now - this.windowStart) / 1000) },
          "similar warnings suppressed",
        );
      this.windowStart = now;
      this.inWindow = 0;
      this.heldBack = 0;
    }
    if (this.inWindow >= this.burst) {
      this.heldBack++;
      this.suppressed++;
      return;
    }
    this.inWindow++;
    this.log.warn(fields, msg);
  }
}
