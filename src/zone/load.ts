/**
 * Loads every `*.zone` file of a directory. The origin is the file name without `.zone`
 * (so `example.com.zone` serves example.com.); a `$ORIGIN` inside the file may refine names but
 * the zone apex is always the file's origin. A broken file is rejected whole and reported; the
 * other zones still load.
 */
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  statSync,
} from "node:fs";
import { basename, dirname, join, sep } from "node:path";
import { performance } from "node:perf_hooks";
import { keyOf, NameError, parseName } from "../proto/name.js";
import { attachSigner, keyRecords, type ZoneKeys, zoneKeys } from "./keys.js";
import {
  masterFileRecords,
  parseMasterFile,
  type ReadFile,
  ZoneFileError,
  type ZoneRecord,
} from "./masterfile.js";
import { type FileStamp, sameStamp, stampOf, Zone, ZoneError, type ZoneWarning } from "./zone.js";

export interface ZoneLoadError {
  file: string;
  message: string;
  /** The errno code when reading failed (EACCES, EMFILE...), not the content. */
  code?: string;
}

/** Errors of the moment (out of descriptors or memory), worth a retry rather than a wait for the next edit. */
export const TRANSIENT_ERRORS: ReadonlySet<string> = new Set([
  "EMFILE",
  "ENFILE",
  "ENOMEM",
  "EAGAIN",
  "EBUSY",
]);

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
  return readZoneFileStamped(path).text;
}

function readZoneFileStamped(path: string): { text: string; stamp: FileStamp } {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    const stamp = stampOf(path, st);
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
    return { text: buf.toString("utf8", 0, got), stamp };
  } finally {
    closeSync(fd);
  }
}

/** Whether every file a zone was built from is as it was then (same inode, size and times). */
export function unchanged(zone: Zone): boolean {
  return (
    zone.sources.length > 0 &&
    zone.sources.every((s) => sameStamp(s, stampOf(s.path, statSync(s.path, { throwIfNoEntry: false }))))
  );
}

/**
 * Reads $INCLUDE files only inside the zone's own directory, after resolving symlinks, so a zone
 * file cannot make the server read (and log parts of) /proc/self/environ or another secret.
 */
export function includeReader(zoneFile: string, stamps?: FileStamp[]): ReadFile {
  let root: string | undefined;
  return (path) => {
    root ??= realpathSync(dirname(zoneFile));
    const real = realpathSync(path);
    if (real !== root && !real.startsWith(root + sep))
      throw new Error(`it is outside the zones directory ${root}`);
    const { text, stamp } = readZoneFileStamped(real);
    stamps?.push(stamp);
    return text;
  };
}

/** A zone file's records, parsed as they are taken, and the stamps of every file read for them. */
function zoneSource(file: string): {
  origin: Buffer[];
  records: Iterable<ZoneRecord>;
  stamps: FileStamp[];
  keys: ZoneKeys;
} {
  const origin = originOf(file);
  const { text, stamp } = readZoneFileStamped(file);
  const stamps = [stamp];
  const keys = zoneKeys(file);
  const records = masterFileRecords(text, file, origin, includeReader(file, stamps));
  return { origin, records: withKeys(records, keys, origin), stamps, keys };
}

function* withKeys(records: Iterable<ZoneRecord>, keys: ZoneKeys, origin: Buffer[]): Generator<ZoneRecord> {
  yield* records;
  yield* keyRecords(keys, origin, keyOf(origin));
}

/**
 * Parses and builds one zone file; throws ZoneFileError/ZoneError with file:line. Records go
 * into the zone as they are parsed, so a large file is never held as a record list.
 */
export function loadZoneFile(file: string, source?: string): Zone {
  if (source !== undefined) {
    const origin = originOf(file);
    return new Zone(origin, file, masterFileRecords(source, file, origin, includeReader(file)));
  }
  const { origin, records, stamps, keys } = zoneSource(file);
  const zone = new Zone(origin, file, records);
  zone.sources = stamps;
  attachSigner(zone, keys);
  return zone;
}

/** Work done between pauses when a zone is built in slices: short enough not to delay answers. */
const SLICE_MS = 10;

/**
 * loadZoneFile in slices: `pause` is awaited every SLICE_MS of parsing and building, so a
 * reload of a million-record zone never holds the event loop (and the queries waiting on it)
 * for more than a few milliseconds at a time. The clock is read every 1,024 records, and a
 * promise is made only for a pause, not per record.
 */
export async function loadZoneFileSliced(
  file: string,
  pause: () => Promise<void>,
  previous?: Zone,
): Promise<Zone> {
  const { origin, records, stamps, keys } = zoneSource(file);
  const zone = new Zone(origin, file);
  let sliceStart = performance.now();
  const due = () => performance.now() - sliceStart > SLICE_MS;
  let n = 0;
  for (const r of records) {
    zone.take(r);
    if ((++n & 1023) === 0 && due()) {
      await pause();
      sliceStart = performance.now();
    }
  }
  for (const _ of zone.finishSteps()) {
    if (due()) {
      await pause();
      sliceStart = performance.now();
    }
  }
  zone.sources = stamps;
  attachSigner(zone, keys, previous);
  return zone;
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
      added(result, loadZoneFile(file));
    } catch (e) {
      failed(result, file, e);
    }
  }
  return result;
}

/**
 * The zones of a directory for a reload: a zone whose files are all unchanged is taken from
 * `previous` as it is (editing a small zone does not re-read a large one); the others are
 * built in slices (loadZoneFileSliced).
 */
export async function reloadZoneDir(
  dir: string,
  previous: Iterable<Zone>,
  pause: () => Promise<void>,
): Promise<ZoneLoadResult & { reused: number }> {
  const result = {
    zones: [] as Zone[],
    errors: [] as ZoneLoadError[],
    warnings: [] as ZoneWarning[],
    reused: 0,
  };
  const byFile = new Map<string, Zone>();
  for (const z of previous) byFile.set(z.file, z);
  for (const file of zoneFiles(dir)) {
    const old = byFile.get(file);
    if (old && unchanged(old)) {
      result.zones.push(old);
      result.reused++;
      continue;
    }
    try {
      added(result, await loadZoneFileSliced(file, pause, old));
    } catch (e) {
      failed(result, file, e);
    }
  }
  return result;
}

function added(result: ZoneLoadResult, zone: Zone): void {
  result.zones.push(zone);
  result.warnings.push(...zone.warnings);
}

/** Records a file's error; anything but a file or zone problem is a bug and is rethrown. */
function failed(result: ZoneLoadResult, file: string, e: unknown): void {
  if (e instanceof ZoneFileError || e instanceof ZoneError) {
    result.errors.push({ file, message: e.message });
  } else if (e instanceof Error && "code" in e) {
    result.errors.push({ file, message: `${file}: ${e.message}`, code: String(e.code) });
  } else {
    throw e;
  }
}
