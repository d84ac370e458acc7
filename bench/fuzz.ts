/**
 * The fuzz harness: hostile packets from fast-check, built by mutating a corpus of real queries
 * (encoded by dns2, a codec independent of lbdns's own) and by pure noise, run through the whole
 * query path (decode, zone lookup, pools, encode) of a real Responder. Used by the CI slice
 * (test/unit/fuzz.test.ts, 50,000 inputs) and by `npm run soak` (1,000,000 inputs).
 *
 * A crash is an exception out of answer(), or one the Responder caught and reported (it answers
 * SERVFAIL for those, but each is a bug). A malformed answer is one that does not decode, does not
 * echo the query id, is not marked as a response, or is larger than our UDP payload size.
 */
import { join } from "node:path";
import DNS from "dns2";
import fc from "fast-check";
import { pino } from "pino";
import { Catalog } from "../src/app/catalog.js";
import { HealthTable } from "../src/health/table.js";
import type { PoolEnv } from "../src/pools/runtime.js";
import { Responder, type Transport } from "../src/server/responder.js";
import { ZoneSet } from "../src/zone/zoneset.js";

const { Packet } = DNS;

/**
 * dns2 3.1.1 reads an IPv6 ECS address two octets at a time, so a valid odd-length address
 * (RFC 7871 §6 sends ceil(prefix / 8) octets: 3 for a /24) makes it read past the option and
 * reject the whole message. The oracle must not blame lbdns for that, so it reads ECS addresses
 * octet by octet, with dns2's other checks kept.
 */
Packet.Resource.EDNS.ECS.decode = (reader, length) => {
  if (length < 4) throw new Error(`EDNS.ECS decode: option is ${length} octet(s), expected at least 4`);
  const family = reader.read(16);
  const sourcePrefixLength = reader.read(8);
  const scopePrefixLength = reader.read(8);
  const octets: number[] = [];
  for (let n = length - 4; n > 0; n--) octets.push(reader.read(8));
  const max = family === 1 ? 4 : family === 2 ? 16 : Number.POSITIVE_INFINITY;
  if (octets.length > max)
    throw new Error(`EDNS.ECS decode: family ${family} address is ${octets.length} octets`);
  return {
    ednsCode: Packet.EDNS_OPTION_CODE.ECS,
    family,
    sourcePrefixLength,
    scopePrefixLength,
    ip: octets.join("."),
  };
};

const NAMES = [
  "www.example.com", // pool
  "example.com", // MX pool, apex
  "mx1.example.com",
  "web.example.com", // CNAME into the pool
  "nope.example.com", // NXDOMAIN
  "x.y.apps.example.com", // wildcard
  "host.sub.example.com", // referral
  "www.example.org", // not ours
  "",
];
const TYPES = [1, 28, 15, 255, 16, 6, 2, 257, 33, 65535, 252, 0, 41];

function query(name: string, type: number, edns: number): Buffer {
  const p = new Packet();
  p.header.id = 0x4242;
  p.header.rd = 1;
  p.questions.push(new Packet.Question(name, type, Packet.CLASS.IN));
  if (edns > 0) {
    const options = edns === 2 ? [Packet.Resource.EDNS.ECS("198.51.100.0/24")] : [];
    p.additionals.push(Packet.Resource.EDNS(options, { udpPayloadSize: 4096, doFlag: edns === 3 }));
  }
  return p.toBuffer();
}

/** Real queries: every name with every type, without EDNS, with EDNS+DO, and with ECS. */
export function seedQueries(): Buffer[] {
  const out: Buffer[] = [];
  for (const name of NAMES)
    for (const type of TYPES) for (const edns of [0, 1, 2, 3]) out.push(query(name, type, edns));
  // Hand-made edge cases: a compression pointer to itself, a pointer forward, qdcount 2.
  const loop = Buffer.from(query("a.example.com", 1, 0));
  loop.writeUInt16BE(0xc00c, 12);
  const twoQuestions = Buffer.from(query("www.example.com", 1, 0));
  twoQuestions.writeUInt16BE(2, 4);
  out.push(loop, twoQuestions);
  return out;
}

