/**
 * Editing a zone file as text, so the operator's comments, order and layout survive:
 *  - add appends one line with an absolute owner and an explicit TTL (safe whatever $ORIGIN/$TTL
 *    say at the end of the file);
 *  - rm deletes the lines of the matching entries, writing the owner into a following line that
 *    relied on it;
 *  - every edit bumps the SOA serial in place (YYYYMMDDnn, never decreasing).
 * The result is parsed again and must hold exactly the old records plus or minus the edit; an edit
 * that would change anything else (say, a TTL inherited by the next line) is refused.
 */

import { UserError } from "../lib/errors.js";
import { lex } from "../proto/lexer.js";
import { keyOf, parseName, presentName } from "../proto/name.js";
import { formatRdata, parsePeriod, parseRdata, soaSerial } from "../proto/rdata.js";
import { T, typeCode, typeName } from "../proto/types.js";
import { includeReader, parseZoneFile, readZoneText } from "./load.js";
import { parseMasterFile, type ZoneRecord } from "./masterfile.js";
import type { Zone } from "./zone.js";

export class EditError extends UserError {}

export interface EditableZone {
  file: string;
  text: string;
  origin: Buffer[];
  records: ZoneRecord[];
}

export function readZone(file: string, origin: Buffer[]): EditableZone {
  const text = readZoneText(file);
  const records = parseMasterFile(text, file, origin, includeReader(file));
  return { file, text, origin, records };
}

/** "@", a name relative to the zone, or an absolute name. */
export function ownerArg(name: string, origin: Buffer[]): Buffer[] {
  const labels = parseName(name, origin);
  const key = keyOf(labels);
  const o = keyOf(origin);
  if (!(key === o || key.endsWith(`.${o}`)))
    throw new EditError(`${presentName(labels)} is not inside ${presentName(origin)}`);
  return labels;
}

function typeArg(text: string): number {
  const type = typeCode(text);
  if (type === undefined || type === T.OPT || (type >= 128 && type <= 255))
    throw new EditError(`'${text}' is not a record type`);
  return type;
}

export function recordLine(owner: Buffer[], ttl: number, type: number, rdata: Buffer): string {
  return `${presentName(owner)}\t${ttl}\tIN\t${typeName(type)}\t${formatRdata(type, rdata)}`;
}

function identity(r: ZoneRecord): string {
  return `${r.key}|${r.type}|${r.ttl}|${r.type === T.SOA ? r.rdata.subarray(0, r.rdata.length - 20).toString("hex") : r.rdata.toString("hex")}`;
}

function defaultTtl(z: EditableZone): number {
  const m = /^\$TTL[ \t]+(\S+)/im.exec(z.text);
  if (m) {
    try {
      return parsePeriod(m[1]!);
    } catch {
      // fall through to the SOA's TTL
    }
  }
  return z.records.find((r) => r.type === T.SOA)?.ttl ?? 3600;
}

export interface Added {
  text: string;
  line: string;
  record: ZoneRecord;
}

export function addRecord(
  z: EditableZone,
  name: string,
  typeText: string,
  value: string,
  ttl?: number,
): Added {
  const owner = ownerArg(name, z.origin);
  const type = typeArg(typeText);
  if (type === T.SOA) throw new EditError("a zone has exactly one SOA; lbdns keeps its serial for you");
  if (value.includes("\n")) throw new EditError("the value must be one line");
  let tokens: ReturnType<typeof lex>[number]["tokens"];
  try {
    tokens = lex(`x ${value}`)[0]?.tokens.slice(1) ?? [];
  } catch (e) {
    throw new EditError((e as Error).message);
  }
  const parsed = parseRdata(type, tokens, z.origin);
  const key = keyOf(owner);
  const same = z.records.filter((r) => r.key === key && r.type === type);
  if (same.some((r) => r.rdata.equals(parsed.wire))) {
    throw new EditError(`${recordLine(owner, same[0]!.ttl, type, parsed.wire)} already exists`);
  }
  const rrsetTtl = same[0]?.ttl;
  if (ttl !== undefined && rrsetTtl !== undefined && ttl !== rrsetTtl) {
    throw new EditError(
      `the ${presentName(owner)} ${typeName(type)} records have TTL ${rrsetTtl}; an RRset shares one TTL (RFC 2181 §5.2)`,
    );
  }
  const finalTtl = ttl ?? rrsetTtl ?? defaultTtl(z);
  const line = recordLine(owner, finalTtl, type, parsed.wire);
  const text = `${z.text}${z.text.endsWith("\n") || z.text === "" ? "" : "\n"}${line}\n`;
  const record: ZoneRecord = {
    owner,
    key,
    type,
    ttl: finalTtl,
    rdata: parsed.wire,
    file: z.file,
    line: 0,
    endLine: 0,
  };
  return { text, line, record };
}

