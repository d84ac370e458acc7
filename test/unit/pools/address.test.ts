import fc from "fast-check";
import { describe, expect, it } from "vitest";
import "../../helpers/distribution.js";
import { AddressPool } from "../../../src/pools/address/pool.js";
import { T } from "../../../src/proto/types.js";
import { answerData, poolFixture } from "../../helpers/pools.js";

const WEB = `
pools:
  web:
    names: [www.example.com.]
    stale-after: 6s
    max-utilization: 0.9
    members:
      - {id: a, address: [192.0.2.1, "2001:db8::1"], capacity: 100}
      - {id: b, address: 192.0.2.2, capacity: 100}
      - {id: c, address: 192.0.2.3, capacity: 100}
`;

function draw(f: ReturnType<typeof poolFixture>, n = 2000, qtype: number = T.A): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const k = answerData(f.answer("www.example.com.", qtype)).join(",");
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

describe("address pools", () => {
  it("spreads answers by headroom", () => {
    const f = poolFixture(WEB);
    f.report("a", 80); // headroom 20
    f.report("b", 20); // headroom 80
    f.report("c", 100, { capacity: 200 }); // report capacity overrides: headroom 100
    const counts = draw(f, 10_000);
    expect(counts).toSpreadLike(
      { "192.0.2.1": 1000, "192.0.2.2": 4000, "192.0.2.3": 5000 },
      { "192.0.2.1": 160, "192.0.2.2": 250, "192.0.2.3": 250 },
    );
  });

  it("sheds at max-utilization and re-admits only below max-utilization - 0.1", () => {
    const f = poolFixture(WEB);
    f.report("a", 10);
    f.report("b", 95);
    f.report("c", 95);
    expect(Object.keys(draw(f, 200))).toEqual(["192.0.2.1"]);
    f.report("b", 85); // below 0.9 but not below 0.8: still shed
    expect(Object.keys(draw(f, 200))).toEqual(["192.0.2.1"]);
    f.report("b", 79);
    expect(Object.keys(draw(f, 400)).sort()).toEqual(["192.0.2.1", "192.0.2.2"]);
  });

  it("drops a member that stops reporting on time, while the others' reports keep arriving", async () => {
    // A report rebuilds only its own member's assessment, so the silent member must leave by its
    // pool's expiry timer, not by waiting for someone else's report.
    const f = poolFixture(WEB.replace("stale-after: 6s", "stale-after: 300ms"), "", true);
    try {
      for (const id of ["a", "b", "c"]) f.report(id, 10);
      expect(Object.keys(draw(f, 300)).sort()).toEqual(["192.0.2.1", "192.0.2.2", "192.0.2.3"]);
      const deadline = Date.now() + 5_000;
      let seen = Object.keys(draw(f, 300));
      while (seen.includes("192.0.2.3") && Date.now() < deadline) {
        f.report("a", 10);
        f.report("b", 10);
        await new Promise((r) => setTimeout(r, 50));
        seen = Object.keys(draw(f, 300));
      }
      expect(seen.sort()).toEqual(["192.0.2.1", "192.0.2.2"]);
    } finally {
      f.set.dispose();
    }
  });

  it("never answers a member that is down, drained, busy or stale", () => {
    const f = poolFixture(WEB);
    f.report("a", 10, { status: "down" });
    f.report("b", 10, { status: "drain" });
    f.report("c", 10);
    expect(Object.keys(draw(f, 200))).toEqual(["192.0.2.3"]);
    f.advance(5_000);
    f.report("a", 10); // a fresh again
    f.advance(1_500); // c's report is now 6.5 s old: stale
    expect(Object.keys(draw(f, 200))).toEqual(["192.0.2.1"]);
  });

  it("does not refresh a member when the same report is read again", () => {
    const f = poolFixture(WEB);
    f.table.offer({ v: 1, member: "a", status: "up", load: 1, ts: 42 }, "resync");
    f.advance(5_000);
    f.table.offer({ v: 1, member: "a", status: "up", load: 1, ts: 42 }, "resync");
    f.advance(1_500);
    expect(answerData(f.answer("www.example.com."))).toEqual(["rcode 2"]); // no fallback, no static record
    expect(
      f.set.byName
        .get("web")!
        .status()
        .members.find((m) => m.id === "a")!.reason,
    ).toBe("stale");
  });

  it("answers AAAA from the members' IPv6 addresses only", () => {
    const f = poolFixture(WEB);
    f.report("a", 50);
    f.report("b", 0);
    expect(Object.keys(draw(f, 100, T.AAAA))).toEqual(["20010db8000000000000000000000001"]);
  });

  it("honours operator state: drain and disabled members get no answers", () => {
    const f = poolFixture(
      WEB.replace("capacity: 100}\n      - {id: b", "capacity: 100, state: drain}\n      - {id: b"),
    );
    f.report("a", 0);
    f.report("b", 50);
    expect(Object.keys(draw(f, 200))).toEqual(["192.0.2.2"]);
  });

  it("gives several addresses with answers: N, best first by headroom for the rest", () => {
    const f = poolFixture(
      WEB.replace("max-utilization: 0.9", "max-utilization: 0.9\n    answers: 2\n    policy: least-loaded"),
    );
    f.report("a", 50);
    f.report("b", 10);
    f.report("c", 30);
    expect(answerData(f.answer("www.example.com."))).toEqual(["192.0.2.2", "192.0.2.3"]);
  });

  it("supports round-robin and failover", () => {
    const rr = poolFixture(
      WEB.replace("max-utilization: 0.9", "max-utilization: 0.9\n    policy: round-robin"),
    );
    for (const m of ["a", "b", "c"]) rr.report(m, 10);
    const seq = Array.from({ length: 6 }, () => answerData(rr.answer("www.example.com."))[0]);
    expect(new Set(seq.slice(0, 3)).size).toBe(3);
    expect(seq.slice(0, 3)).toEqual(seq.slice(3));
    const fo = poolFixture(WEB.replace("max-utilization: 0.9", "max-utilization: 0.9\n    policy: failover"));
    fo.report("b", 80);
    fo.report("c", 0);
    expect(Object.keys(draw(fo, 50))).toEqual(["192.0.2.2"]);
  });
});

