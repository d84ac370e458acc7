/**
 * `npm run bench`: lbdns side by side with its peers, each started for real on loopback and
 * driven by dnsperf with the same settings, in one run. Prints one table of QPS, mean latency and
 * lost queries, the ratios the performance targets are stated in, and the scale figures.
 *
 *   npm run bench                 # 10 s per case (installs dnsperf, NSD and PowerDNS if missing)
 *   npm run bench -- --duration 3 # shorter
 *   npm run bench -- --smoke      # 1 s per case, small scale runs: checks the bench itself works
 *   npm run bench:micro           # per-stage micro-benchmarks (decode, lookup, pool, encode)
 *
 * Placement on a 2-core machine: every server is pinned to CPU 0 and dnsperf to CPU 1 (taskset),
 * so the client never steals the server's core. The --workers case is the exception: there the
 * server may use both cores and dnsperf floats, which is said in the output.
 *
 * Phases: the peer cases (cases.ts) with latency and report propagation, --workers scaling, the
 * health view at scale, zone scale, and the agent's own cost. Results are also written to
 * bench/results/<date>.json so runs can be compared.
 */
import { type ChildProcess, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startLbdns } from "../harness/lbdns.js";
import { CLI, cpuSeconds, freePort, kill, ROOT, startChild } from "../harness/procs.js";
import { startRedis } from "../harness/redis.js";
import { measureAgentCost } from "./agent-cost.js";
import {
  BENCH_MEMBERS,
  benchZones,
  CASES,
  pdnsWeights,
  type QueryKind,
  queryFiles,
  type Server,
} from "./cases.js";
import { CLIENT_CPU, dnsperf, latencyAt, median, type Perf, SERVER_CPU } from "./dnsperf.js";
import { BENCH_ZONE, ensureBenchTools, startNsd, startPdns } from "./peers.js";
import { measurePropagation } from "./propagation.js";
import { type BenchResults, type CaseResult, fmt, print, type ViewScale } from "./results.js";
import { signerRate } from "./signer-rate.js";
import { seedReports, startFlood, viewScaleZones } from "./view-scale.js";
import { measureSignedScale, measureZoneScale } from "./zone-scale.js";

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const durationArg = args.indexOf("--duration");
const duration = smoke ? 1 : durationArg >= 0 ? Number(args[durationArg + 1]) : 10;
if (!Number.isFinite(duration) || duration <= 0) {
  console.error("--duration needs a positive number of seconds");
  process.exit(2);
}
const ROUNDS = smoke ? 1 : 5;

/** What every phase shares: the work directory, the query files, Redis, and the children to stop. */
interface Run {
  work: string;
  queries: Record<QueryKind, string>;
  zonesDir: string;
  redisPort: number;
  redisUrl: string;
  children: ChildProcess[];
}

function report(run: Run, member: string, load: number): void {
  execFileSync(process.execPath, [
    CLI,
    "report",
    "--redis",
    run.redisUrl,
    "--member",
    member,
    "--load",
    String(load),
    "--ttl",
    "10m",
  ]);
}

/** Every server up at once on the server CPU; only the one being measured is busy. */
async function startServers(run: Run): Promise<Record<Server, number>> {
  console.error("starting the servers...");
  const raw = await freePort();
  run.children.push(
    await startChild(
      [join(ROOT, "dist/bench/raw-responder.js"), String(raw)],
      "raw serving",
      10_000,
      SERVER_CPU,
    ),
  );
  const nsd = await freePort();
  run.children.push((await startNsd(run.work, nsd, BENCH_ZONE, SERVER_CPU)).proc);
  const pdns = await freePort();
  run.children.push((await startPdns(run.work, pdns, BENCH_ZONE, pdnsWeights(), SERVER_CPU)).proc);
  const lbdns = await freePort();
  run.children.push(
    await startLbdns(
      ["--zones", run.zonesDir, "--listen", `127.0.0.1:${lbdns}`, "--redis", run.redisUrl],
      undefined,
      SERVER_CPU,
    ),
  );
  BENCH_MEMBERS.forEach(([id], i) => {
    report(run, id, 10 * i);
  });
  report(run, "mx-a", 20);
  report(run, "mx-b", 40);
  return { raw, nsd, pdns, lbdns };
}

