/**
 * A discrete-time model of load spreading through DNS: K caching resolvers, each carrying a
 * steady demand, ask lbdns for the pool's name whenever their cached answer expires (TTL) and
 * send all their demand to the member it named; N members of different capacities; one agent per
 * member reporting its mean load every `interval`. lbdns itself is the real thing: a PoolSet built
 * from pools.yaml text, fed through the real HealthTable on the model's clock, answering with the
 * real policy code. Only the network and the clients are modelled.
 */
import { pino } from "pino";
import { HealthTable } from "../src/health/table.js";
import type { Client } from "../src/pools/client.js";
import { parsePools } from "../src/pools/config.js";
import { PoolSet } from "../src/pools/pool-set.js";
import type { Counter, PoolEnv } from "../src/pools/runtime.js";
import { keyOf, parseName } from "../src/proto/name.js";
import { T } from "../src/proto/types.js";
import { loadZoneFile } from "../src/zone/load.js";
import { ZoneSet } from "../src/zone/zoneset.js";

export interface SimParams {
  capacities: number[];
  resolvers: number;
  /** Total demand as a share of total capacity. */
  demand: number;
  ttlS: number;
  intervalS: number;
  durationS: number;
  /** When member `failMember` (0-based) fails: its agent reports down from then on. */
  failAtS: number;
  failMember: number;
  /** Steady-state measurements start here, after the caches have filled. */
  warmupS: number;
  seed: number;
}

export const DEFAULT_PARAMS: SimParams = {
  capacities: [100, 100, 200, 200, 400, 400, 800, 800],
  resolvers: 10_000,
  demand: 0.7,
  ttlS: 20, // the pool default
  intervalS: 2, // the agent default
  durationS: 900,
  failAtS: 600,
  failMember: 5, // m6, capacity 400: the rest can carry the demand at 81%, below the shed threshold
  warmupS: 120,
  seed: 7,
};

export type SimPolicy = "round-robin" | "least-loaded" | "headroom" | "headroom+sticky";
export const SIM_POLICIES: SimPolicy[] = ["round-robin", "least-loaded", "headroom", "headroom+sticky"];

export interface SimResult {
  policy: SimPolicy;
  /**
   * Highest member utilization in the steady window, divided by demand / capacity. Utilization
   * is the mean over one report interval, as the member's agent measures and reports it.
   */
  peakOverIdeal: number;
  /** Share of the steady window in which some member was at or above the shed threshold. */
  aboveShed: number;
  /** In the steady window: share of re-queries answered with another member than the last one. */
  churn: number;
  /** Seconds from the failure until the failed member carries < 5% of its mean load before it. */
  drainS: number;
  /** Per second: each member's utilization, for the plots. */
  series: { t: number; member: string; utilization: number }[];
  /** Per second after the failure: the failed member's load as a share of its mean load before. */
  drain: { t: number; share: number }[];
}

