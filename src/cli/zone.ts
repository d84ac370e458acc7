/**
 * `lbdns zone list | show | create | add | rm | check`. Every edit holds the zones directory's
 * lock, validates the result (the zone, and pools.yaml against it), bumps the SOA serial and
 * replaces the file atomically, or changes nothing and exits non-zero with one line.
 */

import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { Command } from "commander";
import { UserError } from "../lib/errors.js";
import { withLock, writeAtomic } from "../lib/files.js";
import { loadPoolsFile, PoolsError } from "../pools/config.js";
import { isSubdomain, keyOf, parseName, presentName } from "../proto/name.js";
import { formatRdata, readWireName } from "../proto/rdata.js";
import { typeName } from "../proto/types.js";
import {
  addRecord,
  bumpSerial,
  type EditableZone,
  readZone,
  recordLine,
  removeRecords,
  verifyEdit,
} from "../zone/edit.js";
import { loadZoneDir, loadZoneFile, zoneFiles } from "../zone/load.js";
import { parseMasterFile, ZoneFileError, type ZoneRecord } from "../zone/masterfile.js";
import { type Zone, ZoneError } from "../zone/zone.js";
import { ZoneSet } from "../zone/zoneset.js";
import {
  type FilesContext,
  jsonOption,
  number,
  poolsFileOf,
  poolsOption,
  positiveInt,
  zonesOption,
} from "./options.js";

function zoneFile(ctx: FilesContext, name: string): { file: string; origin: Buffer[] } {
  const origin = parseName(name.endsWith(".") ? name : `${name}.`, null);
  const file = join(ctx.zones, `${presentName(origin).replace(/\.$/, "")}.zone`);
  return { file, origin };
}

function requireZone(ctx: FilesContext, name: string): { file: string; origin: Buffer[] } {
  const z = zoneFile(ctx, name);
  if (!existsSync(z.file))
    throw new UserError(`no zone ${presentName(z.origin)} in ${ctx.zones} (no file ${z.file})`);
  return z;
}

/** pools.yaml must still hold against the zones as they will be after the edit. */
function checkPools(ctx: FilesContext, edited: Zone): void {
  const others = loadZoneDir(ctx.zones).zones.filter((z) => z.originKey !== edited.originKey);
  loadPoolsFile(poolsFileOf(ctx), new ZoneSet([...others, edited]));
}

/**
 * Finishes an edit: bump the serial in the new text, check that only the intended records
 * changed, check pools.yaml against the result, and replace the file atomically.
 */
function commit(
  ctx: FilesContext,
  z: EditableZone,
  text: string,
  added: ZoneRecord[],
  removed: ZoneRecord[],
): number {
  const spans = parseMasterFile(text, z.file, z.origin, (p) => readFileSync(p, "utf8"));
  const bumped = bumpSerial(text, spans, z.file);
  const known = new Set(loadZoneFile(z.file, z.text).integrityProblems());
  const next = verifyEdit(z.file, bumped.text, z.records, added, removed, known);
  checkPools(ctx, next);
  writeAtomic(z.file, bumped.text);
  return bumped.serial;
}

export async function zoneAdd(
  ctx: FilesContext,
  zone: string,
  name: string,
  type: string,
  value: string,
  ttl?: number,
): Promise<void> {
  const { file, origin } = requireZone(ctx, zone);
  const message = await withLock(ctx.zones, () => {
    const z = readZone(file, origin);
    const added = addRecord(z, name, type, value, ttl);
    const serial = commit(ctx, z, added.text, [added.record], []);
    return `${presentName(origin)}: added ${added.line} (serial ${serial})\n`;
  });
  process.stdout.write(message);
}

export async function zoneRemove(
  ctx: FilesContext,
  zone: string,
  name: string,
  type?: string,
  value?: string,
): Promise<void> {
  const { file, origin } = requireZone(ctx, zone);
  const message = await withLock(ctx.zones, () => {
    const z = readZone(file, origin);
    const removed = removeRecords(z, name, type, value);
    const serial = commit(ctx, z, removed.text, [], removed.removed);
    const lines = removed.removed.map((r) => `  ${recordLine(r.owner, r.ttl, r.type, r.rdata)}`).join("\n");
    return `${presentName(origin)}: removed ${removed.removed.length} record(s) (serial ${serial})\n${lines}\n`;
  });
  process.stdout.write(message);
}

