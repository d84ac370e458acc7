/**
 * `lbdns serve`: load zones and pools, load the health view (Redis, or the embedded memory
 * store), then open the DNS sockets and the admin endpoint. Reload on SIGHUP, stop cleanly on
 * SIGTERM/SIGINT.
 */
import cluster from "node:cluster";
import { existsSync, statSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { ProbeSet } from "../health/probe.js";
import { redact, redisOptions } from "../health/redis-client.js";
import { DEFAULT_REDIS_STORE, RedisHealthStore } from "../health/redis-store.js";
import { type HealthStore, MemoryHealthStore } from "../health/store.js";
import { HealthTable } from "../health/table.js";
import { UserError } from "../lib/errors.js";
import { formatListen, type ListenAddress, parseListen } from "../lib/host-port.js";
import { createLogger } from "../lib/logger.js";
import { checkToken, serverToken } from "../lib/token.js";
import { poolsFileFor } from "../pools/config.js";
import type { PoolEnv } from "../pools/runtime.js";
import { displayName } from "../proto/name.js";
import { typeName } from "../proto/types.js";
import { CookieJar, type CookieSecrets, parseSecret, randomSecret } from "../server/cookies.js";
import type { ServerIdentity } from "../server/identity.js";
import { DEFAULT_SERVER_OPTIONS, DnsServer } from "../server/listen.js";
import { Responder } from "../server/responder.js";
import { RateLimiter } from "../server/rrl.js";
import { TRANSIENT_ERRORS } from "../zone/load.js";
import { ZoneSet } from "../zone/zoneset.js";
import { startAdmin } from "./admin.js";
import { Catalog } from "./catalog.js";
import { createMetrics, memberAnswers } from "./metrics.js";
import { startMetrics } from "./metrics-server.js";
import { watchZones } from "./watch.js";
import { isWorkerProcess, joinPrimary, startWorkers, type WorkerPool } from "./workers.js";

export interface ServeOptions {
  zones: string;
  pools?: string;
  listen: string[];
  redis?: string;
  redisPrefix: string;
  admin: string;
  /** A token; false for --no-admin-token; undefined for the token file. */
  adminToken?: string | boolean;
  adminTokenFile?: string;
  metrics?: string;
  logQueries: boolean;
  logLevel?: string;
  tcpIdleTimeout: number;
  workers: number;
  tcpReadTimeout: number;
  maxQuerySize: number;
  tcpMaxConnections: number;
  tcpMaxPerClient: number;
  watch: boolean;
  rrlRate: number;
  rrlSlip: number;
  rrlLoopback: boolean;
  /** CHAOS identity and version, and NSID (server/identity.ts). */
  identity: ServerIdentity;
  /** Server cookie secrets, 32 hex digits each (server/cookies.ts); none: one made at start. */
  cookieSecret?: string;
  cookieSecretPrevious?: string;
}

function listenArg(text: string): ListenAddress {
  try {
    return parseListen(text);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

/**
 * The cookie secrets. Without one set, a random secret is made once and handed to the workers
 * through the environment, so every worker of this instance accepts every other's cookies; a
 * fleet shares one by setting it (--cookie-secret or LBDNS_COOKIE_SECRET) on every instance.
 */
function cookieSecrets(opts: ServeOptions): CookieSecrets {
  const text = opts.cookieSecret ?? process.env["LBDNS_COOKIE_SECRET"];
  const current = text === undefined ? randomSecret() : parseSecret(text);
  if (current === null) throw new UserError("--cookie-secret must be 32 hex digits (16 octets)");
  process.env["LBDNS_COOKIE_SECRET"] = current.toString("hex");
  const previous = opts.cookieSecretPrevious === undefined ? null : parseSecret(opts.cookieSecretPrevious);
  if (opts.cookieSecretPrevious !== undefined && previous === null)
    throw new UserError("--cookie-secret-previous must be 32 hex digits (16 octets)");
  return { current, previous };
}

function isLoopback(host: string): boolean {
  return host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
}

/** The admin token: given, none (--no-admin-token), or the token file's (created when missing). */
function adminTokenOf(opts: ServeOptions): string | null {
  if (opts.adminToken === false) return null;
  if (typeof opts.adminToken === "string") return checkToken(opts.adminToken, "--admin-token");
  return serverToken(opts.adminTokenFile ?? join(opts.zones, ".admin-token"));
}

export async function serve(opts: ServeOptions): Promise<void> {
  if (!existsSync(opts.zones) || !statSync(opts.zones).isDirectory()) {
    throw new UserError(`zones directory '${opts.zones}' does not exist`);
  }
  if (opts.maxQuerySize < 512)
    throw new UserError("--max-query-size must be at least 512 (the classic DNS message size)");
  const listens = opts.listen.map(listenArg);
  const admin = opts.admin === "off" ? null : listenArg(opts.admin);
  const metricsAt = opts.metrics ? listenArg(opts.metrics) : null;
  if (admin && !isLoopback(admin.host) && opts.adminToken === false) {
    throw new UserError(`--admin ${opts.admin} is not loopback: --no-admin-token is for loopback only`);
  }

  let redisConnection: ReturnType<typeof redisOptions> | null = null;
  if (opts.redis) {
    try {
      redisConnection = redisOptions(opts.redis);
    } catch (e) {
      throw new UserError((e as Error).message);
    }
  }

  if (!Number.isInteger(opts.workers) || opts.workers < 1)
    throw new UserError("--workers must be a positive integer or 'auto'");
  // One process (single), or a primary that forks workers which own the DNS sockets.
  const role = opts.workers === 1 ? "single" : isWorkerProcess() ? "worker" : "primary";
  // Only the process that serves the admin endpoint needs (and creates) its token.
  const token = admin && role !== "worker" ? adminTokenOf(opts) : null;
  const log =
    role === "worker"
      ? createLogger(opts.logLevel).child({ worker: cluster.worker?.id })
      : createLogger(opts.logLevel);
  const table = new HealthTable(log);
  const store: HealthStore = redisConnection
    ? new RedisHealthStore(table, redisConnection, { ...DEFAULT_REDIS_STORE, prefix: opts.redisPrefix }, log)
    : new MemoryHealthStore(table);
  let catalog: Catalog | null = null;
  const probes = new ProbeSet((id) => catalog?.pools?.memberChanged(id), log);
  const env: PoolEnv = { table, probes, members: new Map(), counters: new Map(), log, quiet: true };
  const observer = opts.logQueries
    ? (q: { qname: string; qtype: number }, rcode: number, transport: string) =>
        log.info({ qname: displayName(q.qname), qtype: typeName(q.qtype), rcode, transport }, "query")
    : null;
  const responder = new Responder(new ZoneSet([]), observer, (err) =>
    log.error({ err }, "error answering a query"),
  );
  responder.maxQueryBytes = opts.maxQuerySize;
  responder.resolver.setIdentity(opts.identity);
  responder.cookies = new CookieJar(cookieSecrets(opts));
  const poolsFile = poolsFileFor(opts.zones, opts.pools);
  catalog = new Catalog(opts.zones, poolsFile, env, probes, responder, log);
  catalog.load();
  // Reports first, sockets second: never answer from an empty view while reports exist.
  await store.start();
  env.quiet = false;
  const fallingBack = catalog.pools?.withoutMembers() ?? [];
  if (fallingBack.length > 0)
    log.warn(
      { count: fallingBack.length, pools: fallingBack.slice(0, 20) },
      "pools with no available member at start: answering from their fallback",
    );

  const limiter =
    opts.rrlRate > 0
      ? new RateLimiter({ rate: opts.rrlRate, slip: opts.rrlSlip, exemptLoopback: !opts.rrlLoopback })
      : null;
  const server = new DnsServer(
    responder,
    {
      ...DEFAULT_SERVER_OPTIONS,
      idleTimeoutMs: opts.tcpIdleTimeout,
      readTimeoutMs: opts.tcpReadTimeout,
      maxConnections: opts.tcpMaxConnections,
      maxPerClient: opts.tcpMaxPerClient,
    },
    (err) => log.error({ err }, "socket error"),
    limiter,
  );
  const metrics = createMetrics(env, store, catalog, responder.stats, limiter);
  let adminServer: Awaited<ReturnType<typeof startAdmin>> | null = null;
  let workers: WorkerPool | null = null;
  const fail = async (what: string, e: unknown): Promise<never> => {
    const err = e as NodeJS.ErrnoException;
    const hint =
      err.code === "EACCES"
        ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
        : err.code === "EADDRINUSE"
          ? ` (another process has it; choose another with ${what === "the admin endpoint" ? "--admin HOST:PORT or --admin off" : what === "metrics" ? "--metrics" : "--listen"})`
          : "";
    await store.stop();
    probes.stop();
    adminServer?.server.close();
    throw new UserError(`cannot listen for ${what}: ${err.message}${hint}`);
  };
  const ownReadiness = () => {
    if (!catalog.zones || catalog.zones.zones.size === 0) return { ready: false, reason: "no zone loaded" };
    if (store instanceof RedisHealthStore && store.lastSyncAt === null)
      return { ready: false, reason: "health view not synced from Redis yet" };
    if (store instanceof RedisHealthStore && !store.subscribed())
      return { ready: false, reason: "not subscribed to the Redis health channel" };
    return { ready: true, reason: `ready: ${catalog.zones.zones.size} zone(s), health store ${store.kind}` };
  };
  if (role === "primary") {
    try {
      workers = await startWorkers(opts.workers, table, log);
    } catch (e) {
      await store.stop();
      probes.stop();
      throw new UserError(`cannot start workers: ${(e as Error).message}`);
    }
  }
  // Workers only answer DNS; the admin endpoint and metrics are the primary's (or the single process's).
  if (admin && role !== "worker") {
    try {
      adminServer = await startAdmin(admin.host, admin.port, {
        store,
        pools: () => catalog.pools,
        zones: () => catalog.zones,
        resolver: responder.resolver,
        live: () => workers?.serving() ?? true,
        metrics: workers?.metrics ?? metrics,
        token,
        onReport: workers ? (text) => workers?.relayReport(text) : undefined,
        answers: workers ? async () => memberAnswers(await workers!.metrics.metrics()) : undefined,
      });
    } catch (e) {
      await fail("the admin endpoint", e);
    }
  }
  let metricsServer: Awaited<ReturnType<typeof startMetrics>> | null = null;
  if (metricsAt && role !== "worker") {
    const readiness = {
      live: () => workers?.serving() ?? true,
      ready: () => {
        const own = ownReadiness();
        return own.ready && workers ? workers.readiness() : own;
      },
    };
    try {
      metricsServer = await startMetrics(
        metricsAt.host,
        metricsAt.port,
        workers?.metrics ?? metrics,
        readiness,
      );
    } catch (e) {
      await fail("metrics", e);
    }
  }
  let listening: string[];
  if (workers) {
    listening = workers.listen;
  } else {
    try {
      listening = (await server.start(listens)).map((b) => b.text);
    } catch (e) {
      metricsServer?.server.close();
      return fail("DNS", e);
    }
  }
  if (role === "worker") {
    joinPrimary(listening, table, ownReadiness, metrics);
    log.info({ listen: listening }, "worker serving");
  } else {
    log.info(
      {
        listen: listening,
        workers: opts.workers,
        admin:
          adminServer && admin
            ? `${admin.host.includes(":") ? `[${admin.host}]` : admin.host}:${adminServer.port}`
            : null,
        metrics:
          metricsServer && metricsAt
            ? formatListen({ host: metricsAt.host, port: metricsServer.port })
            : null,
        rrl: limiter ? { rate: opts.rrlRate, slip: opts.rrlSlip } : "off",
        store: store.kind,
        redis: opts.redis ? redact(opts.redis) : undefined,
        zones: catalog.zones?.zones.size ?? 0,
        pools: catalog.pools?.byName.size ?? 0,
      },
      "lbdns serving",
    );
  }

  // A reload that failed for a passing reason (EMFILE while descriptors ran out...) is retried,
  // 1 s doubling to 30 s, until one works: waiting for the next edit could take days.
  let stopping = false;
  let retryTimer: NodeJS.Timeout | null = null;
  let retryMs = 1_000;
  // One reload at a time: a trigger while one runs makes exactly one more run after it.
  let reloading = false;
  let again: string | null = null;
  const pause = () => new Promise<void>((r) => setImmediate(r));
  const reload = async (why: string) => {
    if (reloading) {
      again = why;
      return;
    }
    reloading = true;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    let retry = false;
    try {
      log.info({ trigger: why }, "reloading");
      retry = await catalog.reload(pause);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      retry = code !== undefined && TRANSIENT_ERRORS.has(code);
      log.error({ err: (err as Error).message }, "reload failed; keeping the current state");
    } finally {
      reloading = false;
    }
    if (retry && !stopping) {
      log.warn({ inMs: retryMs }, "retrying the reload");
      retryTimer = setTimeout(() => void reload("retry"), retryMs);
      retryTimer.unref();
      retryMs = Math.min(retryMs * 2, 30_000);
    } else if (!retry) retryMs = 1_000;
    // Workers watch the files themselves; a SIGHUP to the primary is passed on.
    if (why === "SIGHUP") workers?.reload();
    if (again !== null && !stopping) {
      const next = again;
      again = null;
      await reload(next);
    }
  };
  process.on("SIGHUP", () => void reload("SIGHUP"));
  const stopWatching = opts.watch
    ? watchZones(opts.zones, poolsFile, 250, () => void reload("file change"))
    : () => {};
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "lbdns stopping");
    stopWatching();
    limiter?.stop();
    probes.stop();
    adminServer?.server.close();
    metricsServer?.server.close();
    Promise.all([workers ? workers.stop() : server.stop(), store.stop()]).then(
      () => {
        log.info("lbdns stopped");
        process.exit(0);
      },
      (err) => {
        log.error({ err }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
