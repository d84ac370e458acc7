/**
 * `lbdns dnssec`: online signing of a zone (docs/dnssec.md). The commands edit the zone's key
 * file (dnssec/keyfile.ts) under the zones directory's lock, one atomic write per step; a
 * running server picks the change up on its next reload, like a zone edit.
 *
 *   enable   make a key (ECDSA P-256 by default) and start signing; prints the DS for the parent
 *   ds       the DS records to give the parent (or --dnskey, the DNSKEY for a trust anchor)
 *   status   keys, roles, the step of a rollover or of going insecure
 *   roll     a CSK rollover by pre-publication, one step per run: publish the new key, switch
 *            signing and CDS to it, retire the old one; each step waits for the TTLs it must
 *   disable  the safe way back to unsigned: CDS/CDNSKEY DELETE first, stop signing once the DS is gone
 */
import { existsSync, renameSync } from "node:fs";
import { basename, join } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import type { ZoneDnssecLive } from "../app/admin.js";
import { ALGORITHMS, type AlgorithmName, generateKey } from "../dnssec/key.js";
import {
  algorithmName,
  type KeyState,
  keysFileFor,
  type LoadedKeys,
  newKeyRecord,
  readKeyFile,
  serializeKeys,
} from "../dnssec/keyfile.js";
import { UserError } from "../lib/errors.js";
import { createExclusive, withLock, writeAtomic } from "../lib/files.js";
import { clientToken } from "../lib/token.js";
import { parseName, presentName, toWire } from "../proto/name.js";
import { formatRdata } from "../proto/rdata.js";
import { T } from "../proto/types.js";
import { loadZoneFile, zoneFiles } from "../zone/load.js";
import {
  type FilesContext,
  jsonOption,
  positiveInt,
  serverOption,
  tokenFileOption,
  tokenOption,
  zonesOption,
} from "./options.js";
import { fetchJson } from "./status.js";

interface Target {
  zoneFile: string;
  keysFile: string;
  origin: Buffer[];
  name: string;
  /** The name as a command argument (no trailing dot), for the commands we suggest. */
  arg: string;
}

function target(ctx: FilesContext, zone: string): Target {
  let origin: Buffer[];
  try {
    origin = parseName(zone.endsWith(".") ? zone : `${zone}.`, null);
  } catch (e) {
    throw new UserError(`'${zone}' is not a zone name: ${(e as Error).message}`);
  }
  const name = presentName(origin);
  const zoneFile = join(ctx.zones, `${name.replace(/\.$/, "")}.zone`);
  if (!existsSync(zoneFile)) throw new UserError(`no zone ${name} in ${ctx.zones} (no file ${zoneFile})`);
  return { zoneFile, keysFile: keysFileFor(zoneFile), origin, name, arg: name.replace(/\.$/, "") || "." };
}

