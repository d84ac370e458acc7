/**
 * Loads every `*.zone` file of a directory. The origin is the file name without `.zone`
 * (so `example.com.zone` serves example.com.); a `$ORIGIN` inside the file may refine names but
 * the zone apex is always the file's origin. A broken file is rejected whole and reported; the
 * other zones still load.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, realpathSync } from "node:fs";
import { basename, dirname, join, sep } from "node:path";
import { NameError, parseName } from "../proto/name.js";
import {
  masterFileRecords,
  parseMasterFile,
  type ReadFile,
  ZoneFileError,
  type ZoneRecord,
} from "./masterfile.js";
import { Zone, ZoneError, type ZoneWarning } from "./zone.js";

export interface ZoneLoadError {
  file: string;
  message: string;
  /** The errno code when reading failed (EACCES, EMFILE...), not the content. */
  code?: string;
}

/** Errors of the moment (out of descriptors or memory), worth a retry rather than a wait for the next edit. */
export const TRANSIENT_ERRORS: ReadonlySet<string> = new Set(["EMFILE", "ENFILE", "ENOMEM", "EAGAIN", "EBUSY"]);

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
 * The largest zone file (or $INCLUDEd file) read: far above any real zone's presentation form
 * per file, and below V8's string limit, so a huge file fails with a message, not an abort.
 */
export const MAX_ZONE_FILE_BYTES = 256 * 1024 * 1024;

/**
 * A zone file's text. Only a regular file is read: the open does not block (O_NONBLOCK, so a
 * FIFO named *.zone cannot wedge the process) and fstat refuses FIFOs, devices (a symlink to
 * /dev/zero) and directories before a byte is read; the size is bounded the same way.
 */
export function readZoneText(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ZoneError(`${path}: not a regular file`);
    if (st.size > MAX_ZONE_FILE_BYTES)
      throw new ZoneError(`${path}: ${st.size} bytes is larger than the ${MAX_ZONE_FILE_BYTES}-byte limit`);
    const buf = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, buf, got, st.size - got, got);
      if (n === 0) break; // truncated while we read: parse what is there, the checks judge it
      got += n;
    }
    return buf.toString("utf8", 0, got);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads $INCLUDE files only inside the zone's own directory, after resolving symlinks, so a zone
 * file cannot make the server read (and log parts of) /proc/self/environ or another secret.
 */
export function includeReader(zoneFile: string): ReadFile {
  let root: string | undefined;
  return (path) => {
    root ??= realpathSync(dirname(zoneFile));
    const real = realpathSync(path);
    if (real !== root && !real.startsWith(root + sep))
      throw new Error(`it is outside the zones directory ${root}`);
    return readZoneText(real);
  };
}

/**
 * Parses and builds one zone file; throws ZoneFileError/ZoneError with file:line. Records go
 * into the zone as they are parsed, so a large file is never held as a record list.
 */
export function loadZoneFile(file: string, source?: string): Zone {
  const origin = originOf(file);
  const text = source ?? readZoneText(file);
  return new Zone(origin, file, masterFileRecords(text, file, origin, includeReader(file)));
}

/** Like loadZoneFile, also returning the parsed records (file and line of each), for editing. */
export function parseZoneFile(file: string, source?: string): { zone: Zone; records: ZoneRecord[] } {
  const origin = originOf(file);
  const records = parseMasterFile(source ?? readZoneText(file), file, origin, includeReader(file));
  return { zone: new Zone(origin, file, records), records };
}

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
        result.errors.push({ file, message: `${file}: ${e.message}`, code: String(e.code) });
      } else {
        throw e;
      }
    }
  }
  return result;
}
