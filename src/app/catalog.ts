/**
 * The zones and pools in force, and their reload. A reload builds everything new off to the
 * side and swaps it in at once. A broken zone file keeps that zone's last good version. A broken
 * pools.yaml keeps the last good pools file, re-checked against the new zones; if even that no
 * longer fits, the whole previous state stays.
 */

import { existsSync, readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { ProbeSet } from "../health/probe.js";
import { EMPTY_POOLS, type PoolsConfig, PoolsError, parsePools } from "../pools/config.js";
import { PoolSet } from "../pools/pool-set.js";
import type { PoolEnv } from "../pools/runtime.js";
import type { Responder } from "../server/responder.js";
import { TRANSIENT_ERRORS } from "../zone/load.js";
import { buildZoneSet, rebuildZoneSet, type ZoneReloadReport } from "../zone/reload.js";
import type { ZoneSet } from "../zone/zoneset.js";

export class Catalog {
  zones: ZoneSet | null = null;
  pools: PoolSet | null = null;
  private goodPoolsText: string | null = null;
  reloads = 0;
  failedReloads = 0;

  constructor(
    private readonly zonesDir: string,
    private readonly poolsFile: string,
    private readonly env: PoolEnv,
    private readonly probes: ProbeSet | null,
    private readonly responder: Responder,
    private readonly log: Logger,
  ) {
    env.table.onChange((id) => this.pools?.memberChanged(id));
  }

  /**
   * Loads (or reloads) zones and pools and swaps them in; logs what changed. True when a file
   * could not be read for a passing reason (out of descriptors...): the caller retries soon.
   */
  load(): boolean {
    return this.apply(buildZoneSet(this.zonesDir, this.zones), this.zones === null);
  }

  /**
   * The running server's reload: unchanged zones are kept, changed ones built in slices with
   * `pause` awaited between them (zone/reload.ts), then everything is swapped in at once.
   */
  async reload(pause: () => Promise<void>): Promise<boolean> {
    if (this.zones === null) return this.load();
    return this.apply(await rebuildZoneSet(this.zonesDir, this.zones, pause), false);
  }

  private apply({ zones, report }: { zones: ZoneSet; report: ZoneReloadReport }, first: boolean): boolean {
    const poolsFailed = { failed: false };
    const pools = this.loadPools(zones, poolsFailed);
    if (pools === null) {
      this.reloads++;
      this.failedReloads++;
      this.log.error(
        "reload rejected: the previous pools.yaml does not fit the new zones; keeping the previous state",
      );
      return false;
    }
    const next = new PoolSet(pools, zones, this.env);
    this.env.table.setKnownMembers(next.memberIds());
    this.probes?.reconcile(next.probeSpecs());
    this.responder.setState(zones, next.byKey);
    this.pools?.dispose();
    this.zones = zones;
    this.pools = next;
    if (!first) this.reloads++;
    // A reload that kept a last good zone or pools file did not do what the files asked.
    if ((report.errors.length > 0 || poolsFailed.failed) && !first) this.failedReloads++;
    this.logReport(report, first ? "zones loaded" : "zones reloaded", next, poolsFailed.failed);
    return report.errors.some((e) => e.code !== undefined && TRANSIENT_ERRORS.has(e.code));
  }

  /** The pools to use: the file's, else the last good ones (`status.failed` says which). */
  private loadPools(zones: ZoneSet, status: { failed: boolean }): PoolsConfig | null {
    try {
      // Read once: the text kept as "last good" must be the very text that was validated.
      const text = existsSync(this.poolsFile) ? readFileSync(this.poolsFile, "utf8") : null;
      const config = text === null ? EMPTY_POOLS : parsePools(text, this.poolsFile, zones);
      this.goodPoolsText = text;
      return config;
    } catch (e) {
      if (!(e instanceof PoolsError)) throw e;
      status.failed = true;
      for (const p of e.problems) this.log.error({ file: this.poolsFile }, `${this.poolsFile}: ${p}`);
      if (this.goodPoolsText === null) {
        if (this.pools !== null) return null;
        this.log.error("serving without pools until pools.yaml is fixed");
        return EMPTY_POOLS;
      }
      this.log.warn("keeping the last good pools.yaml");
      try {
        return parsePools(this.goodPoolsText, this.poolsFile, zones);
      } catch {
        return null;
      }
    }
  }

  private logReport(report: ZoneReloadReport, msg: string, pools: PoolSet, poolsFailed: boolean): void {
    for (const e of report.errors) this.log.error({ file: e.file }, e.message);
    for (const w of report.warnings) this.log.warn({ file: w.file, line: w.line }, w.reason);
    this.log.info(
      {
        added: report.added,
        removed: report.removed,
        changed: report.changed,
        ...(report.rebuilt.length > 0 ? { rebuilt: report.rebuilt } : {}),
        kept: report.kept,
        ...(report.reused === undefined ? {} : { unchanged: report.reused }),
        failed: report.errors.length + (poolsFailed ? 1 : 0),
        records: report.records,
        pools: [...pools.byName.keys()],
      },
      msg,
    );
  }
}
