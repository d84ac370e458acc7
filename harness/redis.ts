/** A real redis-server on a loopback port (a free one unless given), started and stopped by its user. */
import { type ChildProcess, spawn } from "node:child_process";
import { Redis, type RedisOptions } from "ioredis";
import { freePort, pinned, waitFor } from "./procs.js";

export class RedisServer {
  private proc: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
    private readonly connection: RedisOptions,
    private readonly cpus: string | undefined,
  ) {}

  /**
   * `args` go to redis-server as they are; `connection` is how the caller's own clients (and the
   * start-up PING) reach it: a password, or TLS settings when the server listens with TLS only.
   * `cpus` pins it (the bench keeps it off the server's CPU).
   */
  static async start(
    opts: {
      port?: number;
      args?: string[];
      password?: string;
      connection?: RedisOptions;
      cpus?: string;
    } = {},
  ): Promise<RedisServer> {
    const connection: RedisOptions = { ...opts.connection };
    if (opts.password !== undefined) connection.password = opts.password;
    const r = new RedisServer(opts.port ?? (await freePort()), opts.args ?? [], connection, opts.cpus);
    await r.restart();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The running process (null before the first start). */
  get process(): ChildProcess | null {
    return this.proc;
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
      ...pinned(this.cpus, "redis-server", [
        ...listen,
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        ...this.extraArgs,
      ]),
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

/** A redis-server on `port` (on the CPUs in `cpus`), once it answers PING; for callers that manage the process. */
export async function startRedis(port: number, extra: string[] = [], cpus?: string): Promise<ChildProcess> {
  const server = await RedisServer.start({ port, args: extra, ...(cpus === undefined ? {} : { cpus }) });
  return server.process!;
}

/**
 * The Redis ACLs docs/health-reports.md documents: an agent's user may SET only its own key and
 * PUBLISH only on the health channel; the server's user may only read health keys and subscribe.
 */
export async function addAgentUser(admin: Redis, member: string, password: string): Promise<void> {
  await admin.call(
    "ACL",
    "SETUSER",
    member,
    "on",
    `>${password}`,
    "resetkeys",
    `~lbdns:health:${member}`,
    "resetchannels",
    "&lbdns:health",
    "-@all",
    "+set",
    "+publish",
    "+multi",
    "+exec",
  );
}

export async function addServeUser(admin: Redis, user: string, password: string): Promise<void> {
  await admin.call(
    "ACL",
    "SETUSER",
    user,
    "on",
    `>${password}`,
    "resetkeys",
    "%R~lbdns:health:*",
    "resetchannels",
    "&lbdns:health",
    "-@all",
    "+scan",
    "+getrange",
    "+mget",
    "+subscribe",
    "+info",
    "+ping",
  );
}
