/**
 * Slow HTTP clients against the admin endpoint (issue 18 #13): the connection cap and short
 * deadlines keep the descriptors for DNS, and a reload that failed for want of descriptors is
 * retried until it works.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { dig } from "../helpers/dig.js";
import { type Running, startServe, waitFor } from "../helpers/lbdns.js";
import { tempDir } from "../helpers/zones.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/zones");
let server: Running | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.stop("SIGKILL");
  server = undefined;
  tmp?.cleanup();
  tmp = undefined;
});

/** Connections that start a request and never finish it (slowloris). */
async function slowClients(port: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const s = connect({ port, host: "127.0.0.1" });
    s.on("error", () => {});
    s.once("connect", () => s.write("GET /v1/status HTTP/1.1\r\nHost: x\r\n"));
    sockets.push(s);
  }
  await new Promise((r) => setTimeout(r, 500));
}

const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const adminPort = (r: Running) => Number(r.admin!.split(":").pop());

it("holds at most 64 admin connections, drops slow ones within seconds, and DNS over TCP keeps working", async () => {
  tmp = tempDir();
  cpSync(FIXTURES, tmp.dir, { recursive: true });
  server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0"]);
  const before = fds(server.proc.pid!);
  await slowClients(adminPort(server), 500);
  expect(fds(server.proc.pid!) - before).toBeLessThanOrEqual(64 + 5);
  expect((await dig(server.port, ["+tcp", "www.example.com"])).status).toBe("NOERROR");
  // The header deadline (5 s) frees the slots; the endpoint answers again.
  await waitFor(
    async () =>
      (await fetch(`${server!.admin}/healthz`, { signal: AbortSignal.timeout(1_000) }).catch(() => null))
        ?.status === 200,
    15_000,
    "admin endpoint answers after the slow clients are dropped",
  );
  expect(sockets.filter((s) => !s.destroyed && s.readyState === "open").length).toBe(0);
}, 30_000);

it("retries a reload that failed with EMFILE until it works", async () => {
  tmp = tempDir();
  cpSync(FIXTURES, tmp.dir, { recursive: true });
  server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--no-watch"], {
    wrap: ["prlimit", "--nofile=256:256"],
  });
  const file = join(tmp.dir, "example.com.zone");
  writeFileSync(
    file,
    readFileSync(file, "utf8").replace("2026112401", "2026112402").replace("192.0.2.11", "192.0.2.77"),
  );
  // Take every descriptor the server has left with DNS over TCP connections from several /24s.
  for (let i = 0; i < 256; i++) {
    const s = connect({ port: server.port, host: "127.0.0.1", localAddress: `127.0.${10 + (i % 8)}.1` });
    s.on("error", () => {});
    sockets.push(s);
  }
  await waitFor(() => fds(server!.proc.pid!) >= 250, 10_000, "descriptors exhausted");
  server.proc.kill("SIGHUP");
  await waitFor(() => server!.logs().some((l) => l["msg"] === "retrying the reload"), 10_000, "a retry");
  expect(JSON.stringify(server.logs())).toMatch(/EMFILE/);
  for (const s of sockets.splice(0)) s.destroy();
  await waitFor(
    async () => (await dig(server!.port, ["www.example.com"])).answer[0]?.data === "192.0.2.77",
    20_000,
    "the retried reload",
  );
}, 40_000);