describe("fallback chain", () => {
  const CHAIN = `
pools:
  web:
    names: [www.example.com.]
    stream-managers: [{id: sm, address: 192.0.2.50}]
    fallback: [192.0.2.99]
    members:
      - {id: a, address: 192.0.2.1}
`;

  it("says why a fallback answers, with an Extended DNS Error (RFC 8914 §4.1)", () => {
    const ede = (a: ReturnType<ReturnType<typeof poolFixture>["answer"]>) =>
      a?.options ? `${a.options.readUInt16BE(4)} ${a.options.subarray(6).toString()}` : null;
    const f = poolFixture(CHAIN, "www A 192.0.2.200\n");
    f.report("a", 10);
    expect(ede(f.answer("www.example.com."))).toBeNull();
    f.report("a", 10, { status: "down" });
    expect(ede(f.answer("www.example.com."))).toBe(
      "0 pool web: no member available; answering its fallback addresses",
    );
    const noFallback = poolFixture(CHAIN.replace("fallback: [192.0.2.99]", ""), "www A 192.0.2.200\n");
    expect(ede(noFallback.answer("www.example.com."))).toBe(
      "0 pool web: no member available; answering the zone's records",
    );
    const nothing = poolFixture(CHAIN.replace("fallback: [192.0.2.99]", ""));
    expect(ede(nothing.answer("www.example.com."))).toBe(
      "0 pool web: no member available; no fallback configured",
    );
  });

  it("goes member -> stream manager -> fallback -> static -> SERVFAIL", () => {
    const f = poolFixture(CHAIN, "www A 192.0.2.200\n");
    f.report("a", 10);
    expect(answerData(f.answer("www.example.com."))).toEqual(["192.0.2.1"]);
    f.report("a", 10, { status: "down" });
    f.report("sm", 10);
    expect(answerData(f.answer("www.example.com."))).toEqual(["192.0.2.50"]);
    f.report("sm", 10, { status: "down" });
    expect(answerData(f.answer("www.example.com."))).toEqual(["192.0.2.99"]);

    const noFallback = poolFixture(CHAIN.replace("fallback: [192.0.2.99]", ""), "www A 192.0.2.200\n");
    expect(answerData(noFallback.answer("www.example.com."))).toEqual(["192.0.2.200"]);
    const nothing = poolFixture(CHAIN.replace("fallback: [192.0.2.99]", ""));
    expect(answerData(nothing.answer("www.example.com."))).toEqual(["rcode 2"]);
    // no IPv6 anywhere in the pool: AAAA is the zone's business (NODATA), not SERVFAIL
    expect(nothing.answer("www.example.com.", T.AAAA)).toBeNull();
  });

  it("answers the stream managers in stream-manager mode while members are fine", () => {
    const f = poolFixture(CHAIN.replace("pools:\n  web:\n", "pools:\n  web:\n    mode: stream-manager\n"));
    f.report("a", 10);
    f.report("sm", 10);
    expect(answerData(f.answer("www.example.com."))).toEqual(["192.0.2.50"]);
  });

  it("counts every answer by source", () => {
    const f = poolFixture(CHAIN);
    f.report("a", 10);
    f.answer("www.example.com.");
    f.report("a", 10, { status: "down" });
    f.answer("www.example.com.");
    f.answer("www.example.com.");
    const counts = Object.fromEntries(
      [...f.env.counters].map(([k, c]) => [k.replaceAll("\u0000", "/"), c.n]),
    );
    expect(counts).toMatchObject({ "web/member/a": 1, "web/fallback/": 2 });
  });
});

