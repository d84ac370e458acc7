/**
 * RFC 1035 §5 master file -> flat record list.
 *
 * Handles $ORIGIN, $TTL (RFC 2308), $INCLUDE (with its optional origin, scoped to the included
 * file), owner inheritance, TTL/class in either order, BIND TTL units, and the RFC 3597 generic
 * forms. The TTL of a record without one is $TTL, else the last explicit TTL, else the SOA
 * minimum (as BIND does). Every error carries file:line.
 */

import { dirname, resolve } from "node:path";
import { UserError } from "../lib/errors.js";
import { type Entry, LexError, lexEntries, type Token } from "../proto/lexer.js";
import { keyOf, NameError, parseName } from "../proto/name.js";
import { parsePeriod, parseRdata, RdataError, soaMinimum } from "../proto/rdata.js";
import { CLASS_IN, classCode, T, typeCode, typeName } from "../proto/types.js";

export interface ZoneRecord {
  owner: Buffer[];
  key: string;
  type: number;
  ttl: number;
  rdata: Buffer;
  target?: Buffer[];
  file: string;
  line: number;
  endLine: number;
  /** Offsets of the SOA serial token in the file (SOA records only), so an edit can bump it in place. */
  serialSpan?: { start: number; end: number };
}

export class ZoneFileError extends UserError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
  }
}

export type ReadFile = (path: string) => string;

const MAX_INCLUDE_DEPTH = 8;

interface State {
  origin: Buffer[] | null;
  defaultTtl: number | undefined;
  lastTtl: number | undefined;
  lastOwner: Buffer[] | null;
  soaMinimum: number | undefined;
}

export function parseMasterFile(
  source: string,
  file: string,
  origin: Buffer[] | null,
  readFile: ReadFile,
): ZoneRecord[] {
  return [...masterFileRecords(source, file, origin, readFile)];
}

/**
 * The records one at a time, in file order ($INCLUDEd files in place), so a large zone can be
 * built without holding its parse. Errors are thrown when the bad entry is reached.
 */
export function* masterFileRecords(
  source: string,
  file: string,
  origin: Buffer[] | null,
  readFile: ReadFile,
  depth = 0,
  inherited?: State,
): Generator<ZoneRecord> {
  const state: State = inherited ?? {
    origin,
    defaultTtl: undefined,
    lastTtl: undefined,
    lastOwner: null,
    soaMinimum: undefined,
  };
  const entries = lexEntries(source);
  for (;;) {
    let entry: Entry;
    try {
      const next = entries.next();
      if (next.done) return;
      entry = next.value;
    } catch (e) {
      if (e instanceof LexError) throw new ZoneFileError(file, e.line, e.message);
      throw e;
    }
    const fail = (reason: string): never => {
      throw new ZoneFileError(file, entry.line, reason);
    };
    const first = entry.tokens[0]!;
    if (!entry.blankOwner && !first.quoted && first.text.startsWith("$")) {
      const include = guard(fail, () => directive(entry.tokens, state, file, readFile, depth, fail));
      if (include) {
        // RFC 1035 §5.1: the origin given to (or changed inside) an included file does not leak back.
        const saved = state.origin;
        const savedOwner = state.lastOwner;
        if (include.origin) state.origin = guard(fail, () => parseName(include.origin!, state.origin));
        yield* masterFileRecords(include.text, include.path, state.origin, readFile, depth + 1, state);
        state.origin = saved;
        state.lastOwner = savedOwner;
      }
      continue;
    }
    yield guard(fail, () => parseRecord(entry, state, file, fail));
  }
}

/** Runs `f`, turning name and RDATA errors into file:line errors. */
function guard<R>(fail: (reason: string) => never, f: () => R): R {
  try {
    return f();
  } catch (e) {
    if (e instanceof NameError || e instanceof RdataError) fail(e.message);
    throw e;
  }
}

