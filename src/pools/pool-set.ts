/**
 * The pools in force: owner name -> pool runtime, and member id -> the pool to rebuild when that
 * member's health changes (so a report costs work in proportion to its pool, not to all members).
 */
import type { ProbeSpec } from "../health/probe.js";
import { T } from "../proto/types.js";
import type { ZoneSet } from "../zone/zoneset.js";
import { AddressPool } from "./address/pool.js";
import type { PoolsConfig } from "./config.js";
import { MxPool } from "./mx.js";
import type { Pool, PoolStatus } from "./pool.js";
import type { PoolEnv } from "./runtime.js";
import type { CheckConfig } from "./schema.js";

export class PoolSet {
  readonly byName = new Map<string, Pool>();
  readonly byKey = new Map<string, Pool>();
  private readonly byMember = new Map<string, Pool>();

  constructor(
    readonly config: PoolsConfig,
    zones: ZoneSet,
    env: PoolEnv,
  ) {
    for (const p of config.pools) {
      const pool =
        p.config.type === "mx"
          ? new MxPool(p.name, p.config, p.keys, zones, env)
          : new AddressPool(p.name, p.config, p.keys, zones, env, config.regions, config.regionOrder);
      this.byName.set(p.name, pool);
      for (const key of p.keys) this.byKey.set(key, pool);
      for (const id of pool.memberIds()) this.byMember.set(id, pool);
    }
    const addressPool = (key: string) => {
      const p = this.byKey.get(key);
      return p instanceof AddressPool ? p : undefined;
    };
    for (const p of this.byName.values()) if (p instanceof MxPool) p.bindAddressPools(addressPool);
  }

  memberIds(): Set<string> {
    return new Set(this.byMember.keys());
  }

  /** Pools answering A or AAAA from a fallback (or SERVFAIL) because no member is available. */
  withoutMembers(): string[] {
    const out: string[] = [];
    for (const p of this.byName.values()) {
      if (p.kind !== "a") continue;
      const sources = [p.source(T.A), p.source(T.AAAA)];
      if (sources.some((s) => s !== null && s !== "member" && s !== "stream-manager")) out.push(p.name);
    }
    return out;
  }

  /** Every pool's state, for status, metrics and GET /v1/status. */
  status(): PoolStatus[] {
    return [...this.byName.values()].map((p) => p.status());
  }

  /** A member's health changed: rebuild only its pool. */
  memberChanged(id: string): void {
    this.byMember.get(id)?.rebuild(id);
  }

  probeSpecs(): ProbeSpec[] {
    const specs: ProbeSpec[] = [];
    const add = (id: string, address: string[] | undefined, check: CheckConfig | undefined) => {
      if (!check || !address?.[0]) return;
      specs.push({
        member: id,
        type: check.type,
        host: address[0],
        port: check.port,
        path: check.path,
        timeoutMs: check.timeout,
        intervalMs: check.interval,
        rise: check.rise,
        fall: check.fall,
      });
    };
    for (const p of this.config.pools) {
      if (p.config.type === "mx")
        for (const m of [...p.config.members, ...p.config.standby]) add(m.id, m.address, m.check);
      else for (const m of p.config.members) add(m.id, m.address, m.check);
    }
    return specs;
  }

  dispose(): void {
    for (const p of this.byName.values()) p.dispose();
  }
}
