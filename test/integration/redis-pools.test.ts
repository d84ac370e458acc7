/** Agents' reports in a real Redis drive dig answers from a real lbdns serve. */
import { execFile } from "node:child_process";
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dig } from "../helpers/dig.js";
import { CLI, type Running, startServe, waitFor } from "../helpers/lbdns.js";
import { RedisServer } from "../helpers/redis.js";
import { tempDir } from "../helpers/zones.js";

const run = promisify(execFile);
const FIXTURES = join(import.meta.dirname, "../fixtures/zones");
const POOLS = `
pools:
  web:
    names: [www.example.com.]
    stale-after: 3s
    fallback: [192.0.2.99]
    members:
      - {id: web-1, address: 192.0.2.11, capacity: 100}
      - {id: web-2, address: 192.0.2.12, capacity: 100}
  mail:
    type: mx
    names: [example.com.]
    stale-after: 3s
    members:
      - {id: mx-1, host: mx1.example.com., capacity: 50, preference: 10}
      - {id: mx-2, host: mx2.example.com., capacity: 50, preference: 10}
    relays:
      - {host: relay1.backup.example.net., preference: 50}
`;

let redis: RedisServer;
let server: Running | undefined;
let tmp: ReturnType<typeof tempDir>;

async function report(member: string, load: number, extra: string[] = []) {
  await run(process.execPath, [
    CLI,
    "report",
    "--redis",
    redis.url,
    "--member",
    member,
    "--load",
    String(load),
    ...extra,
  ]);
}
const www = async () =>
  (await dig(server!.port, ["+norec", "www.example.com", "A"])).answer.map((a) => a.data);
const mx = async () => (await dig(server!.port, ["+norec", "example.com", "MX"])).answer.map((a) => a.data);

beforeEach(async () => {
  redis = await RedisServer.start();
  tmp = tempDir();
  cpSync(FIXTURES, tmp.dir, { recursive: true });
  tmp.write("pools.yaml", POOLS);
});

afterEach(async () => {
  await server?.stop("SIGKILL");
  server = undefined;
  await redis.stop();
  tmp.cleanup();
});

