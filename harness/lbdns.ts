/** The real `lbdns` CLI (built into dist/) as a child process, for the tests and the bench. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, pinned, waitFor } from "./procs.js";

export interface Running {
  proc: ChildProcess;
  port: number;
  /** Admin endpoint base URL, e.g. http://127.0.0.1:41234 (null with --admin off). */
  admin: string | null;
  /** The admin endpoint's bearer token (null with --no-admin-token or --admin off). */
  token: string | null;
  /** `authorization` header for fetch() to the admin endpoint. */
  auth: () => Record<string, string>;
  logs: () => Record<string, unknown>[];
  stderr: () => string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const LOG_LINES = 20_000;

/**
 * `lbdns serve` with the given arguments, once it logs "lbdns serving" (or fails, with its stderr).
 * `cpus` pins it; `onLine` sees every stdout line. The last LOG_LINES log lines are kept.
 */
export async function startServe(
  args: string[],
  opts: {
    cpus?: string;
    timeoutMs?: number;
    onLine?: (line: string) => void;
    command?: string;
    /** Extra environment variables for the server. */
    env?: Record<string, string>;
    /** A command line the server runs under, e.g. ["prlimit", "--nofile=80"]. */
    wrap?: string[];
  } = {},
): Promise<Running> {
  // Parallel test files must not fight over the default admin port.
  const withAdmin = args.includes("--admin") ? args : [...args, "--admin", "127.0.0.1:0"];
  // `command`: an installed lbdns executable instead of the built CLI run by node.
  const [cmd, argv] = opts.command
    ? [opts.command, ["serve", ...withAdmin]]
    : [process.execPath, [CLI, "serve", ...withAdmin]];
  const [runCmd, runArgs] = pinned(opts.cpus, cmd, argv);
  const wrapped: [string, string[]] = opts.wrap?.length
    ? [opts.wrap[0]!, [...opts.wrap.slice(1), runCmd, ...runArgs]]
    : [runCmd, runArgs];
  const proc = spawn(...wrapped, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...opts.env },
  });
  const lines: Record<string, unknown>[] = [];
  let err = "";
  let partial = "";
  proc.stdout!.on("data", (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split("\n");
    partial = parts.pop()!;
    for (const p of parts) {
      opts.onLine?.(p);
      if (lines.length >= LOG_LINES) lines.shift();
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
    opts.timeoutMs ?? 10_000,
    "lbdns serving",
  );
  if (exitCode !== undefined) throw new Error(`lbdns exited with ${exitCode}: ${err}`);
  const serving = lines.find((l) => l["msg"] === "lbdns serving")!;
  const token = serving["admin"] ? tokenOf(withAdmin) : null;
  const listen = (serving["listen"] as string[])[0]!;
  return {
    proc,
    port: Number(listen.slice(listen.lastIndexOf(":") + 1)),
    admin: serving["admin"] ? `http://${serving["admin"]}` : null,
    token,
    auth: (): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {}),
    logs: () => lines,
    stderr: () => err,
    stop: async (signal = "SIGTERM") => {
      if (exitCode === undefined) proc.kill(signal);
      return exited;
    },
  };
}

/** The token a server started with these arguments uses (see src/lib/token.ts). */
function tokenOf(args: string[]): string | null {
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (args.includes("--no-admin-token")) return null;
  const given = arg("--admin-token") ?? process.env["LBDNS_ADMIN_TOKEN"];
  if (given) return given;
  const file = arg("--admin-token-file") ?? join(arg("--zones") ?? "zones", ".admin-token");
  return readFileSync(file, "utf8").trim();
}

/** `lbdns serve` without the admin endpoint, for the bench and the soak: the process, ready to answer. */
export async function startLbdns(
  args: string[],
  timeoutMs?: number,
  cpus?: string,
  onLine?: (line: string) => void,
): Promise<ChildProcess> {
  const running = await startServe(["--admin", "off", ...args], {
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(cpus === undefined ? {} : { cpus }),
    ...(onLine === undefined ? {} : { onLine }),
  });
  return running.proc;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI to completion and returns its exit code and output (never throws on exit code). */
export async function runCli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
