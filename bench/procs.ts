/** Real processes for the bench and the soak: free ports, redis-server, and lbdns itself. */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { Redis } from "ioredis";

export const ROOT = join(import.meta.dirname, "../..");
export const CLI = join(ROOT, "dist/src/cli/main.js");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** Starts a node child and waits (10 s at most) for a JSON log line with the given msg. */
export function startChild(cmd: string[], readyMsg: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cmd, { stdio: ["ignore", "pipe", "inherit"] });
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`${cmd.join(" ")} did not start`)), 10_000);
    child.stdout!.on("data", (d: Buffer) => {
      if (buf.length > 100_000) return; // started long ago; later logs are not ours to keep
      buf += d.toString();
      if (buf.includes(`"msg":"${readyMsg}"`)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on("exit", (code) => reject(new Error(`${cmd.join(" ")} exited with ${code}`)));
  });
}

/** `lbdns serve` with the given arguments, ready to answer. */
export function startLbdns(args: string[]): Promise<ChildProcess> {
  return startChild([CLI, "serve", "--admin", "off", ...args], "lbdns serving");
}

/** A redis-server on `port` (loopback, no persistence), once it answers PING. */
export async function startRedis(port: number, extra: string[] = []): Promise<ChildProcess> {
  const proc = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...extra],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 200; i++) {
    const c = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    c.on("error", () => {});
    try {
      await c.connect();
      if ((await c.ping()) === "PONG") return proc;
    } catch {
      // not up yet
    } finally {
      c.disconnect();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill("SIGKILL");
  throw new Error(`redis-server on port ${port} did not start`);
}

/** Kills a child and waits until it has exited. */
export function kill(proc: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    proc.once("exit", () => r());
    proc.kill(signal);
  });
}
