/** pino logger: JSON lines on stdout; level from --log-level or LBDNS_LOG_LEVEL (default info). */
import { type Logger, pino } from "pino";

export type { Logger };

export function createLogger(level?: string): Logger {
  return pino({
    name: "lbdns",
    level: level ?? process.env["LBDNS_LOG_LEVEL"] ?? "info",
    base: { pid: process.pid },
  });
}
