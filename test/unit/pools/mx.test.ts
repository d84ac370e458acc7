import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildResponse } from "../../../src/proto/encode.js";
import { T } from "../../../src/proto/types.js";
import { makeQuery, parse } from "../../helpers/packets.js";
import { answerData, poolFixture } from "../../helpers/pools.js";

const MAIL = `
pools:
  mail:
    type: mx
    names: [example.com.]
    members:
      - {id: mx-1, host: mx1.example.com., address: 192.0.2.21, capacity: 50, preference: 10}
      - {id: mx-2, host: mx2.example.com., address: 192.0.2.22, capacity: 50, preference: 10}
    relays:
      - {host: relay1.backup.example.net., preference: 50}
    standby:
      - {id: mx-9, host: mx9.example.com., address: 192.0.2.29, preference: 10}
`;
const mx = (f: ReturnType<typeof poolFixture>) => answerData(f.answer("example.com.", T.MX));

describe("MX pools", () => {
  it("counts, per member, the answers that listed it as a primary", () => {
    const f = poolFixture(MAIL);
    f.report("mx-1", 10);
    f.report("mx-2", 10);
    for (let i = 0; i < 3; i++) mx(f);
    f.report("mx-2", 10, { status: "down" });
    for (let i = 0; i < 2; i++) mx(f);
    const answered = () =>
      Object.fromEntries(
        f.set.byName
          .get("mail")!
          .status()
          .members.map((m) => [m.id, m.answered]),
      );
    expect(answered()).toEqual({ "mx-1": 5, "mx-2": 3, "mx-9": 0 });
  });

  it("says the answer is relay-only when no primary and no standby is up", () => {
    const logged: Record<string, unknown>[] = [];
    const f = poolFixture(MAIL);
    f.env.log = Object.assign(Object.create(f.env.log), {
      warn: (o: Record<string, unknown>) => logged.push(o),
      info: (o: Record<string, unknown>) => logged.push(o),
    });
    f.report("mx-1", 10);
    f.report("mx-1", 10, { status: "down" });
    expect(logged.at(-1)).toMatchObject({ role: "relay-only", primaries: [], relays: 1 });
  });

  it("healthy, policy equal: primaries by headroom at their preference, then the relay", () => {
    const f = poolFixture(MAIL.replace("type: mx", "type: mx\n    policy: equal"));
    f.report("mx-1", 40);
    f.report("mx-2", 10);
    expect(mx(f)).toEqual(["10 mx2.example.com.", "10 mx1.example.com.", "50 relay1.backup.example.net."]);
  });

  it("healthy, policy headroom (the default): one primary first, the other one later, relay last", () => {
    const f = poolFixture(MAIL);
    f.report("mx-1", 40);
    f.report("mx-2", 10);
    expect(mx(f)).toEqual(["10 mx2.example.com.", "11 mx1.example.com.", "50 relay1.backup.example.net."]);
  });

  it("shares first place by headroom, exactly over a cycle: 2:1 headroom gives 2:1 answers", () => {
    const f = poolFixture(MAIL);
    f.report("mx-1", 30); // headroom 50 x (1 - 0.6) = 20
    f.report("mx-2", 10); // headroom 50 x (1 - 0.2) = 40
    const first = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const top = mx(f)[0]!;
      first.set(top, (first.get(top) ?? 0) + 1);
      // Every answer still lists both primaries and the relay.
      expect(mx(f).length).toBe(3);
    }
    // 600 answers in all (two per round above): 400 and 200.
    expect(Object.fromEntries(first)).toEqual({ "10 mx2.example.com.": 200, "10 mx1.example.com.": 100 });
    const shares = f.set.byName
      .get("mail")!
      .status()
      .members.map((m) => [m.id, Math.round(m.share * 100)]);
    expect(shares).toEqual([
      ["mx-1", 33],
      ["mx-2", 67],
      ["mx-9", 0],
    ]);
  });

  it("keeps the split while reports keep arriving: a rebuild does not restart the round robin", () => {
    const f = poolFixture(MAIL);
    const first = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      // Agents report every few seconds, resolvers ask far less often: a rebuild before each answer.
      f.report("mx-1", 30);
      f.report("mx-2", 10);
      const top = mx(f)[0]!;
      first.set(top, (first.get(top) ?? 0) + 1);
    }
    expect(Object.fromEntries(first)).toEqual({ "10 mx2.example.com.": 200, "10 mx1.example.com.": 100 });
  });

  it("keeps the relay strictly after the primaries: no shares when P + 1 would reach it", () => {
    const f = poolFixture(MAIL.replace("preference: 50", "preference: 11"));
    f.report("mx-1", 40);
    f.report("mx-2", 10);
    expect(mx(f)).toEqual(["10 mx2.example.com.", "10 mx1.example.com.", "11 relay1.backup.example.net."]);
  });

  it("degraded: a down primary is left out, the relay stays", () => {
    const f = poolFixture(MAIL);
    f.report("mx-1", 10, { status: "down" });
    f.report("mx-2", 10);
    expect(mx(f)).toEqual(["10 mx2.example.com.", "50 relay1.backup.example.net."]);
  });

  it("all primaries down: the standby is promoted if up, else only the relay", () => {
    const f = poolFixture(MAIL);
    f.report("mx-9", 0);
    expect(mx(f)).toEqual(["10 mx9.example.com.", "50 relay1.backup.example.net."]);
    f.report("mx-9", 0, { status: "down" });
    expect(mx(f)).toEqual(["50 relay1.backup.example.net."]);
  });

  it("carries the targets' addresses in the additional section", () => {
    const f = poolFixture(MAIL);
    f.report("mx-1", 10);
    const a = f.answer("example.com.", T.MX)!;
    expect(a.sections.an).toBe(2);
    expect(a.sections.ar).toBe(1);
    expect(a.sections.essential).toBeLessThan(a.sections.bytes.length);
  });

  it("with no relay and nothing healthy, lists every primary rather than nothing", () => {
    const f = poolFixture(MAIL.replace(/ {4}relays:\n.*\n/, ""));
    expect(mx(f)).toEqual(["10 mx1.example.com.", "10 mx2.example.com."]);
  });

  it("property: every relay is always listed, and never a primary that is not up", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("up", "down", "drain", "busy", "none"), { minLength: 3, maxLength: 3 }),
        (statuses) => {
          const f = poolFixture(MAIL);
          ["mx-1", "mx-2", "mx-9"].forEach((id, i) => {
            if (statuses[i] !== "none") f.report(id, 5, { status: statuses[i] as "up" });
          });
          const got = mx(f);
          expect(got).toContain("50 relay1.backup.example.net.");
          expect(got[got.length - 1]).toBe("50 relay1.backup.example.net.");
          ["mx1", "mx2", "mx9"].forEach((h, i) => {
            if (statuses[i] !== "up") expect(got).not.toContain(`10 ${h}.example.com.`);
          });
          if (statuses[0] === "up" || statuses[1] === "up") expect(got).not.toContain("10 mx9.example.com.");
        },
      ),
    );
  });
});

