/**
 * Load sources for the agent. Each sample resolves to a number, or undefined when the source
 * failed (missing file, HTTP error, not a number, timeout): a missing metric, never a crash.
 *
 *   loadavg        1-minute load average / CPU count (a fraction; the report scales it to capacity)
 *   cpu            CPU busy fraction between two samples of /proc/stat
 *   conns:PORT     established TCP connections on a local port (/proc/net/tcp and tcp6)
 *   http:URL       a number, or a JSON field with http:URL#path.to.field
 *   cmd:COMMAND    a command (sh -c) that prints a number
 */

import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { UserError } from "../lib/errors.js";

export class AgentConfigError extends UserError {}

export type LoadSpec =
  | { kind: "loadavg" }
  | { kind: "cpu" }
  | { kind: "conns"; port: number }
  | { kind: "http"; url: string; field: string[] | null }
  | { kind: "cmd"; command: string };

export function parseLoadSource(text: string): LoadSpec {
  if (text === "loadavg" || text === "cpu") return { kind: text };
  const colon = text.indexOf(":");
  const kind = colon < 0 ? text : text.slice(0, colon);
  const arg = colon < 0 ? "" : text.slice(colon + 1);
  if (kind === "conns") {
    if (!/^\d+$/.test(arg) || Number(arg) < 1 || Number(arg) > 65535)
      throw new AgentConfigError(`load source '${text}': conns:PORT needs a port 1-65535`);
    return { kind, port: Number(arg) };
  }
  if (kind === "http") {
    const [url, field] = arg.split("#", 2) as [string, string | undefined];
    try {
      const u = new URL(url);
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    } catch {
      throw new AgentConfigError(`load source '${text}': http:URL needs an http(s) URL`);
    }
    return { kind, url, field: field ? field.split(".") : null };
  }
  if (kind === "cmd") {
    if (arg.trim() === "") throw new AgentConfigError(`load source '${text}': cmd:COMMAND needs a command`);
    return { kind, command: arg };
  }
  throw new AgentConfigError(
    `unknown load source '${text}' (loadavg, cpu, conns:PORT, http:URL[#field], cmd:COMMAND)`,
  );
}

/** Metrics key of a source: its kind (as in the contract's example), or its full text for a second one. */
export function metricName(spec: LoadSpec, taken: Set<string>): string {
  const name = taken.has(spec.kind) ? describe(spec) : spec.kind;
  taken.add(name);
  return name;
}

export function describe(spec: LoadSpec): string {
  switch (spec.kind) {
    case "conns":
      return `conns:${spec.port}`;
    case "http":
      return `http:${spec.url}${spec.field ? `#${spec.field.join(".")}` : ""}`;
    case "cmd":
      return `cmd:${spec.command}`;
    default:
      return spec.kind;
  }
}

/** True for sources that give a fraction (0..1+) that the report scales to capacity. */
export function isFraction(spec: LoadSpec): boolean {
  return spec.kind === "loadavg" || spec.kind === "cpu";
}

function finite(n: number): number | undefined {
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

interface CpuTimes {
  idle: number;
  total: number;
}

async function cpuTimes(): Promise<CpuTimes | undefined> {
  const text = await readFile("/proc/stat", "utf8").catch(() => undefined);
  const line = text?.split("\n", 1)[0];
  if (!line?.startsWith("cpu ")) return undefined;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return { idle: (v[3] ?? 0) + (v[4] ?? 0), total };
}

/** Established connections whose local port is `port`: /proc/net/tcp{,6} state 01. */
export async function establishedConnections(port: number): Promise<number | undefined> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  let count = 0;
  let readAny = false;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(file, "utf8").catch(() => undefined);
    if (text === undefined) continue;
    readAny = true;
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === "01" && cols[1]?.endsWith(`:${hexPort}`)) count++;
    }
  }
  return readAny ? count : undefined;
}

/** The most output a load source may produce: a number, with room to spare. */
const MAX_OUTPUT = 65_536;

async function readCapped(body: ReadableStream<Uint8Array>, max: number): Promise<string | undefined> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return Buffer.concat(chunks).toString("utf8");
      size += value.length;
      if (size > max) return undefined;
      chunks.push(value);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** Kills a process group (the command and everything it started); gone already is fine. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the group has exited
  }
}

export class LoadSampler {
  private lastCpu: CpuTimes | undefined;

  constructor(
    readonly spec: LoadSpec,
    readonly metric: string,
    private readonly timeoutMs: number,
  ) {
    if (spec.kind === "cpu") void cpuTimes().then((t) => (this.lastCpu ??= t));
  }

  async sample(): Promise<number | undefined> {
    const s = this.spec;
    switch (s.kind) {
      case "loadavg":
        return finite(loadavg()[0]! / Math.max(1, cpus().length));
      case "cpu": {
        const now = await cpuTimes();
        const prev = this.lastCpu;
        this.lastCpu = now;
        if (!now || !prev || now.total <= prev.total) return undefined;
        return finite(1 - (now.idle - prev.idle) / (now.total - prev.total));
      }
      case "conns":
        return establishedConnections(s.port);
      case "http":
        return this.fromHttp(s.url, s.field);
      case "cmd":
        return this.fromCommand(s.command);
    }
  }

  /** The signal is a deadline for the whole exchange, body included; the body is capped. */
  private async fromHttp(url: string, field: string[] | null): Promise<number | undefined> {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (!res.ok || !res.body) return undefined;
      const text = await readCapped(res.body, MAX_OUTPUT);
      if (text === undefined) return undefined;
      if (!field) return finite(Number(text.trim()));
      let v: unknown = JSON.parse(text);
      for (const k of field) v = (v as Record<string, unknown> | null)?.[k];
      return typeof v === "number" || typeof v === "string" ? finite(Number(v)) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The command runs in its own process group, and at the deadline the whole group is killed:
   * killing only /bin/sh would leave its children (a hung curl, a sleep) piling up.
   */
  private fromCommand(command: string): Promise<number | undefined> {
    return new Promise((resolve) => {
      const child = spawn("/bin/sh", ["-c", command], {
        detached: true,
        stdio: ["ignore", "pipe", "ignore"],
      });
      let out = "";
      let settled = false;
      const finish = (value: number | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        killGroup(child.pid);
        resolve(value);
      };
      const deadline = setTimeout(() => finish(undefined), this.timeoutMs);
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        if (out.length > MAX_OUTPUT) finish(undefined);
      });
      child.on("error", () => finish(undefined));
      child.on("close", (code) => {
        const text = out.trim();
        finish(code !== 0 || text === "" ? undefined : finite(Number(text)));
      });
    });
  }
}
