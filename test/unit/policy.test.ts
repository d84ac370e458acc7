import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cumulativeWeights, pickWeighted, ranking } from "../../src/pools/policy.js";

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
    expect(Math.abs(counts[0]! - 2000)).toBeLessThan(220);
    expect(Math.abs(counts[1]! - 4000)).toBeLessThan(250);
    expect(Math.abs(counts[2]! - 4000)).toBeLessThan(250);
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
