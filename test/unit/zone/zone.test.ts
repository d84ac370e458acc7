/**
 * Zone storage: how a node holds its RRsets and owner. A node keeps one RRset bare and makes its
 * wire owner and memo on first use, so these tests pin the behaviour that compact form must keep.
 */
import { describe, expect, it } from "vitest";
import { parseName, toWire } from "../../../src/proto/name.js";
import { T } from "../../../src/proto/types.js";
import { loadZoneFile } from "../../../src/zone/load.js";
import { lookup } from "../../../src/zone/lookup.js";
import { ZoneSet } from "../../../src/zone/zoneset.js";
import { apex } from "../../helpers/zones.js";

const load = (body: string) => loadZoneFile("/v/example.com.zone", `${apex("example.com.")}${body}`);

describe("zone node: owner", () => {
  it("keeps the owner's case from the zone file", () => {
    const z = load("WWW.Example.COM. A 192.0.2.1\nlower A 192.0.2.2\n");
    expect(z.nodes.get("www.example.com")!.wire).toEqual(toWire(parseName("WWW.Example.COM.", null)));
    expect(z.nodes.get("lower.example.com")!.wire).toEqual(toWire(parseName("lower.example.com.", null)));
  });

  it("rebuilds the owner of a name with escaped octets exactly", () => {
    const z = load("a\\046b A 192.0.2.1\n\\200x\\032y A 192.0.2.2\n");
    for (const text of ["a\\046b.example.com.", "\\200x\\032y.example.com."]) {
      const labels = parseName(text, null);
      const node = [...z.nodes.values()].find((n) => n.wire.equals(toWire(labels)));
      expect(node, text).toBeDefined();
    }
    expect(z.nodes.get("a\\046b.example.com")!.wire).toEqual(toWire(parseName("a\\046b.example.com.", null)));
  });

  it("gives empty non-terminals their owner and no RRsets", () => {
    const z = load("a.B.c A 192.0.2.1\n");
    const ent = z.nodes.get("b.c.example.com")!;
    expect(ent.rrsets).toEqual([]);
    expect(ent.wire).toEqual(toWire(parseName("B.c.example.com.", null)));
  });
});

describe("zone node: RRsets", () => {
  it("keeps types in file order and records of one type together", () => {
    const z = load("w TXT one\nw A 192.0.2.1\nw A 192.0.2.2\nw AAAA 2001:db8::1\nw A 192.0.2.3\n");
    const w = z.nodes.get("w.example.com")!;
    expect(w.rrsets.map((s) => s.type)).toEqual([T.TXT, T.A, T.AAAA]);
    expect(w.rrset(T.A)!.rdatas.map((d) => [...d].join("."))).toEqual([
      "192.0.2.1",
      "192.0.2.2",
      "192.0.2.3",
    ]);
    expect(w.rrset(T.A)!.size).toBe(3);
    expect(w.has(T.MX)).toBe(false);
  });

  it("drops repeated records, even a repeated SOA or CNAME, and counts each kept record once", () => {
    const z = load(
      "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\nc CNAME w\nc CNAME w\nw A 192.0.2.1\nw A 192.0.2.1\n",
    );
    expect(z.nodes.get("c.example.com")!.rrset(T.CNAME)!.size).toBe(1);
    expect(z.nodes.get("w.example.com")!.rrset(T.A)!.size).toBe(1);
    expect(z.recordCount).toBe(5); // SOA, NS, ns1 A, c CNAME, w A
  });

  it("rejects a second, different SOA or CNAME", () => {
    expect(() => load("@ SOA ns1 hostmaster 2 7200 3600 1209600 300\n")).toThrow(/more than one SOA/);
    expect(() => load("c CNAME w\nc CNAME x\n")).toThrow(/more than one CNAME/);
  });

  it("takes the smallest TTL of an RRset and warns", () => {
    const z = load("w 60 A 192.0.2.1\nw 30 A 192.0.2.2\n");
    expect(z.nodes.get("w.example.com")!.rrset(T.A)!.ttl).toBe(30);
    expect(z.warnings.map((w) => w.reason)).toContain("TTL differs within A RRset");
  });
});

describe("zone node: memo", () => {
  it("remembers answers per qtype but shares one NODATA per zone, so odd qtypes cost no memory", () => {
    const set = new ZoneSet([load("w A 192.0.2.1\n")]);
    const node = set.index.get("w.example.com")!;
    expect(node.memo).toBeNull();
    expect(lookup(set, "w.example.com", T.A)).toBe(lookup(set, "w.example.com", T.A));
    for (let qtype = 2; qtype < 300; qtype++) lookup(set, "w.example.com", qtype);
    expect([...node.memo!.keys()].sort((a, b) => a - b)).toEqual([T.A, T.ANY]); // ANY answers with the A set
    expect(lookup(set, "w.example.com", T.MX)).toBe(lookup(set, "ns1.example.com", T.TXT));
  });
});
