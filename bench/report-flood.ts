/**
 * A steady stream of health reports into Redis, as thousands of agents would send them:
 *
 *   node dist/bench/report-flood.js REDIS_PORT RATE POOLS MEMBERS_PER_POOL SECONDS
 *
 * Members are named p<pool>-m<member>, each report for one drawn at random (agents report on
 * their own clocks, not in pool order). Every report carries a new load and ts, so each one is a
 * real change for the server. Reports go out every 10 ms in one pipeline of SET+PUBLISH pairs
 * (the contract's key and channel). Prints one JSON line with what was sent when done, or when
 * stopped with SIGTERM.
 */
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { healthChannel, healthKey } from "../src/health/redis-store.js";

const [port, rate, pools, perPool, seconds] = process.argv.slice(2).map(Number) as [
  number,
  number,
  number,
  number,
  number,
];
const TICK_MS = 10;
const redis = new Redis({ port, host: "127.0.0.1" });
const members = pools * perPool;
let sent = 0;
let ts = Date.now();
const started = performance.now();
const ends = started + seconds * 1000;

function finish(): void {
  const secs = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ sent, seconds: secs, rate: sent / secs })}\n`);
  redis.disconnect();
  process.exit(0);
}
process.on("SIGTERM", finish);

function tick(): void {
  const now = performance.now();
  if (now >= ends) {
    finish();
    return;
  }
  // Catch up to where the rate says we should be, so a late timer does not lower the rate.
  const due = Math.floor(((now - started) / 1000) * rate) - sent;
  const p = redis.pipeline();
  for (let i = 0; i < due; i++) {
    const n = Math.floor(Math.random() * members);
    const member = `p${Math.floor(n / perPool)}-m${n % perPool}`;
    const json = JSON.stringify({
      v: 1,
      member,
      status: "up",
      load: Math.floor(Math.random() * 90),
      capacity: 100,
      ts: ++ts,
    });
    p.set(healthKey("lbdns:", member), json, "PX", 600_000).publish(healthChannel("lbdns:"), json);
  }
  sent += due;
  p.exec().catch((e: Error) => {
    console.error(`report flood: ${e.message}`);
    process.exit(1);
  });
  setTimeout(tick, TICK_MS);
}
setTimeout(tick, TICK_MS);
