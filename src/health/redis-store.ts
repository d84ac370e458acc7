/**
 * RedisHealthStore: follows `<prefix>health:*` keys and the `<prefix>health` channel.
 *
 * Start: wait (bounded) for the connection, load every key (SCAN + MGET), subscribe. Then resync
 * every few seconds and right after every reconnect, so a missed publish or a Redis restart heals
 * quickly. Commands fail fast while disconnected (no offline queue), and the table keeps the last
 * view, whose members go stale on their own as their reports age.
 */
import type { Redis, RedisOptions } from "ioredis";
import type { Logger } from "pino";
import { LimitedLog } from "../lib/log-limit.js";
import { createRedis } from "./redis-client.js";
import type { HealthStore } from "./store.js";
import type { HealthTable } from "./table.js";

export interface RedisStoreOptions {
  prefix: string;
  resyncMs: number;
  startWaitMs: number;
}

export const DEFAULT_REDIS_STORE: RedisStoreOptions = {
  prefix: "lbdns:",
  resyncMs: 5_000,
  startWaitMs: 3_000,
};

/** The largest health key value read; a real report is a few hundred bytes. */
export const MAX_REPORT_BYTES = 16_384;

export function healthKey(prefix: string, member: string): string {
  return `${prefix}health:${member}`;
}

export function healthChannel(prefix: string): string {
  return `${prefix}health`;
}

/**
 * Reconnect delays: 100, 200, 400, 800 ms, then every second. Capped low on purpose: a restarted
 * Redis must be back in the view within about a second, and a connection attempt to loopback or a
 * LAN costs nothing worth saving.
 */
export class RedisHealthStore implements HealthStore {
  readonly kind = "redis" as const;
  private readonly client: Redis;
  private readonly subscriber: Redis;
  private timer: NodeJS.Timeout | null = null;
  /** The resync in flight: a second caller waits for it rather than returning early. */
  private syncing: Promise<void> | null = null;
  private lastError = "";
  /** The subscriber's SUBSCRIBE to the health channel has been acknowledged since it last connected. */
  private isSubscribed = false;
  /** Members whose key is being read after a notification; true: notified again meanwhile. */
  private readonly reading = new Map<string, boolean>();
  lastSyncAt: number | null = null;
  oversized = 0;
  private lastResyncOk = false;
  get suppressed(): number {
    return this.warnings.suppressed;
  }
  /** Its own log limit, so a flood of bad reports cannot hide a huge key (and the reverse). */
  readonly warnings: LimitedLog;
  /** The server's Redis user may not run GETRANGE (an ACL from before it was needed): MGET then. */
  private noGetrange = false;

  constructor(
    readonly table: HealthTable,
    connection: RedisOptions,
    private readonly options: RedisStoreOptions,
    private readonly log: Logger,
  ) {
    this.warnings = new LimitedLog(log, table.clock);
    this.client = createRedis(connection, "store");
    this.subscriber = createRedis(connection, "subscriber");
    for (const [name, conn] of [
      ["redis", this.client],
      ["redis subscriber", this.subscriber],
    ] as const) {
      conn.on("error", (err: Error) => {
        // ioredis retries on its own; log each distinct failure once, not every retry.
        if (err.message !== this.lastError) this.log.warn({ err: err.message }, `${name} connection error`);
        this.lastError = err.message;
      });
    }
    this.client.on("ready", () => {
      this.lastError = "";
      this.log.info("redis connected; resyncing health view");
      void this.resync();
    });
    // A channel message is only a notification: anyone allowed to publish could name any member,
    // so the report is read from that member's key, which only its own agent can write.
    this.subscriber.on("message", (_channel: string, message: string) => {
      const member = memberNamed(message);
      if (member === null)
        this.table.offerText(message, "pubsub"); // rejected, and logged as such
      else this.refresh(member);
    });
    // Subscribe on every (re)connect: a subscriber that could not connect at start has nothing
    // for ioredis to resubscribe, and would otherwise wait on the periodic resync forever.
    this.subscriber.on("ready", () => void this.subscribe());
    this.client.on("close", () => {
      this.lastResyncOk = false;
    });
    this.subscriber.on("close", () => {
      this.isSubscribed = false;
    });
  }

