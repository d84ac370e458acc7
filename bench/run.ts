/**
 * `npm run bench`: drives each server with dnsperf on loopback, with the same settings for
 * every case, and prints QPS, mean latency and loss with ratios measured in the same run.
 *
 *   npm run bench                 # 10 s per case
 *   npm run bench -- --duration 3 # shorter
 *   npm run bench -- --smoke      # 1 s per case: checks the bench itself works
 *
 * Results are also written to bench/results/<date>.json so runs can be compared.
 */
import { type ChildProcess, execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measureAgentCost } from "./agent-cost.js";
import { freePort, ROOT, startChild, startRedis } from "./procs.js";
import { measurePropagation } from "./propagation.js";

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const durationArg = args.indexOf("--duration");
const duration = smoke ? 1 : durationArg >= 0 ? Number(args[durationArg + 1]) : 10;

interface CaseResult {
  name: string;
  server: string;
  transport: "udp" | "tcp";
  qps: number;
  meanMs: number;
  lost: number;
  sent: number;
}

function ensureDnsperf(): void {
  try {
    execFileSync("dnsperf", ["-h"], { stdio: "ignore" });
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") return; // -h exits non-zero but exists
  }
  if (process.getuid?.() !== 0) throw new Error("dnsperf is not installed: apt-get install -y dnsperf");
  console.error("installing dnsperf (apt-get)...");
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", "dnsperf"], { stdio: "inherit" });
}

