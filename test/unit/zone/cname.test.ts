import { describe, expect, it } from "vitest";
import { RCODE } from "../../../src/proto/rcode.js";
import { T } from "../../../src/proto/types.js";
import { lookup } from "../../../src/zone/lookup.js";
import { show } from "../../helpers/show.js";
import { apex, zoneSet } from "../../helpers/zones.js";

const zones = zoneSet({
  "example.com.": `${apex("example.com.")}
a CNAME b
b CNAME c
c A 192.0.2.3
out CNAME www.example.org.
dangling CNAME missing
nodata CNAME c
loop1 CNAME loop2
loop2 CNAME loop1
deleg CNAME x.child
child NS ns.other.net.
`,
});

describe("CNAME chasing", () => {
  it("follows a chain inside the zone", () => {
    expect(show(lookup(zones, "a.example.com", T.A)).answer).toEqual([
      "@q 3600 CNAME b.example.com",
      "b.example.com 3600 CNAME c.example.com",
      "c.example.com 3600 A 192.0.2.3",
    ]);
  });

  it("answers the CNAME itself for qtype CNAME and ANY", () => {
    expect(show(lookup(zones, "a.example.com", T.CNAME)).answer).toEqual(["@q 3600 CNAME b.example.com"]);
    expect(show(lookup(zones, "a.example.com", T.ANY)).answer).toEqual(["@q 3600 CNAME b.example.com"]);
  });

  it("stops at an out-of-zone target and leaves the rest to the resolver", () => {
    const r = show(lookup(zones, "out.example.com", T.A));
    expect(r).toMatchObject({
      kind: "success",
      rcode: RCODE.NOERROR,
      answer: ["@q 3600 CNAME www.example.org"],
    });
  });

  it("takes the rcode of the last name in the chain (RFC 6604)", () => {
    const nx = show(lookup(zones, "dangling.example.com", T.A));
    expect(nx).toMatchObject({
      kind: "nxdomain",
      rcode: RCODE.NXDOMAIN,
      answer: ["@q 3600 CNAME missing.example.com"],
    });
    expect(nx.authority).toHaveLength(1);
    const nodata = show(lookup(zones, "nodata.example.com", T.TXT));
    expect(nodata).toMatchObject({ kind: "nodata", rcode: RCODE.NOERROR });
    expect(nodata.answer).toHaveLength(1);
  });

  it("stops on loops and at delegations", () => {
    const loop = lookup(zones, "loop1.example.com", T.A);
    expect(loop.answer.length).toBeLessThanOrEqual(3);
    expect(loop.rcode).toBe(RCODE.NOERROR);
    expect(show(lookup(zones, "deleg.example.com", T.A)).answer).toEqual([
      "@q 3600 CNAME x.child.example.com",
    ]);
  });

  it("never repeats the first CNAME when a loop returns to the query name", () => {
    expect(show(lookup(zones, "loop1.example.com", T.A)).answer).toEqual([
      "@q 3600 CNAME loop2.example.com",
      "loop2.example.com 3600 CNAME loop1.example.com",
    ]);
  });

  it("ends a chain into a delegation with that delegation's referral (as NSD and Knot)", () => {
    const r = show(lookup(zones, "deleg.example.com", T.A));
    expect(r).toMatchObject({ rcode: RCODE.NOERROR, aa: true });
    expect(r.authority).toEqual(["child.example.com 3600 NS ns.other.net"]);
  });
});
