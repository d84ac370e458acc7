/** `lbdns serve --workers 2`: shared sockets, one view per worker, relayed reports, summed metrics. */
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { dig } from "../helpers/dig.js";
import { type Running, runCli, startServe, waitFor } from "../helpers/lbdns.js";
import { freePort, RedisServer } from "../helpers/redis.js";

const ZONES = join(import.meta.dirname, "../../zones");
let server: Running | undefined;
let redis: RedisServer | undefined;

afterEach(async () => {
  await server?.stop("SIGKILL");
  server = undefined;
  await redis?.stop();
  redis = undefined;
});

/** TCP connections are handed to the workers in turn, so consecutive TCP queries reach both. */
const wwwOverTcp = async () =>
  (await dig(server!.port, ["+tcp", "+norec", "www.example.com", "A"])).answer[0]?.data;
const workerPids = () =>
  new Set(
    server!
      .logs()
      .filter((l) => l["msg"] === "worker serving")
      .map((l) => Number(l["pid"])),
  );

it("answers from every worker, relays admin reports to all, sums metrics, replaces a dead worker", async () => {
  const metricsPort = await freePort();
  server = await startServe([
    "--zones",
    ZONES,
    "--listen",
    "127.0.0.1:0",
    "--workers",
    "2",
    "--metrics",
    `127.0.0.1:${metricsPort}`,
    "--log-queries",
  ]);
  expect(server.logs().find((l) => l["msg"] === "lbdns serving")).toMatchObject({ workers: 2 });
  expect(workerPids().size).toBe(2);
  for (let i = 0; i < 4; i++) expect(await wwwOverTcp()).toBe("192.0.2.11"); // static: no reports yet
  const answeredBy = new Set(
    server
      .logs()
      .filter((l) => l["msg"] === "query")
      .map((l) => l["pid"]),
  );
  expect(answeredBy.size).toBe(2);

  // A report POSTed to the primary reaches both workers.
  expect(
    (
      await runCli([
        "report",
        "--server",
        server.admin!,
        "--token",
        server.token!,
        "--member",
        "web-3",
        "--load",
        "1",
      ])
    ).code,
  ).toBe(0);
  await waitFor(async () => (await wwwOverTcp()) === "192.0.2.13", 5_000, "the report answered");
  for (let i = 0; i < 6; i++) expect(await wwwOverTcp()).toBe("192.0.2.13");

  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const tcpQueries = server.logs().filter((l) => l["msg"] === "query" && l["transport"] === "tcp").length;
  expect(metrics).toContain(`lbdns_query_duration_seconds_count{transport="tcp"} ${tcpQueries}`);
  expect(metrics).toMatch(/lbdns_pool_members\{pool="web",reason="available"\} 1\n/); // one view, not summed
  expect(await (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).text()).toBe("ready: 2 workers\n");
  // Issue 19 #14: status and explain count the workers' answers, as /metrics does.
  const byMetrics = Number(
    /lbdns_pool_answers_total\{pool="web",source="member",member="web-3"\} (\d+)/.exec(metrics)?.[1],
  );
  expect(byMetrics).toBeGreaterThanOrEqual(7);
  const status = JSON.parse(
    (await runCli(["status", "--json", "--server", server.admin!, "--token", server.token!])).stdout,
  ) as { pools: { name: string; members: { id: string; answered: number }[] }[] };
  const web3 = status.pools.find((p) => p.name === "web")!.members.find((m) => m.id === "web-3")!;
  expect(web3.answered).toBe(byMetrics);
  const explained = JSON.parse(
    (
      await runCli([
        "explain",
        "www.example.com",
        "--json",
        "--server",
        server.admin!,
        "--token",
        server.token!,
      ])
    ).stdout,
  ) as { members: { id: string; answered: number }[] };
  expect(explained.members.find((m) => m.id === "web-3")!.answered).toBe(byMetrics);

  // A worker that dies is replaced, and the new one starts with the primary's view.
  const [victim] = workerPids();
  process.kill(victim!, "SIGKILL");
  await waitFor(() => workerPids().size === 3, 10_000, "a replacement worker");
  for (let i = 0; i < 6; i++) expect(await wwwOverTcp()).toBe("192.0.2.13");

  expect(await server.stop("SIGTERM")).toBe(0);
  expect(server.logs().filter((l) => l["msg"] === "lbdns stopped").length).toBe(3); // two workers, the primary
  server = undefined;
});

it("each worker follows Redis on its own", async () => {
  redis = await RedisServer.start();
  server = await startServe([
    "--zones",
    ZONES,
    "--listen",
    "127.0.0.1:0",
    "--workers",
    "2",
    "--redis",
    redis.url,
  ]);
  expect((await runCli(["report", "--redis", redis.url, "--member", "web-2", "--load", "1"])).code).toBe(0);
  await waitFor(async () => (await wwwOverTcp()) === "192.0.2.12", 5_000, "the report answered");
  for (let i = 0; i < 6; i++) expect(await wwwOverTcp()).toBe("192.0.2.12");
});

it("keeps replacing workers that keep dying, with backoff, and says unhealthy while none serves (issue 18 #2)", async () => {
  const metricsPort = await freePort();
  // A fixed port, as in service: when every worker is gone the cluster drops its shared socket,
  // and a replacement binds the address again (port 0 would get a new port).
  const dnsPort = await freePort();
  server = await startServe([
    "--zones",
    ZONES,
    "--listen",
    `127.0.0.1:${dnsPort}`,
    "--workers",
    "2",
    "--metrics",
    `127.0.0.1:${metricsPort}`,
  ]);
  const healthz = () => fetch(`http://127.0.0.1:${metricsPort}/healthz`).then((r) => r.status);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  expect(await healthz()).toBe(200);
  // Kill every worker as soon as it serves, eight deaths in all: past the old limit of five a
  // minute, after which the primary used to stay up with no worker and still say 200.
  const killed = new Set<number>();
  await waitFor(
    () => {
      for (const pid of workerPids()) {
        if (killed.has(pid) || !alive(pid)) continue;
        process.kill(pid, "SIGKILL");
        killed.add(pid);
      }
      return killed.size >= 8;
    },
    30_000,
    "eight worker deaths",
  );
  await waitFor(async () => (await healthz()) === 503, 5_000, "/healthz to say no worker answers DNS");
  // The backoff grows (the eighth death waits 16 s) but never gives up: DNS comes back.
  await waitFor(
    async () =>
      (await dig(server!.port, ["+norec", "+tries=1", "+time=1", "example.com", "SOA"]).catch(() => null))
        ?.status === "NOERROR",
    40_000,
    "a replacement worker answering",
  );
  await waitFor(async () => (await healthz()) === 200, 5_000, "/healthz healthy again");
  expect(server.proc.exitCode).toBeNull();
}, 90_000);

it("refuses a bad worker count with one line", async () => {
  const r = await runCli(["serve", "--zones", ZONES, "--workers", "zero"]);
  expect(r.code).not.toBe(0);
  expect(r.stderr.split("\n")[0]).toMatch(
    /--workers.*'zero' is invalid. --workers must be a positive integer/,
  );
});
