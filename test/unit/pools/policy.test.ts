import fc from "fast-check";
import { describe, expect, it } from "vitest";
import "../../helpers/distribution.js";
import {
  cumulativeWeights,
  nextDraw,
  pickWeighted,
  ranking,
  stickyWeight,
} from "../../../src/pools/policy.js";

describe("policies", () => {
  it("headroom weights are capacity x (1 - utilization), drawn in proportion", () => {
    const cands = [
      { capacity: 100, utilization: 0.5, weight: 1 }, // headroom 50
      { capacity: 200, utilization: 0.5, weight: 1 }, // headroom 100
      { capacity: 100, utilization: 0.0, weight: 1 }, // headroom 100
    ];
    const cum = cumulativeWeights("headroom", cands)!;
    expect([...cum]).toEqual([50, 150, 250]);
    const counts = [0, 0, 0];
    for (let i = 0; i < 10_000; i++) counts[pickWeighted(cum, Math.random())]!++;
    // expected 2000 / 4000 / 4000; tolerance is ~5 standard deviations
    expect({ ...counts }).toSpreadLike({ 0: 2000, 1: 4000, 2: 4000 }, { 0: 220, 1: 250, 2: 250 });
  });

  it("low-discrepancy draws match the weights within a few answers over any run, from any start", () => {
    const cum = cumulativeWeights("headroom", [
      { capacity: 100, utilization: 0.8, weight: 1 }, // headroom 20
      { capacity: 100, utilization: 0.2, weight: 1 }, // headroom 80
      { capacity: 200, utilization: 0.5, weight: 1 }, // headroom 100
    ])!;
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 2000 }),
        (start, n) => {
          const counts = [0, 0, 0];
          let r = start;
          for (let i = 0; i < n; i++) {
            r = nextDraw(r);
            expect(r).toBeGreaterThanOrEqual(0);
            expect(r).toBeLessThan(1);
            counts[pickWeighted(cum, r)]!++;
          }
          // Independent random draws stray by ~sqrt(n) (about 20 at n = 2000); these stay within 3.
          expect(counts.map((c, i) => Math.abs(c - [0.1, 0.4, 0.5][i]! * n) <= 3)).toEqual([
            true,
            true,
            true,
          ]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("sticky weights follow capacity and slow start, never load", () => {
    const base = { capacity: 400, weight: 1 };
    expect(stickyWeight({ ...base, utilization: 0.1 })).toBe(stickyWeight({ ...base, utilization: 0.85 }));
    expect(stickyWeight({ ...base, utilization: 0, factor: 0.25 })).toBe(100);
  });

  it("weighted uses static weights; all-zero weights spread evenly", () => {
    expect([
      ...cumulativeWeights("weighted", [
        { capacity: 1, utilization: 0, weight: 3 },
        { capacity: 1, utilization: 0, weight: 1 },
      ])!,
    ]).toEqual([3, 4]);
    expect([
      ...cumulativeWeights("headroom", [
        { capacity: 1, utilization: 1, weight: 1 },
        { capacity: 1, utilization: 2, weight: 1 },
      ])!,
    ]).toEqual([1, 2]);
    expect(cumulativeWeights("least-loaded", [])).toBeNull();
  });

  it("pickWeighted always lands inside the array and never on a zero-weight slot", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(100), { minLength: 1, maxLength: 20 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (ws, r) => {
          const cands = ws.map((weight) => ({ capacity: 1, utilization: 0, weight }));
          const cum = cumulativeWeights("weighted", cands)!;
          const i = pickWeighted(cum, r);
          expect(i).toBeGreaterThanOrEqual(0);
          expect(i).toBeLessThan(ws.length);
          if (ws.some((w) => w > 0)) expect(ws[i]).toBeGreaterThan(0);
        },
      ),
    );
  });

  it("least-loaded ranks by utilization, then capacity, then order; failover keeps order", () => {
    const cands = [
      { capacity: 100, utilization: 0.5, weight: 1 },
      { capacity: 100, utilization: 0.2, weight: 1 },
      { capacity: 300, utilization: 0.2, weight: 1 },
    ];
    expect(ranking("least-loaded", cands)).toEqual([2, 1, 0]);
    expect(ranking("failover", cands)).toEqual([0, 1, 2]);
    expect(ranking("headroom", cands)).toEqual([2, 1, 0]);
  });
});
