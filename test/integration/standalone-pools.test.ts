/** No Redis: reports POSTed to the admin endpoint, built-in probes, status and metrics. */
import { execFile } from "node:child_process";
import { cpSync, readFileSync, statSync } from "node:fs";
import type { Server } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dig } from "../helpers/dig.js";
import { CLI, type Running, runCli, startServe, waitFor } from "../helpers/lbdns.js";
import { standIn } from "../helpers/tcp.js";
import { tempDir } from "../helpers/zones.js";

const run = promisify(execFile);
const FIXTURES = join(import.meta.dirname, "../fixtures/zones");
let server: Running | undefined;
let tmp: ReturnType<typeof tempDir>;
const listeners: Server[] = [];

async function listen(
  onConnect?: (s: import("node:net").Socket) => void,
): Promise<{ server: Server; port: number }> {
  const l = await standIn(onConnect);
  listeners.push(l.server);
  return l;
}

beforeEach(() => {
  tmp = tempDir();
  cpSync(FIXTURES, tmp.dir, { recursive: true });
});
afterEach(async () => {
  await server?.stop("SIGKILL");
  server = undefined;
  for (const l of listeners.splice(0)) l.close();
  tmp.cleanup();
});

const POOLS = `
pools:
  web:
    names: [www.example.com.]
    members:
      - {id: web-1, address: 192.0.2.11}
      - {id: web-2, address: 192.0.2.12}
`;

