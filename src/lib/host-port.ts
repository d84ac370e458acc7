/** `HOST:PORT` and `[IPv6]:PORT`: listen addresses and the targets of checks. */
import { isIP } from "node:net";
import { UserError } from "./errors.js";

export interface ListenAddress {
  host: string;
  port: number;
  family: 4 | 6;
}

export class ListenError extends UserError {}

/** The host (brackets removed) and port of `HOST:PORT` or `[V6]:PORT`, or null when it is not that form. */
export function splitHostPort(text: string): { host: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m || Number(m[2]) > 65535) return null;
  return { host: m[1]!, port: Number(m[2]) };
}

/** An address to listen on: an IP address (not a name) and a port, 0 meaning any free port. */
export function parseListen(text: string): ListenAddress {
  const hp = splitHostPort(text);
  if (!hp) throw new ListenError(`listen address '${text}' must be HOST:PORT or [IPv6]:PORT (port 0-65535)`);
  const family = isIP(hp.host);
  if (family === 0) throw new ListenError(`listen address '${text}': '${hp.host}' is not an IP address`);
  return { ...hp, family: family as 4 | 6 };
}

export function formatListen(a: { host: string; port: number }): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
