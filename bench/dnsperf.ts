/** dnsperf runs: throughput with a fixed number of clients, and latency percentiles at a fixed rate. */
import { execFileSync } from "node:child_process";
import { pinned } from "../harness/procs.js";

/** The CPU dnsperf runs on, apart from the servers' (CPU 0). */
export const CLIENT_CPU = "1";
export const SERVER_CPU = "0";
export const LOAD = { clients: 8, outstanding: 64 };

export interface Perf {
  qps: number;
  meanMs: number;
  lost: number;
  sent: number;
}

export interface PerfOptions {
  transport?: "udp" | "tcp";
  clients?: number;
  outstanding?: number;
  maxQps?: number;
  seconds?: number;
  /** Float over all CPUs instead of being pinned to the client CPU. */
  unpinned?: boolean;
  /** Set the DNSSEC OK bit (with EDNS): the signed answers. */
  dnssecOk?: boolean;
  /** Send each query of the file this many times, then stop (instead of running for `seconds`). */
  passes?: number;
}

function runDnsperf(port: number, queries: string, o: PerfOptions, verbose: boolean): string {
  const dnsArgs = [
    "-s",
    "127.0.0.1",
    "-p",
    String(port),
    "-d",
    queries,
    ...(o.passes ? ["-n", String(o.passes)] : ["-l", String(o.seconds ?? 10)]),
    "-c",
    String(o.clients ?? LOAD.clients),
    "-T",
    "1",
    "-q",
    String(o.outstanding ?? LOAD.outstanding),
    ...(o.maxQps ? ["-Q", String(Math.round(o.maxQps))] : []),
    ...(o.transport === "tcp" ? ["-m", "tcp"] : []),
    ...(o.dnssecOk ? ["-D"] : []),
    ...(verbose ? ["-v"] : []),
  ];
  const run = () =>
    execFileSync(...pinned(o.unpinned ? undefined : CLIENT_CPU, "dnsperf", dnsArgs), {
      encoding: "utf8",
      maxBuffer: 512 * 1024 * 1024,
    });
  // dnsperf 2.10 (Debian 12) sometimes aborts in TCP mode on an assertion of its own
  // (DNS-OARC/dnsperf#208, fixed upstream later): that run measured nothing, so run it again.
  for (let attempt = 1; ; attempt++) {
    try {
      return run();
    } catch (e) {
      const err = e as Error & { stderr?: string };
      if (attempt >= 3 || !String(err.stderr ?? err.message).includes("perf_net_sockeq")) throw e;
      console.error("dnsperf aborted on its own TCP assertion (dnsperf#208); running it again");
    }
  }
}

function summary(out: string): Perf {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    meanMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    lost: num(/Queries lost:\s+(\d+)/),
    sent: num(/Queries sent:\s+(\d+)/),
  };
}

export function dnsperf(port: number, queries: string, o: PerfOptions = {}): Perf {
  return summary(runDnsperf(port, queries, o, false));
}

/**
 * Latency percentiles at a fixed offered rate: one dnsperf client at `qps`, each response's
 * latency from its verbose output (lines "> NOERROR name type seconds").
 */
export function latencyAt(
  port: number,
  queries: string,
  qps: number,
  seconds: number,
): { p50: number; p99: number; lost: number } {
  const out = runDnsperf(port, queries, { clients: 1, outstanding: 100, maxQps: qps, seconds }, true);
  const samples: number[] = [];
  for (const line of out.split("\n")) {
    if (!line.startsWith("> ")) continue;
    const v = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (Number.isFinite(v)) samples.push(v * 1000);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) =>
    samples[Math.min(samples.length - 1, Math.floor(samples.length * q))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), lost: summary(out).lost };
}

/** The median of a list (the upper one of two). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}
