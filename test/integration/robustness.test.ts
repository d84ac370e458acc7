/** 10,000 random and mutated packets at a running server; it must still answer correctly. */
import { createSocket } from "node:dgram";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { dig } from "../helpers/dig.js";
import { type Running, startServe } from "../helpers/lbdns.js";
import { makeQuery } from "../helpers/packets.js";
import { frame, openTcp } from "../helpers/tcp.js";

let server: Running;
beforeAll(async () => {
  server = await startServe([
    "--zones",
    join(import.meta.dirname, "../fixtures/zones"),
    "--listen",
    "127.0.0.1:0",
  ]);
});
afterAll(async () => {
  await server?.stop();
});

function corpus(count: number): Buffer[] {
  const seeds = [
    makeQuery("www.example.com"),
    makeQuery("example.com", { type: 15, edns: { udp: 4096, do: true } }),
    makeQuery("x.sub.example.com", { edns: {} }),
  ];
  const mutated = fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(80), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    )
    .map(([seed, edits]) => {
      const b = Buffer.from(seed);
      for (const [i, v] of edits) if (i < b.length) b[i] = v;
      return b;
    });
  const truncated = fc.tuple(fc.constantFrom(...seeds), fc.nat(60)).map(([s, n]) => s.subarray(0, n));
  const random = fc.uint8Array({ minLength: 0, maxLength: 512 }).map((a) => Buffer.from(a));
  return fc.sample(fc.oneof(mutated, truncated, random), { numRuns: count, seed: 42 });
}

it("survives 10,000 hostile packets over UDP and TCP and then answers correctly", async () => {
  const packets = corpus(10_000);
  const udp = createSocket("udp4");
  await new Promise<void>((r) => udp.bind(0, "127.0.0.1", () => r()));
  let replies = 0;
  udp.on("message", () => replies++);
  // Bounded batches so the kernel buffer is not the thing under test.
  for (let i = 0; i < packets.length; i += 200) {
    await Promise.all(
      packets
        .slice(i, i + 200)
        .map((p) => new Promise<void>((r) => udp.send(p, server.port, "127.0.0.1", () => r()))),
    );
    await new Promise((r) => setImmediate(r));
  }
  udp.close();
  const tcp = await openTcp(server.port);
  tcp.on("error", () => {});
  tcp.write(Buffer.concat(packets.slice(0, 500).map(frame)));
  tcp.destroy();

  expect(replies).toBeGreaterThan(0);
  expect(server.proc.exitCode).toBeNull();
  const r = await dig(server.port, ["www.example.com"]);
  expect(r.status).toBe("NOERROR");
  expect(r.answer[0]!.data).toBe("192.0.2.11");
  expect((await dig(server.port, ["+tcp", "www.example.com"])).answer[0]!.data).toBe("192.0.2.11");
  expect(server.logs().filter((l) => l["msg"] === "error answering a query")).toEqual([]);
});

it("limits a flood of identical UDP responses (RRL), keeps TCP and other names answering", async () => {
  const { freePort } = await import("../helpers/redis.js");
  const metricsPort = await freePort();
  const limited = await startServe([
    "--zones",
    join(import.meta.dirname, "../fixtures/zones"),
    "--listen",
    "127.0.0.1:0",
    "--rrl-rate",
    "10",
    "--rrl-slip",
    "2",
    "--rrl-loopback",
    "--metrics",
    `127.0.0.1:${metricsPort}`,
  ]);
  try {
    const udp = createSocket("udp4");
    await new Promise<void>((r) => udp.bind(0, "127.0.0.1", () => r()));
    let full = 0;
    let tc = 0;
    udp.on("message", (msg) => {
      if (msg[2]! & 0x02) tc++;
      else full++;
    });
    const q = makeQuery("www.example.com");
    const started = Date.now();
    for (let i = 0; i < 300; i++) udp.send(q, limited.port, "127.0.0.1");
    await new Promise((r) => setTimeout(r, 500));
    udp.close();
    const seconds = (Date.now() - started) / 1000;
    // burst 10 plus 10/s refill; half of the rest slips as TC
    expect(full).toBeGreaterThanOrEqual(10);
    expect(full).toBeLessThanOrEqual(10 + Math.ceil(10 * seconds) + 1);
    expect(tc).toBeGreaterThan(100);
    expect((await dig(limited.port, ["+tcp", "www.example.com"])).answer[0]!.data).toBe("192.0.2.11");
    expect((await dig(limited.port, ["mx1.example.com"])).answer[0]!.data).toBe("192.0.2.21");
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(text).toMatch(/lbdns_rrl_limited_total\{action="dropped"\} [1-9]/);
    expect(text).toMatch(/lbdns_rrl_limited_total\{action="slipped"\} [1-9]/);
  } finally {
    await limited.stop();
  }
});
