/**
 * `npm run sim`: the load-spreading simulator (sim-model.ts) for each policy, over several seeds.
 * Prints peak utilization / ideal, time above the shed threshold, answer churn and drain time
 * (mean, and the spread over the seeds), judges the targets (`met` / `NOT met`, exit 1 on a miss),
 * and writes the curves of the first seed as PNG plots (Vega-Lite rendered to SVG, then to PNG by
 * resvg) and the results as JSON to an untracked directory.
 *
 *   npm run sim                     # the default model (8 members, 10,000 resolvers, 900 s), seeds 1-5
 *   npm run sim -- --seeds 10       # seeds 1-10; --seed 7 runs one seed
 *   npm run sim -- --resolvers 3000
 *   npm run sim -- --out DIR        # where plots and JSON go (default bench/out/sim, not tracked)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { ROOT } from "../harness/procs.js";
import {
  DEFAULT_PARAMS,
  SIM_POLICIES,
  type SimParams,
  type SimPolicy,
  type SimResult,
  simulate,
} from "./sim-model.js";

async function png(spec: TopLevelSpec, path: string): Promise<void> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  const out = new Resvg(svg, { background: "white", font: { loadSystemFonts: true } }).render().asPng();
  writeFileSync(path, out);
}

function plotUtilization(results: SimResult[], p: SimParams): TopLevelSpec {
  const values = results.flatMap((r) =>
    r.series.filter((s) => s.t % 2 === 0).map((s) => ({ ...s, policy: r.policy })),
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `Member utilization over time: dashed the ideal before m${p.failMember + 1} fails at ${p.failAtS} s, red the shed threshold`,
    data: { values },
    facet: { row: { field: "policy", type: "nominal", sort: SIM_POLICIES, title: null } },
    spec: {
      width: 720,
      height: 140,
      layer: [
        {
          mark: { type: "line", strokeWidth: 1 },
          encoding: {
            x: { field: "t", type: "quantitative", title: "seconds" },
            y: {
              field: "utilization",
              type: "quantitative",
              title: "utilization",
              scale: { domain: [0, 2], clamp: true },
            },
            color: { field: "member", type: "nominal" },
          },
        },
        { mark: { type: "rule", strokeDash: [4, 4], color: "black" }, encoding: { y: { datum: p.demand } } },
        { mark: { type: "rule", color: "red" }, encoding: { y: { datum: 0.9 } } },
      ],
    },
  };
}

function plotDrain(results: SimResult[]): TopLevelSpec {
  const values = results.flatMap((r) => r.drain.map((d) => ({ ...d, policy: r.policy })));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Load left on the failed member (share of its mean load before the failure)",
    width: 720,
    height: 260,
    data: { values },
    mark: { type: "line" },
    encoding: {
      x: {
        field: "t",
        type: "quantitative",
        title: "seconds after the failure",
        scale: { domain: [0, 40], clamp: true },
      },
      y: {
        field: "share",
        type: "quantitative",
        title: "share of load",
        scale: { domain: [0, 1.5], clamp: true },
      },
      color: { field: "policy", type: "nominal", sort: SIM_POLICIES },
    },
  };
}

function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number`);
  return v;
}

/** A target on the mean over the seeds, as `npm run bench` prints its targets. */
interface Target {
  what: string;
  policy: SimPolicy;
  value: (r: SimResult) => number;
  ok: (mean: number) => boolean;
  text: string;
}

const TARGETS: Target[] = [
  {
    what: "headroom peak/ideal",
    policy: "headroom",
    value: (r) => r.peakOverIdeal,
    ok: (m) => m <= 1.1,
    text: "<= 1.10",
  },
  {
    what: "least-loaded peak/ideal (the herding it shows)",
    policy: "least-loaded",
    value: (r) => r.peakOverIdeal,
    ok: (m) => m >= 1.4,
    text: ">= 1.4",
  },
  {
    what: "headroom+sticky churn",
    policy: "headroom+sticky",
    value: (r) => r.churn,
    ok: (m) => m <= 0.05,
    text: "<= 5%",
  },
];

