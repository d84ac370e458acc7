/**
 * Builds the zone set from a directory, keeping the last good version of any zone whose file
 * is now broken, and reports what changed so a reload can be logged in one line.
 */

import { displayName } from "../proto/name.js";
import { loadZoneDir, originOfFile, reloadZoneDir, type ZoneLoadError, type ZoneLoadResult } from "./load.js";
import type { Zone, ZoneWarning } from "./zone.js";
import { ZoneSet } from "./zoneset.js";

export interface ZoneReloadReport {
  added: string[];
  removed: string[];
  changed: { zone: string; from: number; to: number }[];
  /**
   * Zones read again whose serial stayed the same: an edit without a serial bump, or a changed
   * key file (a rollover step). Listed so that a reload never hides a zone it rebuilt.
   */
  rebuilt: string[];
  /** Zones whose file failed to load, still served from the previous good version. */
  kept: string[];
  errors: ZoneLoadError[];
  warnings: ZoneWarning[];
  records: number;
  /** Zones whose files had not changed, kept without being read again. */
  reused?: number;
}

/** Builds the zone set at once (start-up, CLI commands). */
export function buildZoneSet(
  dir: string,
  previous: ZoneSet | null,
): { zones: ZoneSet; report: ZoneReloadReport } {
  return assemble(loadZoneDir(dir), previous);
}

/**
 * A running server's reload: unchanged zones are kept as they are and changed ones are built in
 * slices, awaiting `pause` between them, so queries keep being answered meanwhile.
 */
export async function rebuildZoneSet(
  dir: string,
  previous: ZoneSet,
  pause: () => Promise<void>,
): Promise<{ zones: ZoneSet; report: ZoneReloadReport }> {
  const loaded = await reloadZoneDir(dir, previous.zones.values(), pause);
  const built = assemble(loaded, previous);
  built.report.reused = loaded.reused;
  return built;
}

function assemble(
  loaded: ZoneLoadResult,
  previous: ZoneSet | null,
): { zones: ZoneSet; report: ZoneReloadReport } {
  const zones: Zone[] = [];
  const seen = new Map<string, Zone>();
  const errors = [...loaded.errors];
  for (const z of loaded.zones) {
    const other = seen.get(z.originKey);
    if (other) {
      errors.push({
        file: z.file,
        message: `${z.file}: zone ${displayName(z.originKey)} is already loaded from ${other.file}`,
      });
      continue;
    }
    seen.set(z.originKey, z);
    zones.push(z);
  }
  const kept: string[] = [];
  if (previous) {
    for (const err of errors) {
      const origin = originOfFile(err.file).replace(/\.$/, "").toLowerCase();
      const old = previous.zones.get(origin);
      if (old && !seen.has(old.originKey)) {
        zones.push(old);
        seen.set(old.originKey, old);
        kept.push(displayName(old.originKey));
      }
    }
  }
  const next = new ZoneSet(zones);
  const report: ZoneReloadReport = {
    added: [],
    removed: [],
    changed: [],
    rebuilt: [],
    kept,
    errors,
    warnings: loaded.warnings,
    records: zones.reduce((n, z) => n + z.recordCount, 0),
  };
  for (const [key, z] of next.zones) {
    const old = previous?.zones.get(key);
    if (!old) report.added.push(displayName(key));
    else if (old !== z && old.serial !== z.serial)
      report.changed.push({ zone: displayName(key), from: old.serial, to: z.serial });
    else if (old !== z) report.rebuilt.push(displayName(key));
  }
  for (const key of previous?.zones.keys() ?? [])
    if (!next.zones.has(key)) report.removed.push(displayName(key));
  if (previous) {
    // A reload repeats the warnings only of zones it changed; the others were logged when they loaded.
    const fresh = new Set(
      [...next.zones.values()]
        .filter((z) => {
          const old = previous.zones.get(z.originKey);
          return !old || (old !== z && old.serial !== z.serial);
        })
        .map((z) => z.file),
    );
    report.warnings = report.warnings.filter((w) => fresh.has(w.file));
  }
  return { zones: next, report };
}
