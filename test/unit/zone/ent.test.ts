import { describe, expect, it } from "vitest";
import { RCODE } from "../../../src/proto/rcode.js";
import { T } from "../../../src/proto/types.js";
import { lookup } from "../../../src/zone/lookup.js";
import { apex, zoneSet } from "../../helpers/zones.js";

const zones = zoneSet({ "example.com.": `${apex("example.com.")}a.b.c A 192.0.2.1\n` });

describe("empty non-terminals", () => {
  it("answers NODATA, not NXDOMAIN, for names that exist only because names below them do", () => {
    for (const name of ["b.c.example.com", "c.example.com"]) {
      const r = lookup(zones, name, T.A);
      expect(r.kind, name).toBe("nodata");
      expect(r.rcode).toBe(RCODE.NOERROR);
      expect(r.authority).toHaveLength(1);
    }
    expect(lookup(zones, "x.c.example.com", T.A).kind).toBe("nxdomain");
  });
});
