import { describe, expect, it } from "vitest";
import { clientOf, clientScope, subnetKey } from "../../../src/pools/client.js";
import { T } from "../../../src/proto/types.js";
import { Responder } from "../../../src/server/responder.js";
import { makeQuery, Packet, parse } from "../../helpers/packets.js";
import { answerData, poolFixture } from "../../helpers/pools.js";
import { apex, zoneSet } from "../../helpers/zones.js";

/** A query with an ECS option (RFC 7871 layout), optionally malformed on purpose. */
function ecsQuery(name: string, family: number, source: number, address: number[], scope = 0): Buffer {
  const q = makeQuery(name, { edns: { udp: 1232 } });
  const option = Buffer.from([0, 8, 0, 4 + address.length, 0, family, source, scope, ...address]);
  const out = Buffer.concat([q, option]);
  out.writeUInt16BE(option.length, q.length - 2); // OPT RDLENGTH
  return out;
}

const client = (ip: string) => clientOf(null, ip);

describe("EDNS Client Subnet", () => {
  const responder = new Responder(zoneSet({ "example.com.": `${apex("example.com.")}www A 192.0.2.1\n` }));
  const ecsOf = (resp: Buffer) => {
    // The ECS option is the last bytes of the response's OPT RDATA.
    const p = parse(resp);
    expect(p.additionals.some((r) => r.type === Packet.TYPE.EDNS)).toBe(true);
    const tail = resp.subarray(resp.length - 11);
    return {
      code: tail.readUInt16BE(0),
      family: tail.readUInt16BE(4),
      source: tail[6],
      scope: tail[7],
      addr: [...tail.subarray(8)],
    };
  };

  it("echoes family, source prefix and address, with scope 0 for answers that do not depend on the client", () => {
    const resp = responder.answer(ecsQuery("www.example.com", 1, 24, [198, 51, 100]), "udp")!;
    expect(parse(resp).header.rcode).toBe(0);
    expect(ecsOf(resp)).toEqual({ code: 8, family: 1, source: 24, scope: 0, addr: [198, 51, 100] });
  });

  it("answers FORMERR for malformed ECS (RFC 7871 §7.1.2)", () => {
    const bad = [
      ecsQuery("www.example.com", 3, 24, [1, 2, 3]), // unknown family
      ecsQuery("www.example.com", 1, 33, [1, 2, 3, 4, 5]), // prefix beyond 32
      ecsQuery("www.example.com", 1, 24, [1, 2, 3], 24), // scope set in a query
      ecsQuery("www.example.com", 1, 24, [1, 2, 3, 4]), // address longer than the prefix
      ecsQuery("www.example.com", 1, 20, [1, 2, 0x3f]), // bits set beyond the prefix
    ];
    for (const q of bad) expect(parse(responder.answer(q, "udp")!).header.rcode).toBe(1);
  });

  it("takes the client from ECS (capped at /24 and /56) or from the source address", () => {
    expect(client("198.51.100.77")).toMatchObject({
      family: 4,
      prefix: 32,
      address: Uint8Array.from([198, 51, 100, 77]),
    });
    expect(client("::ffff:203.0.113.9")).toMatchObject({ family: 4, prefix: 32 });
    expect(clientScope(client("2001:db8:e:1234::1")!)).toBe(56);
    expect(clientScope(client("198.51.100.77")!)).toBe(24);
    // the same /24 is the same sticky key; another /24 is not
    expect(subnetKey(client("198.51.100.77")!)).toBe(subnetKey(client("198.51.100.3")!));
    expect(subnetKey(client("198.51.100.77")!)).not.toBe(subnetKey(client("198.51.101.77")!));
    expect(client("not-an-ip")).toBeNull();
  });
});

const REGIONS = `
regions:
  east: [198.51.100.0/24]
  west: [203.0.113.0/24]
  central: [192.0.2.128/25]
region-order:
  east: [east, west, central]
pools:
  web:
    names: [www.example.com.]
    prefer: region
    spill-at: 0.7
    members:
      - {id: e1, address: 10.0.0.1, region: east}
      - {id: e2, address: 10.0.0.2, region: east}
      - {id: w1, address: 10.0.1.1, region: west}
      - {id: c1, address: 10.0.2.1, region: central}
`;

function seen(f: ReturnType<typeof poolFixture>, ip: string, n = 200): string[] {
  const out = new Set<string>();
  const pool = f.set.byName.get("web")!;
  for (let i = 0; i < n; i++) out.add(answerData(pool.answer(T.A, client(ip)))[0]!);
  return [...out].sort();
}

describe("regions", () => {
  it("answers from the client's region first", () => {
    const f = poolFixture(REGIONS);
    for (const id of ["e1", "e2", "w1", "c1"]) f.report(id, 10);
    expect(seen(f, "198.51.100.5")).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(seen(f, "203.0.113.5")).toEqual(["10.0.1.1"]);
    expect(seen(f, "192.0.2.200")).toEqual(["10.0.2.1"]);
    expect(seen(f, "192.0.2.5", 400)).toEqual(["10.0.0.1", "10.0.0.2", "10.0.1.1", "10.0.2.1"]); // no region: anyone
  });

  it("spills to the next region in order when the local one is down or above spill-at", () => {
    const f = poolFixture(REGIONS);
    for (const id of ["e1", "e2", "w1", "c1"]) f.report(id, 10);
    f.report("e1", 75);
    f.report("e2", 60); // east at 67%: still below spill-at 0.7
    expect(seen(f, "198.51.100.5")).toEqual(["10.0.0.1", "10.0.0.2"]);
    f.report("e2", 70); // east at 72.5%: spill to west
    expect(seen(f, "198.51.100.5")).toEqual(["10.0.1.1"]);
    f.report("w1", 10, { status: "down" }); // west gone too: central
    expect(seen(f, "198.51.100.5")).toEqual(["10.0.2.1"]);
    f.report("c1", 10, { status: "down" }); // nothing below spill-at: the first region with anyone left
    expect(seen(f, "198.51.100.5")).toEqual(["10.0.0.1", "10.0.0.2"]);
  });
});

