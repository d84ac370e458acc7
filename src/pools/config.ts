/**
 * Loads and validates `pools.yaml` against the loaded zones. The whole file is rejected on any
 * error, and every error names the pool, the member and the field.
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { UserError } from "../lib/errors.js";
import { keyOf, type NameError, parseName } from "../proto/name.js";
import { T } from "../proto/types.js";
import type { ZoneSet } from "../zone/zoneset.js";
import {
  type AddressPoolConfig,
  addressPoolSchema,
  type MxPoolConfig,
  mxPoolSchema,
  type PoolConfig,
  poolsFileSchema,
} from "./schema.js";

export interface PoolsConfig {
  regions: Record<string, string[]>;
  regionOrder: Record<string, string[]>;
  pools: { name: string; config: PoolConfig; keys: string[] }[];
}

export const EMPTY_POOLS: PoolsConfig = { regions: {}, regionOrder: {}, pools: [] };

export class PoolsError extends UserError {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join("; ")}`);
  }
}

/** The pools file in force: the one given, else `<zones>/pools.yaml` (docs/pools.md). */
export function poolsFileFor(zonesDir: string, given?: string): string {
  return given ?? join(zonesDir, "pools.yaml");
}

/** Reads pools.yaml; a missing file means "no pools". */
export function loadPoolsFile(file: string, zones: ZoneSet): PoolsConfig {
  if (!existsSync(file)) return EMPTY_POOLS;
  return parsePools(readFileSync(file, "utf8"), file, zones);
}

function describePath(path: readonly PropertyKey[], raw: unknown): string {
  // pools.web.members.1.address -> pool 'web', member 'web-2' (members[1]), field 'address'
  const parts: string[] = [];
  let node: unknown = raw;
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    const next = (node as Record<PropertyKey, unknown> | undefined)?.[key as string];
    if (i === 0 && key === "pools") {
      // the top-level container: named by the pool that follows
    } else if (i === 1 && path[0] === "pools") {
      parts.push(`pool '${String(key)}'`);
    } else if (typeof key === "number") {
      const item = next as { id?: unknown; host?: unknown } | undefined;
      const id = item?.id ?? item?.host;
      const kind = path[i - 1] === "members" ? "member" : String(path[i - 1]).replace(/s$/, "");
      parts.push(id === undefined ? `${kind} #${key + 1}` : `${kind} '${String(id)}'`);
    } else if (typeof path[i + 1] !== "number") {
      parts.push(`field '${String(key)}'`);
    }
    node = next;
  }
  return parts.join(", ");
}

function issues(error: z.ZodError, prefix: readonly PropertyKey[], raw: unknown): string[] {
  return error.issues.map((iss) => {
    const where = describePath([...prefix, ...iss.path], raw);
    return where ? `${where}: ${iss.message}` : iss.message;
  });
}

export function parsePools(text: string, file: string, zones: ZoneSet): PoolsConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PoolsError(
      file,
      doc.errors.map((e) => `line ${e.linePos?.[0]?.line ?? "?"}: ${e.message.split("\n")[0]}`),
    );
  }
  // An empty file (or comments only) is what a truncated write leaves; taking it as "no pools"
  // would silently drop every pool. No pools is written out: `pools: {}`.
  if (doc.contents === null)
    throw new PoolsError(file, [
      "the file is empty (a truncated write?); to serve no pools write 'pools: {}'",
    ]);
  const raw: unknown = doc.toJS() ?? {};
  const top = poolsFileSchema.safeParse(raw);
  if (!top.success) throw new PoolsError(file, issues(top.error, [], raw));
  const problems: string[] = [];
  const pools: PoolsConfig["pools"] = [];
  for (const [name, rawPool] of Object.entries(top.data.pools)) {
    const isMx = (rawPool as { type?: unknown } | null)?.type === "mx";
    const parsed = (isMx ? mxPoolSchema : addressPoolSchema).safeParse(rawPool);
    if (!parsed.success) {
      problems.push(...issues(parsed.error, ["pools", name], raw));
      continue;
    }
    pools.push({ name, config: parsed.data, keys: [] });
  }
  if (problems.length === 0)
    checkSemantics(top.data.regions, top.data["region-order"], pools, zones, problems);
  if (problems.length > 0) throw new PoolsError(file, problems);
  return { regions: top.data.regions, regionOrder: top.data["region-order"], pools };
}

