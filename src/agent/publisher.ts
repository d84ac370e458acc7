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
    if (this.client.status !== "ready") throw new Error(`redis is ${this.client.status}`);
    await publishToRedis(this.client, this.prefix, report, expiryMs);
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
