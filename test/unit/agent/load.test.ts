import { createServer as createHttp } from "node:http";
import { connect, createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { buildMembers, parseCheck } from "../../../src/agent/config.js";
import {
  AgentConfigError,
  establishedConnections,
  LoadSampler,
  parseLoadSource,
} from "../../../src/agent/load.js";
import { RiseFall } from "../../../src/health/rise-fall.js";
import { waitFor } from "../../helpers/lbdns.js";

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

const sampler = (text: string, timeoutMs = 1000) => new LoadSampler(parseLoadSource(text), text, timeoutMs);

describe("load sources", () => {
  it("counts established connections on a local port from /proc/net/tcp{,6}", async () => {
    const server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    const sockets: Socket[] = [];
    closers.push(() => {
      for (const s of sockets) s.destroy();
      server.close();
    });
    expect(await establishedConnections(port)).toBe(0);
    for (let i = 0; i < 5; i++) sockets.push(connect(port, "127.0.0.1"));
    await waitFor(async () => (await establishedConnections(port)) === 5, 5_000, "5 connections");
    expect(await sampler(`conns:${port}`).sample()).toBe(5);
  });

  it("reads a number or a JSON field over HTTP, and marks errors missing", async () => {
    const server = createHttp((req, res) => {
      if (req.url === "/plain") res.end("42.5\n");
      else if (req.url === "/json") res.end(JSON.stringify({ stats: { active: 17 } }));
      else if (req.url === "/text") res.end("busy");
      else {
        res.statusCode = 500;
        res.end("1");
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    closers.push(() => server.close());
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    expect(await sampler(`http:${base}/plain`).sample()).toBe(42.5);
    expect(await sampler(`http:${base}/json#stats.active`).sample()).toBe(17);
    expect(await sampler(`http:${base}/json#stats.missing`).sample()).toBeUndefined();
    expect(await sampler(`http:${base}/text`).sample()).toBeUndefined();
    expect(await sampler(`http:${base}/error`).sample()).toBeUndefined();
    expect(await sampler("http:http://127.0.0.1:1/closed").sample()).toBeUndefined();
  });

  it("runs a command with a timeout", async () => {
    expect(await sampler("cmd:echo 12").sample()).toBe(12);
    expect(await sampler("cmd:echo not-a-number").sample()).toBeUndefined();
    expect(await sampler("cmd:exit 3").sample()).toBeUndefined();
    const started = Date.now();
    expect(await sampler("cmd:sleep 5; echo 1", 200).sample()).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it("gives loadavg and cpu as fractions", async () => {
    const l = await sampler("loadavg").sample();
    expect(l).toBeGreaterThanOrEqual(0);
    const cpu = sampler("cpu");
    await new Promise((r) => setTimeout(r, 50));
    await cpu.sample();
    await new Promise((r) => setTimeout(r, 100));
    const v = await cpu.sample();
    if (v !== undefined) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
  });

  it("rejects unknown sources and checks with one clear reason", () => {
    expect(() => parseLoadSource("memory")).toThrow(AgentConfigError);
    expect(() => parseLoadSource("conns:99999")).toThrow(/port 1-65535/);
    expect(() => parseLoadSource("http:ftp://x")).toThrow(/http\(s\) URL/);
    expect(() => parseCheck("udp:1.2.3.4:53", 1000)).toThrow(/unknown check/);
    expect(() => parseCheck("tcp:host", 1000)).toThrow(/HOST:PORT/);
    expect(parseCheck("smtp:[::1]:25", 1000).target).toMatchObject({ type: "smtp", host: "::1", port: 25 });
    expect(() => buildMembers([{ member: "a" }, { member: "a" }], 1000)).toThrow(/listed twice/);
  });
});

describe("rise/fall", () => {
  it("flips down after `fall` failures and up after `rise` successes", () => {
    const d = new RiseFall(2, 3);
    expect(d.record(true)).toBe(true);
    expect(d.up).toBe(true);
    expect([d.record(false), d.record(false)]).toEqual([false, false]);
    expect(d.up).toBe(true);
    expect(d.record(true)).toBe(false); // a success resets the streak
    expect([d.record(false), d.record(false), d.record(false)]).toEqual([false, false, true]);
    expect(d.up).toBe(false);
    expect([d.record(true), d.record(true)]).toEqual([false, true]);
    expect(d.up).toBe(true);
  });
});
