/**
 * Loads every `*.zone` file of a directory. The origin is the file name without `.zone`
 * (so `example.com.zone` serves example.com.); a `$ORIGIN` inside the file may refine names but
 * the zone apex is always the file's origin. A broken file is rejected whole and reported; the
 * other zones still load.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { NameError, parseName } from "../proto/name.js";
import { masterFileRecords, parseMasterFile, ZoneFileError, type ZoneRecord } from "./masterfile.js";
import { Zone, ZoneError, type ZoneWarning } from "./zone.js";

export interface ZoneLoadError {
  file: string;
  message: string;
}

export interface ZoneLoadResult {
  zones: Zone[];
  errors: ZoneLoadError[];
  warnings: ZoneWarning[];
}

export function zoneFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".zone"))
    .sort()
    .map((f) => join(dir, f));
}

export function originOfFile(file: string): string {
  const base = basename(file, ".zone");
  return base.endsWith(".") ? base : `${base}.`;
}

/**
 * Parses and builds one zone file; throws ZoneFileError/ZoneError with file:line. Records go
 * into the zone as they are parsed, so a large file is never held as a record list.
 */
export function loadZoneFile(file: string, source?: string): Zone {
  const origin = originOf(file);
  const text = source ?? readFileSync(file, "utf8");
  return new Zone(origin, file, masterFileRecords(text, file, origin, readInclude));
}

/** Like loadZoneFile, also returning the parsed records (file and line of each), for editing. */
export function parseZoneFile(file: string, source?: string): { zone: Zone; records: ZoneRecord[] } {
  const origin = originOf(file);
  const records = parseMasterFile(source ?? readFileSync(file, "utf8"), file, origin, readInclude);
  return { zone: new Zone(origin, file, records), records };
}

const readInclude = (path: string) => readFileSync(path, "utf8");

function originOf(file: string): Buffer[] {
  try {
    return parseName(originOfFile(file), null);
  } catch (e) {
    if (e instanceof NameError) throw new ZoneError(`${file}: file name is not a zone name: ${e.message}`);
    throw e;
  }
}

export function loadZoneDir(dir: string): ZoneLoadResult {
  const result: ZoneLoadResult = { zones: [], errors: [], warnings: [] };
  for (const file of zoneFiles(dir)) {
    try {
      const zone = loadZoneFile(file);
      result.zones.push(zone);
      result.warnings.push(...zone.warnings);
    } catch (e) {
      if (e instanceof ZoneFileError || e instanceof ZoneError) {
        result.errors.push({ file, message: e.message });
      } else if (e instanceof Error && "code" in e) {
        result.errors.push({ file, message: `${file}: ${e.message}` });
      } else {
        throw e;
      }
    }
  }
  return result;
}
