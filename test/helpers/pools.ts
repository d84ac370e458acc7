/** Builds real pool runtimes over a test zone, with a health table on a clock the test controls. */
import { pino } from "pino";
import type { Report } from "../../src/health/report.js";
import { HealthTable } from "../../src/health/table.js";
import { parsePools } from "../../src/pools/config.js";
import { PoolSet } from "../../src/pools/pool-set.js";
import type { PoolAnswer, PoolEnv } from "../../src/pools/runtime.js";
import { keyOf, parseName, presentName } from "../../src/proto/name.js";
import { readWireName } from "../../src/proto/rdata.js";
import { encodedRecords } from "../../src/proto/sections.js";
import { T } from "../../src/proto/types.js";
import { apex, zoneSet } from "./zones.js";

export const silent = pino({ level: "silent" });

/** `realClock`: the table runs on the monotonic clock, so the pools' own expiry timers apply. */
export function poolFixture(yaml: string, extraZone = "", realClock = false) {
  const zones = zoneSet({ "example.com.": `${apex("example.com.")}${extraZone}` });
  const clock = { now: 1_000_000 };
  const table = realClock ? new HealthTable(silent) : new HealthTable(silent, () => clock.now);
  const env: PoolEnv = { table, probes: null, members: new Map(), counters: new Map(), log: silent };
  const config = parsePools(yaml, "pools.yaml", zones);
  const set = new PoolSet(config, zones, env);
  table.setKnownMembers(set.memberIds());
  table.onChange((id) => set.memberChanged(id));
  let ts = 0;
  return {
    zones,
    set,
    table,
    env,
    clock,
    report(member: string, load: number, extra: Partial<Report> = {}) {
      table.offer({ v: 1, member, status: "up", load, ts: ++ts, ...extra }, "test");
    },
    /** Moves the clock and lets the pools rebuild as their expiry timers would. */
    advance(ms: number) {
      clock.now += ms;
      for (const p of set.byName.values()) p.rebuild();
    },
    answer(name: string, qtype: number = T.A): PoolAnswer | null {
      return set.byKey.get(keyOf(parseName(name, null)))!.answer(qtype);
    },
  };
}

/** Decodes the answer section of a pool answer into "TYPE data" strings. */
export function answerData(a: PoolAnswer | null): string[] {
  if (!a) return ["<zone>"];
  if (a.rcode !== 0) return [`rcode ${a.rcode}`];
  const out: string[] = [];
  for (const rr of encodedRecords(a.sections)) {
    if (rr.section !== "answer") break;
    if (rr.type === T.A) out.push([...rr.rdata].join("."));
    else if (rr.type === T.AAAA) out.push(rr.rdata.toString("hex"));
    else if (rr.type === T.MX)
      out.push(`${rr.rdata.readUInt16BE(0)} ${presentName(readWireName(rr.rdata, 2))}`);
  }
  return out;
}
