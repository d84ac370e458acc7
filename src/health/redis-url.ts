/**
 * Redis connection strings:
 *   redis://[user:password@]host[:port][/db]            plain
 *   rediss://[user:password@]host[:port][/db]           TLS
 *   redis-sentinel://[user:password@]host:port[,host:port...]/master-name[/db]
 *                                                       Sentinel: lbdns follows the promoted primary
 */
import type { RedisOptions } from "ioredis";

export class RedisUrlError extends Error {
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
  return {
    ...credentials(u.username, u.password),
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: Number(u.port || 6379),
    db: dbOf(path[0]),
    ...(u.protocol === "rediss:" ? { tls: { servername: u.hostname } } : {}),
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
