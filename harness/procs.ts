/**
 * Real processes for the tests, the bench and the soak: free ports, waiting on effects, CPU
 * pinning, and children that are ready once they log a line. (lbdns.ts starts lbdns itself,
 * redis.ts redis-server.)
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { basename, dirname, join } from "node:path";

/** The repository root: the folder above harness/ (tests) or above dist/harness/ (bench). */
export const ROOT =
  basename(dirname(import.meta.dirname)) === "dist"
    ? join(import.meta.dirname, "../..")
    : join(import.meta.dirname, "..");
export const CLI = join(ROOT, "dist/src/cli/bin.js");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** CPU time (user + system, in seconds) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  // Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** USER_HZ: the unit of /proc's CPU times, 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

let tasksetFound: boolean | undefined;

/** Whether `taskset` (util-linux) is here to pin processes to CPUs. */
export function canPin(): boolean {
  if (tasksetFound === undefined) {
    try {
      execFileSync("taskset", ["-c", "0", "true"], { stdio: "ignore" });
      tasksetFound = true;
    } catch {
      tasksetFound = false;
    }
  }
  return tasksetFound;
}

/** `cmd args`, run on the CPUs in `cpus` ("0", "1", "0,1") when given and taskset is here. */
export function pinned(cpus: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return cpus !== undefined && canPin() ? ["taskset", ["-c", cpus, cmd, ...args]] : [cmd, args];
}

/**
 * Starts a node child (on the CPUs in `cpus`, if given) and waits (`timeoutMs`, 10 s by default)
 * for a JSON log line with the given msg. `onLine` sees each line logged before that one.
 */
export function startChild(
  cmd: string[],
  readyMsg: string,
  timeoutMs = 10_000,
  cpus?: string,
  onLine?: (line: string) => void,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(...pinned(cpus, process.execPath, cmd), { stdio: ["ignore", "pipe", "inherit"] });
    let buf = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd.join(" ")} did not start`));
    }, timeoutMs);
    let ready = false;
    child.stdout!.on("data", (d: Buffer) => {
      if (ready) return; // later logs are not ours to keep
      // Only the unfinished last line is kept, however much is logged before the ready line.
      const lines = (buf + d.toString()).split("\n");
      buf = lines.pop()!;
      if (onLine) for (const l of lines) onLine(l);
      if (lines.some((l) => l.includes(`"msg":"${readyMsg}"`))) {
        ready = true;
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on("exit", (code) => reject(new Error(`${cmd.join(" ")} exited with ${code}`)));
  });
}

/** Polls `check` until it is true or `timeoutMs` passes (for waiting on effects, never on timing). */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Kills a child and waits until it has exited. */
export function kill(proc: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    proc.once("exit", () => r());
    proc.kill(signal);
  });
}

/**
 * A timeout that lets I/O which has already arrived go first. After a stall (a blocked event
 * loop, a paused VM) Node runs due timers before it polls sockets, so a plain timer reports
 * silence for an answer already waiting in the socket buffer; setImmediate runs after that poll.
 * `fire` runs unless `cancel` was called first.
 */
export function timeoutAfterIo(ms: number, fire: () => void): { cancel(): void } {
  let cancelled = false;
  const timer = setTimeout(
    () =>
      setImmediate(() => {
        if (!cancelled) fire();
      }),
    ms,
  );
  return {
    cancel() {
      cancelled = true;
      clearTimeout(timer);
    },
  };
}

/** One DNS message over UDP to a loopback port; the response, or null after `timeoutMs`. */
export function askOnce(port: number, packet: Buffer, timeoutMs = 1_000): Promise<Buffer | null> {
  const s = createSocket("udp4");
  return new Promise((resolve) => {
    const done = (m: Buffer | null) => {
      timeout.cancel();
      s.close();
      resolve(m);
    };
    const timeout = timeoutAfterIo(timeoutMs, () => done(null));
    s.once("message", (m) => done(m));
    s.send(packet, port, "127.0.0.1");
  });
}
