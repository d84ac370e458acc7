/**
 * Micro-benchmarks of each stage of the query path, in-process (`npm run bench:micro`), so a
 * regression in one stage shows by name: decode, zone lookup, pool answer, encode, and the whole
 * responder. The zone is the example zone; the pool has 8 live members under headroom.
 */
import { join } from "node:path";
import { pino } from "pino";
import { bench, describe } from "vitest";
import { ROOT } from "../../harness/procs.js";
import { HealthTable } from "../../src/health/table.js";
import { parsePools } from "../../src/pools/config.js";
import { PoolSet } from "../../src/pools/pool-set.js";
import { decodeQuery } from "../../src/proto/decode.js";
import { buildResponse, udpLimit } from "../../src/proto/encode.js";
import { keyOf, parseName } from "../../src/proto/name.js";
import { sectionsOf } from "../../src/proto/sections.js";
import { T } from "../../src/proto/types.js";
import { Responder } from "../../src/server/responder.js";
import { loadZoneFile } from "../../src/zone/load.js";
import { lookup } from "../../src/zone/lookup.js";
import { ZoneSet } from "../../src/zone/zoneset.js";

const log = pino({ level: "silent" });
const zones = new ZoneSet([loadZoneFile(join(ROOT, "zones/example.com.zone"))]);
const members = Array.from(
  { length: 8 },
  (_, i) => `      - {id: m${i}, address: 192.0.2.${101 + i}, capacity: ${100 * (1 + (i % 3))}}`,
);
const pools = parsePools(
  [
    "pools:",
    "  bench:",
    "    names: [www.example.com.]",
    "    stale-after: 10m",
    "    members:",
    ...members,
  ].join("\n"),
  "pools.yaml",
  zones,
);
const table = new HealthTable(log);
const set = new PoolSet(pools, zones, { table, probes: null, members: new Map(), counters: new Map(), log });
table.setKnownMembers(set.memberIds());
table.onChange((id) => set.memberChanged(id));
for (let i = 0; i < 8; i++)
  table.offer({ v: 1, member: `m${i}`, status: "up", load: 10 * i, ts: i + 1 }, "bench");
const pool = set.byKey.get("www.example.com")!;
const responder = new Responder(zones);
responder.setState(zones, set.byKey);

/** A query with EDNS (payload 1232), as a resolver sends it. */
function query(name: string, qtype: number): Buffer {
  const labels = name.split(".").filter(Boolean);
  const qname = Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
  const header = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]);
  const question = Buffer.alloc(4);
  question.writeUInt16BE(qtype, 0);
  question.writeUInt16BE(1, 2);
  const opt = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, qname, question, opt]);
}

const staticQuery = query("mx1.example.com", T.A);
const poolQuery = query("www.example.com", T.A);
const key = (name: string) => keyOf(parseName(`${name}.`, null));
const nxKeys = Array.from({ length: 1000 }, (_, i) => key(`nx${i}.example.com`));
const decoded = decodeQuery(staticQuery);
if (!decoded.ok) throw new Error("the bench query does not decode");
const q = decoded.query;
const staticSections = sectionsOf(lookup(zones, q.qname, q.qtype));

describe("decode", () => {
  bench("decodeQuery (A, with EDNS)", () => {
    decodeQuery(staticQuery);
  });
});

describe("zone lookup", () => {
  const mx1 = key("mx1.example.com");
  const wild = key("h1.apps.example.com");
  const referral = key("host.sub.example.com");
  bench("static A", () => {
    lookup(zones, mx1, T.A);
  });
  let i = 0;
  bench("NXDOMAIN over 1000 names", () => {
    lookup(zones, nxKeys[i++ % 1000]!, T.A);
  });
  bench("wildcard", () => {
    lookup(zones, wild, T.A);
  });
  bench("referral", () => {
    lookup(zones, referral, T.A);
  });
});

describe("pool answer", () => {
  bench("headroom, 8 live members", () => {
    pool.answer(T.A, null);
  });
});

describe("encode", () => {
  bench("buildResponse (static A)", () => {
    buildResponse(staticQuery, q.id, q.flags, q.questionEnd, q.edns, 0, true, staticSections, udpLimit(q));
  });
});

describe("responder (decode -> resolve -> encode)", () => {
  bench("static A", () => {
    responder.answer(staticQuery, "udp", "127.0.0.1");
  });
  bench("pool A", () => {
    responder.answer(poolQuery, "udp", "127.0.0.1");
  });
});
