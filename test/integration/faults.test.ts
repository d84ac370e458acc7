/**
 * Faults with real processes: Redis killed, restarted and slowed under a steady query load, files
 * corrupted under a running server, and SIGTERM with TCP queries in flight.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { QueryLoad } from "../../bench/query-load.js";
import { publishToRedis } from "../../src/health/publish.js";
import { dig } from "../helpers/dig.js";
import { type Running, startServe, waitFor } from "../helpers/lbdns.js";
import { makeQuery, parse } from "../helpers/packets.js";
import { RedisServer } from "../helpers/redis.js";
import { frame, openTcp } from "../helpers/tcp.js";
import { tempDir } from "../helpers/zones.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/zones");
const POOLS = `
pools:
  web:
    names: [www.example.com.]
    stale-after: 2s
    fallback: [192.0.2.99]
    members:
      - {id: web-1, address: 192.0.2.11, capacity: 100}
      - {id: web-2, address: 192.0.2.12, capacity: 100}
      - {id: web-3, address: 192.0.2.13, capacity: 100}
`;

let redis: RedisServer;
let server: Running | undefined;
let tmp: ReturnType<typeof tempDir>;
let load: QueryLoad | undefined;

async function report(member: string, loadValue: number): Promise<void> {
  const c = redis.client();
  try {
    await publishToRedis(
      c,
      "lbdns:",
      { v: 1, member, status: "up", load: loadValue, ts: Date.now() },
      60_000,
    );
  } finally {
    c.disconnect();
  }
}

const www = async () =>
  (await dig(server!.port, ["+norec", "www.example.com", "A"])).answer.map((a) => a.data);

/** No crash and no unhandled rejection: the process is running and said nothing on stderr. */
function assertHealthy(s: Running) {
  expect(s.proc.exitCode).toBeNull();
  expect(s.stderr()).toBe("");
  expect(s.logs().filter((l) => l["level"] === 60)).toEqual([]); // pino fatal
}

beforeEach(async () => {
  redis = await RedisServer.start({ args: ["--enable-debug-command", "yes"] });
  tmp = tempDir();
  cpSync(FIXTURES, tmp.dir, { recursive: true });
  tmp.write("pools.yaml", POOLS);
});
afterEach(async () => {
  await load?.stop();
  load = undefined;
  await server?.stop("SIGKILL");
  server = undefined;
  await redis.stop();
  tmp.cleanup();
});

describe("Redis faults under query load", () => {
  it("keeps answering when Redis is killed, members go stale in order, and a restart resyncs", async () => {
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--redis", redis.url]);
    await report("web-1", 10);
    await report("web-2", 10);
    await waitFor(async () => (await www())[0] === "192.0.2.11", 5_000, "web-1 answered");
    await waitFor(async () => (await www())[0] === "192.0.2.12", 5_000, "web-2 answered");
    load = new QueryLoad(server.port, "www.example.com");
    await new Promise((r) => setTimeout(r, 700));
    await report("web-2", 10); // web-2's last report is 700 ms newer than web-1's
    const killedAt = Date.now();
    await redis.stop();

    // web-1 goes stale first, then web-2, then the pool answers its fallback; no query fails.
    await waitFor(() => load!.firstSeen("192.0.2.99", killedAt) > 0, 8_000, "the fallback answer");
    await new Promise((r) => setTimeout(r, 300));
    const web1Last = load.lastSeen("192.0.2.11");
    const web2Last = load.lastSeen("192.0.2.12");
    const fallbackFirst = load.firstSeen("192.0.2.99", killedAt);
    expect(web1Last).toBeGreaterThan(0);
    expect(web1Last).toBeLessThan(web2Last);
    expect(web2Last).toBeLessThan(fallbackFirst);
    expect(load.answers.filter((a) => a.at > web1Last && a.address === "192.0.2.11")).toEqual([]);

    // Restart: the report written while lbdns was cut off arrives by resync, not by pub/sub.
    await redis.restart();
    const c = redis.client();
    await c.set(
      "lbdns:health:web-3",
      JSON.stringify({ v: 1, member: "web-3", status: "up", load: 5, ts: Date.now() }),
      "PX",
      60_000,
    );
    c.disconnect();
    const restartedAt = Date.now();
    await waitFor(() => load!.firstSeen("192.0.2.13", restartedAt) > 0, 5_000, "resync after the restart");
    console.log(
      `redis restart -> resynced answer in ${Math.round(load.firstSeen("192.0.2.13", restartedAt) - restartedAt)} ms`,
    );
    await load.stop();
    expect(load.failures).toEqual([]);
    expect(load.failed).toBe(0);
    expect(load.answers.length).toBeGreaterThan(100);
    assertHealthy(server);
  });

  it("answers at full speed while Redis is blocked (DEBUG SLEEP)", async () => {
    tmp.write("pools.yaml", POOLS.replace("stale-after: 2s", "stale-after: 30s"));
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--redis", redis.url]);
    await report("web-1", 10);
    await waitFor(async () => (await www())[0] === "192.0.2.11", 5_000, "web-1 answered");
    const admin = redis.client();
    // Longer than the 5 s resync period, so lbdns's own resync is stuck behind it for a while.
    const sleeping = admin.call("DEBUG", "SLEEP", "6").catch(() => null);
    await new Promise((r) => setTimeout(r, 100));
    load = new QueryLoad(server.port, "www.example.com");
    await new Promise((r) => setTimeout(r, 5_500));
    await load.stop();
    await sleeping;
    admin.disconnect();
    expect(load.failed).toBe(0);
    expect(load.answers.length).toBeGreaterThan(300);
    // Generous: a query path waiting on Redis would take seconds. The figure itself is in the soak.
    expect(load.maxLatencyMs).toBeLessThan(250);
    expect(new Set(load.answers.map((a) => a.address))).toEqual(new Set(["192.0.2.11"]));
    assertHealthy(server);
  });
});