export interface Removed {
  text: string;
  removed: ZoneRecord[];
}

export function removeRecords(z: EditableZone, name: string, typeText?: string, value?: string): Removed {
  const owner = ownerArg(name, z.origin);
  const key = keyOf(owner);
  const type = typeText === undefined ? undefined : typeArg(typeText);
  let rdata: Buffer | undefined;
  if (value !== undefined && type !== undefined)
    rdata = parseRdata(type, lex(`x ${value}`)[0]?.tokens.slice(1) ?? [], z.origin).wire;
  const matches = z.records.filter(
    (r) =>
      r.key === key &&
      (type === undefined || r.type === type) &&
      (rdata === undefined || r.rdata.equals(rdata)),
  );
  if (matches.length === 0) {
    const what = [presentName(owner), typeText, value].filter(Boolean).join(" ");
    throw new EditError(`no record ${what} in ${z.file}`);
  }
  if (matches.some((r) => r.type === T.SOA)) throw new EditError("the SOA record cannot be removed");
  const elsewhere = matches.find((r) => r.file !== z.file);
  if (elsewhere)
    throw new EditError(
      `${presentName(owner)} is defined in ${elsewhere.file}:${elsewhere.line}; edit that file`,
    );

  const lines = z.text.split("\n");
  const drop = new Set<number>();
  for (const r of matches) for (let l = r.line; l <= r.endLine; l++) drop.add(l);
  // A following entry that relied on a removed line for its owner gets the owner written out.
  const entries = lex(z.text);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (!drop.has(e.line) || e.blankOwner) continue;
    for (let j = i + 1; j < entries.length && entries[j]!.blankOwner; j++) {
      const next = entries[j]!;
      if (drop.has(next.line)) continue;
      lines[next.line - 1] = `${presentName(owner)}${lines[next.line - 1]}`;
      break;
    }
  }
  const text = lines.filter((_, i) => !drop.has(i + 1)).join("\n");
  return { text, removed: matches };
}

/** Today's YYYYMMDD00, or one more than the old serial if that is larger. */
export function nextSerial(old: number, today: Date): number {
  const base = (today.getUTCFullYear() * 10_000 + (today.getUTCMonth() + 1) * 100 + today.getUTCDate()) * 100;
  return Math.max(old + 1, base) % 2 ** 32;
}

export function bumpSerial(
  text: string,
  records: ZoneRecord[],
  file: string,
  today = new Date(),
): { text: string; serial: number } {
  const soa = records.find((r) => r.type === T.SOA && r.file === file);
  if (!soa?.serialSpan) throw new EditError(`${file}: no SOA record in this file to bump`);
  const serial = nextSerial(soaSerial(soa.rdata), today);
  return {
    text: text.slice(0, soa.serialSpan.start) + String(serial) + text.slice(soa.serialSpan.end),
    serial,
  };
}

/**
 * Parses the new text as a zone and checks the records are exactly `before` with `added` and
 * without `removed` (SOA compared without its serial). An integrity problem is refused only when
 * the edit brings it: one the zone had before (`known`, say an in-zone name server whose address
 * is yet to be added) does not block the edit that fixes another. Returns the new zone.
 */
export function verifyEdit(
  file: string,
  text: string,
  before: ZoneRecord[],
  added: ZoneRecord[],
  removed: ZoneRecord[],
  known: ReadonlySet<string> = new Set(),
): Zone {
  const { zone, records: after } = parseZoneFile(file, text);
  const expected = new Map<string, number>();
  const count = (id: string, d: number) => expected.set(id, (expected.get(id) ?? 0) + d);
  for (const r of before) count(identity(r), 1);
  for (const r of added) count(identity(r), 1);
  for (const r of removed) count(identity(r), -1);
  for (const r of after) count(identity(r), -1);
  for (const [id, n] of expected) {
    if (n !== 0) {
      throw new EditError(
        `the edit would also change ${id.split("|").slice(0, 2).join(" ")}; edit ${file} by hand`,
      );
    }
  }
  const problems = zone.integrityProblems().filter((p) => !known.has(p));
  if (problems.length > 0) throw new EditError(`${problems[0]} (named-checkzone would reject the zone)`);
  return zone;
}
