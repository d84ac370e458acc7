/**
 * Where the agent's reports go: Redis (SET PX + PUBLISH on one connection that reconnects with
 * backoff) or a server's admin endpoint. Nothing is queued while the target is down: the next
 * interval's report supersedes anything that could not be sent, because only the latest state
 * matters.
 */
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { postToServer, publishToRedis } from "../health/publish.js";
import { createRedis, redisOptions } from "../health/redis-client.js";
import type { Report } from "../health/report.js";

/** How long a publish waits for the connection: the client's own connect timeout. */
const CONNECT_WAIT_MS = 2_000;

export interface Publisher {
  publish(report: Report, expiryMs: number): Promise<void>;
  close(): Promise<void>;
}

export class RedisPublisher implements Publisher {
  private readonly client: Redis;
  private lastError = "";

  constructor(
    url: string,
    private readonly prefix: string,
    log: Logger,
  ) {
    this.client = createRedis(redisOptions(url), "publisher");
    this.client.on("error", (err: Error) => {
      if (err.message !== this.lastError) log.warn({ err: err.message }, "redis connection error");
      this.lastError = err.message;
    });
    this.client.on("ready", () => {
      if (this.lastError) log.info("redis connected again");
      this.lastError = "";
    });
    this.client.connect().catch(() => {}); // retried by ioredis; failures show up as publish errors
  }

  async publish(report: Report, expiryMs: number): Promise<void> {
    await this.whenReady(CONNECT_WAIT_MS);
    await publishToRedis(this.client, this.prefix, report, expiryMs);
  }

  /**
   * Waits (bounded) for the connection, so the first report right after start is not lost to
   * "connecting"; when it does not come, the error names why (the connection's own error).
   */
  private whenReady(ms: number): Promise<void> {
    if (this.client.status === "ready") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.client.off("ready", ready);
      };
      const ready = () => {
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`redis is ${this.client.status}${this.lastError ? `: ${this.lastError}` : ""}`));
      }, ms);
      this.client.once("ready", ready);
    });
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

export class HttpPublisher implements Publisher {
  constructor(
    private readonly server: string,
    private readonly token: string | undefined,
  ) {}

  publish(report: Report): Promise<void> {
    return postToServer(this.server, report, this.token);
  }

  async close(): Promise<void> {}
}
