/** `lbdns agent` against real listeners and a real Redis, and the whole loop through lbdns serve to dig. */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync } from "node:fs";
import { createServer as createHttp } from "node:http";
import type { Server, Socket } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dig } from "../helpers/dig.js";
import { CLI, type Running, startServe, waitFor } from "../helpers/lbdns.js";
import { addAgentUser, RedisServer } from "../helpers/redis.js";
import { standIn } from "../helpers/tcp.js";
import { tempDir } from "../helpers/zones.js";

let redis: RedisServer;
let tmp: ReturnType<typeof tempDir>;
const procs: ChildProcess[] = [];
const closers: (() => void)[] = [];
let server: Running | undefined;

beforeEach(async () => {
  redis = await RedisServer.start();
  tmp = tempDir();
});
afterEach(async () => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill("SIGKILL");
  for (const c of closers.splice(0)) c();
  await server?.stop("SIGKILL");
  server = undefined;
  await redis.stop();
  tmp.cleanup();
});

function startAgent(args: string[]): {
  proc: ChildProcess;
  exited: Promise<number | null>;
  logs: () => string;
} {
  const proc = spawn(process.execPath, [CLI, "agent", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  procs.push(proc);
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr!.on("data", (d: Buffer) => {
    out += d.toString();
  });
  return { proc, exited: new Promise((r) => proc.on("exit", (code) => r(code))), logs: () => out };
}

async function tcpListener(
  port = 0,
  onConnect: (s: Socket) => void = (s) => s.end(),
): Promise<{ server: Server; port: number }> {
  const l = await standIn(onConnect, port);
  closers.push(() => l.server.close());
  return l;
}

async function reportOf(member: string): Promise<Record<string, unknown> | null> {
  const c = redis.client();
  try {
    const v = await c.get(`lbdns:health:${member}`);
    return v ? JSON.parse(v) : null;
  } finally {
    c.disconnect();
  }
}

describe("lbdns agent", () => {
  it("delivers its first report: it waits for the connection instead of logging an error (issue 19 #9)", async () => {
    const a = startAgent([
      "--member",
      "web-3",
      "--redis",
      redis.url,
      "--interval",
      "10s",
      "--load",
      "cmd:echo 7",
    ]);
    // One interval of 10 s: the report seen within 5 s can only be the first one.
    await waitFor(async () => (await reportOf("web-3"))?.["load"] === 7, 5_000, "the first report");
    expect(a.logs()).not.toMatch(/could not deliver report|"level":50/);
  });

  it("publishes per the contract, and follows its check with rise and fall", async () => {
    const l = await tcpListener();
    startAgent([
      "--member",
      "web-1",
      "--redis",
      redis.url,
      "--interval",
      "200ms",
      "--capacity",
      "50",
      "--load",
      "cmd:echo 10",
      "--check",
      `tcp:127.0.0.1:${l.port}`,
      "--fall",
      "2",
      "--rise",
      "2",
    ]);
    await waitFor(async () => (await reportOf("web-1"))?.["status"] === "up");
    const r = (await reportOf("web-1"))!;
    expect(r).toMatchObject({ v: 1, member: "web-1", status: "up", load: 10, capacity: 50, interval: 200 });
    expect(r["metrics"]).toMatchObject({ cmd: 10, rttMs: expect.any(Number) });
    const c = redis.client();
    const pttl = await c.pttl("lbdns:health:web-1");
    c.disconnect();
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(600); // 3 x interval
    l.server.close();
    await waitFor(async () => (await reportOf("web-1"))?.["status"] === "down", 5_000, "status down");
    await tcpListener(l.port);
    await waitFor(async () => (await reportOf("web-1"))?.["status"] === "up", 5_000, "status up again");
  });

  it("checks HTTP (with an expected body) and SMTP, for several members from a YAML file", async () => {
    let healthy = true;
    const http = createHttp((_req, res) => res.end(healthy ? "status: OK" : "status: degraded"));
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
    closers.push(() => http.close());
    const smtp = await tcpListener(0, (s) => {
      s.write("220 mail.test ESMTP\r\n");
      s.on("data", (d) => {
        if (d.toString().startsWith("QUIT")) s.end("221 bye\r\n");
      });
    });
    const file = tmp.write(
      "agent.yaml",
      `redis: ${redis.url}
interval: 200ms
fall: 1
members:
  - member: web-1
    load: cmd:echo 5
    check: [{check: "http:http://127.0.0.1:${(http.address() as { port: number }).port}/health", expect: "OK"}]
  - member: mx-1
    load: [cmd:echo 7, loadavg]
    check: [smtp:127.0.0.1:${smtp.port}]
`,
    );
    startAgent(["--config", file]);
    await waitFor(
      async () =>
        (await reportOf("web-1"))?.["status"] === "up" && (await reportOf("mx-1"))?.["status"] === "up",
    );
    expect((await reportOf("mx-1"))!["metrics"]).toMatchObject({ cmd: 7, loadavg: expect.any(Number) });
    healthy = false;
    await waitFor(
      async () => (await reportOf("web-1"))?.["status"] === "down",
      5_000,
      "http body check to fail",
    );
    expect((await reportOf("mx-1"))!["status"]).toBe("up");
  });

  it("publishes drain on SIGTERM (or down with --on-exit down) and exits 0", async () => {
    const a = startAgent([
      "--member",
      "web-1",
      "--redis",
      redis.url,
      "--interval",
      "200ms",
      "--load",
      "cmd:echo 1",
    ]);
    await waitFor(async () => (await reportOf("web-1"))?.["status"] === "up");
    a.proc.kill("SIGTERM");
    expect(await a.exited).toBe(0);
    expect((await reportOf("web-1"))!["status"]).toBe("drain");
    const b = startAgent([
      "--member",
      "web-2",
      "--redis",
      redis.url,
      "--interval",
      "200ms",
      "--load",
      "cmd:echo 1",
      "--on-exit",
      "down",
    ]);
    await waitFor(async () => (await reportOf("web-2"))?.["status"] === "up");
    b.proc.kill("SIGTERM");
    expect(await b.exited).toBe(0);
    expect((await reportOf("web-2"))!["status"]).toBe("down");
  });

  it("keeps reporting when a load source fails, and recovers after a Redis restart", async () => {
    const a = startAgent([
      "--member",
      "web-1",
      "--redis",
      redis.url,
      "--interval",
      "200ms",
      "--load",
      "http:http://127.0.0.1:1/nothing",
      "--load",
      "cmd:echo 3",
    ]);
    await waitFor(async () => (await reportOf("web-1")) !== null);
    const r = (await reportOf("web-1"))!;
    expect(r).toMatchObject({ status: "up", load: 3 });
    expect(r["metrics"]).not.toHaveProperty("http");
    await redis.stop();
    // Longer than a publish waits for the connection (2 s), so this outage does lose reports.
    await new Promise((res) => setTimeout(res, 3_000));
    await redis.restart();
    await waitFor(async () => (await reportOf("web-1")) !== null, 8_000, "report after Redis restart");
    expect(a.proc.exitCode).toBeNull();
    expect(a.logs()).toMatch(/could not deliver report/);
  });

  it("exits non-zero with one line for bad flags", async () => {
    const a = startAgent(["--member", "x", "--redis", redis.url, "--load", "memory"]);
    expect(await a.exited).toBe(2);
    expect(a.logs().trim()).toBe(
      "lbdns: unknown load source 'memory' (loadavg, cpu, conns:PORT, http:URL[#field], cmd:COMMAND)",
    );
  });
});

describe("hostile endpoints and a frozen Redis (issue 18 #5, #16, #18, #19)", () => {
  it("bounds a trickling HTTP and SMTP check, keeps the other member reporting, and still drains on SIGTERM", async () => {
    const trickle: NodeJS.Timeout[] = [];
    closers.push(() => {
      for (const t of trickle) clearInterval(t);
    });
    // Each sends one byte a second and never finishes: an idle timer never fires on them.
    const http = createHttp((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      trickle.push(setInterval(() => res.write("1"), 200));
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
    closers.push(() => http.close());
    http.unref();
    const httpPort = (http.address() as { port: number }).port;
    const smtp = await tcpListener(0, (s) => {
      trickle.push(setInterval(() => s.write("2"), 200));
    });
    tmp.write(
      "agent.yaml",
      `redis: ${redis.url}
interval: 300ms
timeout: 500ms
expiry: 30s
members:
  - member: slow
    load: ["http:http://127.0.0.1:${httpPort}/load"]
    check: ["http:http://127.0.0.1:${httpPort}/", "smtp:127.0.0.1:${smtp.port}"]
  - member: quick
    load: ["cmd:echo 5"]
`,
    );
    const a = startAgent(["--config", join(tmp.dir, "agent.yaml")]);
    // The quick member's reports keep coming, their ts moving, whatever the slow one does.
    await waitFor(async () => (await reportOf("quick")) !== null, 5_000);
    const first = Number((await reportOf("quick"))!["ts"]);
    await waitFor(async () => Number((await reportOf("quick"))!["ts"]) > first + 1_000, 5_000);
    a.proc.kill("SIGTERM");
    const code = await Promise.race([a.exited, new Promise((r) => setTimeout(() => r("hung"), 8_000))]);
    expect(code).toBe(0);
    expect((await reportOf("quick"))!["status"]).toBe("drain");
  }, 30_000);

  it("kills a timed-out cmd: load source's whole process group", async () => {
    // A sleep of a duration nothing else uses marks the grandchildren ("^sleep": not the sh around them).
    const marker = `sleep 37.${process.pid}`;
    const a = startAgent([
      "--member",
      "web-1",
      "--redis",
      redis.url,
      "--interval",
      "200ms",
      "--timeout",
      "300ms",
      "--load",
      `cmd:sh -c 'exec -a ${marker} sleep 30' & sleep 30; echo 1`,
    ]);
    await new Promise((r) => setTimeout(r, 2_000));
    const alive = () =>
      spawnSync("pgrep", ["-f", `^${marker}`])
        .stdout.toString()
        .trim()
        .split("\n")
        .filter(Boolean).length;
    // About ten rounds ran; each round's grandchild died with its group at the deadline.
    expect(alive()).toBeLessThanOrEqual(1);
    a.proc.kill("SIGTERM");
    await a.exited;
    await waitFor(() => alive() === 0, 3_000, "no grandchild left");
  });

  it("exits on SIGTERM while Redis is frozen, and the server's store shows disconnected", async () => {
    tmp = tempDir();
    cpSync(join(import.meta.dirname, "../fixtures/zones"), tmp.dir, { recursive: true });
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--redis", redis.url]);
    const connected = async () =>
      /lbdns_health_store_connected\{store="redis"\} (\d)/.exec(
        await (await fetch(`${server!.admin}/metrics`, { headers: server!.auth() })).text(),
      )?.[1];
    await waitFor(async () => (await connected()) === "1", 5_000);
    const a = startAgent([
      "--member",
      "web-1",
      "--redis",
      redis.url,
      "--interval",
      "200ms",
      "--load",
      "cmd:echo 1",
    ]);
    await waitFor(async () => (await reportOf("web-1")) !== null);
    redis.process!.kill("SIGSTOP");
    try {
      await waitFor(
        async () => (await connected()) === "0",
        15_000,
        "store connected 0 while Redis is frozen",
      );
      a.proc.kill("SIGTERM");
      const code = await Promise.race([a.exited, new Promise((r) => setTimeout(() => r("hung"), 10_000))]);
      expect(code).not.toBe("hung");
    } finally {
      redis.process!.kill("SIGCONT");
    }
    await waitFor(async () => (await connected()) === "1", 15_000, "connected again");
  }, 60_000);

  it("logs the real cause of a refused publish once: NOPERM for a member its ACL user may not write (#17)", async () => {
    const c = redis.client();
    await addAgentUser(c, "web-1", "pw");
    c.disconnect();
    const a = startAgent([
      "--member",
      "web-2",
      "--redis",
      `redis://web-1:pw@127.0.0.1:${redis.port}`,
      "--interval",
      "200ms",
      "--load",
      "cmd:echo 1",
    ]);
    await waitFor(() => /NOPERM/.test(a.logs()), 5_000, "the NOPERM error in the log");
    await new Promise((r) => setTimeout(r, 1_000));
    expect(a.logs().match(/could not deliver report/g)).toHaveLength(1);
    a.proc.kill("SIGTERM");
    await a.exited;
  });

  it("sends no capacity without --capacity, so the pool's stands; loadavg reports percent", async () => {
    const a = startAgent([
      "--member",
      "web-1",
      "--redis",
      redis.url,
      "--interval",
      "200ms",
      "--load",
      "cmd:echo 7",
    ]);
    await waitFor(async () => (await reportOf("web-1")) !== null);
    expect(await reportOf("web-1")).not.toHaveProperty("capacity");
    a.proc.kill("SIGTERM");
    await a.exited;
    const b = startAgent(["--member", "web-2", "--redis", redis.url, "--interval", "200ms"]);
    await waitFor(async () => (await reportOf("web-2")) !== null);
    expect((await reportOf("web-2"))!["capacity"]).toBe(100);
    b.proc.kill("SIGTERM");
    await b.exited;
  });
});

describe("agent -> Redis -> lbdns serve -> dig", () => {
  it("stops answering a member soon after its service dies", async () => {
    cpSync(join(import.meta.dirname, "../fixtures/zones"), tmp.dir, { recursive: true });
    tmp.write(
      "pools.yaml",
      `pools:
  web:
    names: [www.example.com.]
    stale-after: 2s
    fallback: [192.0.2.99]
    members:
      - {id: web-1, address: 192.0.2.11}
`,
    );
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--redis", redis.url]);
    const service = await tcpListener();
    startAgent([
      "--member",
      "web-1",
      "--redis",
      redis.url,
      "--interval",
      "250ms",
      "--fall",
      "2",
      "--load",
      "cmd:echo 1",
      "--check",
      `tcp:127.0.0.1:${service.port}`,
    ]);
    const answer = async () => (await dig(server!.port, ["+norec", "www.example.com"])).answer[0]?.data;
    await waitFor(async () => (await answer()) === "192.0.2.11", 5_000, "member answered");
    const killedAt = Date.now();
    service.server.close();
    await waitFor(async () => (await answer()) === "192.0.2.99", 5_000, "member removed");
    const elapsed = Date.now() - killedAt;
    // interval x fall = 500 ms, plus up to one interval of phase and the dig polling.
    console.log(`service killed -> lbdns stopped answering it in ${elapsed} ms (interval 250 ms, fall 2)`);
    expect(elapsed).toBeLessThan(5_000);
  });
});