describe("pools fed by Redis", () => {
  it("answers the member with headroom, follows load changes, and drops stale members", async () => {
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--redis", redis.url]);
    expect(await www()).toEqual(["192.0.2.99"]); // no reports: fallback
    await report("web-1", 20);
    await waitFor(async () => (await www())[0] === "192.0.2.11", 5_000, "web-1 answered");
    await report("web-2", 10);
    await report("web-1", 95); // shed
    await waitFor(async () => (await www())[0] === "192.0.2.12", 5_000, "web-2 answered");
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add((await www())[0]!);
    expect([...seen]).toEqual(["192.0.2.12"]);
    // no new reports: both go stale after 3 s and the fallback answers
    await waitFor(async () => (await www())[0] === "192.0.2.99", 6_000, "stale members to leave");
  });

  it("loads the existing view at start, keeps answering through a Redis outage, and resyncs after", async () => {
    await report("web-1", 10, ["--ttl", "60s"]);
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--redis", redis.url]);
    expect(await www()).toEqual(["192.0.2.11"]); // loaded before the sockets opened
    await redis.stop();
    expect(await www()).toEqual(["192.0.2.11"]); // last view, still fresh
    await redis.restart();
    // A key written with no publish can only arrive by resync (on reconnect, or every 5 s).
    const c = redis.client();
    await c.set(
      "lbdns:health:web-2",
      JSON.stringify({ v: 1, member: "web-2", status: "up", load: 0, ts: Date.now() }),
      "PX",
      60_000,
    );
    c.disconnect();
    await report("web-1", 99, ["--status", "down"]);
    await waitFor(async () => (await www())[0] === "192.0.2.12", 10_000, "resynced view");
    expect(server.logs().some((l) => l["msg"] === "redis connected; resyncing health view")).toBe(true);
  });

  it("starts without Redis, is not ready until it syncs, and picks reports up once Redis appears", async () => {
    const port = redis.port;
    await redis.stop();
    const { freePort } = await import("../helpers/redis.js");
    const metricsPort = await freePort();
    server = await startServe([
      "--zones",
      tmp.dir,
      "--listen",
      "127.0.0.1:0",
      "--redis",
      `redis://127.0.0.1:${port}`,
      "--metrics",
      `127.0.0.1:${metricsPort}`,
    ]);
    const readyz = () => fetch(`http://127.0.0.1:${metricsPort}/readyz`).then((r) => r.status);
    expect(server.logs().some((l) => String(l["msg"]).includes("redis not reachable at start"))).toBe(true);
    expect(await www()).toEqual(["192.0.2.99"]);
    expect(await readyz()).toBe(503);
    await redis.restart();
    await waitFor(
      async () => {
        await report("web-2", 5).catch(() => {});
        return (await www())[0] === "192.0.2.12";
      },
      10_000,
      "reports after Redis came up",
    );
    await waitFor(async () => (await readyz()) === 200, 10_000, "ready once synced");
    // It subscribed once Redis came up: reports arrive by pub/sub, not at the next resync.
    const c = redis.client();
    const numsub = async () => Number(((await c.pubsub("NUMSUB", "lbdns:health")) as [string, number])[1]);
    await waitFor(async () => (await numsub()) === 1, 5_000, "a subscriber on lbdns:health");
    c.disconnect();
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^lbdns_health_store_subscribed 1$/m);
  });

  it("ignores garbage in Redis and keeps good data", async () => {
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--redis", redis.url]);
    await report("web-1", 10);
    await waitFor(async () => (await www())[0] === "192.0.2.11");
    const c = redis.client();
    await c.set("lbdns:health:web-1", "{not json");
    await c.publish(
      "lbdns:health",
      JSON.stringify({ v: 1, member: "web-1", status: "up", load: Number.NaN, ts: 1 }),
    );
    await c.publish("lbdns:health", JSON.stringify({ v: 1, member: "web-1", status: "up", load: -5, ts: 2 }));
    await c.publish("lbdns:health", JSON.stringify({ v: 1, member: "ghost", status: "up", load: 1, ts: 3 }));
    await c.publish("lbdns:health", "x".repeat(100_000));
    c.disconnect();
    await waitFor(() => server!.logs().some((l) => l["msg"] === "ignoring bad health report"));
    expect(await www()).toEqual(["192.0.2.11"]);
    expect(server.proc.exitCode).toBeNull();
  });

  it("skips a huge value, and logs a flood of garbage keys in a few lines (issue 18 #11, #12)", async () => {
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--redis", redis.url]);
    await report("web-1", 10);
    await waitFor(async () => (await www())[0] === "192.0.2.11");
    const c = redis.client();
    // 64 MB under web-2's key (the review used 512 MB): once read, it would cost every resync.
    await c.call("SETRANGE", "lbdns:health:web-2", String(64 * 1024 * 1024 - 1), "x");
    // 20,000 garbage keys, each a warning before.
    for (let i = 0; i < 20_000; i += 1_000) {
      const pipe = c.pipeline();
      for (let j = i; j < i + 1_000; j++) pipe.set(`lbdns:health:junk-${j}`, "{garbage");
      await pipe.exec();
    }
    c.disconnect();
    const metric = async (name: string) =>
      Number(
        new RegExp(`^${name} (\\d+)`, "m").exec(
          await (await fetch(`${server!.admin}/metrics`, { headers: server!.auth() })).text(),
        )?.[1] ?? 0,
      );
    await waitFor(async () => (await metric("lbdns_health_reports_rejected_total")) >= 20_000, 20_000);
    await waitFor(async () => (await metric("lbdns_health_reports_oversized_total")) >= 1, 20_000);
    expect(await metric("lbdns_log_lines_suppressed_total")).toBeGreaterThan(19_000);
    const warnings = server.logs().filter((l) => l["level"] === 40);
    expect(warnings.length).toBeLessThanOrEqual(25);
    expect(warnings.some((l) => l["msg"] === "skipping a health key larger than any report")).toBe(true);
    // The rest of the view works (web-2 has no readable report, web-1 keeps every answer) and the
    // server never held the 64 MB.
    await report("web-1", 20);
    expect(await www()).toEqual(["192.0.2.11"]);
    const rss =
      Number(readFileSync(`/proc/${server.proc.pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)![1]) / 1024;
    expect(rss).toBeLessThan(300);
  }, 60_000);

  it("follows MX primaries through healthy, degraded and all-down, always with the relay", async () => {
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--redis", redis.url]);
    expect(await mx()).toEqual(["50 relay1.backup.example.net."]); // no reports yet
    await report("mx-1", 40);
    await report("mx-2", 10);
    await waitFor(async () => (await mx()).length === 3, 5_000, "healthy");
    // The headroom policy: one primary first, the other one preference later, the relay last.
    const healthy = await mx();
    expect(healthy.map((h) => h.split(" ")[0])).toEqual(["10", "11", "50"]);
    expect(healthy.map((h) => h.split(" ")[1]).sort()).toEqual([
      "mx1.example.com.",
      "mx2.example.com.",
      "relay1.backup.example.net.",
    ]);
    const full = await dig(server.port, ["+norec", "example.com", "MX"]);
    expect(full.additional.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: "mx1.example.com.", ttl: 300, type: "A", data: "192.0.2.21" },
      { name: "mx2.example.com.", ttl: 300, type: "A", data: "192.0.2.22" },
    ]);
    await report("mx-1", 40, ["--status", "down"]);
    await waitFor(async () => (await mx()).length === 2, 5_000, "degraded");
    expect(await mx()).toEqual(["10 mx2.example.com.", "50 relay1.backup.example.net."]);
    await report("mx-2", 10, ["--status", "down"]);
    await waitFor(async () => (await mx()).length === 1, 5_000, "all primaries down");
    expect(await mx()).toEqual(["50 relay1.backup.example.net."]);
    await report("mx-1", 5);
    await waitFor(async () => (await mx()).length === 2, 5_000, "recovered");
    expect(await mx()).toEqual(["10 mx1.example.com.", "50 relay1.backup.example.net."]);
  });

  it("uses a configurable key prefix so deployments can share one Redis", async () => {
    server = await startServe([
      "--zones",
      tmp.dir,
      "--listen",
      "127.0.0.1:0",
      "--redis",
      redis.url,
      "--redis-prefix",
      "blue:",
    ]);
    await report("web-1", 10); // default prefix: another deployment's report
    await report("web-2", 10, ["--redis-prefix", "blue:"]);
    await waitFor(async () => (await www())[0] === "192.0.2.12");
    for (let i = 0; i < 10; i++) expect(await www()).toEqual(["192.0.2.12"]);
  });
});

describe("Redis authentication", () => {
  it("works with a password and with an ACL user", async () => {
    const secured = await RedisServer.start({ args: ["--requirepass", "adminpw"], password: "adminpw" });
    try {
      const c = secured.client();
      await c.call("ACL", "SETUSER", "lbdns", "on", ">userpw", "~lbdns:*", "&lbdns:*", "+@all");
      c.disconnect();
      const url = `redis://lbdns:userpw@127.0.0.1:${secured.port}`;
      server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--redis", url]);
      expect(server.logs().find((l) => l["msg"] === "lbdns serving")!["redis"]).toBe(
        `redis://lbdns:***@127.0.0.1:${secured.port}`,
      );
      await run(process.execPath, [
        CLI,
        "report",
        "--redis",
        `redis://:adminpw@127.0.0.1:${secured.port}`,
        "--member",
        "web-2",
        "--load",
        "1",
      ]);
      await waitFor(async () => (await www())[0] === "192.0.2.12");
      const denied = await run(process.execPath, [
        CLI,
        "report",
        "--redis",
        `redis://lbdns:wrong@127.0.0.1:${secured.port}`,
        "--member",
        "web-1",
        "--load",
        "1",
      ]).catch((e) => e);
      expect(denied.code).toBe(1);
      expect(denied.stderr).toMatch(/^lbdns: could not publish to redis:\/\/lbdns:\*\*\*@/);

      // A server user from before +getrange was needed still reads reports (with MGET).
      const c2 = secured.client();
      await c2.call(
        "ACL",
        "SETUSER",
        "old",
        "on",
        ">oldpw",
        "%R~lbdns:health:*",
        "&lbdns:health",
        "-@all",
        "+info",
        "+ping",
        "+scan",
        "+mget",
        "+subscribe",
      );
      c2.disconnect();
      await server.stop("SIGKILL");
      const old = `redis://old:oldpw@127.0.0.1:${secured.port}`;
      server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--redis", old]);
      await waitFor(async () => (await www())[0] === "192.0.2.12");
      expect(server.logs().some((l) => String(l["msg"]).includes("may not run GETRANGE"))).toBe(true);
    } finally {
      await secured.stop();
    }
  });
});
