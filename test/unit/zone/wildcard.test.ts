/** RFC 4592 §2.2.1 example zone, trimmed to what lbdns serves. */
import { describe, expect, it } from "vitest";
import { T } from "../../../src/proto/types.js";
import { lookup } from "../../../src/zone/lookup.js";
import { show } from "../../helpers/show.js";
import { apex, zoneSet } from "../../helpers/zones.js";

const zones = zoneSet({
  "example.": `${apex("example.")}
*            TXT "this is a wildcard"
*            MX 10 host1.example.
sub.*        TXT "this is not a wildcard"
host1        A 192.0.2.1
_ssh._tcp.host1 SRV 0 0 22 host1.example.
subdel       NS ns.example.com.
subdel       NS ns.example.net.
*.alias      CNAME host1
`,
});

describe("wildcards (RFC 4592)", () => {
  it("synthesises answers for names that do not exist, with the query name as owner", () => {
    expect(show(lookup(zones, "host3.example", T.MX)).answer).toEqual(["@q 3600 MX 10 host1.example"]);
    expect(show(lookup(zones, "host3.example", T.MX)).additional).toEqual(["host1.example 3600 A 192.0.2.1"]);
    expect(show(lookup(zones, "a.b.c.example", T.TXT)).answer).toEqual(["@q 3600 TXT this is a wildcard"]);
  });

  it("gives NODATA when the wildcard has no RRset of the type", () => {
    expect(lookup(zones, "host3.example", T.A).kind).toBe("nodata");
  });

  it("does not apply below a name that exists (host1 is the closest encloser)", () => {
    expect(lookup(zones, "host1.example", T.MX).kind).toBe("nodata");
    expect(lookup(zones, "sub.host1.example", T.TXT).kind).toBe("nxdomain");
  });

  it("does not apply at an empty non-terminal (_tcp.host1 exists as an ENT)", () => {
    expect(lookup(zones, "_tcp.host1.example", T.A).kind).toBe("nodata");
    expect(lookup(zones, "_foo._tcp.host1.example", T.A).kind).toBe("nxdomain");
  });

  it("treats the ENT *.example (parent of sub.*) as existing and its wildcard as the source", () => {
    expect(lookup(zones, "foo.bar.example", T.TXT).kind).toBe("success");
    // "*" is an existing node: a literal query for it matches it exactly
    expect(show(lookup(zones, "*.example", T.TXT)).answer).toEqual(["@q 3600 TXT this is a wildcard"]);
    expect(show(lookup(zones, "sub.*.example", T.TXT)).answer).toEqual([
      "@q 3600 TXT this is not a wildcard",
    ]);
  });

  it("never synthesises below a delegation", () => {
    expect(lookup(zones, "ghost.subdel.example", T.TXT).kind).toBe("delegation");
  });

  it("follows a wildcard CNAME", () => {
    const r = show(lookup(zones, "anything.alias.example", T.A));
    expect(r.answer).toEqual(["@q 3600 CNAME host1.example", "host1.example 3600 A 192.0.2.1"]);
  });
});

describe("additional processing through wildcards (RFC 4592, as Knot)", () => {
  const zones = zoneSet({
    "example.com.": `${apex("example.com.")}
@ MX 10 w.wild
@ MX 20 gone.nowild
*.wild A 192.0.2.27
*.wild AAAA 2001:db8::27
_sip._udp SRV 0 0 5060 sip.wild
`,
  });

  it("gives a target that exists only through a wildcard the addresses a query for it would get", () => {
    expect(show(lookup(zones, "example.com", T.MX)).additional).toEqual([
      "w.wild.example.com 3600 A 192.0.2.27",
      expect.stringMatching(/^w\.wild\.example\.com 3600 AAAA /),
    ]);
    expect(show(lookup(zones, "_sip._udp.example.com", T.SRV)).additional).toEqual([
      "sip.wild.example.com 3600 A 192.0.2.27",
      expect.stringMatching(/^sip\.wild\.example\.com 3600 AAAA /),
    ]);
  });
});
