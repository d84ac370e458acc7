/**
 * `npm run bench`: lbdns side by side with its peers, each started for real on loopback and
 * driven by dnsperf with the same settings, in one run. Prints one table of QPS, mean latency and
 * lost queries, the ratios the performance targets are stated in, and the scale figures.
 *
 *   npm run bench                 # 10 s per case (installs dnsperf, NSD and PowerDNS if missing)
 *   npm run bench -- --duration 3 # shorter
 *   npm run bench -- --smoke      # 1 s per case, small scale runs: checks the bench itself works
 *
 * Placement on a 2-core machine: every server is pinned to CPU 0 and dnsperf to CPU 1 (taskset),
 * so the client never steals the server's core. The --workers case is the exception: there the
 * server may use both cores and dnsperf floats, which is said in the output.
 *
 * Results are also written to bench/results/<date>.json so runs can be compared.
 */
import { type ChildProcess, execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { measureAgentCost } from "./agent-cost.js";
import { BENCH_ZONE, ensureBenchTools, startNsd, startPdns } from "./peers.js";
import {
  CLI,
  canPin,
  cpuSeconds,
  freePort,
  kill,
  pinned,
  ROOT,
  startChild,
  startLbdns,
  startRedis,
} from "./procs.js";
import { FLIP_POOL_YAML, measurePropagation } from "./propagation.js";
import { seedReports, startFlood, viewScaleZones } from "./view-scale.js";
import { measureZoneScale } from "./zone-scale.js";

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const durationArg = args.indexOf("--duration");
const duration = smoke ? 1 : durationArg >= 0 ? Number(args[durationArg + 1]) : 10;
if (!Number.isFinite(duration) || duration <= 0) {
  console.error("--duration needs a positive number of seconds");
  process.exit(2);
}
const SERVER_CPU = "0";
const CLIENT_CPU = "1";
const LOAD = { clients: 8, outstanding: 64 };
const ROUNDS = 5;

interface Perf {
  qps: number;
  meanMs: number;
  lost: number;
  sent: number;
}

interface CaseResult extends Perf {
  name: string;
  server: string;
  transport: "udp" | "tcp";
}

interface PerfOptions {
  transport?: "udp" | "tcp";
  clients?: number;
  outstanding?: number;
  maxQps?: number;
  seconds?: number;
  /** Float over all CPUs instead of being pinned to the client CPU. */
  unpinned?: boolean;
}

function runDnsperf(port: number, queries: string, o: PerfOptions, verbose: boolean): string {
  const dnsArgs = [
    "-s",
    "127.0.0.1",
    "-p",
    String(port),
    "-d",
    queries,
    "-l",
    String(o.seconds ?? duration),
    "-c",
    String(o.clients ?? LOAD.clients),
    "-T",
    "1",
    "-q",
    String(o.outstanding ?? LOAD.outstanding),
    ...(o.maxQps ? ["-Q", String(Math.round(o.maxQps))] : []),
    ...(o.transport === "tcp" ? ["-m", "tcp"] : []),
    ...(verbose ? ["-v"] : []),
  ];
  return execFileSync(...pinned(o.unpinned ? undefined : CLIENT_CPU, "dnsperf", dnsArgs), {
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
  });
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

function dnsperf(port: number, queries: string, o: PerfOptions = {}): Perf {
  return summary(runDnsperf(port, queries, o, false));
}

/**
 * Latency percentiles at a fixed offered rate: one dnsperf client at `qps`, each response's
 * latency from its verbose output (lines "> NOERROR name type seconds").
 */
function latencyAt(port: number, queries: string, qps: number): { p50: number; p99: number; lost: number } {
  const out = runDnsperf(port, queries, { clients: 1, outstanding: 100, maxQps: qps }, true);
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

function benchZones(work: string): string {
  const dir = join(work, "zones");
  mkdirSync(dir);
  copyFileSync(BENCH_ZONE, join(dir, "example.com.zone"));
  writeFileSync(
    join(dir, "pools.yaml"),
    [
      "pools:",
      "  bench:",
      "    names: [pool.example.com.]",
      "    stale-after: 10m",
      "    members:",
      ...BENCH_MEMBERS.map(
        ([id, address, capacity]) => `      - {id: ${id}, address: ${address}, capacity: ${capacity}}`,
      ),
      ...FLIP_POOL_YAML,
      "  mail:",
      "    type: mx",
      "    names: [example.com.]",
      "    stale-after: 10m",
      "    members:",
      "      - {id: mx-a, host: mx1.example.com., preference: 10}",
      "      - {id: mx-b, host: mx2.example.com., preference: 10}",
      "    relays:",
      "      - {host: relay.example.net., preference: 50}",
      "",
    ].join("\n"),
  );
  return dir;
}

/** The 8-member pool: id, address, capacity; loads 0, 10, ... 70 are reported. */
const BENCH_MEMBERS: [string, string, number][] = Array.from({ length: 8 }, (_, i) => [
  `bench-${i + 1}`,
  `192.0.2.${101 + i}`,
  100 * (1 + (i % 3)),
]);

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "n/a";

async function main(): Promise<void> {
  ensureBenchTools();
  const work = mkdtempSync(join(tmpdir(), "lbdns-bench-"));
  const file = (name: string, lines: string[]) => {
    const path = join(work, name);
    writeFileSync(path, `${lines.join("\n")}\n`);
    return path;
  };
  const q = {
    static: file("static.txt", ["mx1.example.com A"]),
    nxdomain: file(
      "nxdomain.txt",
      Array.from({ length: 1000 }, (_, i) => `nx${i}.example.com A`),
    ),
    mx: file("mx.txt", ["example.com MX"]),
    referral: file("referral.txt", ["host.sub.example.com A"]),
    wildcard: file(
      "wildcard.txt",
      Array.from({ length: 1000 }, (_, i) => `h${i}.apps.example.com A`),
    ),
    pool: file("pool.txt", ["pool.example.com A"]),
  };
  const zonesDir = benchZones(work);
  const redisPort = await freePort();
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const c of children.splice(0)) await kill(c, "SIGTERM");
  };
  const results: CaseResult[] = [];
  const report = (member: string, load: number, extra: string[] = []) =>
    execFileSync(process.execPath, [
      CLI,
      "report",
      "--redis",
      redisUrl,
      "--member",
      member,
      "--load",
      String(load),
      "--ttl",
      "10m",
      ...extra,
    ]);
  const out: Record<string, unknown> = {};
  try {
    children.push(await startRedis(redisPort, [], CLIENT_CPU));
    // 1. Every server up at once on the server CPU; only the one being measured is busy.
    console.error("starting the servers...");
    const rawPort = await freePort();
    children.push(
      await startChild(
        [join(ROOT, "dist/bench/raw-responder.js"), String(rawPort)],
        "raw serving",
        10_000,
        SERVER_CPU,
      ),
    );
    const nsdPort = await freePort();
    children.push((await startNsd(work, nsdPort, BENCH_ZONE, SERVER_CPU)).proc);
    const pdnsPort = await freePort();
    const weights = BENCH_MEMBERS.map(([, address, capacity], i): [number, string] => [
      Math.round(capacity * (1 - i / 10)),
      address,
    ]);
    children.push((await startPdns(work, pdnsPort, BENCH_ZONE, weights, SERVER_CPU)).proc);
    const lbdnsPort = await freePort();
    const lbdns = await startLbdns(
      ["--zones", zonesDir, "--listen", `127.0.0.1:${lbdnsPort}`, "--redis", redisUrl],
      undefined,
      SERVER_CPU,
    );
    children.push(lbdns);
    BENCH_MEMBERS.forEach(([id], i) => {
      report(id, 10 * i);
    });
    report("mx-a", 20);
    report("mx-b", 40);
    const cases: [string, string, number, string, PerfOptions?][] = [
      ["raw Node dgram responder", "raw", rawPort, q.static],
      ["NSD static A", "nsd", nsdPort, q.static],
      ["PowerDNS static A (no cache)", "pdns", pdnsPort, q.static],
      ["PowerDNS LUA pickwrandom (no cache)", "pdns", pdnsPort, q.pool],
      ["lbdns static A", "lbdns", lbdnsPort, q.static],
      ["lbdns pool A (headroom, 8 live)", "lbdns", lbdnsPort, q.pool],
      ["lbdns MX pool + relays + glue", "lbdns", lbdnsPort, q.mx],
      ["lbdns NXDOMAIN (1000 names)", "lbdns", lbdnsPort, q.nxdomain],
      ["lbdns wildcard (1000 names)", "lbdns", lbdnsPort, q.wildcard],
      ["lbdns referral + glue", "lbdns", lbdnsPort, q.referral],
      ["lbdns static A over TCP", "lbdns", lbdnsPort, q.static, { transport: "tcp" }],
    ];
    // This machine's speed drifts from second to second, so the cases take turns in ROUNDS short
    // runs each and every case reports its median round: drift hits all of them alike.
    const rounds = smoke ? 1 : ROUNDS;
    const seconds = Math.max(1, Math.round(duration / rounds));
    const runs = cases.map((): Perf[] => []);
    for (let r = 0; r < rounds; r++) {
      console.error(`round ${r + 1} of ${rounds}...`);
      cases.forEach(([, , port, queries, o], i) => {
        runs[i]!.push(dnsperf(port, queries, { ...o, seconds }));
      });
    }
    cases.forEach(([name, server, , , o], i) => {
      const sorted = [...runs[i]!].sort((a, b) => a.qps - b.qps);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      const lost = runs[i]!.reduce((n, p) => n + p.lost, 0);
      const sent = runs[i]!.reduce((n, p) => n + p.sent, 0);
      results.push({ name, server, transport: o?.transport ?? "udp", ...median, lost, sent });
    });
    const pool = results.find((r) => r.name.startsWith("lbdns pool"))!;
    const latency = latencyAt(lbdnsPort, q.pool, 0.8 * pool.qps);
    out["latencyAt80"] = { offeredQps: Math.round(0.8 * pool.qps), ...latency };
    const propagation = await measurePropagation(redisPort, lbdnsPort, smoke ? 10 : 100);
    out["propagationMs"] = { median: propagation[0], p99: propagation[1] };
    // Only Redis stays up for what follows.
    for (const c of children.splice(1)) await kill(c, "SIGTERM");

    // 3. --workers: 1 and 2, both free to use every core, dnsperf floating too.
    console.error("workers...");
    const scaling: Record<string, number> = {};
    for (const workers of [1, 2]) {
      const port = await freePort();
      const proc = await startLbdns([
        "--zones",
        zonesDir,
        "--listen",
        `127.0.0.1:${port}`,
        "--redis",
        redisUrl,
        "--workers",
        String(workers),
      ]);
      scaling[String(workers)] = dnsperf(port, q.pool, { unpinned: true }).qps;
      console.error(`  --workers ${workers}: ${fmt(scaling[String(workers)]!)} QPS`);
      await kill(proc, "SIGTERM");
    }
    out["workers"] = scaling;

    // 4. Health view at scale: 10,000 members in 1,000 pools, 5,000 reports/s.
    console.error("health view at scale...");
    const [pools, perPool, rate] = smoke ? [100, 10, 500] : [1000, 10, 5000];
    const view = viewScaleZones(work, pools, perPool);
    await seedReports(redisPort, pools, perPool);
    const viewPort = await freePort();
    const viewServer = await startLbdns(
      ["--zones", view.zonesDir, "--listen", `127.0.0.1:${viewPort}`, "--redis", redisUrl],
      60_000,
      SERVER_CPU,
    );
    children.push(viewServer);
    // Idle and flooded runs take turns, medians reported, as for the cases above. The server's
    // CPU time is read around each run too: the flood and Redis share the client CPU with
    // dnsperf, so QPS per server CPU-second shows the server's own cost apart from that.
    const measured = async (flooded: boolean) => {
      const flood = flooded ? startFlood(redisPort, rate, pools, perPool, duration + 60, CLIENT_CPU) : null;
      if (flood) {
        children.push(flood.proc);
        await new Promise((r) => setTimeout(r, 500));
      }
      const cpu0 = cpuSeconds(viewServer.pid!);
      const t0 = performance.now();
      const perf = dnsperf(viewPort, view.queryFile);
      const cpu = (cpuSeconds(viewServer.pid!) - cpu0) / ((performance.now() - t0) / 1000);
      let reportRate = 0;
      if (flood) {
        flood.proc.kill("SIGTERM");
        reportRate = (await flood.done).rate;
      }
      return { qps: perf.qps, perCpu: perf.qps / cpu, reportRate };
    };
    const idleRuns: { qps: number; perCpu: number }[] = [];
    const floodRuns: { qps: number; perCpu: number; reportRate: number }[] = [];
    for (let r = 0; r < (smoke ? 1 : 3); r++) {
      idleRuns.push(await measured(false));
      floodRuns.push(await measured(true));
    }
    const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const lagChanges = smoke ? 10 : 100;
    const flood = startFlood(redisPort, rate, pools, perPool, duration + 60, CLIENT_CPU);
    children.push(flood.proc);
    await new Promise((r) => setTimeout(r, 500));
    const lag = await measurePropagation(redisPort, viewPort, lagChanges);
    flood.proc.kill("SIGTERM");
    await flood.done;
    out["viewScale"] = {
      members: pools * perPool,
      pools,
      reportsPerSecond: mid(floodRuns.map((x) => x.reportRate)),
      idleQps: mid(idleRuns.map((x) => x.qps)),
      floodQps: mid(floodRuns.map((x) => x.qps)),
      idleQpsPerCpuSecond: mid(idleRuns.map((x) => x.perCpu)),
      floodQpsPerCpuSecond: mid(floodRuns.map((x) => x.perCpu)),
      lagMs: { median: lag[0], p99: lag[1] },
    };
    await stop();

    // 5. Zone scale, and the agent's own cost.
    console.error("zone scale...");
    out["zoneScale"] = await measureZoneScale(work, smoke ? [10_000] : [100_000, 1_000_000], 10);
    children.push(await startRedis(redisPort));
    const agentCost: Record<string, number> = {};
    for (const withConns of [false, true]) {
      const label = withConns ? "loadavg + cpu + conns:PORT + tcp check" : "loadavg + cpu + tcp check";
      const c = await measureAgentCost(CLI, redisPort, smoke ? 1 : 5, withConns);
      agentCost[label] = c.reports > 0 ? c.cpuMs / c.reports : Number.NaN;
    }
    out["agentCpuMsPerReport"] = agentCost;
  } finally {
    await stop();
  }
  print(results, out);
  if (!smoke) {
    const dir = join(ROOT, "bench/results");
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    writeFileSync(
      path,
      `${JSON.stringify({ date: new Date().toISOString(), duration, results, ...out }, null, 2)}\n`,
    );
    console.log(`results written to ${path}`);
  }
}

function print(results: CaseResult[], out: Record<string, unknown>): void {
  const qps = (prefix: string) => results.find((r) => r.name.startsWith(prefix))?.qps ?? Number.NaN;
  const raw = qps("raw");
  const placement = canPin() ? "servers pinned to CPU 0, dnsperf to CPU 1" : "unpinned (no taskset)";
  console.log(
    `\nlbdns bench: dnsperf ${LOAD.clients} clients, ${LOAD.outstanding} outstanding, ${duration} s per case (median of ${smoke ? 1 : ROUNDS} interleaved rounds), loopback, ${placement}\n`,
  );
  console.log(
    `${"case".padEnd(38)} ${"QPS".padStart(9)} ${"mean ms".padStart(8)} ${"lost".padStart(7)} ${"x raw".padStart(6)}`,
  );
  for (const r of results) {
    console.log(
      `${r.name.padEnd(38)} ${fmt(r.qps).padStart(9)} ${fmt(r.meanMs, 3).padStart(8)} ${String(r.lost).padStart(7)} ${fmt(r.qps / raw, 2).padStart(6)}`,
    );
  }
  const target = (label: string, value: number, op: ">=" | "<=", goal: number, unit = "x") => {
    const met = op === ">=" ? value >= goal : value <= goal;
    console.log(
      `${label.padEnd(52)} ${fmt(value, 2).padStart(8)}${unit}  target ${op} ${goal}${unit}  ${met ? "met" : "NOT met"}`,
    );
  };
  console.log("\ntargets (one lbdns worker unless said):");
  const pool = qps("lbdns pool");
  const stat = qps("lbdns static A");
  target("pool A / raw Node dgram", pool / raw, ">=", 0.6);
  target("pool A / PowerDNS LUA pickwrandom", pool / qps("PowerDNS LUA"), ">=", 25);
  target("static A / raw Node dgram", stat / raw, ">=", 0.7);
  target("static A / NSD (one server process)", stat / qps("NSD"), ">=", 0.35);
  const w = out["workers"] as Record<string, number> | undefined;
  if (w) target("--workers 2 / --workers 1 (pool A; all unpinned)", w["2"]! / w["1"]!, ">=", 1.6);
  const lat = out["latencyAt80"] as { offeredQps: number; p50: number; p99: number } | undefined;
  if (lat) target(`p99 at 80% of max (${fmt(lat.offeredQps)} QPS offered, pool A)`, lat.p99, "<=", 2, " ms");
  const zs = out["zoneScale"] as { records: number; rssMb: number; loadMs: number }[] | undefined;
  for (const z of zs ?? []) {
    if (z.records <= 100_000) target(`RSS serving ${fmt(z.records)} records`, z.rssMb, "<=", 150, " MB");
    console.log(
      `${`load time, ${fmt(z.records)} records`.padEnd(52)} ${fmt(z.loadMs / 1000, 2).padStart(8)} s`,
    );
  }
  const vs = out["viewScale"] as
    | {
        members: number;
        pools: number;
        reportsPerSecond: number;
        idleQps: number;
        floodQps: number;
        idleQpsPerCpuSecond: number;
        floodQpsPerCpuSecond: number;
        lagMs: { median: number; p99: number };
      }
    | undefined;
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
  const prop = out["propagationMs"] as { median: number; p99: number } | undefined;
  if (prop) target("report-to-answer lag median (idle view)", prop.median, "<=", 100, " ms");
  for (const [label, ms] of Object.entries((out["agentCpuMsPerReport"] as Record<string, number>) ?? {}))
    console.log(`agent CPU per report (${label}): ${fmt(ms, 2)} ms`);
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exit(1);
});
