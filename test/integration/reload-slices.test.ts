/**
 * Reloads next to a large zone (issue 18 #6): editing a small zone does not re-read the large
 * one, and rebuilding the large one is done in slices, so answers keep flowing meanwhile.
 */
import { createSocket } from "node:dgram";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { type Running, startServe, waitFor } from "../helpers/lbdns.js";
import { makeQuery } from "../helpers/packets.js";
import { tempDir } from "../helpers/zones.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/zones");
let server: Running | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;

afterEach(async () => {
  await server?.stop("SIGKILL");
  server = undefined;
  tmp?.cleanup();
  tmp = undefined;
});

const RECORDS = 300_000;
function largeZone(serial: number): string {
  const lines = [`$TTL 300`, `@ SOA ns1 h ${serial} 2 3 4 5`, "@ NS ns1", "ns1 A 192.0.2.1"];
  for (let i = 0; i < RECORDS; i++) lines.push(`h${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  return `${lines.join("\n")}\n`;
}

/** Asks one query after another until `stop()`; returns the longest wait for an answer. */
function askContinuously(port: number) {
  const sock = createSocket("udp4");
  const q = makeQuery("www.example.com", { id: 77 });
  let longest = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const t = performance.now();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5_000);
        sock.once("message", () => {
          clearTimeout(timer);
          resolve();
        });
        sock.send(q, port, "127.0.0.1");
      });
      longest = Math.max(longest, performance.now() - t);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      sock.close();
      return longest;
    },
  };
}

it("keeps an unchanged large zone on reload, and answers while rebuilding it", async () => {
  tmp = tempDir();
  cpSync(FIXTURES, tmp.dir, { recursive: true });
  const big = join(tmp.dir, "large.test.zone");
  writeFileSync(big, largeZone(1));
  server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--admin", "off"], {
    timeoutMs: 60_000,
  });
  const reloads = () => server!.logs().filter((l) => l["msg"] === "zones reloaded");

  // An edit of the small zone: the large one is not read again.
  const small = join(tmp.dir, "example.com.zone");
  writeFileSync(small, readFileSync(small, "utf8").replace("2026112401", "2026112402"));
  await waitFor(() => reloads().length === 1, 10_000, "reload after the small edit");
  expect(reloads()[0]).toMatchObject({ unchanged: 2, changed: [{ zone: "example.com." }] });

  // The large zone itself: rebuilt in slices while the queries go on.
  const asking = askContinuously(server.port);
  await new Promise((r) => setTimeout(r, 300));
  writeFileSync(big, largeZone(2));
  await waitFor(() => reloads().length === 2, 60_000, "reload after the large edit");
  const longest = await asking.stop();
  const lines = server.logs();
  const started = Number(lines.filter((l) => l["msg"] === "reloading").at(-1)!["time"]);
  const took = Number(reloads()[1]!["time"]) - started;
  console.log(
    `rebuilding ${RECORDS} records took ${took} ms; the longest answer meanwhile took ${Math.round(longest)} ms`,
  );
  expect(reloads()[1]).toMatchObject({ changed: [{ zone: "large.test.", from: 1, to: 2 }] });
  // Built at once, the rebuild would hold every answer for its whole duration.
  expect(took).toBeGreaterThan(300);
  expect(longest).toBeLessThan(took / 2);
}, 120_000);
