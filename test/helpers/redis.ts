/** A real redis-server on a free loopback port, started and stopped by the test. */
import { type ChildProcess, spawn } from "node:child_process";
import { Redis, type RedisOptions } from "ioredis";
import { freePort } from "../../bench/procs.js";
import { waitFor } from "./lbdns.js";

export { freePort };

export class RedisServer {
  private proc: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
    private readonly connection: RedisOptions,
  ) {}

  /**
   * `args` go to redis-server as they are; `connection` is how the test's own clients (and the
   * start-up PING) reach it: a password, or TLS settings when the server listens with TLS only.
   */
  static async start(
    opts: { port?: number; args?: string[]; password?: string; connection?: RedisOptions } = {},
  ): Promise<RedisServer> {
    const connection: RedisOptions = { ...opts.connection };
    if (opts.password !== undefined) connection.password = opts.password;
    const r = new RedisServer(opts.port ?? (await freePort()), opts.args ?? [], connection);
    await r.restart();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Whether the process is running (false once killed and before a restart). */
  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async restart(): Promise<void> {
    const listen = this.connection.tls
      ? ["--port", "0", "--tls-port", String(this.port)]
      : ["--port", String(this.port)];
    this.proc = spawn(
      "redis-server",
      [...listen, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...this.extraArgs],
      { stdio: "ignore" },
    );
    await waitFor(
      async () => {
        const c = new Redis({
          ...this.connection,
          host: "127.0.0.1",
          port: this.port,
          lazyConnect: true,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
        });
        c.on("error", () => {});
        try {
          await c.connect();
          return (await c.ping()) === "PONG";
        } catch {
          return false;
        } finally {
          c.disconnect();
        }
      },
      10_000,
      "redis-server to answer PING",
    );
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once("exit", () => resolve());
      p.kill("SIGKILL");
    });
  }

  client(): Redis {
    const c = new Redis({ ...this.connection, host: "127.0.0.1", port: this.port, maxRetriesPerRequest: 1 });
    c.on("error", () => {});
    return c;
  }
}