describe("standalone (no Redis)", () => {
  it("serves the example zone and pools with no Redis at all: the relay is listed from the start", async () => {
    server = await startServe([
      "--zones",
      join(import.meta.dirname, "../../zones"),
      "--listen",
      "127.0.0.1:0",
    ]);
    const mx = await dig(server.port, ["+norec", "example.com", "MX"]);
    expect(mx.answer.map((a) => a.data)).toEqual(["50 relay1.backup.example.net."]);
    // no reports: www answers its static record, the answer of last resort
    expect((await dig(server.port, ["+norec", "www.example.com"])).answer[0]!.data).toBe("192.0.2.11");
  });

  it("takes reports over the admin endpoint, with lbdns report --server", async () => {
    tmp.write("pools.yaml", POOLS);
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0"]);
    await run(process.execPath, [
      CLI,
      "report",
      "--server",
      server.admin!,
      "--token",
      server.token!,
      "--member",
      "web-2",
      "--load",
      "30",
    ]);
    expect((await dig(server.port, ["www.example.com"])).answer[0]!.data).toBe("192.0.2.12");
    const status = (await (await fetch(`${server.admin}/v1/status`, { headers: server.auth() })).json()) as {
      pools: { name: string; members: { id: string; reason: string; load: number | null }[] }[];
    };
    const web = status.pools.find((p) => p.name === "web")!;
    expect(web.members.map((m) => [m.id, m.reason, m.load])).toEqual([
      ["web-1", "no-report", null],
      ["web-2", "available", 30],
    ]);
    const metrics = await (await fetch(`${server.admin}/metrics`, { headers: server.auth() })).text();
    expect(metrics).toMatch(/lbdns_pool_answers_total\{pool="web",source="member",member="web-2"\} 1/);
    const bad = await fetch(`${server.admin}/v1/reports`, {
      method: "POST",
      headers: { ...server.auth(), "content-type": "application/json" },
      body: '{"v":1,"member":"web-1","status":"up","load":"high","ts":1}',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^load: /);
  });

  it("sums up pools without members in one line at start, then logs each pool's source changes", async () => {
    const many = Array.from(
      { length: 30 },
      (_, i) =>
        `  p${i}:\n    names: [p${i}.example.com.]\n    members:\n      - {id: m${i}, address: 192.0.2.${i + 1}}`,
    );
    tmp.write("pools.yaml", `pools:\n${many.join("\n")}\n`);
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0"]);
    const byMsg = (msg: string) => server!.logs().filter((l) => l["msg"] === msg);
    await waitFor(() => byMsg("lbdns serving").length === 1);
    expect(byMsg("pool answer source changed")).toEqual([]);
    expect(byMsg("pools with no available member at start: answering from their fallback")).toMatchObject([
      { level: 40, count: 30 },
    ]);
    await run(process.execPath, [
      CLI,
      "report",
      "--server",
      server.admin!,
      "--token",
      server.token!,
      "--member",
      "m7",
      "--load",
      "10",
    ]);
    await waitFor(() => byMsg("pool answer source changed").length === 1);
    expect(byMsg("pool answer source changed")).toMatchObject([
      { pool: "p7", from: "servfail", to: "member" },
    ]);
  });

  it("requires a token by default, JSON bodies and same-site requests (issue 18 #9)", async () => {
    tmp.write("pools.yaml", POOLS);
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0"]);
    // The default posture: a random token, in a file only its owner reads.
    const tokenFile = join(tmp.dir, ".admin-token");
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(server.token).toMatch(/^[0-9a-f]{48}$/);
    const report = JSON.stringify({ v: 1, member: "web-1", status: "up", load: 1, ts: 1 });
    const post = (headers: Record<string, string>, body = report) =>
      fetch(`${server!.admin}/v1/reports`, { method: "POST", headers, body }).then((r) => r.status);
    const json = { "content-type": "application/json" };
    expect(await post(json)).toBe(401);
    expect(await post({ ...json, authorization: "Bearer wrong" })).toBe(401);
    expect(await post({ ...json, authorization: "Bearer " })).toBe(401);
    expect(await post({ ...json, authorization: `Bearer ${server.token}` })).toBe(202);
    // RFC 7235 §2.1: the scheme name is case-insensitive.
    expect(await post({ ...json, authorization: `bearer ${server.token}` })).toBe(202);
    // What a hostile web page can send to a loopback address: a simple POST, or any cross-site request.
    const auth = server.auth();
    expect(await post({ ...auth, "content-type": "text/plain" })).toBe(415);
    expect(await post({ ...auth, "content-type": "application/x-www-form-urlencoded" })).toBe(415);
    expect(await post({ ...auth, ...json, origin: "https://evil.example" })).toBe(403);
    expect(await post({ ...auth, ...json, "sec-fetch-site": "cross-site" })).toBe(403);
    expect(await post({ ...auth, ...json }, "x".repeat(200_000))).toBe(413);
    // The client commands find the token in the same file.
    const viaFile = await runCli([
      "report",
      "--server",
      server.admin!,
      "--token-file",
      tokenFile,
      "--member",
      "web-2",
      "--load",
      "2",
    ]);
    expect(viaFile.code).toBe(0);
    const without = await runCli([
      "report",
      "--server",
      server.admin!,
      "--token-file",
      join(tmp.dir, "none"),
      "--member",
      "web-2",
      "--load",
      "2",
    ]);
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(/answered 401: missing or wrong bearer token/);
    await server.stop();
    // Restarted, the server keeps the token it made; a blank token is refused with one line.
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0"]);
    expect(server.token).toBe(readFileSync(tokenFile, "utf8").trim());
    const blank = await runCli([
      "serve",
      "--zones",
      tmp.dir,
      "--admin-token",
      " ",
      "--listen",
      "127.0.0.1:0",
    ]);
    expect([blank.code, blank.stderr.trim()]).toEqual([
      2,
      "lbdns: --admin-token: a token must be non-blank, without spaces",
    ]);
    const open = await runCli(["serve", "--zones", tmp.dir, "--admin", "0.0.0.0:0", "--no-admin-token"]);
    expect(open.stderr).toMatch(/not loopback: --no-admin-token is for loopback only/);
  });

  it("probes members with built-in checks, with rise and fall", async () => {
    const web = await listen();
    const smtp = await listen((s) => s.write("220 mx.test ESMTP\r\n"));
    tmp.write(
      "pools.yaml",
      `pools:
  web:
    names: [www.example.com.]
    fallback: [192.0.2.99]
    members:
      - {id: web-1, address: 127.0.0.1, check: {type: tcp, port: ${web.port}, interval: 100ms, timeout: 500ms, rise: 2, fall: 2}}
  mail:
    type: mx
    names: [example.com.]
    members:
      - {id: mx-1, host: mx1.example.com., address: 127.0.0.1, check: {type: smtp, port: ${smtp.port}, interval: 100ms, timeout: 500ms}}
    relays: [{host: relay1.backup.example.net., preference: 50}]
`,
    );
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0"]);
    const a = async () => (await dig(server!.port, ["www.example.com"])).answer[0]!.data;
    await waitFor(async () => (await a()) === "127.0.0.1", 5_000, "probe-only member up");
    await waitFor(
      async () => (await dig(server!.port, ["example.com", "MX"])).answer.length === 2,
      5_000,
      "smtp probe up",
    );
    web.server.close();
    await waitFor(async () => (await a()) === "192.0.2.99", 5_000, "member down after fall count");
    expect(server.logs().some((l) => l["msg"] === "probe state changed" && l["up"] === false)).toBe(true);
  });

  it("keeps the last good pools.yaml on a bad reload, and names the problem", async () => {
    tmp.write("pools.yaml", POOLS);
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--no-watch"]);
    await run(process.execPath, [
      CLI,
      "report",
      "--server",
      server.admin!,
      "--token",
      server.token!,
      "--member",
      "web-1",
      "--load",
      "1",
    ]);
    tmp.write("pools.yaml", POOLS.replace("192.0.2.12", "192.0.2.312"));
    server.proc.kill("SIGHUP");
    await waitFor(() =>
      server!.logs().some((l) => String(l["msg"]).includes("member 'web-2', field 'address': '192.0.2.312'")),
    );
    await waitFor(() => server!.logs().some((l) => l["msg"] === "zones reloaded"));
    expect((await dig(server.port, ["www.example.com"])).answer[0]!.data).toBe("192.0.2.11");

    // Issue 18 #8: a 0-byte file, as a truncated write leaves it, is an error, not "no pools".
    tmp.write("pools.yaml", "");
    server.proc.kill("SIGHUP");
    await waitFor(() => server!.logs().filter((l) => l["msg"] === "zones reloaded").length === 2);
    expect(
      server.logs().some((l) => String(l["msg"]).includes("the file is empty (a truncated write?)")),
    ).toBe(true);
    expect(server.logs().filter((l) => l["msg"] === "zones reloaded")[1]!["pools"]).toContain("web");
    expect((await dig(server.port, ["www.example.com"])).answer[0]!.data).toBe("192.0.2.11");
  });
});

describe("status and explain", () => {
  it("show each member's reason and share, and the answer with why", async () => {
    server = await startServe([
      "--zones",
      join(import.meta.dirname, "../../zones"),
      "--listen",
      "127.0.0.1:0",
    ]);
    const cli = (...args: string[]) =>
      run(process.execPath, [CLI, ...args, "--server", server!.admin!, "--token", server!.token!]);
    await cli("report", "--member", "web-1", "--load", "25");
    await cli("report", "--member", "web-2", "--load", "75");
    await cli("report", "--member", "web-3", "--load", "195");
    const status = JSON.parse((await cli("status", "--json")).stdout) as {
      pools: { name: string; source: string; members: { id: string; reason: string; share: number }[] }[];
    };
    const web = status.pools.find((p) => p.name === "web")!;
    expect(web.source).toBe("member");
    expect(web.members.map((m) => [m.id, m.reason, Math.round(m.share * 100)])).toEqual([
      ["web-1", "available", 75],
      ["web-2", "available", 25],
      ["web-3", "shed", 0],
    ]);
    const stream = status.pools.find((p) => p.name === "stream")!;
    expect(stream.source).toBe("stream-manager");
    expect(stream.members.find((m) => m.id === "(no id)")!.share).toBe(1);
    const table = (await cli("status")).stdout;
    expect(table).toMatch(/pool web \(www\.example\.com\.\)\s+policy headroom\s+answering from: member/);
    expect(table).toMatch(/web-3\s+shed\s+195\s+200\s+98%/);

    const explained = (await cli("explain", "www.example.com", "A")).stdout;
    expect(explained).toMatch(
      /^www\.example\.com\. A -> NOERROR from pool 'web' \(policy headroom, answering from member\)/,
    );
    expect(explained).toMatch(/web-3\s+shed\s+util 98%\s+gets no answers/);
    const mx = (await cli("explain", "example.com", "MX")).stdout;
    expect(mx).toContain("50 relay1.backup.example.net.");
    const nx = JSON.parse((await cli("explain", "nope.example.com", "--json")).stdout) as {
      rcode: string;
      authority: string[];
    };
    expect(nx.rcode).toBe("NXDOMAIN");
    expect(nx.authority[0]).toMatch(/^example\.com\.\t300\tIN\tSOA\t/);
    const bad = await cli("explain", "a..b").catch((e) => e);
    expect(bad.stderr).toMatch(/answered 400: empty label/);
  });

  it("says clearly when no server is listening", async () => {
    const r = await run(process.execPath, [CLI, "status", "--server", "http://127.0.0.1:1"]).catch((e) => e);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^lbdns: cannot reach http:\/\/127\.0\.0\.1:1: .*is lbdns serve running/);
  });
});