/** mulberry32: a small seeded generator, so every policy sees the same resolvers. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ZONE = `$ORIGIN example.com.
$TTL 300
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.53
`;

function poolsYaml(p: SimParams, policy: SimPolicy): string {
  const members = p.capacities.map(
    (c, i) => `      - {id: m${i + 1}, address: 10.0.0.${i + 1}, capacity: ${c}}`,
  );
  return [
    "pools:",
    "  web:",
    "    names: [www.example.com.]",
    `    policy: ${policy === "headroom+sticky" ? "headroom" : policy}`,
    `    sticky: ${policy === "headroom+sticky"}`,
    `    ttl: ${p.ttlS}`,
    `    stale-after: ${p.intervalS * 3}s`,
    "    members:",
    ...members,
    "",
  ].join("\n");
}

export function simulate(policy: SimPolicy, p: SimParams = DEFAULT_PARAMS): SimResult {
  const DT = 0.1;
  const random = rng(p.seed);
  const zones = new ZoneSet([loadZoneFile("/sim/example.com.zone", ZONE)]);
  const clock = { ms: 0 };
  const log = pino({ level: "silent" });
  const table = new HealthTable(log, () => clock.ms);
  const env: PoolEnv = { table, probes: null, members: new Map(), counters: new Map(), log };
  const set = new PoolSet(parsePools(poolsYaml(p, policy), "pools.yaml", zones), zones, env);
  table.setKnownMembers(set.memberIds());
  table.onChange((id) => set.memberChanged(id));
  const pool = set.byKey.get(keyOf(parseName("www.example.com.", null)))!;
  const byCounter = new Map<Counter, number>();
  const memberOf = (c: Counter): number => {
    let i = byCounter.get(c);
    if (i === undefined) {
      for (const [key, counter] of env.counters) {
        const [, source, id] = key.split("\u0000");
        if (source === "member") byCounter.set(counter, Number(id!.slice(1)) - 1);
      }
      i = byCounter.get(c) ?? -1;
    }
    return i;
  };

  const n = p.capacities.length;
  const totalCapacity = p.capacities.reduce((a, b) => a + b, 0);
  // Exponentially distributed demand per resolver: a few big resolvers, many small ones.
  const rate = Array.from({ length: p.resolvers }, () => -Math.log(1 - random()));
  const scale = (p.demand * totalCapacity) / rate.reduce((a, b) => a + b, 0);
  for (let k = 0; k < rate.length; k++) rate[k]! *= scale;
  const clients: Client[] = rate.map((_, k) => ({
    family: 4,
    address: Uint8Array.from([100, 64 + (k >> 8), k & 255, 1]), // a /24 each: sticky keys on it
    prefix: 32,
  }));
  const nextAsk = rate.map(() => random() * p.ttlS);
  const assigned = new Int32Array(p.resolvers).fill(-1);
  const load = new Float64Array(n);
  const sumOverInterval = new Float64Array(n);
  const agentPhase = p.capacities.map(() => random() * p.intervalS);
  const nextReport = [...agentPhase];
  const failed = p.failMember;
  let failedLoadSum = 0;
  let ts = 0;
  let asks = 0;
  let changes = 0;
  let peak = 0;
  let steadySamples = 0;
  let shedSamples = 0;
  let drainS = Number.NaN;
  const series: SimResult["series"] = [];
  const drain: SimResult["drain"] = [];
  const maxU = 0.9;

  for (let step = 0; step * DT < p.durationS; step++) {
    const t = step * DT;
    clock.ms = t * 1000;
    const isFailed = t >= p.failAtS;
    for (let m = 0; m < n; m++) {
      sumOverInterval[m]! += load[m]! * DT;
      if (t >= nextReport[m]!) {
        const mean = sumOverInterval[m]! / p.intervalS;
        sumOverInterval[m] = 0;
        nextReport[m]! += p.intervalS;
        const down = isFailed && m === failed;
        table.offer({ v: 1, member: `m${m + 1}`, status: down ? "down" : "up", load: mean, ts: ++ts }, "sim");
      }
    }
    for (let k = 0; k < p.resolvers; k++) {
      if (t < nextAsk[k]!) continue;
      // The cache expired; the resolver asks again when its next client query comes (within ~1 s).
      nextAsk[k] = t + p.ttlS + random();
      const answer = pool.answer(T.A, clients[k]!);
      const m = answer ? memberOf(answer.counter) : -1;
      if (assigned[k]! >= 0) load[assigned[k]!]! -= rate[k]!;
      if (m < 0) {
        assigned[k] = -1; // no member answered (fallback): this demand reaches no member this round
        continue;
      }
      const steady = t >= p.warmupS && !isFailed;
      if (steady) asks++;
      if (steady && assigned[k]! >= 0 && assigned[k] !== m) changes++;
      assigned[k] = m;
      load[m]! += rate[k]!;
    }
    if (step % Math.round(1 / DT) !== 0) continue;
    // Once a second: sample, and judge the mean over the last report interval.
    const second = series.length / n;
    for (let m = 0; m < n; m++)
      series.push({ t, member: `m${m + 1}`, utilization: load[m]! / p.capacities[m]! });
    if (t >= p.warmupS && !isFailed) {
      let worst = 0;
      for (let m = 0; m < n; m++) {
        let sum = 0;
        for (let s = second - p.intervalS + 1; s <= second; s++) sum += series[s * n + m]!.utilization;
        worst = Math.max(worst, sum / p.intervalS);
      }
      peak = Math.max(peak, worst / p.demand);
      steadySamples++;
      if (worst >= maxU) shedSamples++;
    }
    if (t >= p.warmupS && !isFailed) failedLoadSum += load[failed]!;
    else if (isFailed) {
      const before = failedLoadSum / steadySamples; // its mean load in the steady window
      const share = before > 0 ? Math.max(0, load[failed]!) / before : 0;
      drain.push({ t: t - p.failAtS, share });
      if (Number.isNaN(drainS) && share < 0.05) drainS = t - p.failAtS;
    }
  }
  set.dispose();
  return {
    policy,
    peakOverIdeal: peak,
    aboveShed: steadySamples > 0 ? shedSamples / steadySamples : 0,
    churn: asks > 0 ? changes / asks : 0,
    drainS,
    series,
    drain,
  };
}