interface Include {
  path: string;
  text: string;
  origin: string | undefined;
}

/** Applies $ORIGIN and $TTL; returns the file to read for $INCLUDE. */
function directive(
  tokens: Token[],
  state: State,
  file: string,
  readFile: ReadFile,
  depth: number,
  fail: (reason: string) => never,
): Include | undefined {
  const name = tokens[0]!.text.toUpperCase();
  const arg = tokens[1]?.text;
  if (name === "$ORIGIN") {
    if (arg === undefined || tokens.length > 2) fail("$ORIGIN takes one name");
    const parsed = parseName(arg!, state.origin);
    state.origin = parsed;
    return undefined;
  }
  if (name === "$TTL") {
    if (arg === undefined || tokens.length > 2) fail("$TTL takes one value");
    state.defaultTtl = parsePeriod(arg!);
    return undefined;
  }
  if (name === "$INCLUDE") {
    if (arg === undefined || tokens.length > 3) fail("$INCLUDE takes a file name and an optional origin");
    if (depth >= MAX_INCLUDE_DEPTH) fail("$INCLUDE nested too deeply");
    const path = resolve(dirname(file), arg!);
    let text: string;
    try {
      text = readFile(path);
    } catch (e) {
      fail(`cannot read $INCLUDE file ${path}: ${(e as Error).message}`);
    }
    return { path, text: text!, origin: tokens[2]?.text };
  }
  return fail(`unsupported directive ${name}`);
}

function parseRecord(entry: Entry, state: State, file: string, fail: (reason: string) => never): ZoneRecord {
  const { tokens, blankOwner, line } = entry;
  let i = 0;
  let owner: Buffer[];
  if (blankOwner) {
    if (state.lastOwner === null) fail("record with no owner name and no previous owner");
    owner = state.lastOwner!;
  } else {
    owner = parseName(tokens[0]!.text, state.origin);
    i = 1;
  }
  let ttl: number | undefined;
  let cls: number | undefined;
  for (let k = 0; k < 2; k++) {
    const tok = tokens[i];
    if (!tok || tok.quoted) break;
    const c = cls === undefined ? classCode(tok.text) : undefined;
    if (c !== undefined) {
      cls = c;
      i++;
      continue;
    }
    if (ttl === undefined && /^\d/.test(tok.text)) {
      ttl = parsePeriod(tok.text);
      i++;
      continue;
    }
    break;
  }
  const typeTok = tokens[i++];
  if (!typeTok) fail("missing record type");
  const type = typeCode(typeTok!.text);
  if (type === undefined) fail(`unknown record type '${typeTok!.text}'`);
  if (cls !== undefined && cls !== CLASS_IN)
    fail(`class ${typeTok!.text} records other than IN are not served`);
  if (type === T.OPT || (type! >= 128 && type! <= 255))
    fail(`${typeName(type!)} is not a record type for zone data`);
  if (state.origin === null) fail("no $ORIGIN for relative names");
  const parsed = parseRdata(type!, tokens.slice(i), state.origin!);
  if (type === T.SOA) state.soaMinimum = soaMinimum(parsed.wire);
  if (ttl === undefined) {
    ttl = state.defaultTtl ?? state.lastTtl ?? (type === T.SOA ? soaMinimum(parsed.wire) : state.soaMinimum);
    if (ttl === undefined) fail("no TTL: add $TTL or a TTL on the record");
  } else {
    state.lastTtl = ttl;
  }
  state.lastOwner = owner;
  const record: ZoneRecord = {
    owner,
    key: keyOf(owner),
    type: type!,
    ttl: ttl!,
    rdata: parsed.wire,
    file,
    line,
    endLine: entry.endLine,
  };
  if (type === T.SOA) {
    const serial = tokens[i + 2];
    if (serial) record.serialSpan = { start: serial.start, end: serial.end };
  }
  if (parsed.target) record.target = parsed.target;
  return record;
}
