/** The catalog: zones and pools in force, swapped in whole, and the last good state on a bad reload. */
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Catalog } from "../../../src/app/catalog.js";
import { createMetrics } from "../../../src/app/metrics.js";
import { MemoryHealthStore } from "../../../src/health/store.js";
import { HealthTable } from "../../../src/health/table.js";
import type { PoolEnv } from "../../../src/pools/runtime.js";
import { Responder } from "../../../src/server/responder.js";
import { ZoneSet } from "../../../src/zone/zoneset.js";
import { makeQuery, parse } from "../../helpers/packets.js";
import { silent } from "../../helpers/pools.js";
import { apex, tempDir } from "../../helpers/zones.js";

const POOLS = `pools:
  web:
    names: [www.example.com.]
    fallback: [192.0.2.99]
    members:
      - {id: web-1, address: 192.0.2.11}
`;

let dir: ReturnType<typeof tempDir> | null = null;
afterEach(() => dir?.cleanup());

function setUp() {
  dir = tempDir();
  dir.write("example.com.zone", `${apex("example.com.")}www A 192.0.2.1\n`);
  dir.write("pools.yaml", POOLS);
  const table = new HealthTable(silent);
  const env: PoolEnv = { table, probes: null, members: new Map(), counters: new Map(), log: silent };
  const responder = new Responder(new ZoneSet([]));
  const catalog = new Catalog(dir.dir, `${dir.dir}/pools.yaml`, env, null, responder, silent);
  const store = new MemoryHealthStore(table);
  const metrics = createMetrics(env, store, catalog, responder.stats);
  const ask = (name: string) => {
    const r = parse(responder.answer(makeQuery(name), "udp", "127.0.0.1")!);
    return { rcode: r.header.rcode, answers: r.answers.map((a: { address?: string }) => a.address) };
  };
  const reloads = async () => {
    const text = await metrics.metrics();
    const n = (result: string) =>
      Number(new RegExp(`lbdns_reloads_total\\{result="${result}"\\} (\\d+)`).exec(text)?.[1]);
    return { ok: n("ok"), failed: n("failed") };
  };
  return { dir, table, catalog, ask, reloads };
}

describe("catalog", () => {
  it("loads zones and pools and answers from both", () => {
    const { catalog, ask } = setUp();
    catalog.load();
    expect([...catalog.pools!.byName.keys()]).toEqual(["web"]);
    expect(ask("www.example.com")).toEqual({ rcode: 0, answers: ["192.0.2.99"] }); // no report: fallback
    expect(ask("nope.example.com").rcode).toBe(3);
  });

  it("keeps the last good pools.yaml on a broken one, and counts the reload as failed", async () => {
    const { dir, catalog, ask, reloads } = setUp();
    catalog.load();
    dir.write(
      "pools.yaml",
      "pools:\n  web: {names: [www.example.com.], members: [{id: x, address: nope}]}\n",
    );
    catalog.load();
    expect(ask("www.example.com").answers).toEqual(["192.0.2.99"]);
    expect(await reloads()).toEqual({ ok: 0, failed: 1 });
    dir.write("pools.yaml", POOLS.replace("192.0.2.99", "192.0.2.98"));
    catalog.load();
    expect(ask("www.example.com").answers).toEqual(["192.0.2.98"]);
    expect(await reloads()).toEqual({ ok: 1, failed: 1 });
  });

  it("keeps the last good zone when its file breaks, and picks up the fixed one", async () => {
    const { dir, catalog, ask, reloads } = setUp();
    catalog.load();
    dir.write("example.com.zone", `${apex("example.com.")}www A not-an-ip\n`);
    catalog.load();
    expect(ask("nope.example.com").rcode).toBe(3); // still served
    expect(await reloads()).toEqual({ ok: 0, failed: 1 });
    dir.write("example.com.zone", `${apex("example.com.")}www A 192.0.2.1\nnew A 192.0.2.2\n`);
    catalog.load();
    expect(ask("new.example.com").answers).toEqual(["192.0.2.2"]);
  });

  it("repeats a zone's warnings only when the zone changed", () => {
    dir = tempDir();
    dir.write("example.com.zone", `${apex("example.com.")}www 60 A 192.0.2.1\nwww 120 A 192.0.2.2\n`);
    const lines: string[] = [];
    const log = pino({ level: "warn" }, { write: (l: string) => lines.push(l) });
    const table = new HealthTable(log);
    const env: PoolEnv = { table, probes: null, members: new Map(), counters: new Map(), log };
    const catalog = new Catalog(
      dir.dir,
      `${dir.dir}/pools.yaml`,
      env,
      null,
      new Responder(new ZoneSet([])),
      log,
    );
    const warnings = () => lines.filter((l) => l.includes("TTL differs")).length;
    catalog.load();
    expect(warnings()).toBe(1);
    catalog.load();
    expect(warnings()).toBe(1);
    dir.write(
      "example.com.zone",
      `${apex("example.com.").replace(" 1 7200", " 2 7200")}www 60 A 192.0.2.1\nwww 120 A 192.0.2.2\n`,
    );
    catalog.load();
    expect(warnings()).toBe(2);
  });
});