function readKeys(t: Target): LoadedKeys {
  if (!existsSync(t.keysFile))
    throw new UserError(
      `${t.name} is not signed by lbdns (no ${t.keysFile}); run: lbdns dnssec enable ${t.arg}`,
    );
  try {
    return readKeyFile(t.keysFile);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

function writeKeys(t: Target, state: KeyState): void {
  writeAtomic(t.keysFile, serializeKeys(state));
}

function dsLines(t: Target, loaded: LoadedKeys, roles: readonly string[]): string[] {
  const owner = toWire(t.origin);
  return loaded.keys
    .filter((k) => roles.includes(k.record.role))
    .map((k) => `${t.name} ${loaded.state.dnskeyTtl} IN DS ${formatRdata(T.DS, k.key.ds(owner))}`);
}

function dnskeyLines(t: Target, loaded: LoadedKeys): string[] {
  return loaded.keys.map(
    (k) => `${t.name} ${loaded.state.dnskeyTtl} IN DNSKEY ${formatRdata(T.DNSKEY, k.key.dnskey)}`,
  );
}

const RELOAD = "A running lbdns serves the change after its next reload (it watches the zones directory).";

export async function dnssecEnable(
  ctx: FilesContext,
  zone: string,
  algorithm: AlgorithmName,
  dnskeyTtl: number,
): Promise<void> {
  const t = target(ctx, zone);
  const text = await withLock(ctx.zones, () => {
    if (existsSync(t.keysFile))
      throw new UserError(`${t.name} is already signed (${t.keysFile}); see: lbdns dnssec status ${t.arg}`);
    if (loadZoneFile(t.zoneFile).apex.has(T.RRSIG))
      throw new UserError(
        `${t.zoneFile} is already signed (it has RRSIG records); serve it as it is, or remove its DNSSEC records first`,
      );
    const key = generateKey(algorithm);
    const state: KeyState = {
      version: 1,
      zone: t.name,
      dnskeyTtl,
      keys: [newKeyRecord(key, "active", new Date())],
      roll: null,
      disabling: null,
    };
    if (!createExclusive(t.keysFile, serializeKeys(state), 0o600))
      throw new UserError(`${t.keysFile} appeared meanwhile; see: lbdns dnssec status ${t.arg}`);
    const loaded = readKeyFile(t.keysFile);
    return [
      `${t.name}: signing online with ${algorithm} key ${key.tag} (${t.keysFile}, mode 600).`,
      RELOAD,
      "Check the signed answers (dig +dnssec), then give the parent zone (your registrar) this DS:",
      ...dsLines(t, loaded, ["active"]).map((l) => `  ${l}`),
      "",
    ].join("\n");
  });
  process.stdout.write(text);
}

export function dnssecDs(ctx: FilesContext, zone: string, form: "ds" | "dnskey" | "trust-anchors"): void {
  const t = target(ctx, zone);
  const loaded = readKeys(t);
  if (form === "trust-anchors") {
    // BIND's and delv's form (delv -a FILE): the DS of the active key, as a static anchor.
    const owner = toWire(t.origin);
    const anchors = loaded.keys
      .filter((k) => k.record.role === "active")
      .map((k) => {
        const [tag, alg, digestType, ...digest] = formatRdata(T.DS, k.key.ds(owner)).split(" ");
        return `  ${t.name} static-ds ${tag} ${alg} ${digestType} "${digest.join("")}";`;
      });
    process.stdout.write(`trust-anchors {\n${anchors.join("\n")}\n};\n`);
    return;
  }
  const lines = form === "dnskey" ? dnskeyLines(t, loaded) : dsLines(t, loaded, ["active"]);
  process.stdout.write(`${lines.join("\n")}\n`);
}

interface ZoneDnssec {
  zone: string;
  keysFile: string;
  dnskeyTtl: number;
  state: string;
  since: string | null;
  keys: { tag: number; algorithm: string; role: string; created: string }[];
  ds: string[];
}

function describe(t: Target, loaded: LoadedKeys): ZoneDnssec {
  const s = loaded.state;
  const state =
    s.disabling !== null ? "going insecure" : s.roll !== null ? `rolling: ${s.roll.step}` : "signing";
  return {
    zone: t.name,
    keysFile: t.keysFile,
    dnskeyTtl: s.dnskeyTtl,
    state,
    since: s.disabling?.since ?? s.roll?.since ?? null,
    keys: loaded.keys.map((k) => ({
      tag: k.record.tag,
      algorithm: algorithmName(k.record.algorithm),
      role: k.record.role,
      created: k.record.created,
    })),
    ds: dsLines(t, loaded, ["active"]),
  };
}

interface StatusOptions extends FilesContext {
  server?: string;
  token?: string;
  tokenFile: string;
}

export async function dnssecStatus(ctx: StatusOptions, zone: string | undefined): Promise<void> {
  const targets = zone
    ? [target(ctx, zone)]
    : zoneFiles(ctx.zones)
        .filter((f) => existsSync(keysFileFor(f)))
        .map((f) => target(ctx, basename(f, ".zone")));
  const out = targets.map((t) => describe(t, readKeys(t)));
  // A running server's live figures: signatures made and kept, the next expiry.
  const live = ctx.server
    ? (
        (await fetchJson(ctx.server, "/v1/dnssec", clientToken(ctx.token, ctx.tokenFile))) as {
          zones: ZoneDnssecLive[];
        }
      ).zones
    : [];
  const liveOf = (name: string) => live.find((l) => l.zone === name) ?? null;
  if (ctx.json) {
    const withLive = out.map((z) => (ctx.server ? { ...z, live: liveOf(z.zone) } : z));
    process.stdout.write(`${JSON.stringify(withLive, null, 2)}\n`);
    return;
  }
  if (out.length === 0) {
    process.stdout.write(`no zone in ${ctx.zones} is signed by lbdns (lbdns dnssec enable ZONE)\n`);
    return;
  }
  for (const z of out) {
    process.stdout.write(
      `${z.zone}  ${z.state}${z.since ? ` since ${z.since}` : ""}  (DNSKEY TTL ${z.dnskeyTtl}s)\n`,
    );
    for (const k of z.keys)
      process.stdout.write(`  key ${k.tag}  ${k.algorithm}  ${k.role}  created ${k.created}\n`);
    for (const l of z.ds) process.stdout.write(`  ${l}\n`);
    const l = liveOf(z.zone);
    if (l)
      process.stdout.write(
        `  serving: ${l.signaturesMade} signatures made, ${l.signatureCacheEntries} kept, next expiry ${l.nextExpiry ?? "-"}; answers ${l.answersHit} kept / ${l.answersBuilt} built\n`,
      );
    else if (ctx.server)
      process.stdout.write(`  serving: ${ctx.server} does not serve it signed (reloaded yet?)\n`);
  }
  if (!ctx.server)
    process.stdout.write("(--server URL adds a running server's signatures and next expiry)\n");
}

/** Seconds since an ISO time. */
function elapsed(since: string, now: Date): number {
  return Math.floor((now.getTime() - Date.parse(since)) / 1000);
}

function notYet(what: string, since: string, wait: number, now: Date): UserError {
  const at = new Date(Date.parse(since) + wait * 1000).toISOString();
  return new UserError(
    `${what}: wait until ${at} (${wait - elapsed(since, now)} s more), or pass --force`,
    1,
  );
}

export interface StepOptions {
  force?: boolean;
  dsTtl: number;
}

/** What a step sees: the zone, a copy of its key state to change, the time, and its wait check. */
interface Step {
  t: Target;
  s: KeyState;
  now: Date;
  /** Refuses the step (exit 1, with the time to wait for) until `seconds` have passed since `since`, unless --force. */
  waited(what: string, since: string, seconds: number): void;
}

/**
 * One step of a rollover or of going insecure: under the zones directory's lock, on a copy of
 * the zone's key state (the step writes it, or leaves the file as it was by throwing); prints
 * the lines the step returns.
 */
async function keyFileStep(
  ctx: FilesContext,
  zone: string,
  opts: StepOptions,
  step: (x: Step) => string[],
): Promise<void> {
  const t = target(ctx, zone);
  const lines = await withLock(ctx.zones, () => {
    const now = new Date();
    const waited = (what: string, since: string, seconds: number) => {
      if (!opts.force && elapsed(since, now) < seconds) throw notYet(what, since, seconds, now);
    };
    return step({ t, s: structuredClone(readKeys(t).state), now, waited });
  });
  process.stdout.write(`${lines.join("\n")}\n`);
}

export function dnssecRoll(ctx: FilesContext, zone: string, opts: StepOptions): Promise<void> {
  return keyFileStep(ctx, zone, opts, ({ t, s, now, waited }) => {
    if (s.disabling !== null)
      throw new UserError(`${t.name} is going insecure (lbdns dnssec disable); finish that first`);
    if (s.roll === null) {
      const old = s.keys.find((k) => k.role === "active")!;
      const key = generateKey(algorithmName(old.algorithm) as AlgorithmName);
      s.keys = [old, newKeyRecord(key, "published", now)];
      s.roll = { step: "published", since: now.toISOString() };
      writeKeys(t, s);
      return [
        `${t.name}: step 1 of 3: published key ${key.tag} beside ${old.tag}; ${old.tag} still signs.`,
        RELOAD,
        `Next: after ${s.dnskeyTtl} s (the DNSKEY TTL, so every resolver has seen the new key), run: lbdns dnssec roll ${t.arg}`,
      ];
    }
    if (s.roll.step === "published") {
      waited("the new key is not yet known to every resolver", s.roll.since, s.dnskeyTtl);
      const old = s.keys.find((k) => k.role === "active")!;
      const next = s.keys.find((k) => k.role === "published")!;
      old.role = "retiring";
      next.role = "active";
      s.roll = { step: "switched", since: now.toISOString() };
      writeKeys(t, s);
      const after = readKeyFile(t.keysFile, serializeKeys(s));
      return [
        `${t.name}: step 2 of 3: key ${next.tag} signs now; CDS and CDNSKEY name it; ${old.tag} still signs the DNSKEY RRset.`,
        RELOAD,
        "Replace the DS at the parent with this one (a parent that reads CDS does it itself):",
        ...dsLines(t, after, ["active"]).map((l) => `  ${l}`),
        `Next: once the parent serves only this DS and ${opts.dsTtl} s (its TTL, --ds-ttl) have passed, run: lbdns dnssec roll ${t.arg}`,
      ];
    }
    waited("resolvers may still hold the old DS", s.roll.since, opts.dsTtl);
    const retired = s.keys.filter((k) => k.role === "retiring").map((k) => k.tag);
    s.keys = s.keys.filter((k) => k.role === "active");
    s.roll = null;
    writeKeys(t, s);
    return [`${t.name}: step 3 of 3: removed key ${retired.join(", ")}; the rollover is complete.`, RELOAD];
  });
}

export function dnssecDisable(ctx: FilesContext, zone: string, opts: StepOptions): Promise<void> {
  return keyFileStep(ctx, zone, opts, ({ t, s, now, waited }) => {
    if (s.disabling === null) {
      if (s.roll !== null)
        throw new UserError(`${t.name} is in a key rollover; finish it first (lbdns dnssec roll ${t.arg})`);
      s.disabling = { since: now.toISOString() };
      writeKeys(t, s);
      return [
        `${t.name}: step 1 of 2: still signed; CDS and CDNSKEY now ask the parent to delete the DS (RFC 8078).`,
        RELOAD,
        "Remove the DS records at the parent (your registrar), if it does not act on CDS itself.",
        `Next: once the parent serves no DS and ${opts.dsTtl} s (its TTL, --ds-ttl) have passed, run: lbdns dnssec disable ${t.arg}`,
      ];
    }
    waited("resolvers may still hold the DS", s.disabling.since, opts.dsTtl);
    const kept = `${t.keysFile}.disabled-${now.toISOString().replace(/[:.]/g, "-")}`;
    renameSync(t.keysFile, kept);
    return [
      `${t.name}: step 2 of 2: signing stopped; the zone is served unsigned.`,
      RELOAD,
      `The keys are kept in ${kept} (mode 600); delete it when you no longer need it.`,
    ];
  });
}

function algorithmOption(value: string): AlgorithmName {
  if (value in ALGORITHMS) return value as AlgorithmName;
  throw new InvalidArgumentError("--algorithm must be ecdsap256 or ed25519");
}

const forceOption = () =>
  new Option("--force", "take the step now, without waiting for the TTLs it waits for");
const dsTtlOption = () =>
  new Option("--ds-ttl <seconds>", "TTL of the DS at the parent (the wait before the last step)")
    .argParser(positiveInt("--ds-ttl"))
    .default(86_400);

export function dnssecCommand(): Command {
  const cmd = new Command("dnssec").description(
    "sign zones online: keys, DS for the parent, key rollover, going back to unsigned (docs/dnssec.md)",
  );
  cmd
    .command("enable")
    .description("make a signing key for ZONE and sign its answers; prints the DS to give the parent")
    .argument("<zone>", "zone name, e.g. example.com")
    .addOption(
      new Option("--algorithm <name>", "ecdsap256 (algorithm 13) or ed25519 (15)")
        .argParser(algorithmOption)
        .default("ecdsap256"),
    )
    .option(
      "--dnskey-ttl <seconds>",
      "TTL of the DNSKEY, CDS and CDNSKEY records",
      positiveInt("--dnskey-ttl"),
      3600,
    )
    .addOption(zonesOption())
    .action((z, opts) => dnssecEnable(opts, z, opts.algorithm, opts.dnskeyTtl));
  cmd
    .command("ds")
    .description("print the DS records of ZONE's signing key, for the parent zone or registrar")
    .argument("<zone>", "zone name")
    .option("--dnskey", "print the DNSKEY records instead")
    .option(
      "--trust-anchors",
      "print a trust-anchors clause for delv -a or BIND (a validator before the parent has the DS)",
    )
    .addOption(zonesOption())
    .action((z, opts) =>
      dnssecDs(opts, z, opts.trustAnchors ? "trust-anchors" : opts.dnskey ? "dnskey" : "ds"),
    );
  cmd
    .command("status")
    .description("keys, algorithms and rollover state of ZONE (default: every zone signed by lbdns)")
    .argument("[zone]", "zone name")
    .addOption(zonesOption())
    .addOption(serverOption("also show a running server's signatures and next expiry"))
    .addOption(tokenOption())
    .addOption(tokenFileOption())
    .addOption(jsonOption())
    .action((z, opts) => dnssecStatus(opts, z));
  cmd
    .command("roll")
    .description("advance ZONE's key rollover by one step (publish, switch, retire); safe to interrupt")
    .argument("<zone>", "zone name")
    .addOption(forceOption())
    .addOption(dsTtlOption())
    .addOption(zonesOption())
    .action((z, opts) => dnssecRoll(opts, z, opts));
  cmd
    .command("disable")
    .description("go back to unsigned safely: first ask for the DS to be removed, then stop signing")
    .argument("<zone>", "zone name")
    .addOption(forceOption())
    .addOption(dsTtlOption())
    .addOption(zonesOption())
    .action((z, opts) => dnssecDisable(opts, z, opts));
  return cmd;
}