function argText(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const spread = (xs: number[], f: (x: number) => string) =>
  xs.length > 1 ? `${f(Math.min(...xs))}-${f(Math.max(...xs))}` : "";

async function main(): Promise<void> {
  const base: SimParams = {
    ...DEFAULT_PARAMS,
    resolvers: argNumber("--resolvers", DEFAULT_PARAMS.resolvers),
    ttlS: argNumber("--ttl", DEFAULT_PARAMS.ttlS),
    intervalS: argNumber("--interval", DEFAULT_PARAMS.intervalS),
  };
  const one = argText("--seed");
  const seeds =
    one !== undefined
      ? [argNumber("--seed", 1)]
      : Array.from({ length: argNumber("--seeds", 5) }, (_, i) => i + 1);
  const runs = new Map<SimPolicy, SimResult[]>(
    SIM_POLICIES.map((policy) => [policy, seeds.map((seed) => simulate(policy, { ...base, seed }))]),
  );
  const p = base;
  console.log(
    `\nlbdns load-spreading simulation: ${p.capacities.length} members (capacities ${p.capacities.join(", ")}),` +
      ` ${p.resolvers.toLocaleString("en-US")} resolvers, demand ${p.demand * 100}% of capacity,` +
      ` TTL ${p.ttlS} s, reports every ${p.intervalS} s, member m${p.failMember + 1} fails at ${p.failAtS} s;` +
      ` seeds ${seeds.length > 1 ? `${seeds[0]}-${seeds.at(-1)}` : seeds[0]} (mean, then the range over the seeds)\n`,
  );
  console.log(
    `${"policy".padEnd(18)} ${"peak/ideal".padStart(10)} ${"".padStart(11)} ${"above shed".padStart(11)} ${"churn".padStart(7)} ${"drain s".padStart(8)} ${"".padStart(7)}`,
  );
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  for (const [policy, rs] of runs) {
    const peaks = rs.map((r) => r.peakOverIdeal);
    const drains = rs.map((r) => r.drainS);
    console.log(
      `${policy.padEnd(18)} ${mean(peaks).toFixed(2).padStart(10)} ${spread(peaks, (x) => x.toFixed(2)).padStart(11)} ${pct(mean(rs.map((r) => r.aboveShed))).padStart(11)} ${`${(mean(rs.map((r) => r.churn)) * 100).toFixed(0)}%`.padStart(7)} ${mean(drains).toFixed(0).padStart(8)} ${spread(drains, (x) => x.toFixed(0)).padStart(7)}`,
    );
  }
  console.log("");
  let missed = 0;
  for (const t of TARGETS) {
    const values = runs.get(t.policy)!.map(t.value);
    const m = mean(values);
    const fmt = (x: number) => (t.text.endsWith("%") ? pct(x) : x.toFixed(3));
    const worst = values.filter((v) => !t.ok(v)).length;
    if (!t.ok(m)) missed++;
    console.log(
      `${t.what.padEnd(48)} ${fmt(m).padStart(7)}  target ${t.text.padEnd(8)} ${t.ok(m) ? "met" : "NOT met"}${worst > 0 ? ` (missed by ${worst} of ${values.length} seeds alone; range ${spread(values, fmt)})` : ""}`,
    );
  }
  const dir = argText("--out") ?? join(ROOT, "bench/out/sim");
  mkdirSync(dir, { recursive: true });
  const first = SIM_POLICIES.map((policy) => runs.get(policy)![0]!);
  await png(plotUtilization(first, { ...p, seed: seeds[0]! }), join(dir, "sim-utilization.png"));
  await png(plotDrain(first), join(dir, "sim-drain.png"));
  writeFileSync(
    join(dir, "sim.json"),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        params: p,
        seeds,
        results: SIM_POLICIES.map((policy) => ({
          policy,
          runs: runs.get(policy)!.map(({ series: _s, drain: _d, ...r }, i) => ({ seed: seeds[i], ...r })),
        })),
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nplots (seed ${seeds[0]}) and results: ${dir}`);
  if (missed > 0) process.exitCode = 1;
}

main().catch((e) => {
  console.error(`sim failed: ${(e as Error).message}`);
  process.exit(1);
});
