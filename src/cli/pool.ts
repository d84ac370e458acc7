/**
 * `lbdns pool list | show | create | add-member | rm-member | drain | undrain | add-relay | set`.
 * pools.yaml is edited through the yaml library's Document model, so comments and key order
 * survive. Every edit holds the zones directory's lock, is validated against the zones as a whole
 * file, and replaces pools.yaml atomically; a running server picks it up on its own.
 */

import { existsSync, readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { type Document, isMap, isSeq, parse, parseDocument, stringify, YAMLMap, type YAMLSeq } from "yaml";
import { UserError } from "../lib/errors.js";
import { withLock, writeAtomic } from "../lib/files.js";
import { PoolsError, parsePools } from "../pools/config.js";
import { loadZoneDir } from "../zone/load.js";
import { ZoneSet } from "../zone/zoneset.js";
import {
  type FilesContext,
  jsonOption,
  number,
  poolsFileOf,
  poolsOption,
  positive,
  positiveInt,
  zonesOption,
} from "./options.js";

/**
 * pools.yaml as a document, comments and layout kept. A file the CLI starts is block style, one
 * member per line; an empty `pools: {}` turns block style when its first pool arrives; anything
 * written by hand keeps its style.
 */
function readDoc(file: string): Document {
  const doc = existsSync(file) ? parseDocument(readFileSync(file, "utf8")) : parseDocument("pools:\n");
  if (doc.errors.length > 0) throw new UserError(`${file}: ${doc.errors[0]!.message.split("\n")[0]}`);
  if (!isMap(doc.get("pools"))) doc.set("pools", new YAMLMap());
  const pools = doc.get("pools") as YAMLMap;
  if (pools.items.length === 0) pools.flow = false;
  return doc;
}

function poolNode(doc: Document, pool: string): YAMLMap {
  const node = doc.getIn(["pools", pool]);
  if (!isMap(node)) throw new UserError(`no pool '${pool}'`);
  return node;
}

function members(doc: Document, pool: string, key = "members"): YAMLSeq {
  const p = poolNode(doc, pool);
  let seq = p.get(key);
  if (!isSeq(seq)) {
    p.set(key, doc.createNode([]));
    seq = p.get(key);
  }
  // A list of members reads best one per line: an empty `[]` turns block style as it fills.
  if ((seq as YAMLSeq).items.length === 0) (seq as YAMLSeq).flow = false;
  return seq as YAMLSeq;
}

function memberIndex(doc: Document, pool: string, id: string): { seq: YAMLSeq; index: number } {
  for (const key of ["members", "standby"]) {
    const seq = poolNode(doc, pool).get(key);
    if (!isSeq(seq)) continue;
    const index = seq.items.findIndex((m) => isMap(m) && m.get("id") === id);
    if (index >= 0) return { seq, index };
  }
  throw new UserError(`pool '${pool}' has no member '${id}'`);
}

/** Loads, changes, validates against the zones, and writes pools.yaml; prints `done`. */
async function editPools(ctx: FilesContext, change: (doc: Document) => string): Promise<void> {
  const file = poolsFileOf(ctx);
  const message = await withLock(ctx.zones, () => {
    const doc = readDoc(file);
    const done = change(doc);
    // Match hand-written style so unrelated lines do not churn: [a, b] and no folding.
    const text = doc.toString({ flowCollectionPadding: false, lineWidth: 0 });
    try {
      parsePools(text, file, new ZoneSet(loadZoneDir(ctx.zones).zones));
    } catch (e) {
      if (e instanceof PoolsError) throw new UserError(e.problems[0]!);
      throw e;
    }
    writeAtomic(file, text);
    return done;
  });
  process.stdout.write(`${message}\n`);
}

export function poolCreate(
  ctx: FilesContext,
  pool: string,
  names: string[],
  type: "a" | "mx",
): Promise<void> {
  return editPools(ctx, (doc) => {
    if (doc.hasIn(["pools", pool])) throw new UserError(`pool '${pool}' already exists`);
    const node = doc.createNode(type === "mx" ? { type: "mx", names, members: [] } : { names, members: [] });
    node.flow = false;
    const list = node.get("names");
    if (isSeq(list)) list.flow = true; // names: [www.example.com.] on one line
    (doc.get("pools") as YAMLMap).set(pool, node);
    return `created pool '${pool}' for ${names.join(", ")}`;
  });
}

export interface MemberOptions {
  capacity?: number;
  host?: string;
  preference?: number;
  region?: string;
  weight?: number;
  standby?: boolean;
}

export function poolAddMember(
  ctx: FilesContext,
  pool: string,
  id: string,
  address: string,
  opts: MemberOptions,
): Promise<void> {
  return editPools(ctx, (doc) => {
    const isMx = poolNode(doc, pool).get("type") === "mx";
    const member: Record<string, unknown> = { id };
    if (isMx) {
      if (!opts.host)
        throw new UserError(`pool '${pool}' is an MX pool: give the mail server's name with --host`);
      member["host"] = opts.host;
    }
    member["address"] = address.includes(",") ? address.split(",") : address;
    if (opts.capacity !== undefined) member["capacity"] = opts.capacity;
    if (isMx && opts.preference !== undefined) member["preference"] = opts.preference;
    if (opts.region !== undefined) member["region"] = opts.region;
    if (opts.weight !== undefined) member["weight"] = opts.weight;
    const seq = members(doc, pool, isMx && opts.standby ? "standby" : "members");
    const node = doc.createNode(member);
    node.flow = true;
    seq.add(node);
    return `pool '${pool}': added member '${id}' (${address})`;
  });
}

export function poolRemoveMember(ctx: FilesContext, pool: string, id: string): Promise<void> {
  return editPools(ctx, (doc) => {
    const { seq, index } = memberIndex(doc, pool, id);
    seq.delete(index);
    return `pool '${pool}': removed member '${id}'`;
  });
}

export function poolSetState(
  ctx: FilesContext,
  pool: string,
  id: string,
  state: "drain" | "active",
): Promise<void> {
  return editPools(ctx, (doc) => {
    const { seq, index } = memberIndex(doc, pool, id);
    const m = seq.get(index) as YAMLMap;
    if (state === "active") m.delete("state");
    else m.set("state", state);
    return state === "drain"
      ? `pool '${pool}': member '${id}' drained (no new answers)`
      : `pool '${pool}': member '${id}' active`;
  });
}

export function poolAddRelay(
  ctx: FilesContext,
  pool: string,
  host: string,
  preference: number,
): Promise<void> {
  return editPools(ctx, (doc) => {
    if (poolNode(doc, pool).get("type") !== "mx") throw new UserError(`pool '${pool}' is not an MX pool`);
    const node = doc.createNode({ host, preference });
    node.flow = true;
    members(doc, pool, "relays").add(node);
    return `pool '${pool}': added relay ${host} at preference ${preference}`;
  });
}

const NOT_SETTABLE = new Set(["members", "relays", "standby", "type"]);

export function poolSet(ctx: FilesContext, pool: string, key: string, value: string): Promise<void> {
  return editPools(ctx, (doc) => {
    if (NOT_SETTABLE.has(key))
      throw new UserError(`'${key}' is changed with its own command (add-member, rm-member, add-relay...)`);
    let parsed: unknown;
    try {
      parsed = parse(value);
    } catch {
      throw new UserError(`'${value}' is not a YAML value`);
    }
    poolNode(doc, pool).set(key, doc.createNode(parsed));
    return `pool '${pool}': ${key} = ${JSON.stringify(parsed)}`;
  });
}

export function poolList(ctx: FilesContext): void {
  const config = loadConfig(ctx);
  const rows = config.pools.map((p) => ({
    pool: p.name,
    type: p.config.type,
    names: p.config.names,
    members: p.config.members.length,
    policy: p.config.type === "a" ? p.config.policy : "mx",
  }));
  if (ctx.json) return void process.stdout.write(`${JSON.stringify({ pools: rows })}\n`);
  for (const r of rows) {
    process.stdout.write(
      `${r.pool.padEnd(16)} ${r.type.padEnd(3)} ${r.policy.padEnd(13)} ${String(r.members).padStart(3)} members  ${r.names.join(" ")}\n`,
    );
  }
}

export function poolShow(ctx: FilesContext, pool: string): void {
  const p = loadConfig(ctx).pools.find((x) => x.name === pool);
  if (!p) throw new UserError(`no pool '${pool}'`);
  if (ctx.json) return void process.stdout.write(`${JSON.stringify({ pool: p.name, ...p.config })}\n`);
  const doc = readDoc(poolsFileOf(ctx));
  process.stdout.write(`${pool}:\n${stringify(poolNode(doc, pool).toJSON()).replace(/^(?=.)/gm, "  ")}`);
}

function loadConfig(ctx: FilesContext) {
  const file = poolsFileOf(ctx);
  if (!existsSync(file)) return { pools: [] as ReturnType<typeof parsePools>["pools"] };
  try {
    return parsePools(readFileSync(file, "utf8"), file, new ZoneSet(loadZoneDir(ctx.zones).zones));
  } catch (e) {
    if (e instanceof PoolsError) throw new UserError(`${file}: ${e.problems[0]}`);
    throw e;
  }
}

export function poolCommand(): Command {
  const pool = new Command("pool").description(
    "list, show and edit pools in pools.yaml (validated against the zones, written atomically)",
  );
  const poolCmd = (name: string, description: string) =>
    pool.command(name).description(description).addOption(zonesOption()).addOption(poolsOption());
  poolCmd("list", "pools with their type, policy and names")
    .addOption(jsonOption())
    .action((opts) => poolList(opts));
  poolCmd("show", "one pool's settings")
    .argument("<pool>")
    .addOption(jsonOption())
    .action((p, opts) => poolShow(opts, p));
  poolCmd("create", "create a pool for owner names")
    .argument("<pool>")
    .requiredOption("--names <name...>", "absolute owner names, e.g. www.example.com.")
    .addOption(
      new Option("--type <type>", "a: address answers; mx: mail exchangers")
        .choices(["a", "mx"])
        .default("a"),
    )
    .action((p, opts) => poolCreate(opts, p, opts.names, opts.type));
  poolCmd("add-member", "add a member (ADDR: one address, or several joined by commas)")
    .argument("<pool>")
    .argument("<id>", "member id, unique across pools; agents report under it")
    .argument("<addr>", "e.g. 192.0.2.11 or 192.0.2.11,2001:db8::11")
    .option("--capacity <n>", "capacity in load units (default 100)", positive("--capacity"))
    .option("--weight <n>", "static weight, for policy weighted", number("--weight"))
    .option("--region <name>", "region, from regions: in pools.yaml")
    .option("--host <name>", "MX pools: the mail server's absolute name")
    .option("--preference <n>", "MX pools: MX preference", positiveInt("--preference"))
    .option("--standby", "MX pools: add as standby (promoted when every primary is down)")
    .action((p, id, addr, opts) => poolAddMember(opts, p, id, addr, opts));
  poolCmd("rm-member", "remove a member")
    .argument("<pool>")
    .argument("<id>")
    .action((p, id, opts) => poolRemoveMember(opts, p, id));
  poolCmd("drain", "stop giving a member new answers (state: drain)")
    .argument("<pool>")
    .argument("<id>")
    .action((p, id, opts) => poolSetState(opts, p, id, "drain"));
  poolCmd("undrain", "give a drained member answers again (state: active)")
    .argument("<pool>")
    .argument("<id>")
    .action((p, id, opts) => poolSetState(opts, p, id, "active"));
  poolCmd("add-relay", "MX pools: add a relay, listed after every primary")
    .argument("<pool>")
    .argument("<host>", "absolute name of the relay")
    .argument("<pref>", "MX preference, above every primary's", positiveInt("<pref>"))
    .action((p, host, pref, opts) => poolAddRelay(opts, p, host, pref));
  poolCmd("set", "set a pool setting, e.g.: lbdns pool set web policy least-loaded")
    .argument("<pool>")
    .argument(
      "<key>",
      "policy, mode, ttl, answers, max-utilization, stale-after, fallback, stream-managers, names",
    )
    .argument("<value>", "a YAML value: 30, least-loaded, [192.0.2.99]")
    .action((p, key, value, opts) => poolSet(opts, p, key, value));
  return pool;
}
