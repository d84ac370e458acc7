/**
 * Agent configuration, from flags (one member) or a YAML file (several members on one host):
 *
 *   redis: redis://127.0.0.1:6379      # or server: http://127.0.0.1:8053 (+ token)
 *   interval: 2s
 *   members:
 *     - member: web-1
 *       capacity: 100
 *       load: [conns:80, loadavg]        # the first is the report's load; all go to metrics
 *       check: [tcp:127.0.0.1:80, {check: "http:http://127.0.0.1/health", expect: "OK"}]
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import type { CheckTarget } from "../health/checks.js";
import { parseDuration } from "../lib/duration.js";
import { splitHostPort } from "../lib/host-port.js";
import { AgentConfigError, parseLoadSource } from "./load.js";

export interface CheckSpec {
  text: string;
  target: CheckTarget;
}

export interface MemberSpec {
  member: string;
  capacity: number | undefined;
  loads: string[];
  checks: CheckSpec[];
}

export interface AgentSpec {
  redis?: string;
  server?: string;
  token?: string;
  prefix: string;
  intervalMs: number;
  /** Expiry of the Redis key: default 3 x interval, so a dead agent's key goes away soon. */
  expiryMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  drainGraceMs: number;
  onExit: "drain" | "down";
  members: MemberSpec[];
}

function hostPort(text: string, what: string): { host: string; port: number } {
  const hp = splitHostPort(text);
  if (!hp || hp.port < 1) throw new AgentConfigError(`${what}: expected HOST:PORT, got '${text}'`);
  return hp;
}

/** `tcp:HOST:PORT`, `http:URL`, `smtp:HOST:PORT`. */
export function parseCheck(text: string, timeoutMs: number, expect?: string): CheckSpec {
  const colon = text.indexOf(":");
  const kind = text.slice(0, colon);
  const arg = text.slice(colon + 1);
  if (kind === "tcp" || kind === "smtp") {
    return { text, target: { type: kind, ...hostPort(arg, `check '${text}'`), timeoutMs } };
  }
  if (kind === "http") {
    let u: URL;
    try {
      u = new URL(arg);
    } catch {
      throw new AgentConfigError(`check '${text}': http:URL needs a URL`);
    }
    if (u.protocol !== "http:") throw new AgentConfigError(`check '${text}': only http:// URLs are checked`);
    return {
      text,
      target: {
        type: "http",
        host: u.hostname,
        port: Number(u.port || 80),
        url: arg,
        timeoutMs,
        ...(expect ? { expect } : {}),
      },
    };
  }
  throw new AgentConfigError(`unknown check '${text}' (tcp:HOST:PORT, http:URL, smtp:HOST:PORT)`);
}

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: "custom", message: `'${v}' is not a duration (like 500ms, 2s)` });
    return z.NEVER;
  }
  return ms;
});

const fileSchema = z.strictObject({
  redis: z.string().optional(),
  server: z.string().optional(),
  token: z.string().optional(),
  "redis-prefix": z.string().optional(),
  interval: duration.optional(),
  expiry: duration.optional(),
  timeout: duration.optional(),
  rise: z.number().int().min(1).optional(),
  fall: z.number().int().min(1).optional(),
  "drain-grace": z.union([z.string(), z.number()]).optional(),
  "on-exit": z.enum(["drain", "down"]).optional(),
  members: z
    .array(
      z.strictObject({
        member: z.string().min(1),
        capacity: z.number().positive().optional(),
        load: z.union([z.string(), z.array(z.string())]).optional(),
        check: z
          .union([z.string(), z.strictObject({ check: z.string(), expect: z.string().optional() })])
          .array()
          .optional(),
      }),
    )
    .min(1),
});

export type AgentFile = z.infer<typeof fileSchema>;

export function readAgentFile(path: string): AgentFile {
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new AgentConfigError(`${path}: ${(e as Error).message.split("\n")[0]}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const iss = parsed.error.issues[0]!;
    throw new AgentConfigError(`${path}: ${iss.path.join(".")}: ${iss.message}`);
  }
  return parsed.data;
}

/** Validates the member list: unique ids, known load sources and checks. */
export function buildMembers(
  members: {
    member: string;
    capacity?: number;
    load?: string | string[];
    check?: (string | { check: string; expect?: string })[];
  }[],
  timeoutMs: number,
): MemberSpec[] {
  const seen = new Set<string>();
  return members.map((m) => {
    if (seen.has(m.member)) throw new AgentConfigError(`member '${m.member}' is listed twice`);
    seen.add(m.member);
    const loads = m.load === undefined ? ["loadavg"] : Array.isArray(m.load) ? m.load : [m.load];
    for (const l of loads) parseLoadSource(l);
    const checks = (m.check ?? []).map((c) =>
      typeof c === "string" ? parseCheck(c, timeoutMs) : parseCheck(c.check, timeoutMs, c.expect),
    );
    return { member: m.member, capacity: m.capacity, loads, checks };
  });
}
