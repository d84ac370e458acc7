/** Health stores: where the health table's reports come from. */
import type { HealthTable } from "./table.js";

/** A source of health reports feeding a table. */
export interface HealthStore {
  readonly table: HealthTable;
  readonly kind: "memory" | "redis";
  /** Loads the initial view (bounded wait) and starts following updates. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True while the store is connected to its source (always true for memory). */
  connected(): boolean;
  /** Monotonic time of the last complete load from the source; null before one, or with no source. */
  readonly lastSyncAt: number | null;
  /** Values skipped as larger than any report can be (Redis only). */
  readonly oversized: number;
  /** Log lines held back by the store's own log limit. */
  readonly suppressed: number;
}

/** No Redis: fed by the admin endpoint (POST /v1/reports) and built-in probes. */
export class MemoryHealthStore implements HealthStore {
  readonly kind = "memory" as const;
  readonly lastSyncAt = null;
  readonly oversized = 0;
  readonly suppressed = 0;
  constructor(readonly table: HealthTable) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  connected(): boolean {
    return true;
  }
}