describe("property: unavailable members are never answered", () => {
  it("holds for any mix of status, load, state and age", () => {
    const member = fc.record({
      status: fc.constantFrom("up", "down", "drain", "busy"),
      load: fc.double({ min: 0, max: 150, noNaN: true }),
      age: fc.integer({ min: 0, max: 10_000 }),
      state: fc.constantFrom("active", "drain", "disabled"),
      reported: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(member, { minLength: 1, maxLength: 6 }), (ms) => {
        const yaml = `pools:\n  web:\n    names: [www.example.com.]\n    fallback: [192.0.2.99]\n    members:\n${ms
          .map((m, i) => `      - {id: m${i}, address: 192.0.2.${i + 1}, state: ${m.state}}`)
          .join("\n")}\n`;
        const f = poolFixture(yaml);
        // oldest first, so each member's age is what it says
        const order = ms.map((m, i) => ({ m, i })).sort((x, y) => y.m.age - x.m.age);
        let elapsed = 0;
        const maxAge = order[0]!.m.age;
        for (const { m, i } of order) {
          f.advance(maxAge - m.age - elapsed);
          elapsed = maxAge - m.age;
          if (m.reported) f.report(`m${i}`, m.load, { status: m.status as "up" });
        }
        f.advance(maxAge - elapsed); // now every report is exactly its age old
        const ok = new Set(
          ms.flatMap((m, i) =>
            m.reported && m.status === "up" && m.state === "active" && m.age < 6000 && m.load / 100 < 0.9
              ? [`192.0.2.${i + 1}`]
              : [],
          ),
        );
        for (let k = 0; k < 20; k++) {
          const got = answerData(f.answer("www.example.com."))[0]!;
          if (got !== "192.0.2.99") expect(ok.has(got), `answered ${got}`).toBe(true);
          else expect(ok.size).toBe(0);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("property: a report's partial rebuild equals a full rebuild", () => {
  it("holds for any sequence of reports and any policy, probes aside", () => {
    const variant = fc.record({
      policy: fc.constantFrom("headroom", "least-loaded", "round-robin", "weighted", "failover"),
      answers: fc.constantFrom(1, 2),
      sticky: fc.boolean(),
      ttl: fc.constantFrom("30", "{min: 5, max: 60}"),
    });
    const report = fc.record({
      member: fc.constantFrom("a", "b", "c"),
      status: fc.constantFrom("up", "up", "up", "down", "drain", "busy"),
      // Often either side of the adaptive TTL's threshold (0.7 of capacity, below shedding at 0.9).
      load: fc.oneof(fc.double({ min: 0, max: 150, noNaN: true }), fc.constantFrom(20, 75, 85)),
      capacity: fc.option(fc.integer({ min: 1, max: 400 }), { nil: undefined }),
      // Mostly no time passing, so partial rebuilds follow one another
      // (and now and then past the minute after a change, when adaptive TTLs lengthen).
      advanceMs: fc.oneof(
        fc.constant(0),
        fc.constant(0),
        fc.integer({ min: 1, max: 3_000 }),
        fc.constant(61_000),
      ),
    });
    // Everything a query, status or explain can see, with the preference order asked for (so a
    // cached order would have to be right).
    const view = (f: ReturnType<typeof poolFixture>) => {
      const pool = f.set.byName.get("web")!;
      if (!(pool instanceof AddressPool)) throw new Error("web is an address pool");
      return {
        members: pool.describe().map(({ ageMs: _age, ...rest }) => rest),
        shares: [...pool.shares(T.A)],
        best: [T.A, T.AAAA].map((t) => pool.peek(t)?.sections.bytes.toString("hex")), // TTL included
      };
    };
    fc.assert(
      fc.property(variant, fc.array(report, { minLength: 1, maxLength: 30 }), (v, reports) => {
        const yaml = WEB.replace(
          "    stale-after: 6s",
          `    stale-after: 2m\n    policy: ${v.policy}\n    answers: ${v.answers}\n    sticky: ${v.sticky}\n    ttl: ${v.ttl}`,
        );
        // The same reports into two servers: one updates as it does in service, one rebuilds in full.
        const partial = poolFixture(yaml);
        const full = poolFixture(yaml);
        for (const r of reports) {
          const extra = { status: r.status as "up", ...(r.capacity ? { capacity: r.capacity } : {}) };
          for (const f of [partial, full]) {
            // Time passes only through advance, which rebuilds in full as the expiry timer would.
            if (r.advanceMs > 0) f.advance(r.advanceMs);
            f.report(r.member, r.load, extra);
          }
          full.set.byName.get("web")!.rebuild();
          expect(view(partial)).toEqual(view(full));
        }
      }),
      { numRuns: 300 },
    );
  });
});