describe("files corrupted while running", () => {
  it("keeps the last good zones and pools, logs why, and picks up the fixed files", async () => {
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0"]);
    const zoneFile = join(tmp.dir, "example.com.zone");
    const poolsFile = join(tmp.dir, "pools.yaml");
    const goodZone = readFileSync(zoneFile, "utf8");
    const goodPools = readFileSync(poolsFile, "utf8");
    const before = await dig(server.port, ["+norec", "mx1.example.com", "A"]);
    expect(before.status).toBe("NOERROR");
    expect((await dig(server.port, ["+norec", "www.example.com", "A"])).answer[0]?.data).toBe("192.0.2.99");

    // A file cut short inside the SOA (as after a full disk), and binary garbage.
    writeFileSync(zoneFile, goodZone.slice(0, goodZone.indexOf("1209600")));
    writeFileSync(poolsFile, Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x5b, 0x3a, 0x0a, 0x09, 0x40]));
    await waitFor(
      () => server!.logs().some((l) => String(l["msg"]).includes("keeping the last good pools.yaml")),
      5_000,
      "the pools error logged",
    );
    await waitFor(
      () =>
        server!.logs().some((l) => l["level"] === 50 && String(l["file"] ?? "").endsWith("example.com.zone")),
      5_000,
      "the zone error logged",
    );
    expect(await dig(server.port, ["+norec", "mx1.example.com", "A"])).toMatchObject({
      status: "NOERROR",
      answer: before.answer,
    });
    expect((await dig(server.port, ["+norec", "www.example.com", "A"])).answer[0]?.data).toBe("192.0.2.99");

    writeFileSync(
      zoneFile,
      goodZone.replace("2026112401", "2026112402").replace("192.0.2.21", "192.0.2.250"),
    );
    writeFileSync(poolsFile, goodPools.replace("192.0.2.99", "192.0.2.98"));
    await waitFor(
      async () =>
        (await dig(server!.port, ["+norec", "mx1.example.com", "A"])).answer[0]?.data === "192.0.2.250",
      5_000,
      "the fixed zone",
    );
    await waitFor(
      async () =>
        (await dig(server!.port, ["+norec", "www.example.com", "A"])).answer[0]?.data === "192.0.2.98",
      5_000,
      "the fixed pools",
    );
    assertHealthy(server);
  });
});

describe("SIGTERM under load", () => {
  it("answers every TCP query already sent, then exits 0", async () => {
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0"]);
    const PER = 2000;
    const conns: { socket: Socket; answers: number }[] = [];
    for (let c = 0; c < 4; c++) {
      const socket = await openTcp(server.port);
      const entry = { socket, answers: 0 };
      let pending = Buffer.alloc(0);
      socket.on("data", (d: Buffer) => {
        pending = Buffer.concat([pending, d]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          const len = pending.readUInt16BE(0);
          expect(parse(pending.subarray(2, 2 + len)).header.rcode).toBe(0);
          entry.answers++;
          pending = pending.subarray(2 + len);
        }
      });
      conns.push(entry);
    }
    const closed = conns.map(({ socket }) => new Promise<void>((r) => socket.on("close", () => r())));
    const burst = Buffer.concat(
      Array.from({ length: PER }, (_, i) => frame(makeQuery("www.example.com", { id: i }))),
    );
    // Every connection has a burst answered or in flight when the signal is sent, and a second
    // burst arrives just after it (as queries delayed in the network would): both are answered
    // before the connection is closed.
    for (const { socket } of conns) socket.write(burst);
    await waitFor(() => conns.every((c) => c.answers >= PER / 2), 5_000, "the first answers");
    const code = server.stop("SIGTERM");
    await new Promise((r) => setTimeout(r, 30));
    for (const { socket } of conns) socket.write(burst);
    await Promise.all(closed);
    expect(conns.map((c) => c.answers)).toEqual([2 * PER, 2 * PER, 2 * PER, 2 * PER]);
    expect(await code).toBe(0);
    expect(server.logs().some((l) => l["msg"] === "lbdns stopped")).toBe(true);
    server = undefined;
  });
});
