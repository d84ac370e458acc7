/** pino logger: JSON lines on stdout; level from --log-level or LBDNS_LOG_LEVEL (default info). */
import { type Logger, pino } from "pino";
import { UserError } from "./errors.js";

export type { Logger };

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export function createLogger(level?: string): Logger {
  const chosen = level ?? process.env["LBDNS_LOG_LEVEL"] ?? "info";
  if (!LEVELS.includes(chosen))
    throw new UserError(`log level '${chosen}' is not one of ${LEVELS.join(", ")}`);
  return pino({ name: "lbdns", level: chosen, base: { pid: process.pid } });
}
