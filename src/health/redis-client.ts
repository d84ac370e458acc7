/**
 * How lbdns talks to Redis: connection strings, and the one factory for clients.
 *
 * Redis connection strings:
 *   redis://[user:password@]host[:port][/db]            plain
 *   rediss://[user:password@]host[:port][/db][?ca=FILE&cert=FILE&key=FILE&servername=NAME]
 *                                                       TLS, verified against the system CAs or `ca`;
 *                                                       `cert`+`key` for client certificates
 *   redis-sentinel://[user:password@]host:port[,host:port...]/master-name[/db]
 *                                                       Sentinel: lbdns follows the promoted primary
 */

import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { Redis, type RedisOptions } from "ioredis";
import { UserError } from "../lib/errors.js";

export class RedisUrlError extends UserError {
  override name = "RedisUrlError";
}

export function redisOptions(url: string): RedisOptions {
  if (url.startsWith("redis-sentinel://")) return sentinelOptions(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisUrlError(`'${redact(url)}' is not a Redis URL (redis://, rediss:// or redis-sentinel://)`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new RedisUrlError(`unsupported scheme '${u.protocol}' (redis://, rediss:// or redis-sentinel://)`);
  }
  const path = u.pathname.split("/").filter(Boolean);
  if (u.protocol === "redis:" && u.search !== "")
    throw new RedisUrlError("query parameters (ca=, cert=, ...) are TLS settings: use rediss://");
  return {
    ...credentials(u.username, u.password),
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: Number(u.port || 6379),
    db: dbOf(path[0]),
    ...(u.protocol === "rediss:" ? { tls: tlsOptions(u) } : {}),
  };
}

const TLS_PARAMS = new Set(["ca", "cert", "key", "servername"]);

/**
 * TLS settings ride in the URL's query so that one `--redis` / LBDNS_REDIS_URL value configures
 * every command (serve, agent, report, status) alike. Files are read here, so a wrong path is a
 * clear start-up error rather than a handshake failure later.
 */
function tlsOptions(u: URL): ConnectionOptions {
  for (const name of u.searchParams.keys()) {
    if (!TLS_PARAMS.has(name))
      throw new RedisUrlError(`unknown rediss:// parameter '${name}' (ca, cert, key, servername)`);
  }
  const file = (name: string): Buffer | undefined => {
    const path = u.searchParams.get(name);
    if (path === null) return undefined;
    try {
      return readFileSync(path);
    } catch (e) {
      throw new RedisUrlError(
        `cannot read the TLS ${name} file '${path}': ${(e as NodeJS.ErrnoException).code}`,
      );
    }
  };
  const ca = file("ca");
  const cert = file("cert");
  const key = file("key");
  if ((cert === undefined) !== (key === undefined))
    throw new RedisUrlError("a TLS client certificate needs both cert= and key=");
  const host = u.hostname.replace(/^\[|\]$/g, "");
  // SNI carries host names only (RFC 6066); for an IP the certificate's IP SAN is checked instead.
  const servername = u.searchParams.get("servername") ?? (isIP(host) ? undefined : host);
  return {
    ...(servername ? { servername } : {}),
    ...(ca ? { ca } : {}),
    ...(cert && key ? { cert, key } : {}),
  };
}

/** WHATWG URL cannot hold a host list, so the Sentinel form is split here. */
function sentinelOptions(url: string): RedisOptions {
  const m = /^redis-sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/]+)(?:\/([^/]*))?(?:\/([^/]*))?\/?$/.exec(
    url,
  );
  if (!m)
    throw new RedisUrlError(
      `'${redact(url)}' is not a Sentinel URL: redis-sentinel://host:26379[,host:port]/master`,
    );
  const [, user, pass, hosts, name, db] = m;
  if (!name)
    throw new RedisUrlError("redis-sentinel:// needs the master name: redis-sentinel://host:26379/mymaster");
  const sentinels = hosts!.split(",").map((h) => {
    const hm = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(h);
    if (!hm) throw new RedisUrlError(`bad sentinel address '${h}'`);
    return { host: hm[1]!, port: Number(hm[2] ?? 26379) };
  });
  const auth = credentials(user ?? "", pass ?? "");
  // The credentials are the data nodes'; Sentinels commonly run without a password.
  return { ...auth, sentinels, name: decodeURIComponent(name), db: dbOf(db) };
}

function credentials(user: string, pass: string): RedisOptions {
  const out: RedisOptions = {};
  if (user) out.username = decodeURIComponent(user);
  if (pass) out.password = decodeURIComponent(pass);
  return out;
}

function dbOf(text: string | undefined): number {
  if (text === undefined || text === "") return 0;
  if (!/^\d+$/.test(text)) throw new RedisUrlError(`database '${text}' is not a number`);
  return Number(text);
}

/** The URL without its password, for logs and error messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/** Reconnect delay after `attempt` failures: 100 ms doubling to at most 1 s. */
export function backoff(attempt: number): number {
  return Math.min(100 * 2 ** Math.min(attempt, 4), 1_000);
}

/**
 * What a client is for, which decides how it fails:
 * - store: the server's commands; fail fast while disconnected (no offline queue), reconnect with backoff.
 * - subscriber: the server's pub/sub connection; SUBSCRIBE may wait for the connection.
 * - publisher: an agent's connection; like store, and with no ready check, since INFO is beyond
 *   a per-agent ACL user that may only SET and PUBLISH.
 * - once: one command and done (`lbdns report`): no retries, no reconnects, no ready check.
 */
const COMMAND_TIMEOUT_MS = 2_000;

export type RedisRole = "store" | "subscriber" | "publisher" | "once";

export function createRedis(connection: RedisOptions, role: RedisRole): Redis {
  if (role === "once") {
    return new Redis({
      ...connection,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 3_000,
      commandTimeout: COMMAND_TIMEOUT_MS,
      enableReadyCheck: false,
    });
  }
  return new Redis({
    ...connection,
    lazyConnect: true,
    enableOfflineQueue: role === "subscriber",
    maxRetriesPerRequest: 1,
    retryStrategy: backoff,
    connectTimeout: 2_000,
    // A frozen Redis (SIGSTOP, a dead network) answers nothing: a command fails after this, so a
    // resync or an agent's drain is never stuck on it. SUBSCRIBE waits for its connection instead.
    ...(role === "subscriber" ? {} : { commandTimeout: COMMAND_TIMEOUT_MS }),
    ...(role === "publisher" ? { enableReadyCheck: false } : {}),
    // The server's store reads one key per report notification, thousands a second: the reads
    // one batch of notifications triggers go out in one write instead of a syscall each.
    ...(role === "store" ? { enableAutoPipelining: true } : {}),
  });
}