/**
 * The cases take turns in ROUNDS short runs each and every case reports its median round: this
 * machine's speed drifts from second to second, and drift then hits all of them alike.
 */
function throughput(run: Run, ports: Record<Server, number>): CaseResult[] {
  const seconds = Math.max(1, Math.round(duration / ROUNDS));
  const runs = CASES.map((): Perf[] => []);
  for (let r = 0; r < ROUNDS; r++) {
    console.error(`round ${r + 1} of ${ROUNDS}...`);
    CASES.forEach((c, i) => {
      runs[i]!.push(dnsperf(ports[c.server], run.queries[c.queries], { ...c.options, seconds }));
    });
  }
  return CASES.map((c, i) => {
    const sorted = [...runs[i]!].sort((a, b) => a.qps - b.qps);
    const mid = sorted[Math.floor(sorted.length / 2)]!;
    const lost = runs[i]!.reduce((n, p) => n + p.lost, 0);
    const sent = runs[i]!.reduce((n, p) => n + p.sent, 0);
    return {
      id: c.id,
      name: c.name,
      server: c.server,
      transport: c.options?.transport ?? "udp",
      ...mid,
      lost,
      sent,
    };
  });
}

/** --workers 1 and 2, both free to use every core, dnsperf floating too. */
async function workerScaling(run: Run): Promise<Record<string, number>> {
  console.error("workers...");
  const scaling: Record<string, number> = {};
  for (const workers of [1, 2]) {
    const port = await freePort();
    const proc = await startLbdns([
      "--zones",
      run.zonesDir,
      "--listen",
      `127.0.0.1:${port}`,
      "--redis",
      run.redisUrl,
      "--workers",
      String(workers),
    ]);
    scaling[String(workers)] = dnsperf(port, run.queries.pool, { unpinned: true, seconds: duration }).qps;
    console.error(`  --workers ${workers}: ${fmt(scaling[String(workers)]!)} QPS`);
    await kill(proc, "SIGTERM");
  }
  return scaling;
}

/**
 * The health view at scale: 10,000 members in 1,000 pools, 5,000 reports/s. Idle and flooded runs
 * take turns, medians reported. The server's CPU time is read around each run too: the flood and
 * Redis share the client CPU with dnsperf, so QPS per server CPU-second shows the server's own
 * cost apart from that.
 */