function dnsperf(
  port: number,
  queries: string,
  transport: "udp" | "tcp",
): Omit<CaseResult, "name" | "server"> {
  const out = execFileSync(
    "dnsperf",
    [
      "-s",
      "127.0.0.1",
      "-p",
      String(port),
      "-d",
      queries,
      "-l",
      String(duration),
      "-c",
      "4",
      "-T",
      "1",
      "-q",
      "200",
    ].concat(transport === "tcp" ? ["-m", "tcp"] : []),
    { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
  );
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
  return {
    transport,
    qps: num(/Queries per second:\s+([\d.]+)/),
    meanMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    lost: num(/Queries lost:\s+(\d+)/),
    sent: num(/Queries sent:\s+(\d+)/),
  };
}

function benchZones(work: string): string {
  const dir = join(work, "zones");
  mkdirSync(dir);
  copyFileSync(join(ROOT, "zones/example.com.zone"), join(dir, "example.com.zone"));
  const members = Array.from(
    { length: 8 },
    (_, i) => `      - {id: bench-${i + 1}, address: 192.0.2.${101 + i}, capacity: ${100 * (1 + (i % 3))}}`,
  );
  writeFileSync(
    join(dir, "pools.yaml"),
    [
      "pools:",
      "  bench:",
      "    names: [pool.example.com.]",
      "    stale-after: 10m",
      "    members:",
      ...members,
      "  flip:",
      "    names: [www.example.com.]",
      "    stale-after: 10m",
      "    members:",
      "      - {id: flip-1, address: 192.0.2.101}",
      "      - {id: flip-2, address: 192.0.2.102}",
      "",
    ].join("\n"),
  );
  return dir;
}

async function main(): Promise<void> {
  ensureDnsperf();
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
  const [rawPort, lbdnsPort, redisPort] = [await freePort(), await freePort(), await freePort()];
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const redis = await startRedis(redisPort);
  const children: ChildProcess[] = [redis];
  const results: CaseResult[] = [];
  let propagation: number[] = [];
  const agentCost: Record<string, { reports: number; cpuMs: number }> = {};
  try {
    children.push(
      await startChild([join(ROOT, "dist/bench/raw-responder.js"), String(rawPort)], "raw serving"),
    );
    const cli = join(ROOT, "dist/src/cli/main.js");
    children.push(
      await startChild(
        [
          cli,
          "serve",
          "--zones",
          zonesDir,
          "--listen",
          `127.0.0.1:${lbdnsPort}`,
          "--redis",
          redisUrl,
          "--admin",
          "off",
        ],
        "lbdns serving",
      ),
    );
    // Live reports for the 8-member pool, at different loads.
    for (let i = 0; i < 8; i++) {
      const args = [
        "report",
        "--redis",
        redisUrl,
        "--member",
        `bench-${i + 1}`,
        "--load",
        String(10 * i),
        "--ttl",
        "10m",
      ];
      execFileSync(process.execPath, [cli, ...args]);
    }
    const cases: [string, string, number, string, "udp" | "tcp"][] = [
      ["raw dgram responder (ceiling)", "raw", rawPort, q.static, "udp"],
      ["lbdns static A", "lbdns", lbdnsPort, q.static, "udp"],
      ["lbdns pool A (headroom, 8 live)", "lbdns", lbdnsPort, q.pool, "udp"],
      ["lbdns MX pool + additional", "lbdns", lbdnsPort, q.mx, "udp"],
      ["lbdns NXDOMAIN (1000 names)", "lbdns", lbdnsPort, q.nxdomain, "udp"],
      ["lbdns wildcard (1000 names)", "lbdns", lbdnsPort, q.wildcard, "udp"],
      ["lbdns referral + glue", "lbdns", lbdnsPort, q.referral, "udp"],
      ["lbdns static A over TCP", "lbdns", lbdnsPort, q.static, "tcp"],
    ];
    for (const [name, server, port, queries, transport] of cases) {
      results.push({ name, server, ...dnsperf(port, queries, transport) });
    }
    propagation = await measurePropagation(redisPort, lbdnsPort, smoke ? 10 : 100);
    for (const withConns of [false, true]) {
      const label = withConns ? "loadavg + cpu + conns:PORT + tcp check" : "loadavg + cpu + tcp check";
      agentCost[label] = await measureAgentCost(
        join(ROOT, "dist/src/cli/main.js"),
        redisPort,
        smoke ? 1 : 5,
        withConns,
      );
    }
  } finally {
    for (const c of children) c.kill();
  }

  const ceiling = results[0]!.qps;
  console.log(`\nlbdns bench: dnsperf, ${duration} s per case, 4 clients, 200 outstanding, loopback\n`);
  console.log(
    `${"case".padEnd(34)} ${"QPS".padStart(10)} ${"mean ms".padStart(9)} ${"lost".padStart(8)}  ratio to raw`,
  );
  for (const r of results) {
    const cols = [r.qps.toFixed(0).padStart(10), r.meanMs.toFixed(3).padStart(9), String(r.lost).padStart(8)];
    console.log(`${r.name.padEnd(34)} ${cols.join(" ")}  ${(r.qps / ceiling).toFixed(2)}x`);
  }
  const ratio = (prefix: string) =>
    (results.find((r) => r.name.startsWith(prefix))!.qps / ceiling).toFixed(2);
  console.log(`\nlbdns static / raw Node ceiling: ${ratio("lbdns static A")}x (target >= 0.70x)`);
  console.log(`lbdns pool   / raw Node ceiling: ${ratio("lbdns pool")}x (target >= 0.60x)`);
  const [median, p99] = propagation;
  console.log(
    `report -> changed answer via Redis pub/sub: median ${median!.toFixed(1)} ms, p99 ${p99!.toFixed(1)} ms over ${smoke ? 10 : 100} changes (target: median < 100 ms)`,
  );
  const perReport: Record<string, number> = {};
  for (const [label, c] of Object.entries(agentCost)) {
    perReport[label] = c.reports > 0 ? c.cpuMs / c.reports : Number.NaN;
    console.log(
      `agent CPU per report (${label}): ${perReport[label]!.toFixed(2)} ms over ${c.reports} reports`,
    );
  }
  if (!smoke) {
    const dir = join(ROOT, "bench/results");
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    const record = {
      date: new Date().toISOString(),
      duration,
      results,
      propagationMs: { median, p99 },
      agentCpuMsPerReport: perReport,
    };
    writeFileSync(path, JSON.stringify(record, null, 2));
    console.log(`results written to ${path}`);
  }
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exit(1);
});
