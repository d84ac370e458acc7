/**
 * Redis connection strings:
 *   redis://[user:password@]host[:port][/db]            plain
 *   rediss://[user:password@]host[:port][/db]           TLS
 *   redis-sentinel://[user:password@]host:port[,host:port...]/master-name[/db]
 *                                                       Sentinel: lbdns follows the promoted primary
 */
import type { RedisOptions } from "ioredis";

export class RedisUrlError extends Error {}

export function redisOptions(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url.startsWith("redis-sentinel://") ? url.replace(/^redis-sentinel:/, "http:") : url);
  } catch {
    throw new RedisUrlError(`'${redact(url)}' is not a Redis URL (redis://, rediss:// or redis-sentinel://)`);
  }
  const auth: RedisOptions = {};
  if (u.username) auth.username = decodeURIComponent(u.username);
  if (u.password) auth.password = decodeURIComponent(u.password);
  const path = u.pathname.split("/").filter(Boolean);
  if (url.startsWith("redis-sentinel://")) {
    const hosts = url.slice("redis-sentinel://".length).split("/")[0]!.replace(/^.*@/, "");
    const sentinels = hosts.split(",").map((h) => {
      const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(h);
      if (!m) throw new RedisUrlError(`bad sentinel address '${h}'`);
      return { host: m[1]!, port: Number(m[2] ?? 26379) };
    });
    if (!path[0])
      throw new RedisUrlError(
        "redis-sentinel:// needs the master name: redis-sentinel://host:26379/mymaster",
      );
    return {
      ...auth,
      sentinels,
      name: decodeURIComponent(path[0]),
      db: dbOf(path[1]),
      sentinelPassword: auth.password,
    };
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new RedisUrlError(`unsupported scheme '${u.protocol}' (redis://, rediss:// or redis-sentinel://)`);
  }
  return {
    ...auth,
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: Number(u.port || 6379),
    db: dbOf(path[0]),
    ...(u.protocol === "rediss:" ? { tls: { servername: u.hostname } } : {}),
  };
}

function dbOf(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^\d+$/.test(text)) throw new RedisUrlError(`database '${text}' is not a number`);
  return Number(text);
}

/** The URL without its password, for logs and error messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
