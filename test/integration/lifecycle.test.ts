/** Start-up with bad input, reload, shutdown, listen addresses and TCP limits of `lbdns serve`. */
import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { dig } from "../helpers/dig.js";
import { CLI, type Running, startServe, waitFor } from "../helpers/lbdns.js";
import { makeQuery, parse } from "../helpers/packets.js";
import { frame, openTcp, readFrames } from "../helpers/tcp.js";
import { tempDir } from "../helpers/zones.js";

const run = promisify(execFile);
const FIXTURES = join(import.meta.dirname, "../fixtures/zones");
let server: Running | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;

function zonesDir() {
  tmp = tempDir();
  cpSync(FIXTURES, tmp.dir, { recursive: true });
  return tmp;
}

afterEach(async () => {
  await server?.stop("SIGKILL");
  server = undefined;
  tmp?.cleanup();
  tmp = undefined;
});

describe("start-up and reload", () => {
  it("serves the valid zones when one zone file is broken, and names file:line", async () => {
    const t = zonesDir();
    t.write("broken.test.zone", "$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 999.0.0.1\n");
    server = await startServe(["--zones", t.dir, "--listen", "127.0.0.1:0"]);
    const err = server.logs().find((l) => l["level"] === 50);
    expect(String(err?.["msg"])).toMatch(/broken\.test\.zone:4: '999\.0\.0\.1' is not an IPv4 address/);
    expect((await dig(server.port, ["www.example.com"])).status).toBe("NOERROR");
    expect((await dig(server.port, ["ns1.broken.test"])).status).toBe("REFUSED");
  });

  it("reloads on SIGHUP, and keeps the last good zone when the new file is broken", async () => {
    const t = zonesDir();
    server = await startServe(["--zones", t.dir, "--listen", "127.0.0.1:0", "--no-watch"]);
    const file = join(t.dir, "example.com.zone");
    const original = readFileSync(file, "utf8");
    writeFileSync(file, original.replace("2026112401", "2026112402").replace("192.0.2.11", "192.0.2.12"));
    server.proc.kill("SIGHUP");
    await waitFor(
      async () => (await dig(server!.port, ["www.example.com"])).answer[0]?.data === "192.0.2.12",
    );
    const reloaded = server.logs().find((l) => l["msg"] === "zones reloaded")!;
    expect(reloaded["changed"]).toEqual([{ zone: "example.com.", from: 2026112401, to: 2026112402 }]);

    writeFileSync(file, `${original}\nbroken A (\n`);
    server.proc.kill("SIGHUP");
    await waitFor(() => server!.logs().filter((l) => l["msg"] === "zones reloaded").length === 2);
    const second = server.logs().filter((l) => l["msg"] === "zones reloaded")[1]!;
    expect(second["kept"]).toEqual(["example.com."]);
    expect((await dig(server.port, ["www.example.com"])).answer[0]!.data).toBe("192.0.2.12");
  });

  it("stops with exit code 0 on SIGTERM and logs it", async () => {
    server = await startServe(["--zones", zonesDir().dir, "--listen", "127.0.0.1:0"]);
    expect(await server.stop("SIGTERM")).toBe(0);
    expect(server.logs().map((l) => l["msg"])).toContain("lbdns stopped");
  });
});

