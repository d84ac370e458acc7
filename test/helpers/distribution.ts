/**
 * `expect(counts).toSpreadLike(expected, within)`: answer counts per key against the expected
 * counts, each within a tolerance (one number, or one per key). A failure prints the whole
 * spread as shares, so a wrong pool spread shows where the answers went, not just one number.
 */
import { expect } from "vitest";

type Counts = Record<string | number, number>;

function table(counts: Counts, expected: Counts, within: (k: string) => number): string {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(counts)])];
  const pct = (n: number) => `${((100 * n) / (total || 1)).toFixed(1)}%`.padStart(7);
  return keys
    .map((k) => {
      const got = counts[k] ?? 0;
      const want = expected[k] ?? 0;
      const off = Math.abs(got - want) >= within(k) ? "  <- off" : "";
      return `  ${k.padEnd(16)} got ${String(got).padStart(6)} ${pct(got)}   want ${String(want).padStart(6)} ±${within(k)} ${pct(want)}${off}`;
    })
    .join("\n");
}

expect.extend({
  toSpreadLike(received: Counts, expected: Counts, within: number | Counts) {
    const tolerance = (k: string) => (typeof within === "number" ? within : (within[k] ?? 0));
    const keys = new Set([...Object.keys(expected), ...Object.keys(received)]);
    const pass = [...keys].every((k) => Math.abs((received[k] ?? 0) - (expected[k] ?? 0)) < tolerance(k));
    return {
      pass,
      message: () =>
        `expected the answers ${pass ? "not " : ""}to spread like this:\n${table(received, expected, tolerance)}`,
    };
  },
});

interface SpreadMatchers<R = unknown> {
  toSpreadLike(expected: Counts, within: number | Counts): R;
}

declare module "vitest" {
  // biome-ignore lint/suspicious/noExplicitAny: vitest declares Matchers<T = any>; a merge must match it.
  interface Matchers<T = any> extends SpreadMatchers<T> {}
}