function checkSemantics(
  regions: Record<string, string[]>,
  regionOrder: Record<string, string[]>,
  pools: PoolsConfig["pools"],
  zones: ZoneSet,
  problems: string[],
): void {
  const ids = new Map<string, string>();
  const names = new Map<string, string>();
  const claimId = (pool: string, id: string | undefined) => {
    if (id === undefined) return;
    const other = ids.get(id);
    if (other) problems.push(`pool '${pool}', member '${id}': id already used in pool '${other}'`);
    else ids.set(id, pool);
  };
  for (const [region, order] of Object.entries(regionOrder)) {
    for (const r of [region, ...order]) {
      if (!(r in regions)) problems.push(`region-order '${region}': unknown region '${r}'`);
    }
  }
  for (const pool of pools) {
    const where = `pool '${pool.name}'`;
    for (const name of pool.config.names) {
      let key: string;
      try {
        key = keyOf(parseName(name, null));
      } catch (e) {
        problems.push(`${where}, name '${name}': ${(e as NameError).message}`);
        continue;
      }
      const zone = zones.zoneOf(key);
      if (!zone) {
        problems.push(`${where}, name '${name}': not inside any loaded zone`);
        continue;
      }
      const node = zones.index.get(key);
      if (node?.has(T.CNAME)) problems.push(`${where}, name '${name}': the name has a CNAME in ${zone.file}`);
      if (closestCut(zones, key)) problems.push(`${where}, name '${name}': the name is below a delegation`);
      // A validator expects every answer from a signed zone to be signed; a pool's answers in a
      // pre-signed zone cannot be without its key, so they would be bogus. A zone lbdns signs
      // online (lbdns dnssec enable) signs them like any other answer.
      if (zone.signed)
        problems.push(
          `${where}, name '${name}': ${zone.file} is a pre-signed zone, and lbdns cannot sign pool answers without its key; bind the pool in a zone lbdns signs itself (lbdns dnssec enable) or an unsigned one`,
        );
      const other = names.get(key);
      if (other) problems.push(`${where}, name '${name}': already bound to pool '${other}'`);
      names.set(key, pool.name);
      pool.keys.push(key);
    }
    if (pool.config.type === "mx") {
      checkMx(pool.name, pool.config, zones, problems);
      for (const m of [...pool.config.members, ...pool.config.standby]) claimId(pool.name, m.id);
    } else {
      checkAddressPool(pool.name, pool.config, regions, problems);
      for (const m of pool.config.members) claimId(pool.name, m.id);
      for (const sm of pool.config["stream-managers"]) claimId(pool.name, sm.id);
    }
  }
}

function closestCut(zones: ZoneSet, key: string): boolean {
  const zone = zones.zoneOf(key);
  if (!zone) return false;
  for (let k = key; k !== zone.originKey && k.includes("."); k = k.slice(k.indexOf(".") + 1)) {
    const node = zone.nodes.get(k);
    if (node?.cut) return true;
  }
  return false;
}

function checkAddressPool(
  name: string,
  pool: AddressPoolConfig,
  regions: Record<string, string[]>,
  problems: string[],
) {
  for (const m of pool.members) {
    if (m.region !== undefined && !(m.region in regions)) {
      problems.push(`pool '${name}', member '${m.id}', field 'region': unknown region '${m.region}'`);
    }
  }
  if (pool.mode === "stream-manager" && pool["stream-managers"].length === 0) {
    problems.push(
      `pool '${name}', field 'stream-managers': mode stream-manager needs at least one stream manager`,
    );
  }
}

function checkMx(name: string, pool: MxPoolConfig, zones: ZoneSet, problems: string[]) {
  const primaries = [...pool.members, ...pool.standby];
  const highest = Math.max(...primaries.map((m) => m.preference));
  for (const relay of pool.relays) {
    if (relay.preference <= highest) {
      problems.push(
        `pool '${name}', relay '${relay.host}', field 'preference': ${relay.preference} must be greater than every primary preference (highest is ${highest})`,
      );
    }
  }
  for (const m of primaries) {
    if (m.check && !m.address)
      problems.push(`pool '${name}', member '${m.id}', field 'check': a check needs the member's 'address'`);
  }
  for (const host of [...primaries.map((m) => m.host), ...pool.relays.map((r) => r.host)]) {
    let key: string;
    try {
      key = keyOf(parseName(host, null));
    } catch (e) {
      problems.push(`pool '${name}', host '${host}': ${(e as NameError).message}`);
      continue;
    }
    // RFC 2181 §10.3: an MX target must not be an alias.
    if (zones.index.get(key)?.has(T.CNAME))
      problems.push(`pool '${name}', host '${host}': is a CNAME (RFC 2181 §10.3)`);
  }
}
