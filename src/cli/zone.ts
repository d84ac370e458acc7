/**
 * `lbdns zone list | show | create | add | rm | check`. Every edit holds the zones directory's
 * lock, validates the result (the zone, and pools.yaml against it), bumps the SOA serial and
 * replaces the file atomically, or changes nothing and exits non-zero with one line.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { withLock, writeAtomic } from "../ops/files.js";
import { loadPoolsFile, PoolsError, poolsFileFor } from "../pools/config.js";
import {
  addRecord,
  bumpSerial,
  type EditableZone,
  EditError,
  readZone,
  recordLine,
  removeRecords,
  verifyEdit,
} from "../zone/edit.js";
import { loadZoneDir, loadZoneFile, zoneFiles } from "../zone/load.js";
import { parseMasterFile, ZoneFileError, type ZoneRecord } from "../zone/masterfile.js";
import { keyOf, NameError, parseName, presentName } from "../zone/name.js";
import { formatRdata, RdataError, readWireName } from "../zone/rdata.js";
import { typeName } from "../zone/types.js";
import { type Zone, ZoneError } from "../zone/zone.js";
import { ZoneSet } from "../zone/zoneset.js";
import { CliError } from "./errors.js";

export interface ZoneContext {
  zones: string;
  pools?: string;
  json?: boolean;
}

function poolsFileOf(ctx: ZoneContext): string {
  return poolsFileFor(ctx.zones, ctx.pools);
}

/** Maps the editing layer's errors to one-line CLI errors. */
function oneLine<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (
      e instanceof EditError ||
      e instanceof RdataError ||
      e instanceof NameError ||
      e instanceof ZoneFileError ||
      e instanceof ZoneError ||
      e instanceof PoolsError
    ) {
      throw new CliError(e.message);
    }
    throw e;
  }
}

function zoneFile(ctx: ZoneContext, name: string): { file: string; origin: Buffer[] } {
  const origin = oneLine(() => parseName(name.endsWith(".") ? name : `${name}.`, null));
  const file = join(ctx.zones, `${presentName(origin).replace(/\.$/, "")}.zone`);
  return { file, origin };
}

function requireZone(ctx: ZoneContext, name: string): { file: string; origin: Buffer[] } {
  const z = zoneFile(ctx, name);
  if (!existsSync(z.file))
    throw new CliError(`no zone ${presentName(z.origin)} in ${ctx.zones} (no file ${z.file})`);
  return z;
}

/** pools.yaml must still hold against the zones as they will be after the edit. */
function checkPools(ctx: ZoneContext, edited: Zone): void {
  const others = loadZoneDir(ctx.zones).zones.filter((z) => z.originKey !== edited.originKey);
  loadPoolsFile(poolsFileOf(ctx), new ZoneSet([...others, edited]));
}

/**
 * Finishes an edit: bump the serial in the new text, check that only the intended records
 * changed, check pools.yaml against the result, and replace the file atomically.
 */
function commit(
  ctx: ZoneContext,
  z: EditableZone,
  text: string,
  added: ZoneRecord[],
  removed: ZoneRecord[],
): number {
  const spans = parseMasterFile(text, z.file, z.origin, (p) => readFileSync(p, "utf8"));
  const bumped = bumpSerial(text, spans, z.file);
  const next = verifyEdit(z.file, bumped.text, z.records, added, removed);
  checkPools(ctx, next);
  writeAtomic(z.file, bumped.text);
  return bumped.serial;
}

export async function zoneAdd(
  ctx: ZoneContext,
  zone: string,
  name: string,
  type: string,
  value: string,
  ttl?: number,
): Promise<void> {
  const { file, origin } = requireZone(ctx, zone);
  const message = await withLock(ctx.zones, () =>
    oneLine(() => {
      const z = readZone(file, origin);
      const added = addRecord(z, name, type, value, ttl);
      const serial = commit(ctx, z, added.text, [added.record], []);
      return `${presentName(origin)}: added ${added.line} (serial ${serial})\n`;
    }),
  );
  process.stdout.write(message);
}

export async function zoneRemove(
  ctx: ZoneContext,
  zone: string,
  name: string,
  type?: string,
  value?: string,
): Promise<void> {
  const { file, origin } = requireZone(ctx, zone);
  const message = await withLock(ctx.zones, () =>
    oneLine(() => {
      const z = readZone(file, origin);
      const removed = removeRecords(z, name, type, value);
      const serial = commit(ctx, z, removed.text, [], removed.removed);
      const lines = removed.removed.map((r) => `  ${recordLine(r.owner, r.ttl, r.type, r.rdata)}`).join("\n");
      return `${presentName(origin)}: removed ${removed.removed.length} record(s) (serial ${serial})\n${lines}\n`;
    }),
  );
  process.stdout.write(message);
}

