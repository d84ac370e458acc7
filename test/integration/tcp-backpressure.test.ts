/**
 * TCP write backpressure (issue 18 #1): a client that pipelines 64 KB of queries for a large
 * answer and never reads must cost the server a bounded amount of memory (server/tcp.ts:
 * OUTPUT_BOUND, about 160 KiB per connection), and is closed once it has stayed blocked past the
 * idle timeout, while everyone else is still answered.
 */
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Running, startServe } from "../../harness/lbdns.js";
import { waitFor } from "../../harness/procs.js";
import { dig } from "../helpers/dig.js";
import { apex, tempDir } from "../helpers/zones.js";

const tmp = tempDir();
let server: Running;

beforeAll(async () => {
  // About 15 KB per answer: 60 TXT strings of 250 octets.
  const big = Array.from(
    { length: 60 },
    (_, i) => `big TXT "${String(i).padStart(3, "0")}${"x".repeat(247)}"`,
  ).join("\n");
  tmp.write("example.com.zone", `${apex("example.com.")}${big}\n`);
  server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--tcp-idle-timeout", "3000"]);
});
afterAll(async () => {
  await server?.stop();
  tmp.cleanup();
});

const rssMb = () =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.proc.pid}/status`, "utf8"))![1]) / 1024;

/** 64 KB of framed queries for big.example.com TXT. */
function pipeline(): Buffer {
  const q = Buffer.from(
    "000100000001000000000000036269670765786d706c6503636f6d0000100001".replace(
      "65786d706c65",
      "6578616d706c65",
    ),
    "hex",
  );
  const framed = Buffer.concat([Buffer.from([0, q.length]), q]);
  return Buffer.concat(Array.from({ length: Math.floor(65_536 / framed.length) }, () => framed));
}

describe("TCP backpressure", () => {
  it("bounds memory for clients that never read, closes them, and keeps answering others", async () => {
    await dig(server.port, ["+tcp", "+norec", "big.example.com", "TXT"]); // warm up
    const before = rssMb();
    const closed: boolean[] = [];
    const received: number[] = [];
    const sockets: Socket[] = [];
    for (let i = 0; i < 8; i++) {
      const s = connect(server.port, "127.0.0.1");
      closed.push(false);
      received.push(0);
      s.on("data", (d: Buffer) => {
        received[i]! += d.length;
      });
      s.pause(); // never read: the kernel buffers fill, then the server's own output would
      s.on("close", () => {
        closed[i] = true;
      });
      s.on("error", () => {});
      s.write(pipeline());
      sockets.push(s);
    }
    await new Promise((r) => setTimeout(r, 1_500));
    const grown = rssMb() - before;
    // Unbounded, each connection would queue about 2,000 answers of 15 KB: 30 MB each, 240 MB in all.
    expect(grown).toBeLessThan(60);
    expect((await dig(server.port, ["+tcp", "+norec", "example.com", "SOA"])).status).toBe("NOERROR");
    // Past the idle timeout the server has closed them: reading now, each client gets what was
    // buffered before the close, a small part of the 30 MB it asked for, and then the close.
    await new Promise((r) => setTimeout(r, 5_000));
    for (const s of sockets) s.resume();
    await waitFor(() => closed.every(Boolean), 10_000, "blocked connections to be closed");
    for (const n of received) expect(n).toBeLessThan(8 * 1024 * 1024);
    expect((await dig(server.port, ["+norec", "example.com", "SOA"])).status).toBe("NOERROR");
  }, 60_000);
});
