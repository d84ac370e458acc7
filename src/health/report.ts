/**
 * The health report contract (docs/health-reports.md), shared by agents, `lbdns report`, Redis and the
 * admin endpoint: `{"v":1,"member":"web-1","status":"up","load":37.5,"capacity":100,"ts":...,
 * "interval":2000,"metrics":{...}}`.
 */
import { z } from "zod";

export const STATUSES = ["up", "down", "drain", "busy"] as const;
export type ReportStatus = (typeof STATUSES)[number];

/** Bounds that keep a hostile or buggy report from poisoning arithmetic (NaN, Infinity, 1e308). */
const MAX_LOAD = 1e9;

export const reportSchema = z.object({
  v: z.literal(1),
  member: z.string().min(1).max(128),
  status: z.enum(STATUSES),
  load: z.number().finite().min(0).max(MAX_LOAD),
  capacity: z.number().finite().positive().max(MAX_LOAD).optional(),
  ts: z.number().finite().nonnegative(),
  interval: z.number().finite().positive().max(86_400_000).optional(),
  metrics: z.record(z.string().max(64), z.number().finite()).optional(),
});

export type Report = z.infer<typeof reportSchema>;

export type ParsedReport = { ok: true; report: Report } | { ok: false; reason: string };

/** Parses a report from JSON text (or an already-decoded value); never throws. */
export function parseReport(input: string | unknown): ParsedReport {
  let value: unknown = input;
  if (typeof input === "string") {
    if (input.length > 65_536) return { ok: false, reason: "report larger than 64 KiB" };
    try {
      value = JSON.parse(input);
    } catch {
      return { ok: false, reason: "not JSON" };
    }
  }
  const parsed = reportSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    return { ok: false, reason: `${first.path.join(".") || "report"}: ${first.message}` };
  }
  return { ok: true, report: parsed.data };
}
