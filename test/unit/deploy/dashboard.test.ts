/** The Grafana dashboard in deploy/ must only query metrics that lbdns exports. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";

const root = join(import.meta.dirname, "../../..");

it("queries only metric names that src/app/metrics.ts defines", () => {
  const dashboard = JSON.parse(readFileSync(join(root, "deploy/grafana-dashboard.json"), "utf8")) as {
    panels: { targets: { expr: string }[] }[];
  };
  const source = readFileSync(join(root, "src/app/metrics.ts"), "utf8");
  const defined = new Set([...source.matchAll(/name(?::| =) "(lbdns_[a-z_]+)"/g)].map((m) => m[1]));
  const used = new Set(
    dashboard.panels.flatMap((p) =>
      p.targets.flatMap((t) =>
        [...t.expr.matchAll(/lbdns_[a-z_]+/g)].map((m) => m[0].replace(/_bucket$/, "")),
      ),
    ),
  );
  expect(used.size).toBeGreaterThan(8);
  expect([...used].filter((name) => !defined.has(name))).toEqual([]);
});
