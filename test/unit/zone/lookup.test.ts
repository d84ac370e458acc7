import { describe, expect, it } from "vitest";
import { RCODE } from "../../../src/proto/rcode.js";
import { T } from "../../../src/proto/types.js";
import { lookup } from "../../../src/zone/lookup.js";
import { show } from "../../helpers/show.js";
import { apex, zoneSet } from "../../helpers/zones.js";

const zones = zoneSet({
  "example.com.": `${apex("example.com.", 3600, 300)}
www 60 A 192.0.2.1
www 60 A 192.0.2.2
www TXT "hello"
@ MX 10 mail
mail A 192.0.2.25
mail AAAA 2001:db8::25
@ MX 20 mx.elsewhere.net.
`,
  "example.net.": `${apex("example.net.", 100, 900)}host A 198.51.100.1\n`,
});

describe("lookup: answers and negative answers", () => {
  it("answers an RRset with AA, owner = query name", () => {
    expect(show(lookup(zones, "www.example.com", T.A))).toEqual({
      kind: "success",
      rcode: RCODE.NOERROR,
      aa: true,
      answer: ["@q 60 A 192.0.2.1", "@q 60 A 192.0.2.2"],
      authority: [],
      additional: [],
    });
  });

  it("gives NODATA with the SOA at TTL min(SOA TTL, MINIMUM) when the name has other types", () => {
    const r = show(lookup(zones, "www.example.com", T.AAAA));
    expect(r.kind).toBe("nodata");
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(r.answer).toEqual([]);
    expect(r.authority).toEqual([expect.stringMatching(/^example\.com 300 SOA /)]);
    // SOA TTL 100 < MINIMUM 900: the SOA TTL wins (RFC 2308 §5)
    expect(show(lookup(zones, "nothing.example.net", T.A)).authority[0]).toMatch(/^example\.net 100 SOA /);
  });

  it("gives NXDOMAIN with the SOA for names that do not exist", () => {
    const r = show(lookup(zones, "nope.example.com", T.A));
    expect(r).toMatchObject({ kind: "nxdomain", rcode: RCODE.NXDOMAIN, aa: true, answer: [] });
    expect(r.authority).toHaveLength(1);
  });

  it("refuses names outside every zone (never an open resolver)", () => {
    const r = lookup(zones, "www.example.org", T.A);
    expect(r).toMatchObject({ kind: "refused", rcode: RCODE.REFUSED, aa: false });
    expect(lookup(zones, "com", T.A).kind).toBe("refused");
    expect(lookup(zones, "", T.NS).kind).toBe("refused");
  });

  it("adds in-zone addresses of MX targets to the additional section, not out-of-zone ones", () => {
    const r = show(lookup(zones, "example.com", T.MX));
    expect(r.answer).toEqual(["@q 3600 MX 10 mail.example.com", "@q 3600 MX 20 mx.elsewhere.net"]);
    expect(r.additional).toEqual([
      "mail.example.com 3600 A 192.0.2.25",
      expect.stringMatching(/^mail\.example\.com 3600 AAAA /),
    ]);
  });

  it("answers ANY with a single RRset (RFC 8482)", () => {
    const r = lookup(zones, "www.example.com", T.ANY);
    expect(r.kind).toBe("success");
    expect(new Set(r.answer.map((rr) => rr.type)).size).toBe(1);
    expect(lookup(zones, "nope.example.com", T.ANY).kind).toBe("nxdomain");
  });

  it("returns the same memoised result for repeated queries", () => {
    expect(lookup(zones, "www.example.com", T.A)).toBe(lookup(zones, "www.example.com", T.A));
    expect(lookup(zones, "x.example.com", T.A)).toBe(lookup(zones, "y.example.com", T.AAAA));
  });
});