/** `count` hostile packets, reproducible from `seed`. */
export function hostilePackets(count: number, seed: number, seeds: Buffer[] = seedQueries()): Buffer[] {
  const pick = fc.constantFrom(...seeds);
  const flips = fc
    .tuple(
      pick,
      fc.array(fc.tuple(fc.nat(120), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
    )
    .map(([s, edits]) => {
      const b = Buffer.from(s);
      for (const [i, v] of edits) if (i < b.length) b[i] = v;
      return b;
    });
  const headerCounts = fc
    .tuple(pick, fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 0xffff }))
    .map(([s, field, value]) => {
      const b = Buffer.from(s);
      b.writeUInt16BE(value, field * 2);
      return b;
    });
  const cut = fc.tuple(pick, fc.nat(80)).map(([s, n]) => s.subarray(0, n));
  const spliced = fc
    .tuple(pick, pick, fc.nat(80), fc.nat(80))
    .map(([a, b, i, j]) => Buffer.concat([a.subarray(0, i), b.subarray(j)]));
  const extended = fc
    .tuple(pick, fc.uint8Array({ minLength: 1, maxLength: 64 }))
    .map(([s, tail]) => Buffer.concat([s, tail]));
  const noise = fc.uint8Array({ minLength: 0, maxLength: 600 }).map((a) => Buffer.from(a));
  return fc.sample(fc.oneof(flips, flips, headerCounts, cut, spliced, extended, noise), {
    numRuns: count,
    seed,
  });
}

export interface FuzzTally {
  inputs: number;
  answered: number;
  dropped: number;
  crashes: number;
  malformed: number;
  /** The first few problems, with the packet in hex, for the report. */
  problems: string[];
}

export function newTally(): FuzzTally {
  return { inputs: 0, answered: 0, dropped: 0, crashes: 0, malformed: 0, problems: [] };
}

/**
 * Runs packets through `responder`, which must have been built with `onError` adding to
 * `caught.count` (so errors the Responder turns into SERVFAIL count as crashes too).
 */
export function fuzzResponder(
  responder: Responder,
  packets: Buffer[],
  tally: FuzzTally,
  caught: { count: number },
): void {
  const note = (what: string, p: Buffer) => {
    if (tally.problems.length < 5) tally.problems.push(`${what}: ${p.toString("hex")}`);
  };
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i]!;
    const transport: Transport = i % 7 === 0 ? "tcp" : "udp";
    const before = caught.count;
    tally.inputs++;
    let r: Buffer | null;
    try {
      r = responder.answer(p, transport, i % 3 === 0 ? "198.51.100.7" : "127.0.0.1");
    } catch (e) {
      tally.crashes++;
      note(`threw ${(e as Error).message}`, p);
      continue;
    }
    if (caught.count !== before) {
      tally.crashes += caught.count - before;
      note("caught error (SERVFAIL)", p);
    }
    if (r === null) {
      tally.dropped++;
      continue;
    }
    tally.answered++;
    const problem = checkResponse(p, r, transport);
    if (problem) {
      tally.malformed++;
      note(problem, p);
    }
  }
}

function checkResponse(q: Buffer, r: Buffer, transport: Transport): string | null {
  if (r.length < 12) return "response shorter than a header";
  if (r.readUInt16BE(0) !== q.readUInt16BE(0)) return "response id differs from the query id";
  if ((r[2]! & 0x80) === 0) return "response without QR";
  if (transport === "udp" && r.length > 1232) return `UDP response of ${r.length} bytes`;
  const decoded = Packet.parse(r);
  if (decoded.errors.length > 0) return `response does not decode: ${decoded.errors[0]!.message}`;
  return null;
}

/**
 * A Responder serving the example zones and pools.yaml from `zonesDir` (the repository's
 * `zones/`), with live reports for every member but one, so that pool, fallback and MX paths all
 * run. Errors the Responder catches are counted in `caught`.
 */
export function exampleResponder(zonesDir: string): { responder: Responder; caught: { count: number } } {
  const log = pino({ level: "silent" });
  const caught = { count: 0 };
  const table = new HealthTable(log);
  const env: PoolEnv = { table, probes: null, members: new Map(), counters: new Map(), log };
  const responder = new Responder(new ZoneSet([]), null, () => {
    caught.count++;
  });
  const catalog = new Catalog(zonesDir, join(zonesDir, "pools.yaml"), env, null, responder, log);
  catalog.load();
  const members = [...(catalog.pools?.memberIds() ?? [])];
  members.forEach((member, i) => {
    if (i > 0) table.offer({ v: 1, member, status: "up", load: 10 * i, ts: Date.now() }, "fuzz");
  });
  return { responder, caught };
}
