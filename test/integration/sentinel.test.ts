/**
 * Redis high availability: a real primary, a replica and a Sentinel. The primary is killed; lbdns
 * and an agent, both given the Sentinel URL, follow the promoted replica, and answers keep
 * following reports. (How a fleet of lbdns instances shares one health view without a single
 * point of failure: README, "Scaling out".)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterEach, beforeEach, expect, it } from "vitest";
import { dig } from "../helpers/dig.js";
import { CLI, type Running, runCli, startServe, waitFor } from "../helpers/lbdns.js";
import { freePort, RedisServer } from "../helpers/redis.js";
import { tempDir } from "../helpers/zones.js";

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
`;

let primary: RedisServer;
let replica: RedisServer;
let sentinel: ChildProcess;
let sentinelPort: number;
let server: Running | undefined;
let agent: ChildProcess | undefined;
let tmp: ReturnType<typeof tempDir>;

async function sentinelSays(...args: string[]): Promise<unknown> {
  const c = new Redis({
    host: "127.0.0.1",
    port: sentinelPort,
    lazyConnect: true,
    retryStrategy: () => null,
  });
  c.on("error", () => {});
  try {
    await c.connect();
    return await c.call("SENTINEL", ...args);
  } catch {
    return null;
  } finally {
    c.disconnect();
  }
}

beforeEach(async () => {
  tmp = tempDir();
  cpSync(FIXTURES, tmp.dir, { recursive: true });
  tmp.write("pools.yaml", POOLS);
  primary = await RedisServer.start();
  replica = await RedisServer.start({ args: ["--replicaof", "127.0.0.1", String(primary.port)] });
  sentinelPort = await freePort();
  // Sentinel rewrites its config file, so it gets its own copy.
  const conf = tmp.write(
    "sentinel.conf",
    [
      `port ${sentinelPort}`,
      "bind 127.0.0.1",
      `sentinel monitor lbdns 127.0.0.1 ${primary.port} 1`,
      "sentinel down-after-milliseconds lbdns 1000",
      "sentinel failover-timeout lbdns 10000",
      "",
    ].join("\n"),
  );
  // Debian's redis-sentinel is the same binary in Sentinel mode.
  sentinel = existsSync("/usr/bin/redis-sentinel")
    ? spawn("redis-sentinel", [conf], { stdio: "ignore" })
    : spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" });
  // Failover needs the Sentinel to know the replica (it learns it from the primary's INFO).
  await waitFor(
    async () => {
      const replicas = (await sentinelSays("REPLICAS", "lbdns")) as string[][] | null;
      return Array.isArray(replicas) && replicas.some((r) => r.includes(String(replica.port)));
    },
    20_000,
    "the Sentinel to discover the replica",
  );
});

afterEach(async () => {
  agent?.kill("SIGKILL");
  agent = undefined;
  await server?.stop("SIGKILL");
  server = undefined;
  sentinel.kill("SIGKILL");
  await primary.stop();
  await replica.stop();
  tmp.cleanup();
});

it("follows the promoted replica through Sentinel when the primary dies", { timeout: 60_000 }, async () => {
  const url = `redis-sentinel://127.0.0.1:${sentinelPort}/lbdns`;
  server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--redis", url]);
  agent = spawn(
    process.execPath,
    [CLI, "agent", "--member", "web-1", "--redis", url, "--interval", "250ms", "--load", "cmd:echo 10"],
    { stdio: "ignore" },
  );
  const www = async () =>
    (await dig(server!.port, ["+norec", "www.example.com", "A"])).answer.map((a) => a.data);
  await waitFor(async () => (await www())[0] === "192.0.2.11", 10_000, "web-1 via the primary");

  await primary.stop();
  await waitFor(
    async () => {
      const addr = (await sentinelSays("GET-MASTER-ADDR-BY-NAME", "lbdns")) as string[] | null;
      return addr?.[1] === String(replica.port);
    },
    30_000,
    "the Sentinel to promote the replica",
  );

  // After the failover, reports go to the new primary and lbdns follows them: web-1 says it is
  // down and web-2 appears, so the answer moves from web-1 to web-2.
  agent.kill("SIGKILL");
  agent = undefined;
  await waitFor(
    async () => {
      const a = await runCli([
        "report",
        "--redis",
        url,
        "--member",
        "web-1",
        "--load",
        "0",
        "--status",
        "down",
      ]);
      const b = await runCli(["report", "--redis", url, "--member", "web-2", "--load", "10"]);
      return a.code === 0 && b.code === 0;
    },
    15_000,
    "reports accepted by the new primary",
  );
  await waitFor(async () => (await www())[0] === "192.0.2.12", 10_000, "web-2 via the promoted replica");
  for (let i = 0; i < 5; i++) expect(await www()).toEqual(["192.0.2.12"]);
  expect(server.proc.exitCode).toBeNull();
});