describe("status from Redis without a server", () => {
  it("builds the view from Redis and the files", async () => {
    const { RedisServer } = await import("../helpers/redis.js");
    const redis = await RedisServer.start();
    try {
      const zones = join(import.meta.dirname, "../../zones");
      await run(process.execPath, [CLI, "report", "--redis", redis.url, "--member", "web-2", "--load", "10"]);
      const r = await run(process.execPath, [
        CLI,
        "status",
        "--redis",
        redis.url,
        "--zones",
        zones,
        "--json",
      ]);
      const web = (
        JSON.parse(r.stdout) as { pools: { name: string; members: { id: string; reason: string }[] }[] }
      ).pools.find((p) => p.name === "web")!;
      expect(web.members.map((m) => m.reason)).toEqual(["no-report", "available", "no-report"]);
    } finally {
      await redis.stop();
    }
  });
});

describe("--metrics", () => {
  it("serves /metrics with query counts, /healthz and /readyz", async () => {
    const { freePort } = await import("../helpers/redis.js");
    const port = await freePort();
    server = await startServe([
      "--zones",
      join(import.meta.dirname, "../../zones"),
      "--listen",
      "127.0.0.1:0",
      "--metrics",
      `127.0.0.1:${port}`,
    ]);
    await dig(server.port, ["www.example.com"]);
    await dig(server.port, ["nope.example.com", "AAAA"]);
    await dig(server.port, ["+tcp", "example.com", "MX"]);
    await dig(server.port, ["www.example.org"]);
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toMatch(/ready: 1 zone\(s\), health store memory/);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/lbdns_queries_total\{transport="udp",rcode="NOERROR"\} 1/);
    expect(text).toMatch(/lbdns_queries_total\{transport="udp",rcode="NXDOMAIN"\} 1/);
    expect(text).toMatch(/lbdns_queries_total\{transport="udp",rcode="REFUSED"\} 1/);
    expect(text).toMatch(/lbdns_queries_total\{transport="tcp",rcode="NOERROR"\} 1/);
    expect(text).toMatch(/lbdns_queries_by_type_total\{qtype="AAAA"\} 1/);
    expect(text).toMatch(/lbdns_pool_answers_total\{pool="mail",source="mx",member=""\} 1/);
    // The answer-time histogram: cumulative buckets ending in +Inf, equal to the count.
    expect(text).toMatch(/lbdns_query_duration_seconds_bucket\{transport="udp",le="\+Inf"\} 3\n/);
    expect(text).toMatch(/lbdns_query_duration_seconds_count\{transport="udp"\} 3\n/);
    expect(text).toMatch(/lbdns_query_duration_seconds_count\{transport="tcp"\} 1\n/);
    expect(text).toMatch(/# TYPE lbdns_query_duration_seconds histogram/);
    // Members by state, and report ages counted now, not at the last rebuild.
    expect(text).toMatch(/lbdns_pool_members\{pool="web",reason="no-report"\} 3/);
    await runCli([
      "report",
      "--server",
      server.admin!,
      "--token",
      server.token!,
      "--member",
      "web-1",
      "--load",
      "25",
    ]);
    await new Promise((r) => setTimeout(r, 300));
    const later = await (await fetch(`${base}/metrics`)).text();
    expect(later).toMatch(/lbdns_pool_members\{pool="web",reason="available"\} 1/);
    expect(later).toMatch(/lbdns_member_utilization\{pool="web",member="web-1"\} 0\.25/);
    const age = Number(
      /lbdns_member_report_age_seconds\{pool="web",member="web-1"\} ([\d.]+)/.exec(later)?.[1],
    );
    expect(age).toBeGreaterThanOrEqual(0.25);
    expect((await fetch(`${base}/v1/reports`, { method: "POST", body: "{}" })).status).toBe(405); // no admin writes here
  });
});
