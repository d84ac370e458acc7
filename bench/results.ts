/** What a bench run measures (typed), and how it is printed: one table, then every target met or NOT met. */
import { canPin } from "../harness/procs.js";
import { LOAD, type Perf } from "./dnsperf.js";
import type { SignedScale, ZoneScale } from "./zone-scale.js";

export interface CaseResult extends Perf {
  id: string;
  name: string;
  server: string;
  transport: "udp" | "tcp";
}

export interface ViewScale {
  members: number;
  pools: number;
  reportsPerSecond: number;
  idleQps: number;
  floodQps: number;
  idleQpsPerCpuSecond: number;
  floodQpsPerCpuSecond: number;
  lagMs: { median: number; p99: number };
}

export interface BenchResults {
  date: string;
  duration: number;
  rounds: number;
  results: CaseResult[];
  latencyAt80?: { offeredQps: number; p50: number; p99: number; lost: number };
  propagationMs?: { median: number; p99: number };
  workers?: Record<string, number>;
  viewScale?: ViewScale;
  zoneScale?: ZoneScale[];
  agentCpuMsPerReport?: Record<string, number>;
  /** Signatures per second of the raw signer, by algorithm (no cache hits). */
  signerRate?: Record<string, number>;
  signedScale?: SignedScale;
}

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "n/a";

export function print(r: BenchResults): void {
  const qps = (id: string) => r.results.find((c) => c.id === id)?.qps ?? Number.NaN;
  const raw = qps("raw");
  const placement = canPin() ? "servers pinned to CPU 0, dnsperf to CPU 1" : "unpinned (no taskset)";
  console.log(
    `\nlbdns bench: dnsperf ${LOAD.clients} clients, ${LOAD.outstanding} outstanding, ${r.duration} s per case (median of ${r.rounds} interleaved rounds), loopback, ${placement}\n`,
  );
  console.log(
    `${"case".padEnd(38)} ${"QPS".padStart(9)} ${"mean ms".padStart(8)} ${"lost".padStart(7)} ${"x raw".padStart(6)}`,
  );
  for (const c of r.results) {
    console.log(
      `${c.name.padEnd(38)} ${fmt(c.qps).padStart(9)} ${fmt(c.meanMs, 3).padStart(8)} ${String(c.lost).padStart(7)} ${fmt(c.qps / raw, 2).padStart(6)}`,
    );
  }
  const target = (label: string, value: number, op: ">=" | "<=", goal: number, unit = "x") => {
    const met = op === ">=" ? value >= goal : value <= goal;
    console.log(
      `${label.padEnd(52)} ${fmt(value, 2).padStart(8)}${unit}  target ${op} ${goal}${unit}  ${met ? "met" : "NOT met"}`,
    );
  };
  console.log("\ntargets (one lbdns worker unless said):");
  const pool = qps("pool");
  const stat = qps("static");
  target("pool A / raw Node dgram", pool / raw, ">=", 0.6);
  target("pool A / PowerDNS LUA pickwrandom", pool / qps("pdns-lua"), ">=", 25);
  target("static A / raw Node dgram", stat / raw, ">=", 0.7);
  target("static A / NSD (one server process)", stat / qps("nsd-static"), ">=", 0.35);
  target("signed static A (DO=1) / unsigned static A", qps("signed-static") / stat, ">=", 0.8);
  target("signed pool A (DO=1) / unsigned pool A", qps("signed-pool") / pool, ">=", 0.6);
  target(
    "signed pool A / PowerDNS LUA live-signed (DO=1)",
    qps("signed-pool") / qps("pdns-lua-signed"),
    ">=",
    25,
  );
  console.log(
    `${"signed NXDOMAIN (1000 names) / unsigned NXDOMAIN".padEnd(52)} ${fmt(qps("signed-nxdomain") / qps("nxdomain"), 2).padStart(8)}x`,
  );
  for (const [alg, rate] of Object.entries(r.signerRate ?? {}))
    console.log(
      `${`raw signer, ${alg}`.padEnd(52)} ${fmt(rate).padStart(8)} signatures/s (the ceiling for new answers)`,
    );
  const ss = r.signedScale;
  if (ss) {
    console.log(
      `${`RSS serving ${fmt(ss.records)} records, every name signed`.padEnd(52)} ${fmt(ss.rssMb).padStart(8)} MB  (${fmt(ss.askedRssMb)} MB with every name asked unsigned)`,
    );
    console.log(
      `${"  first DO=1 pass over every name (signing it)".padEnd(52)} ${fmt(ss.firstPassS, 1).padStart(8)} s`,
    );
  }
  const w = r.workers;
  if (w) target("--workers 2 / --workers 1 (pool A; all unpinned)", w["2"]! / w["1"]!, ">=", 1.6);
  const lat = r.latencyAt80;
  if (lat) target(`p99 at 80% of max (${fmt(lat.offeredQps)} QPS offered, pool A)`, lat.p99, "<=", 2, " ms");
  for (const z of r.zoneScale ?? []) {
    if (z.records <= 100_000) target(`RSS serving ${fmt(z.records)} records`, z.rssMb, "<=", 150, " MB");
    console.log(
      `${`load time, ${fmt(z.records)} records`.padEnd(52)} ${fmt(z.loadMs / 1000, 2).padStart(8)} s`,
    );
  }
  const vs = r.viewScale;
  if (vs) {
    console.log(
      `health view: ${fmt(vs.members)} members in ${fmt(vs.pools)} pools, ${fmt(vs.reportsPerSecond)} reports/s: ${fmt(vs.floodQps)} QPS vs ${fmt(vs.idleQps)} idle`,
    );
    target("  QPS under the report flood / idle", vs.floodQps / vs.idleQps, ">=", 0.9);
    console.log(
      `${"  the same per server CPU-second (flood shares dnsperf's CPU)".padEnd(52)} ${fmt(vs.floodQpsPerCpuSecond / vs.idleQpsPerCpuSecond, 2).padStart(8)}x`,
    );
    target("  report-to-answer lag p99 under the flood", vs.lagMs.p99, "<=", 100, " ms");
  }
  if (r.propagationMs)
    target("report-to-answer lag median (idle view)", r.propagationMs.median, "<=", 100, " ms");
  for (const [label, ms] of Object.entries(r.agentCpuMsPerReport ?? {}))
    console.log(`agent CPU per report (${label}): ${fmt(ms, 2)} ms`);
}
