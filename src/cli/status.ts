/**
 * `lbdns status` and `lbdns explain`. Both ask a running server's admin endpoint (the live
 * view). `status --redis URL` without a server builds the view from Redis and the files instead;
 * it treats every report found as just received, so the server's own view stays the reference.
 */

import { DEFAULT_REDIS_STORE, RedisHealthStore } from "../health/redis-store.js";
import { redisOptions } from "../health/redis-url.js";
import { HealthTable } from "../health/table.js";
import { statusOf } from "../ops/admin.js";
import { createLogger } from "../ops/logger.js";
import { buildZoneSet } from "../ops/reload.js";
import { loadPoolsFile, PoolsError, poolsFileFor } from "../pools/config.js";
import { PoolSet } from "../pools/pool-set.js";
import { CliError } from "./errors.js";

export interface StatusOptions {
  server?: string;
  redis?: string;
  redisPrefix?: string;
  zones: string;
  pools?: string;
  token?: string;
  json?: boolean;
  watch?: boolean;
}

type Status = ReturnType<typeof statusOf>;

async function fetchJson(server: string, path: string, token?: string): Promise<unknown> {
  const url = new URL(path, server);
  let res: Response;
  try {
    res = await fetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(5_000),
    });
  } catch (e) {
    throw new CliError(
      `cannot reach ${url.origin}: ${(e as Error).cause ? String((e as Error & { cause: Error }).cause.message) : (e as Error).message} (is lbdns serve running with --admin?)`,
      1,
    );
  }
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new CliError(`${url.origin} answered ${res.status}: ${body.error ?? res.statusText}`, 1);
  return body;
}

async function localStatus(opts: StatusOptions): Promise<Status> {
  const log = createLogger("silent");
  const { zones } = buildZoneSet(opts.zones, null);
  let config: ReturnType<typeof loadPoolsFile>;
  try {
    config = loadPoolsFile(poolsFileFor(opts.zones, opts.pools), zones);
  } catch (e) {
    if (e instanceof PoolsError) throw new CliError(`${e.file}: ${e.problems[0]}`);
    throw e;
  }
  const table = new HealthTable(log);
  const store = new RedisHealthStore(
    table,
    redisOptions(opts.redis!),
    { ...DEFAULT_REDIS_STORE, prefix: opts.redisPrefix ?? "lbdns:" },
    log,
  );
  const pools = new PoolSet(config, zones, {
    table,
    probes: null,
    members: new Map(),
    counters: new Map(),
    log,
  });
  table.setKnownMembers(pools.memberIds());
  table.onChange((id) => pools.memberChanged(id));
  await store.start();
  if (!store.connected()) throw new CliError(`cannot reach Redis at ${opts.redis}`, 1);
  const status = statusOf(pools, store);
  pools.dispose();
  await store.stop();
  return status;
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? "-" : `${Math.round(x * 100)}%`;

export function renderStatus(s: Status): string {
  const out: string[] = [`health store: ${s.store.kind}${s.store.connected ? "" : " (NOT CONNECTED)"}`];
  for (const p of s.pools) {
    out.push(
      "",
      `pool ${p.name} (${p.names.join(" ")})  ${p.type === "mx" ? "mx" : `policy ${p.policy}`}  answering from: ${p.source ?? "zone"}`,
    );
    out.push(
      `  ${"member".padEnd(14)} ${"reason".padEnd(11)} ${"load".padStart(8)} ${"capacity".padStart(8)} ${"util".padStart(5)} ${"age".padStart(7)} ${"share".padStart(6)} ${"answered".padStart(9)}`,
    );
    for (const m of p.members) {
      const age = m.ageMs === null ? "-" : `${(m.ageMs / 1000).toFixed(1)}s`;
      const id = "region" in m && m.region ? `${m.id} (${m.region})` : m.id;
      out.push(
        `  ${id.padEnd(14)} ${m.reason.padEnd(11)} ${String(m.load ?? "-").padStart(8)} ${String(m.capacity).padStart(8)} ${pct(m.load === null ? null : m.utilization).padStart(5)} ${age.padStart(7)} ${pct(m.share).padStart(6)} ${String(m.answered).padStart(9)}`,
      );
    }
    if ("mx" in p && p.mx)
      out.push(
        `  MX answered: ${p.mx.map((x) => `${x.preference} ${x.host} (${x.role})`).join(", ") || "(the zone's static MX)"}`,
      );
  }
  return `${out.join("\n")}\n`;
}

export async function status(opts: StatusOptions): Promise<void> {
  const once = async () => {
    const s =
      opts.redis && !opts.server
        ? await localStatus(opts)
        : ((await fetchJson(opts.server ?? "http://127.0.0.1:8053", "/v1/status", opts.token)) as Status);
    return opts.json ? `${JSON.stringify(s)}\n` : renderStatus(s);
  };
  if (!opts.watch) return void process.stdout.write(await once());
  for (;;) {
    const text = await once().catch((e: Error) => `${e.message}\n`);
    process.stdout.write(`\x1b[2J\x1b[H${new Date().toISOString()}\n${text}`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

interface Explained {
  name: string;
  type: string;
  rcode: string;
  from: string;
  source?: string;
  policy?: string;
  answer: string[];
  authority: string[];
  additional: string[];
  members?: {
    id: string;
    reason: string;
    utilization: number;
    load: number | null;
    share: number;
    region?: string;
  }[];
  client?: {
    ip: string;
    depends: boolean;
    region?: string | null;
    candidates?: string[];
    sticky?: string | null;
  };
}

export async function explainCommand(
  name: string,
  type: string | undefined,
  opts: { server?: string; token?: string; json?: boolean; client?: string },
): Promise<void> {
  const q = new URLSearchParams({ name, type: type ?? "A", ...(opts.client ? { client: opts.client } : {}) });
  const e = (await fetchJson(
    opts.server ?? "http://127.0.0.1:8053",
    `/v1/explain?${q}`,
    opts.token,
  )) as Explained;
  if (opts.json) return void process.stdout.write(`${JSON.stringify(e)}\n`);
  const out = [
    `${e.name} ${e.type} -> ${e.rcode} from ${e.from}${e.source ? ` (policy ${e.policy}, answering from ${e.source})` : ""}`,
  ];
  const c = e.client;
  if (c && !c.depends) out.push(`client ${c.ip}: this answer does not depend on who asks`);
  if (c?.depends) {
    const where = c.region ? `region ${c.region}` : "no region preference (all members)";
    out.push(
      `client ${c.ip}: answered from ${where}: ${c.candidates?.join(", ") || "(none available)"}${c.sticky ? `; sticky choice: ${c.sticky}` : ""}`,
    );
  }
  for (const [title, lines] of [
    ["answer", e.answer],
    ["authority", e.authority],
    ["additional", e.additional],
  ] as const) {
    if (lines.length > 0) out.push(`${title}:`, ...lines.map((l) => `  ${l}`));
  }
  if (e.members) {
    out.push("members:");
    for (const m of e.members) {
      const why =
        m.reason === "available" || m.reason === "probe-only" ? `share ${pct(m.share)}` : "gets no answers";
      const id = "region" in m && m.region ? `${m.id} (${m.region})` : m.id;
      out.push(
        `  ${id.padEnd(14)} ${m.reason.padEnd(11)} ${m.load === null ? "" : `util ${pct(m.utilization)}  `}${why}`,
      );
    }
    if (e.source === "member" && e.policy === "headroom")
      out.push(
        "  (headroom draws among the available members by share; the answer above is the best-ranked)",
      );
  }
  process.stdout.write(`${out.join("\n")}\n`);
}