async function viewScale(run: Run): Promise<ViewScale> {
  console.error("health view at scale...");
  const [pools, perPool, rate] = smoke ? [100, 10, 500] : [1000, 10, 5000];
  const view = viewScaleZones(run.work, pools, perPool);
  await seedReports(run.redisPort, pools, perPool);
  const port = await freePort();
  const server = await startLbdns(
    ["--zones", view.zonesDir, "--listen", `127.0.0.1:${port}`, "--redis", run.redisUrl],
    60_000,
    SERVER_CPU,
  );
  run.children.push(server);
  const measured = async (flooded: boolean) => {
    const flood = flooded ? startFlood(run.redisPort, rate, pools, perPool, duration + 60, CLIENT_CPU) : null;
    if (flood) {
      run.children.push(flood.proc);
      await new Promise((r) => setTimeout(r, 500));
    }
    const cpu0 = cpuSeconds(server.pid!);
    const t0 = performance.now();
    const perf = dnsperf(port, view.queryFile, { seconds: duration });
    const cpu = (cpuSeconds(server.pid!) - cpu0) / ((performance.now() - t0) / 1000);
    let reportRate = 0;
    if (flood) {
      flood.proc.kill("SIGTERM");
      reportRate = (await flood.done).rate;
    }
    return { qps: perf.qps, perCpu: perf.qps / cpu, reportRate };
  };
  const idle: { qps: number; perCpu: number }[] = [];
  const flooded: { qps: number; perCpu: number; reportRate: number }[] = [];
  for (let r = 0; r < (smoke ? 1 : 3); r++) {
    idle.push(await measured(false));
    flooded.push(await measured(true));
  }
  const flood = startFlood(run.redisPort, rate, pools, perPool, duration + 60, CLIENT_CPU);
  run.children.push(flood.proc);
  await new Promise((r) => setTimeout(r, 500));
  const lag = await measurePropagation(run.redisPort, port, smoke ? 10 : 100);
  flood.proc.kill("SIGTERM");
  await flood.done;
  return {
    members: pools * perPool,
    pools,
    reportsPerSecond: median(flooded.map((x) => x.reportRate)),
    idleQps: median(idle.map((x) => x.qps)),
    floodQps: median(flooded.map((x) => x.qps)),
    idleQpsPerCpuSecond: median(idle.map((x) => x.perCpu)),
    floodQpsPerCpuSecond: median(flooded.map((x) => x.perCpu)),
    lagMs: { median: lag[0]!, p99: lag[1]! },
  };
}

/** CPU the agent spends per report, with and without a conns:PORT load source. */
async function agentCost(run: Run): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const withConns of [false, true]) {
    const label = withConns ? "loadavg + cpu + conns:PORT + tcp check" : "loadavg + cpu + tcp check";
    const c = await measureAgentCost(CLI, run.redisPort, smoke ? 1 : 5, withConns);
    out[label] = c.reports > 0 ? c.cpuMs / c.reports : Number.NaN;
  }
  return out;
}

async function stopAll(run: Run, keep = 0): Promise<void> {
  for (const c of run.children.splice(keep)) await kill(c, "SIGTERM");
}

async function main(): Promise<void> {
  ensureBenchTools();
  const work = mkdtempSync(join(tmpdir(), "lbdns-bench-"));
  const redisPort = await freePort();
  const run: Run = {
    work,
    queries: queryFiles(work),
    zonesDir: benchZones(work),
    redisPort,
    redisUrl: `redis://127.0.0.1:${redisPort}`,
    children: [],
  };
  const out: BenchResults = { date: new Date().toISOString(), duration, rounds: ROUNDS, results: [] };
  try {
    run.children.push(await startRedis(redisPort, [], CLIENT_CPU));
    const ports = await startServers(run);
    out.results = throughput(run, ports);
    const pool = out.results.find((r) => r.id === "pool")!;
    const latency = latencyAt(ports.lbdns, run.queries.pool, 0.8 * pool.qps, duration);
    out.latencyAt80 = { offeredQps: Math.round(0.8 * pool.qps), ...latency };
    const propagation = await measurePropagation(redisPort, ports.lbdns, smoke ? 10 : 100);
    out.propagationMs = { median: propagation[0]!, p99: propagation[1]! };
    await stopAll(run, 1); // only Redis stays up for what follows
    out.workers = await workerScaling(run);
    out.viewScale = await viewScale(run);
    await stopAll(run);
    console.error("zone scale...");
    out.zoneScale = await measureZoneScale(work, smoke ? [10_000] : [100_000, 1_000_000], 10);
    console.error("signing...");
    out.signerRate = signerRate(smoke ? 0.2 : 2);
    out.signedScale = await measureSignedScale(work, smoke ? 10_000 : 100_000, 10);
    run.children.push(await startRedis(redisPort));
    out.agentCpuMsPerReport = await agentCost(run);
  } finally {
    await stopAll(run);
  }
  print(out);
  if (!smoke) {
    const dir = join(ROOT, "bench/results");
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${out.date.replace(/[:.]/g, "-")}.json`);
    writeFileSync(path, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`results written to ${path}`);
  }
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exit(1);
});