describe("MX targets that are pool names", () => {
  it("carry the address the target's pool would answer now", () => {
    const f = poolFixture(`
pools:
  mx-hosts:
    names: [mx1.example.com.]
    members:
      - {id: h1, address: 192.0.2.41}
      - {id: h2, address: 192.0.2.42}
  mail:
    type: mx
    names: [example.com.]
    members:
      - {id: mx-1, host: mx1.example.com., preference: 10}
    relays: [{host: relay.example.net., preference: 50}]
`);
    f.report("mx-1", 1);
    f.report("h1", 1, { status: "down" });
    f.report("h2", 1);
    const a = f.answer("example.com.", T.MX)!;
    expect(a.sections.ar).toBe(1);
    const tail = a.sections.bytes.subarray(a.sections.bytes.length - 4);
    expect([...tail].join(".")).toBe("192.0.2.42");
    f.report("h1", 1);
    f.report("h2", 1, { status: "down" });
    const b = f.answer("example.com.", T.MX)!;
    expect([...b.sections.bytes.subarray(b.sections.bytes.length - 4)].join(".")).toBe("192.0.2.41");
    // The spliced message decodes with an independent codec.
    const q = makeQuery("example.com", { type: T.MX });
    const p = parse(buildResponse(q, 7, 0x0100, q.length, null, b.rcode, b.aa, b.sections, 65535));
    expect(p.answers.map((r) => r.exchange)).toEqual(["mx1.example.com", "relay.example.net"]);
    expect(p.additionals.map((r) => [r.name, r.address])).toEqual([["mx1.example.com", "192.0.2.41"]]);
  });
});