describe("stickiness", () => {
  const N = 30;
  const yaml = (ids: number[]) =>
    `pools:\n  web:\n    names: [www.example.com.]\n    sticky: true\n    slow-start: 0s\n    members:\n${ids
      .map((i) => `      - {id: m${i}, address: 10.1.${i >> 8}.${i & 255}}`)
      .join("\n")}\n`;
  const subnets = Array.from({ length: 10_000 }, (_, i) => `100.${(i >> 8) & 255}.${i & 255}.1`);
  const assign = (ids: number[]) => {
    const f = poolFixture(yaml(ids));
    for (const i of ids) f.report(`m${i}`, 10);
    const pool = f.set.byName.get("web")!;
    return subnets.map((ip) => answerData(pool.answer(T.A, client(ip)))[0]!);
  };
  const base = Array.from({ length: N }, (_, i) => i);
  const before = assign(base);

  it("keeps every client on its server when another member is removed; only that member's clients move", () => {
    const removed = "10.1.0.7";
    const after = assign(base.filter((i) => i !== 7));
    let kept = 0;
    let moved = 0;
    before.forEach((b, k) => {
      if (b === removed) moved++;
      else if (after[k] === b) kept++;
    });
    expect(kept).toBe(10_000 - moved);
    expect(moved / 10_000).toBeGreaterThan(0.5 / N);
    expect(moved / 10_000).toBeLessThan(2 / N);
  });

  it("keeps at least 95% of clients when a member is added", () => {
    const after = assign([...base, N]);
    const kept = before.filter((b, k) => after[k] === b).length;
    expect(kept / 10_000).toBeGreaterThanOrEqual(0.95);
  });

  it("keeps every client on its server when loads change (below the shed threshold)", () => {
    const f = poolFixture(yaml(base));
    const pool = f.set.byName.get("web")!;
    for (const i of base) f.report(`m${i}`, 10);
    const calm = subnets.map((ip) => answerData(pool.answer(T.A, client(ip)))[0]!);
    for (const i of base) f.report(`m${i}`, 5 + ((i * 37) % 80)); // loads from 5% to 84%
    const busy = subnets.map((ip) => answerData(pool.answer(T.A, client(ip)))[0]!);
    expect(busy).toEqual(calm);
  });

  it("gives the same answer to the same subnet every time", () => {
    const again = assign(base);
    expect(again).toEqual(before);
  });
});

describe("slow start, adaptive TTL, response time", () => {
  it("ramps a member's share up linearly after it comes back from down", () => {
    const f = poolFixture(
      `pools:\n  web:\n    names: [www.example.com.]\n    stale-after: 10m\n    slow-start: 30s\n    members:\n      - {id: a, address: 10.0.0.1}\n      - {id: b, address: 10.0.0.2}\n`,
    );
    f.report("a", 0);
    f.report("b", 0);
    const shareOfB = () =>
      f.set.byName
        .get("web")!
        .status()
        .members.find((m) => m.id === "b")!.share;
    expect(shareOfB()).toBeCloseTo(0.5); // first appearance: no ramp
    f.report("b", 0, { status: "down" });
    f.report("b", 0);
    expect(shareOfB()).toBeCloseTo(0.05 / 1.05, 2); // floor 5% just after coming back
    f.advance(15_000);
    expect(shareOfB()).toBeCloseTo(0.5 / 1.5, 2);
    f.advance(15_000);
    expect(shareOfB()).toBeCloseTo(0.5, 2);
  });

  it("answers short TTLs near the shed threshold and after a change, long ones when calm", () => {
    const f = poolFixture(
      `pools:\n  web:\n    names: [www.example.com.]\n    stale-after: 10m\n    ttl: {min: 5, max: 60}\n    members:\n      - {id: a, address: 10.0.0.1}\n`,
    );
    const ttl = () => f.answer("www.example.com.")!.sections.bytes.readUInt32BE(6);
    f.report("a", 10);
    expect(ttl()).toBe(5); // it just changed (became available)
    f.advance(61_000);
    f.report("a", 10);
    expect(ttl()).toBe(60);
    f.report("a", 75); // within 0.2 of max-utilization 0.9
    expect(ttl()).toBe(5);
    for (let i = 0; i < 50; i++) expect([5, 60]).toContain(ttl());
  });

  it("weighs by response time with weigh-rtt", () => {
    const f = poolFixture(
      `pools:\n  web:\n    names: [www.example.com.]\n    weigh-rtt: true\n    members:\n      - {id: a, address: 10.0.0.1}\n      - {id: b, address: 10.0.0.2}\n`,
    );
    f.report("a", 10, { metrics: { rttMs: 10 } });
    f.report("b", 10, { metrics: { rttMs: 30 } });
    const shares = f.set.byName
      .get("web")!
      .status()
      .members.map((m) => m.share);
    expect(shares[0]).toBeCloseTo(0.75, 2);
    expect(shares[1]).toBeCloseTo(0.25, 2);
  });
});