export async function zoneCreate(
  ctx: ZoneContext,
  zone: string,
  ns: string[],
  email: string,
  ttl: number,
): Promise<void> {
  const { file, origin } = zoneFile(ctx, zone);
  if (!existsSync(ctx.zones)) throw new CliError(`zones directory '${ctx.zones}' does not exist`);
  if (ns.length === 0) throw new CliError("a zone needs at least one name server: --ns ns1.example.com.");
  const message = await withLock(ctx.zones, () =>
    oneLine(() => {
      if (existsSync(file)) throw new CliError(`${file} already exists`);
      const servers = ns.map((n) => parseName(n, origin));
      if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new CliError(`'${email}' is not an email address`);
      const [local, domain] = email.split("@") as [string, string];
      const rname = `${local.replaceAll(".", "\\.")}.${domain.replace(/\.?$/, ".")}`;
      parseName(rname, null);
      const serial = Number(new Date().toISOString().slice(0, 10).replaceAll("-", "")) * 100 + 1;
      const apex = presentName(origin);
      const text = [
        `; ${apex} created by lbdns zone create`,
        `$ORIGIN ${apex}`,
        `$TTL ${ttl}`,
        `@\tIN\tSOA\t${presentName(servers[0]!)} ${rname} (`,
        `\t\t${serial} ; serial (YYYYMMDDnn)`,
        "\t\t7200       ; refresh",
        "\t\t3600       ; retry",
        "\t\t1209600    ; expire",
        "\t\t300 )      ; minimum: negative-answer TTL",
        ...servers.map((s) => `@\tIN\tNS\t${presentName(s)}`),
        "",
      ].join("\n");
      loadZoneFile(file, text);
      writeAtomic(file, text);
      const inZone = servers.filter((s) => keyOf(s).endsWith(keyOf(origin)));
      const glue = inZone
        .map((s) => `\n  add its address: lbdns zone add ${apex} ${presentName(s)} A <address>`)
        .join("");
      return `created ${file} (serial ${serial})${glue}\n`;
    }),
  );
  process.stdout.write(message);
}

export function zoneList(ctx: ZoneContext): void {
  const loaded = loadZoneDir(ctx.zones);
  const rows = loaded.zones.map((z) => ({
    zone: presentName(z.origin),
    serial: z.serial,
    records: z.recordCount,
    file: z.file,
  }));
  if (ctx.json) {
    process.stdout.write(`${JSON.stringify({ zones: rows, errors: loaded.errors })}\n`);
    return;
  }
  for (const r of rows)
    process.stdout.write(
      `${r.zone.padEnd(32)} serial ${String(r.serial).padEnd(12)} ${String(r.records).padStart(6)} records  ${r.file}\n`,
    );
  for (const e of loaded.errors) process.stdout.write(`${e.message}\n`);
}

export function zoneShow(ctx: ZoneContext, zone: string): void {
  const { file } = requireZone(ctx, zone);
  const z = oneLine(() => loadZoneFile(file));
  const records: { name: string; ttl: number; type: string; data: string }[] = [];
  for (const node of z.nodes.values()) {
    for (const set of node.rrsets) {
      for (const rdata of set.rdatas) {
        records.push({
          name: presentName(readWireName(node.wire, 0)),
          ttl: set.ttl,
          type: typeName(set.type),
          data: formatRdata(set.type, rdata),
        });
      }
    }
  }
  if (ctx.json) {
    process.stdout.write(`${JSON.stringify({ zone: presentName(z.origin), serial: z.serial, records })}\n`);
    return;
  }
  for (const r of records) process.stdout.write(`${r.name}\t${r.ttl}\tIN\t${r.type}\t${r.data}\n`);
}

/** Validates every zone (or one) and pools.yaml; prints every problem with file:line. Returns the problem count. */
export function zoneCheck(ctx: ZoneContext, zone?: string): number {
  const files = zone ? [requireZone(ctx, zone).file] : zoneFiles(ctx.zones);
  const problems: string[] = [];
  const good: Zone[] = [];
  for (const file of files) {
    try {
      const z = loadZoneFile(file);
      good.push(z);
      for (const w of z.warnings)
        process.stdout.write(`warning: ${w.file}${w.line ? `:${w.line}` : ""}: ${w.reason}\n`);
      for (const p of z.integrityProblems()) process.stdout.write(`warning: ${file}: ${p}\n`);
    } catch (e) {
      if (e instanceof ZoneFileError || e instanceof ZoneError) problems.push(e.message);
      else throw e;
    }
  }
  const all = zone
    ? [...loadZoneDir(ctx.zones).zones.filter((z) => z.originKey !== good[0]?.originKey), ...good]
    : good;
  try {
    const pools = loadPoolsFile(poolsFileOf(ctx), new ZoneSet(all));
    if (problems.length === 0) {
      process.stdout.write(
        `OK: ${good.length} zone(s), ${good.reduce((n, z) => n + z.recordCount, 0)} records, ${pools.pools.length} pool(s)\n`,
      );
    }
  } catch (e) {
    if (!(e instanceof PoolsError)) throw e;
    for (const p of e.problems) problems.push(`${e.file}: ${p}`);
  }
  for (const p of problems) process.stdout.write(`${p}\n`);
  return problems.length;
}