export async function zoneCreate(
  ctx: FilesContext,
  zone: string,
  ns: string[],
  email: string,
  ttl: number,
): Promise<void> {
  const { file, origin } = zoneFile(ctx, zone);
  if (ns.length === 0) throw new UserError("a zone needs at least one name server: --ns ns1.example.com.");
  mkdirSync(ctx.zones, { recursive: true });
  const message = await withLock(ctx.zones, () => {
    if (existsSync(file)) throw new UserError(`${file} already exists`);
    // NAME or NAME=ADDRESS[,ADDRESS]: an in-zone name server needs its address in the zone.
    const given = ns.map((n) => {
      const [name, addresses] = n.split("=", 2) as [string, string | undefined];
      return { name: parseName(name, origin), addresses: addresses ? addresses.split(",") : [] };
    });
    const servers = given.map((g) => g.name);
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new UserError(`'${email}' is not an email address`);
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
      ...given.flatMap((g) => g.addresses.map((a) => addressLine(g.name, a, origin))),
      "",
    ].join("\n");
    loadZoneFile(file, text);
    writeAtomic(file, text);
    const missing = given.filter(
      (g) => g.addresses.length === 0 && isSubdomain(keyOf(g.name), keyOf(origin)),
    );
    const glue = missing
      .map((g) => `\n  add its address: lbdns zone add ${apex} ${presentName(g.name)} A <address>`)
      .join("");
    return `created ${file} (serial ${serial})${glue}\n`;
  });
  process.stdout.write(message);
}

/** The address record of an in-zone name server given as NAME=ADDRESS to zone create. */
function addressLine(name: Buffer[], address: string, origin: Buffer[]): string {
  if (!isSubdomain(keyOf(name), keyOf(origin)))
    throw new UserError(`${presentName(name)} is not in the zone: its address belongs to its own zone`);
  const type = isIP(address) === 4 ? "A" : isIP(address) === 6 ? "AAAA" : null;
  if (type === null) throw new UserError(`'${address}' (for ${presentName(name)}) is not an IP address`);
  return `${presentName(name)}\tIN\t${type}\t${address}`;
}

export function zoneList(ctx: FilesContext): void {
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

export function zoneShow(ctx: FilesContext, zone: string): void {
  const { file } = requireZone(ctx, zone);
  const z = loadZoneFile(file);
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
export function zoneCheck(ctx: FilesContext, zone?: string): number {
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

export function zoneCommand(): Command {
  const zone = new Command("zone").description(
    "list, show, create, edit and check zones (edits are validated, atomic, and bump the SOA serial)",
  );
  zone
    .command("list")
    .description("zones with their serial and record count")
    .addOption(zonesOption())
    .addOption(jsonOption())
    .action((opts) => zoneList(opts));
  zone
    .command("show")
    .description("the records of a zone")
    .argument("<zone>", "zone name, e.g. example.com")
    .addOption(zonesOption())
    .addOption(jsonOption())
    .action((z, opts) => zoneShow(opts, z));
  zone
    .command("create")
    .description("create a zone file with SOA and NS records")
    .argument("<zone>", "zone name, e.g. example.org")
    .requiredOption(
      "--ns <name...>",
      "name servers (absolute, or relative to the zone); an in-zone one as NAME=ADDRESS[,ADDRESS], e.g. ns1.example.com.=203.0.113.53",
    )
    .requiredOption("--email <address>", "responsible person, e.g. hostmaster@example.org")
    .option("--ttl <seconds>", "default TTL ($TTL)", positiveInt("--ttl"), 3600)
    .addOption(zonesOption())
    .action((z, opts) => zoneCreate(opts, z, opts.ns, opts.email, opts.ttl));
  zone
    .command("add")
    .description("add one record, e.g.: lbdns zone add example.com www A 192.0.2.1")
    .argument("<zone>", "zone name")
    .argument("<name>", "owner: @, relative to the zone, or absolute")
    .argument("<type>", "record type (A, AAAA, MX, TXT, ... or TYPEnnn)")
    .argument("<value...>", "RDATA as in a zone file, e.g. '10 mx1' or '\"v=spf1 -all\"'")
    .option("--ttl <seconds>", "TTL (default: the RRset's, else the zone's $TTL)", number("--ttl"))
    .addOption(zonesOption())
    .addOption(poolsOption("pools file to keep valid"))
    .action((z, name, type, value: string[], opts) =>
      zoneAdd(opts, z, name, type, value.join(" "), opts.ttl),
    );
  zone
    .command("rm")
    .description("remove records: all at a name, of one type, or one record")
    .argument("<zone>", "zone name")
    .argument("<name>", "owner")
    .argument("[type]", "record type")
    .argument("[value...]", "RDATA of the one record to remove")
    .addOption(zonesOption())
    .addOption(poolsOption("pools file to keep valid"))
    .action((z, name, type, value: string[], opts) =>
      zoneRemove(opts, z, name, type, value.length ? value.join(" ") : undefined),
    );
  zone
    .command("check")
    .description("validate zones and pools.yaml; every problem is printed with file:line")
    .argument("[zone]", "one zone (default: all)")
    .addOption(zonesOption())
    .addOption(poolsOption())
    .action((z, opts) => {
      if (zoneCheck(opts, z) > 0) process.exitCode = 1;
    });
  return zone;
}
