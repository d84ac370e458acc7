/** `HOST:PORT` / `[V6]:PORT` listen addresses. */

import { isIP } from "node:net";
import { UserError } from "./errors.js";

export interface ListenAddress {
  host: string;
  port: number;
  family: 4 | 6;
}

export class ListenError extends UserError {}

export function parseListen(text: string): ListenAddress {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new ListenError(`listen address '${text}' must be HOST:PORT or [IPv6]:PORT`);
  const host = m[1]!;
  const port = Number(m[2]);
  const family = isIP(host);
  if (family === 0) throw new ListenError(`listen address '${text}': '${host}' is not an IP address`);
  if (port > 65535) throw new ListenError(`listen address '${text}': port must be 0-65535`);
  return { host, port, family: family as 4 | 6 };
}

export function formatListen(a: { host: string; port: number }): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
