import { describe, expect, it } from "vitest";
import { RCODE } from "../../../src/proto/rcode.js";
import { T } from "../../../src/proto/types.js";
import { lookup } from "../../../src/zone/lookup.js";
import { show } from "../../helpers/show.js";
import { apex, zoneSet } from "../../helpers/zones.js";

const zones = zoneSet({
  "example.com.": `${apex("example.com.")}
child        NS ns1.child
child        NS ns2.example.com.
child        NS ns.other.net.
child        DS 12345 13 2 abcdef
ns1.child    A 192.0.2.101
ns1.child    AAAA 2001:db8::101
ns2          A 192.0.2.102
deep.child   TXT "occluded"
`,
});

describe("delegations and glue", () => {
  it("refers queries at and below a cut to the child, with glue, without AA", () => {
    for (const name of ["child.example.com", "www.child.example.com", "a.b.child.example.com"]) {
      const r = show(lookup(zones, name, T.A));
      expect(r).toMatchObject({ kind: "delegation", rcode: RCODE.NOERROR, aa: false, answer: [] });
      expect(r.authority).toEqual([
        "child.example.com 3600 NS ns1.child.example.com",
        "child.example.com 3600 NS ns2.example.com",
        "child.example.com 3600 NS ns.other.net",
      ]);
      expect(r.additional).toEqual([
        "ns1.child.example.com 3600 A 192.0.2.101",
        expect.stringMatching(/^ns1\.child\.example\.com 3600 AAAA/),
        "ns2.example.com 3600 A 192.0.2.102",
      ]);
    }
  });

  it("marks glue below the cut as required", () => {
    expect(lookup(zones, "child.example.com", T.A).glueRequired).toBe(true);
  });

  it("answers DS at the cut from the parent (RFC 4035 §3.1.4.1), and refers DS below it", () => {
    expect(lookup(zones, "child.example.com", T.DS)).toMatchObject({ kind: "success", aa: true });
    expect(lookup(zones, "x.child.example.com", T.DS).kind).toBe("delegation");
  });

  it("never serves occluded data or glue as authoritative", () => {
    expect(lookup(zones, "deep.child.example.com", T.TXT).kind).toBe("delegation");
    expect(lookup(zones, "ns1.child.example.com", T.A).kind).toBe("delegation");
  });

  it("hands names inside a loaded child zone to that zone, not to the parent's referral", () => {
    const both = zoneSet({
      "example.com.": `${apex("example.com.")}child NS ns1.child\nns1.child A 192.0.2.101\n`,
      "child.example.com.": `${apex("child.example.com.")}www A 192.0.2.200\n`,
    });
    expect(show(lookup(both, "www.child.example.com", T.A)).answer).toEqual(["@q 3600 A 192.0.2.200"]);
    expect(lookup(both, "child.example.com", T.SOA).kind).toBe("success");
    expect(lookup(both, "ns1.child.example.com", T.A).kind).toBe("success"); // the child's own ns1
    expect(lookup(both, "nope.child.example.com", T.A).authority[0]!.owner).toEqual(
      both.zones.get("child.example.com")!.apex.wire,
    );
  });
});

describe("DS at a child apex we also serve (RFC 4035 §3.1.4.1)", () => {
  const both = zoneSet({
    "example.com.": `${apex("example.com.")}
child NS ns1.child
child DS 12345 13 2 abcdef
ns1.child A 192.0.2.101
`,
    "child.example.com.": `${apex("child.example.com.")}www A 192.0.2.5\n`,
  });

  it("answers DS from the parent side, everything else from the child", () => {
    const ds = show(lookup(both, "child.example.com", T.DS));
    expect(ds).toMatchObject({ kind: "success", aa: true });
    expect(ds.answer).toEqual([expect.stringMatching(/^@q 3600 DS /)]);
    expect(show(lookup(both, "child.example.com", T.SOA)).answer[0]).toMatch(/^@q 3600 SOA /);
    expect(lookup(both, "child.example.com", T.SOA).zone?.originKey).toBe("child.example.com");
    expect(lookup(both, "child.example.com", T.DS).zone?.originKey).toBe("example.com");
  });
});
