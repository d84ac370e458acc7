/** Starts the real `lbdns` CLI (built into dist/) as a child process. */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

export const CLI = join(import.meta.dirname, "../../dist/src/cli/bin.js");

export interface Running {
  proc: ChildProcess;
  port: number;
  /** Admin endpoint base URL, e.g. http://127.0.0.1:41234 (null with --admin off). */
  admin: string | null;
  logs: () => Record<string, unknown>[];
  stderr: () => string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Polls `check` until it is true or `timeoutMs` passes (for waiting on effects, never on timing). */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = "condition",
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export async function startServe(args: string[]): Promise<Running> {
  // Parallel test files must not fight over the default admin port.
  const withAdmin = args.includes("--admin") ? args : [...args, "--admin", "127.0.0.1:0"];
  const proc = spawn(process.execPath, [CLI, "serve", ...withAdmin], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: Record<string, unknown>[] = [];
  let err = "";
  let partial = "";
  proc.stdout!.on("data", (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split("\n");
    partial = parts.pop()!;
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p));
      } catch {
        lines.push({ msg: p });
      }
    }
  });
  proc.stderr!.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => {
    exitCode = c;
  });
  await waitFor(
    () => exitCode !== undefined || lines.some((l) => l["msg"] === "lbdns serving"),
    10_000,
    "lbdns serving",
  );
  if (exitCode !== undefined) throw new Error(`lbdns exited with ${exitCode}: ${err}`);
  const serving = lines.find((l) => l["msg"] === "lbdns serving")!;
  const listen = (serving["listen"] as string[])[0]!;
  return {
    proc,
    port: Number(listen.slice(listen.lastIndexOf(":") + 1)),
    admin: serving["admin"] ? `http://${serving["admin"]}` : null,
    logs: () => lines,
    stderr: () => err,
    stop: async (signal = "SIGTERM") => {
      if (exitCode === undefined) proc.kill(signal);
      return exited;
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI to completion and returns its exit code and output (never throws on exit code). */
export async function runCli(args: string[]): Promise<CliResult> {
  const { execFile } = await import("node:child_process");
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
