/**
 * `npm run sim`: the load-spreading simulator (sim-model.ts) for each policy. Prints peak
 * utilization / ideal, time above the shed threshold, answer churn and drain time, and writes the
 * curves as PNG plots (Vega-Lite rendered to SVG, then to PNG by resvg) and JSON to bench/results/.
 *
 *   npm run sim                  # the default model (8 members, 10,000 resolvers, 900 s)
 *   npm run sim -- --resolvers 3000
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { ROOT } from "../harness/procs.js";
import { DEFAULT_PARAMS, SIM_POLICIES, type SimParams, type SimResult, simulate } from "./sim-model.js";

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

async function main(): Promise<void> {
  const p: SimParams = {
    ...DEFAULT_PARAMS,
    resolvers: argNumber("--resolvers", DEFAULT_PARAMS.resolvers),
    ttlS: argNumber("--ttl", DEFAULT_PARAMS.ttlS),
    intervalS: argNumber("--interval", DEFAULT_PARAMS.intervalS),
  };
  const results = SIM_POLICIES.map((policy) => simulate(policy, p));
  console.log(
    `\nlbdns load-spreading simulation: ${p.capacities.length} members (capacities ${p.capacities.join(", ")}),` +
      ` ${p.resolvers.toLocaleString("en-US")} resolvers, demand ${p.demand * 100}% of capacity,` +
      ` TTL ${p.ttlS} s, reports every ${p.intervalS} s, member m${p.failMember + 1} fails at ${p.failAtS} s\n`,
  );
  console.log(
    `${"policy".padEnd(18)} ${"peak/ideal".padStart(10)} ${"above shed".padStart(11)} ${"churn".padStart(7)} ${"drain s".padStart(8)}`,
  );
  for (const r of results) {
    console.log(
      `${r.policy.padEnd(18)} ${r.peakOverIdeal.toFixed(2).padStart(10)} ${`${(r.aboveShed * 100).toFixed(1)}%`.padStart(11)} ${`${(r.churn * 100).toFixed(0)}%`.padStart(7)} ${r.drainS.toFixed(0).padStart(8)}`,
    );
  }
  const get = (policy: string) => results.find((r) => r.policy === policy)!;
  console.log(
    `\nheadroom peak/ideal ${get("headroom").peakOverIdeal.toFixed(2)} (target <= 1.10); least-loaded ${get("least-loaded").peakOverIdeal.toFixed(2)} (target >= 1.4)`,
  );
  const dir = join(ROOT, "bench/results");
  mkdirSync(dir, { recursive: true });
  await png(plotUtilization(results, p), join(dir, "sim-utilization.png"));
  await png(plotDrain(results), join(dir, "sim-drain.png"));
  writeFileSync(
    join(dir, "sim.json"),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        params: p,
        results: results.map(({ series: _s, drain: _d, ...r }) => r),
      },
      null,
      2,
    )}\n`,
  );
  console.log(`plots: ${join(dir, "sim-utilization.png")}, ${join(dir, "sim-drain.png")}`);
}

main().catch((e) => {
  console.error(`sim failed: ${(e as Error).message}`);
  process.exit(1);
});
