/**
 * The agent's CPU cost per report: run a real `lbdns agent` (load sources loadavg and cpu, with
 * and without conns:PORT, plus a TCP check) at a short interval, count its reports on the pub/sub channel, and
 * read its CPU time from /proc/<pid>/stat after a warm-up, so start-up is not counted.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { Redis } from "ioredis";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function cpuMs(pid: number): number {
  // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

export async function measureAgentCost(
  cli: string,
  redisPort: number,
  seconds: number,
  withConns: boolean,
): Promise<{ reports: number; cpuMs: number }> {
  const service = createServer((s) => s.end());
  await new Promise<void>((r) => service.listen(0, "127.0.0.1", () => r()));
  const port = (service.address() as { port: number }).port;
  const sub = new Redis({ port: redisPort });
  let reports = 0;
  await sub.subscribe("lbdns:health");
  sub.on("message", () => reports++);
  const loads = ["--load", "loadavg", "--load", "cpu", ...(withConns ? ["--load", `conns:${port}`] : [])];
  const args = [
    "agent",
    "--member",
    "cost-1",
    "--redis",
    `redis://127.0.0.1:${redisPort}`,
    "--interval",
    "20ms",
  ];
  const agent = spawn(process.execPath, [cli, ...args, ...loads, "--check", `tcp:127.0.0.1:${port}`], {
    stdio: "ignore",
  });
  try {
    await new Promise((r) => setTimeout(r, 1_000));
    const cpu0 = cpuMs(agent.pid!);
    const reports0 = reports;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    return { reports: reports - reports0, cpuMs: cpuMs(agent.pid!) - cpu0 };
  } finally {
    agent.kill("SIGKILL");
    sub.disconnect();
    service.close();
  }
}
