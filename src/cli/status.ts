/**
 * `lbdns status` and `lbdns explain`. Both ask a running server's admin endpoint (the live
 * view). `status --redis URL` without a server builds the view from Redis and the files instead;
 * it treats every report found as just received, so the server's own view stays the reference.
 */

import { Command } from "commander";
import { statusOf } from "../app/admin.js";
import { redisOptions } from "../health/redis-client.js";
import { DEFAULT_REDIS_STORE, RedisHealthStore } from "../health/redis-store.js";
import { HealthTable } from "../health/table.js";
import { UserError } from "../lib/errors.js";
import { adminRequest } from "../lib/http.js";
import { createLogger } from "../lib/logger.js";
import { clientToken } from "../lib/token.js";
import { loadPoolsFile, PoolsError, poolsFileFor } from "../pools/config.js";
import { PoolSet } from "../pools/pool-set.js";
import { buildZoneSet } from "../zone/reload.js";
import {
  jsonOption,
  poolsOption,
  redisOption,
  redisPrefixOption,
  serverOption,
  tokenFileOption,
  tokenOption,
  zonesOption,
} from "./options.js";

export interface StatusOptions {
  server?: string;
  redis?: string;
  redisPrefix?: string;
  zones: string;
  pools?: string;
  token?: string;
  tokenFile: string;
  json?: boolean;
  watch?: boolean;
}

type Status = ReturnType<typeof statusOf>;

export function fetchJson(server: string, path: string, token?: string): Promise<unknown> {
  return adminRequest(new URL(path, server), { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

async function localStatus(opts: StatusOptions): Promise<Status> {
  const log = createLogger("silent");
  const { zones } = buildZoneSet(opts.zones, null);
  let config: ReturnType<typeof loadPoolsFile>;
  try {
    config = loadPoolsFile(poolsFileFor(opts.zones, opts.pools), zones);
  } catch (e) {
    if (e instanceof PoolsError) throw new UserError(`${e.file}: ${e.problems[0]}`);
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
  if (!store.connected()) throw new UserError(`cannot reach Redis at ${opts.redis}`, 1);
  const status = statusOf(pools, store);
  pools.dispose();
  await store.stop();
  return status;
}

export const pct = (x: number | null | undefined) =>
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
        : ((await fetchJson(
            opts.server ?? "http://127.0.0.1:8053",
            "/v1/status",
            clientToken(opts.token, opts.tokenFile),
          )) as Status);
    return opts.json ? `${JSON.stringify(s)}\n` : renderStatus(s);
  };
  if (!opts.watch) return void process.stdout.write(await once());
  for (;;) {
    const text = await once().catch((e: Error) => `${e.message}\n`);
    process.stdout.write(`\x1b[2J\x1b[H${new Date().toISOString()}\n${text}`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

export function statusCommand(): Command {
  return new Command("status")
    .description(
      "live view: each pool's members, reason, load, utilization, report age, share of answers now",
    )
    .addOption(serverOption("a running server's admin endpoint (default: http://127.0.0.1:8053)"))
    .addOption(redisOption("without a server: build the view from Redis and the files"))
    .addOption(redisPrefixOption(true))
    .addOption(zonesOption())
    .addOption(poolsOption())
    .addOption(tokenOption())
    .addOption(tokenFileOption())
    .addOption(jsonOption())
    .option("--watch", "redraw every second")
    .action((opts) => status(opts));
}