describe("listen addresses", () => {
  it("listens on IPv6 and on several addresses at once", async () => {
    server = await startServe(["--zones", zonesDir().dir, "--listen", "[::1]:0", "--listen", "127.0.0.1:0"]);
    const listen = server.logs().find((l) => l["msg"] === "lbdns serving")!["listen"] as string[];
    expect(listen).toHaveLength(2);
    const v4port = Number(listen[1]!.split(":").pop());
    expect((await dig(server.port, ["www.example.com"], "::1")).answer[0]!.data).toBe("192.0.2.11");
    expect((await dig(server.port, ["+tcp", "www.example.com"], "::1")).protocol).toBe("TCP");
    expect((await dig(v4port, ["www.example.com"])).status).toBe("NOERROR");
  });

  it("exits non-zero with one line for bad arguments", async () => {
    const cases: [string[], RegExp][] = [
      [["--listen", "nonsense"], /listen address 'nonsense' must be HOST:PORT/],
      [["--listen", "localhost:53"], /'localhost' is not an IP address/],
      [["--zones", "/nonexistent/zones"], /zones directory '\/nonexistent\/zones' does not exist/],
      [["--tcp-max-connections", "-3"], /must be a positive integer/],
      [["--identity", "x".repeat(5_000)], /--identity: 1 to 1,000 characters, or 'none'/],
      [["--nsid", "hex:abc"], /not an even number of hex digits/],
      [["--cookie-secret", "short"], /--cookie-secret must be 32 hex digits/],
      [["--log-level", "loud"], /Allowed choices are fatal, error/],
    ];
    for (const [args, re] of cases) {
      const res = await run(process.execPath, [CLI, "serve", ...args]).then(
        () => ({ code: 0, stderr: "" }),
        (e: { code: number; stderr: string }) => e,
      );
      expect(res.code, args.join(" ")).not.toBe(0);
      expect(res.stderr).toMatch(re);
      expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});

describe("ports in use", () => {
  it("says which port is taken and how to choose another", async () => {
    server = await startServe(["--zones", zonesDir().dir, "--listen", "127.0.0.1:0"]);
    const adminPort = server.admin!.split(":").pop()!;
    const taken = await run(process.execPath, [
      CLI,
      "serve",
      "--zones",
      tmp!.dir,
      "--listen",
      "127.0.0.1:0",
      "--admin",
      `127.0.0.1:${adminPort}`,
    ]).catch((e) => e);
    expect(taken.stderr).toMatch(
      /^lbdns: cannot listen for the admin endpoint: .*EADDRINUSE.*--admin HOST:PORT or --admin off/,
    );
    const dns = await run(process.execPath, [
      CLI,
      "serve",
      "--zones",
      tmp!.dir,
      "--listen",
      `127.0.0.1:${server.port}`,
      "--admin",
      "off",
    ]).catch((e) => e);
    expect(dns.stderr).toMatch(/^lbdns: cannot listen for DNS: .*EADDRINUSE.*--listen/);
  });
});

describe("TCP", () => {
  it("answers pipelined queries on one connection, in order", async () => {
    server = await startServe(["--zones", zonesDir().dir, "--listen", "127.0.0.1:0"]);
    const s = await openTcp(server.port);
    const names = ["www.example.com", "mx1.example.com", "nope.example.com"];
    // All three in one write, the last one split across two writes.
    const bytes = Buffer.concat(names.map((n, i) => frame(makeQuery(n, { id: i + 1 }))));
    s.write(bytes.subarray(0, bytes.length - 5));
    setTimeout(() => s.write(bytes.subarray(bytes.length - 5)), 50);
    const answers = (await readFrames(s, 3)).map(parse);
    expect(answers.map((p) => p.header.id)).toEqual([1, 2, 3]);
    expect(answers.map((p) => p.header.rcode)).toEqual([0, 0, 3]);
    s.destroy();
  });

  it("closes idle connections after the idle timeout", async () => {
    server = await startServe([
      "--zones",
      zonesDir().dir,
      "--listen",
      "127.0.0.1:0",
      "--tcp-idle-timeout",
      "200",
    ]);
    const s = await openTcp(server.port);
    let closed = false;
    s.on("close", () => {
      closed = true;
    });
    await waitFor(() => closed, 5_000, "idle close");
  });

  it("closes a connection whose message trickles in past the read timeout, though it is never idle", async () => {
    server = await startServe([
      "--zones",
      zonesDir().dir,
      "--listen",
      "127.0.0.1:0",
      "--tcp-read-timeout",
      "300",
    ]);
    const s = await openTcp(server.port);
    let closed = false;
    s.on("close", () => {
      closed = true;
    });
    const query = frame(makeQuery("www.example.com"));
    // One byte every 50 ms: active all the time (idle timeout 10 s), complete only after ~1.5 s.
    for (let i = 0; i < query.length && !closed; i++) {
      s.write(query.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitFor(() => closed, 5_000, "read-timeout close");
  });

  it("drops messages larger than --max-query-size on both transports and keeps answering", async () => {
    server = await startServe([
      "--zones",
      zonesDir().dir,
      "--listen",
      "127.0.0.1:0",
      "--max-query-size",
      "1024",
    ]);
    const s = await openTcp(server.port);
    let closed = false;
    s.on("close", () => {
      closed = true;
    });
    const big = Buffer.concat([makeQuery("www.example.com"), Buffer.alloc(2000)]);
    s.write(frame(big));
    await waitFor(() => closed, 5_000, "oversized TCP message closes the connection");
    const udp = createSocket("udp4");
    let replies = 0;
    udp.on("message", () => replies++);
    await new Promise<void>((r) => udp.send(big, server!.port, "127.0.0.1", () => r()));
    expect((await dig(server.port, ["www.example.com"])).status).toBe("NOERROR");
    udp.close();
    expect(replies).toBe(0);
  });

  it("caps connections per client network, closing the idlest, without locking out other networks", async () => {
    server = await startServe([
      "--zones",
      zonesDir().dir,
      "--listen",
      "127.0.0.1:0",
      "--tcp-max-per-client",
      "3",
    ]);
    const { connect } = await import("node:net");
    const sockets = await Promise.all(Array.from({ length: 5 }, () => openTcp(server!.port)));
    let closedCount = 0;
    for (const s of sockets) s.on("close", () => closedCount++);
    await waitFor(() => closedCount === 2, 5_000, "2 connections over the per-client cap closed");
    // Another client network (127.0.1.0/24) still gets a connection and an answer.
    const other = connect({ port: server.port, host: "127.0.0.1", localAddress: "127.0.1.2" });
    await new Promise<void>((r) => other.once("connect", () => r()));
    other.write(frame(makeQuery("www.example.com", { id: 9 })));
    const [answer] = await readFrames(other, 1);
    expect(parse(answer!).header.id).toBe(9);
    other.destroy();
    for (const s of sockets) s.destroy();
  });

  it("counts a /24 as one client, and closes an idle connection before a busy one (issue 18 #14)", async () => {
    server = await startServe([
      "--zones",
      zonesDir().dir,
      "--listen",
      "127.0.0.1:0",
      "--tcp-max-per-client",
      "8",
    ]);
    const { connect } = await import("node:net");
    const from = async (local: string) => {
      const s = connect({ port: server!.port, host: "127.0.0.1", localAddress: local });
      await new Promise<void>((r) => s.once("connect", () => r()));
      return s;
    };
    // The oldest connection is in the middle of a query: busy, so it is not the one closed.
    const busy = await from("127.0.5.1");
    const q = frame(makeQuery("www.example.com", { id: 5 }));
    busy.write(q.subarray(0, 5));
    const open = new Set([busy]);
    // Sixteen addresses of one /24 (the review held every slot with sixteen addresses of one /64).
    for (let i = 2; i <= 16; i++) {
      const s = await from(`127.0.5.${i}`);
      open.add(s);
      s.on("close", () => open.delete(s));
    }
    await waitFor(() => open.size === 8, 5_000, "the /24 holds 8 connections");
    expect(open.has(busy)).toBe(true);
    busy.write(q.subarray(5));
    expect(parse((await readFrames(busy, 1))[0]!).header.id).toBe(5);
    const other = await from("127.0.6.1");
    other.write(frame(makeQuery("www.example.com", { id: 6 })));
    expect(parse((await readFrames(other, 1))[0]!).header.id).toBe(6);
    for (const s of [...open, other]) s.destroy();
  });

  it("holds 1,000 connections at the cap, closes the idlest for newcomers, and keeps answering UDP", async () => {
    server = await startServe([
      "--zones",
      zonesDir().dir,
      "--listen",
      "127.0.0.1:0",
      "--tcp-max-connections",
      "1000",
      "--tcp-max-per-client",
      "5000",
    ]);
    const sockets: Socket[] = [];
    let closedCount = 0;
    // In batches, so the listen backlog is not what gets tested.
    for (let i = 0; i < 1010; i += 101) {
      const batch = await Promise.all(Array.from({ length: 101 }, () => openTcp(server!.port)));
      for (const s of batch) s.on("close", () => closedCount++);
      sockets.push(...batch);
    }
    await waitFor(() => closedCount === 10, 5_000, "the 10 connections over the cap closed");
    for (let i = 0; i < 20; i++) expect((await dig(server.port, ["www.example.com"])).status).toBe("NOERROR");
    // A held connection still gets answers.
    const held = sockets.find((s) => !s.destroyed)!;
    held.write(frame(makeQuery("mx1.example.com", { id: 7 })));
    expect(parse((await readFrames(held, 1))[0]!).header.id).toBe(7);
    expect(closedCount).toBe(10);
    for (const s of sockets) s.destroy();
  });
});

describe("hot reload on file change", () => {
  it("picks up an edited zone file within a second, and keeps the old answers for a broken one", async () => {
    const t = zonesDir();
    server = await startServe(["--zones", t.dir, "--listen", "127.0.0.1:0"]);
    const file = join(t.dir, "example.com.zone");
    const original = readFileSync(file, "utf8");
    const edited = original.replace("2026112401", "2026112402").replace("192.0.2.11", "192.0.2.77");
    writeFileSync(file, edited);
    const changedAt = Date.now();
    await waitFor(
      async () => (await dig(server!.port, ["www.example.com"])).answer[0]?.data === "192.0.2.77",
      5_000,
      "reload",
    );
    console.log(`file change -> new answer in ${Date.now() - changedAt} ms`);
    writeFileSync(file, `${edited}\nbroken A 300.0.0.1\n`);
    await waitFor(
      () => server!.logs().some((l) => String(l["msg"]).includes("'300.0.0.1' is not an IPv4 address")),
      5_000,
      "error logged",
    );
    expect((await dig(server.port, ["www.example.com"])).answer[0]!.data).toBe("192.0.2.77");
  });
});
