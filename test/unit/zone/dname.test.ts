/** DNAME redirection (RFC 6672), checked against the lookup directly; the differential run checks it against NSD and Knot. */
import { describe, expect, it } from "vitest";
import { RCODE } from "../../../src/proto/rcode.js";
import { T } from "../../../src/proto/types.js";
import { lookup } from "../../../src/zone/lookup.js";
import { show } from "../../helpers/show.js";
import { apex, zoneSet } from "../../helpers/zones.js";

const zones = zoneSet({
  "example.com.": `${apex("example.com.")}
old DNAME new
old A 192.0.2.1
new A 192.0.2.2
www.new A 192.0.2.3
away DNAME example.org.
c CNAME www.old
long DNAME ${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.example.com.
sub NS ns.sub
ns.sub A 192.0.2.9
x.sub DNAME new
`,
});

describe("DNAME (RFC 6672)", () => {
  it("synthesises a CNAME for a name below the owner and follows it in zone (§3.1, §3.2)", () => {
    expect(show(lookup(zones, "www.old.example.com", T.A))).toMatchObject({
      rcode: RCODE.NOERROR,
      aa: true,
      answer: [
        "old.example.com 3600 DNAME new.example.com",
        "@q 3600 CNAME www.new.example.com",
        "www.new.example.com 3600 A 192.0.2.3",
      ],
    });
  });

  it("does not redirect the owner itself (§2.3)", () => {
    expect(show(lookup(zones, "old.example.com", T.A)).answer).toEqual(["@q 3600 A 192.0.2.1"]);
    expect(show(lookup(zones, "old.example.com", T.DNAME)).answer).toEqual(["@q 3600 DNAME new.example.com"]);
  });

  it("gives the rcode of the end of the chain: NXDOMAIN when the new name does not exist", () => {
    const r = show(lookup(zones, "nope.old.example.com", T.A));
    expect(r.rcode).toBe(RCODE.NXDOMAIN);
    expect(r.answer).toEqual([
      "old.example.com 3600 DNAME new.example.com",
      "@q 3600 CNAME nope.new.example.com",
    ]);
    expect(r.authority[0]).toMatch(/ SOA /);
  });

  it("leaves an out-of-zone target to the resolver", () => {
    expect(show(lookup(zones, "www.away.example.com", T.A)).answer).toEqual([
      "away.example.com 3600 DNAME example.org",
      "@q 3600 CNAME www.example.org",
    ]);
  });

  it("is followed from a CNAME chain too", () => {
    expect(show(lookup(zones, "c.example.com", T.A)).answer).toEqual([
      "@q 3600 CNAME www.old.example.com",
      "old.example.com 3600 DNAME new.example.com",
      "www.old.example.com 3600 CNAME www.new.example.com",
      "www.new.example.com 3600 A 192.0.2.3",
    ]);
  });

  it("answers YXDOMAIN when the new name would exceed 255 octets (§2.2)", () => {
    const r = show(lookup(zones, `${"x".repeat(60)}.long.example.com`, T.A));
    expect(r.rcode).toBe(RCODE.YXDOMAIN);
    expect(r.answer).toEqual([expect.stringMatching(/^long\.example\.com 3600 DNAME /)]);
  });

  it("gives way to a delegation above it (the DNAME below a cut is occluded)", () => {
    expect(show(lookup(zones, "a.x.sub.example.com", T.A)).kind).toBe("delegation");
  });

  it("answers a CNAME question with the DNAME and the synthesised CNAME only", () => {
    expect(show(lookup(zones, "www.old.example.com", T.CNAME)).answer).toEqual([
      "old.example.com 3600 DNAME new.example.com",
      "@q 3600 CNAME www.new.example.com",
    ]);
  });
});
