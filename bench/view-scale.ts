/**
 * Scale of the health view: 10,000 members across 1,000 pools, with 5,000 reports/s arriving
 * over Redis pub/sub. Measures query QPS over the pool names idle and under the report flood,
 * and report-to-answer lag under the flood. The flood runs in its own process
 * (report-flood.ts), since dnsperf blocks this one.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { pinned, ROOT } from "../harness/procs.js";
import { healthChannel, healthKey } from "../src/health/redis-store.js";
import { FLIP_POOL_YAML } from "./propagation.js";

export interface ViewScaleSetup {
  zonesDir: string;
  queryFile: string;
}

/** A zone dir whose pools.yaml holds `pools` pools of `perPool` members, plus the flip pool (propagation.ts). */
export function viewScaleZones(work: string, pools: number, perPool: number): ViewScaleSetup {
  const dir = join(work, "view-zones");
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(ROOT, "zones/example.com.zone"), join(dir, "example.com.zone"));
  const lines = ["pools:"];
  for (let p = 0; p < pools; p++) {
    lines.push(`  p${p}:`, `    names: [p${p}.example.com.]`, "    stale-after: 10m", "    members:");
    for (let m = 0; m < perPool; m++) {
      lines.push(`      - {id: p${p}-m${m}, address: 10.${p >> 8}.${p & 255}.${m + 1}, capacity: 100}`);
    }
  }
  lines.push(...FLIP_POOL_YAML, "");
  writeFileSync(join(dir, "pools.yaml"), lines.join("\n"));
  const queryFile = join(work, "view-queries.txt");
  writeFileSync(queryFile, `${Array.from({ length: pools }, (_, p) => `p${p}.example.com A`).join("\n")}\n`);
  return { zonesDir: dir, queryFile };
}

/** Gives every member a first report, so every pool answers from live members. */
export async function seedReports(redisPort: number, pools: number, perPool: number): Promise<void> {
  const redis = new Redis({ port: redisPort, host: "127.0.0.1" });
  try {
    let ts = Date.now();
    const p = redis.pipeline();
    for (let n = 0; n < pools * perPool; n++) {
      const member = `p${Math.floor(n / perPool)}-m${n % perPool}`;
      const json = JSON.stringify({ v: 1, member, status: "up", load: n % 90, capacity: 100, ts: ++ts });
      p.set(healthKey("lbdns:", member), json, "PX", 600_000).publish(healthChannel("lbdns:"), json);
    }
    await p.exec();
  } finally {
    redis.disconnect();
  }
}

/** Starts the report flood (on the CPUs in `cpus`); `done` resolves with its summary when it ends. */
export function startFlood(
  redisPort: number,
  rate: number,
  pools: number,
  perPool: number,
  seconds: number,
  cpus?: string,
): { proc: ChildProcess; done: Promise<{ sent: number; rate: number }> } {
  const proc = spawn(
    ...pinned(cpus, process.execPath, [
      join(ROOT, "dist/bench/report-flood.js"),
      String(redisPort),
      String(rate),
      String(pools),
      String(perPool),
      String(seconds),
    ]),
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const done = new Promise<{ sent: number; rate: number }>((resolve, reject) =>
    proc.on("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(out) as { sent: number; rate: number })
        : reject(new Error(`report flood exited ${code}`)),
    ),
  );
  return { proc, done };
}