  private async subscribe(): Promise<void> {
    try {
      await this.subscriber.subscribe(healthChannel(this.options.prefix));
      if (!this.isSubscribed)
        this.log.info({ channel: healthChannel(this.options.prefix) }, "subscribed to health reports");
      this.isSubscribed = true;
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message },
        "cannot subscribe to health reports; relying on resyncs",
      );
    }
  }

  /** Pub/sub is flowing: reports arrive as they are published, not only at the next resync. */
  subscribed(): boolean {
    return this.isSubscribed && this.subscriber.status === "ready";
  }

  /**
   * Connected and answering: the socket can stay open while Redis answers nothing (frozen by
   * SIGSTOP, a half-dead network), so the last resync must also have worked.
   */
  connected(): boolean {
    return this.client.status === "ready" && this.lastResyncOk;
  }

  async start(): Promise<void> {
    const ready = Promise.all([
      this.client.connect(),
      this.subscriber.connect().then(() => this.subscribe()),
    ]).then(() => this.resync());
    ready.catch(() => {}); // reconnects and resyncs are driven by the 'ready' handler
    const waited = await Promise.race([
      ready.then(() => true).catch(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(false), this.options.startWaitMs).unref()),
    ]);
    if (!waited) this.log.warn("redis not reachable at start; serving without reports until it is");
    this.timer = setInterval(() => void this.resync(), this.options.resyncMs);
    this.timer.unref();
  }

  /**
   * Reads one member's key after a notification. Notifications for a member arriving while its
   * read is in flight lead to one more read, not one each.
   */
  private refresh(member: string): void {
    if (this.reading.has(member)) {
      this.reading.set(member, true);
      return;
    }
    this.reading.set(member, false);
    const key = healthKey(this.options.prefix, member);
    this.readOne(key)
      .then((value) => {
        if (value !== null && value !== undefined) this.table.offerText(value, key, 0, member);
      })
      .catch((err: Error) =>
        this.log.debug({ err: err.message, member }, "could not read a reported member's key"),
      )
      .finally(() => {
        const again = this.reading.get(member);
        this.reading.delete(member);
        if (again) this.refresh(member);
      });
  }

  /** Reads every health key; new reports (unseen ts) refresh members, known ones do not. */
  resync(): Promise<void> {
    if (this.syncing) return this.syncing;
    if (this.client.status !== "ready") return Promise.resolve();
    this.syncing = this.scanAll().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  private async scanAll(): Promise<void> {
    try {
      const match = `${this.options.prefix}health:*`;
      let cursor = "0";
      do {
        const [next, keys] = await this.client.scan(cursor, "MATCH", match, "COUNT", 1000);
        cursor = next;
        if (keys.length === 0) continue;
        const values = await this.read(keys);
        const head = `${this.options.prefix}health:`;
        for (let i = 0; i < keys.length; i++) {
          const v = values[i];
          if (v !== null && v !== undefined)
            this.table.offerText(v, keys[i]!, 0, keys[i]!.slice(head.length));
        }
      } while (cursor !== "0");
      this.lastSyncAt = this.table.clock();
      this.lastResyncOk = true;
    } catch (err) {
      this.lastResyncOk = false;
      this.warnings.warn({ err: (err as Error).message }, "health resync failed");
    }
  }

  /**
   * The values of `keys` (null: missing, not a string, or too large). A report is a few hundred
   * bytes, so at most MAX_REPORT_BYTES + 1 are fetched per key (GETRANGE), whatever a writer put
   * there: one huge value must not cost the server its memory or every resync.
   */
  private async read(keys: string[]): Promise<(string | null)[]> {
    if (this.noGetrange) return this.client.mget(...keys);
    const pipe = this.client.pipeline();
    for (const k of keys) pipe.getrange(k, 0, MAX_REPORT_BYTES);
    const replies = (await pipe.exec()) ?? [];
    if (replies.some(([err]) => err !== null && this.refusedGetrange(err))) return this.client.mget(...keys);
    return replies.map(([err, value], i) => (err ? null : this.bounded(keys[i]!, value)));
  }

  /** One key, as after a notification: one command, no pipeline (thousands arrive a second). */
  private async readOne(key: string): Promise<string | null> {
    if (!this.noGetrange) {
      try {
        return this.bounded(key, await this.client.getrange(key, 0, MAX_REPORT_BYTES));
      } catch (err) {
        if (!this.refusedGetrange(err as Error)) throw err;
      }
    }
    return (await this.client.mget(key))[0] ?? null;
  }

  /** A NOPERM for GETRANGE: an ACL from before it was needed; MGET from then on, said once. */
  private refusedGetrange(err: Error): boolean {
    if (!err.message.startsWith("NOPERM")) return false;
    if (!this.noGetrange)
      this.log.warn(
        "the Redis user may not run GETRANGE, so report sizes are not bounded; grant +getrange (docs/health-reports.md)",
      );
    this.noGetrange = true;
    return true;
  }

  /** A value read with GETRANGE: null when missing, or when longer than any report. */
  private bounded(key: string, value: unknown): string | null {
    if (typeof value !== "string" || value === "") return null;
    if (value.length > MAX_REPORT_BYTES) {
      this.oversized++;
      this.warnings.warn({ key, limit: MAX_REPORT_BYTES }, "skipping a health key larger than any report");
      return null;
    }
    return value;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.client.disconnect();
    this.subscriber.disconnect();
  }
}

/** The member a channel message names, or null when it does not name one (not a report). */
function memberNamed(message: string): string | null {
  try {
    const m = (JSON.parse(message) as { member?: unknown }).member;
    return typeof m === "string" && m.length > 0 && m.length <= 200 ? m : null;
  } catch {
    return null;
  }
}
