/**
 * RDATA presentation forms: every record of the type zones (test/fixtures/differential/types.test.zone,
 * test/fixtures/syntax/hip.test.zone) is shown and read back to the same wire octets. That the wire
 * octets are right is checked against BIND (checkzone.test.ts) and NSD and Knot (differential.test.ts).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../../harness/procs.js";
import { lex } from "../../../src/proto/lexer.js";
import { parseName } from "../../../src/proto/name.js";
import { formatRdata, parseRdata, RdataError } from "../../../src/proto/rdata.js";
import { T, typeName } from "../../../src/proto/types.js";
import { loadZoneFile } from "../../../src/zone/load.js";

function records(file: string) {
  const zone = loadZoneFile(join(ROOT, file));
  return [...zone.nodes.values()].flatMap((n) =>
    n.rrsets.flatMap((s) => s.rdatas.map((rdata) => ({ type: s.type, rdata }))),
  );
}

const origin = parseName("types.test.", null);
const parse = (type: number, text: string) =>
  parseRdata(type, lex(`x ${text}\n`)[0]!.tokens.slice(1), origin).wire;

describe("RDATA presentation round trip", () => {
  const all = [
    ...records("test/fixtures/differential/types.test.zone"),
    ...records("test/fixtures/syntax/hip.test.zone"),
  ];

  it("covers every type the zone files use", () => {
    const types = new Set(all.map((r) => typeName(r.type)));
    for (const t of ["LOC", "SVCB", "HTTPS", "URI", "CDS", "CDNSKEY", "RRSIG", "NSEC", "NSEC3", "NSEC3PARAM"])
      expect(types).toContain(t);
    for (const t of [
      "OPENPGPKEY",
      "SMIMEA",
      "ZONEMD",
      "CERT",
      "IPSECKEY",
      "KX",
      "AFSDB",
      "APL",
      "DHCID",
      "HIP",
    ])
      expect(types).toContain(t);
    for (const t of ["EUI48", "EUI64", "L32", "L64", "LP", "NID", "CSYNC", "CAA"]) expect(types).toContain(t);
  });

  it("reads back what it shows, for every record", () => {
    for (const r of all) {
      const text = formatRdata(r.type, r.rdata);
      expect(parse(r.type, text).toString("hex"), `${typeName(r.type)} ${text}`).toBe(
        r.rdata.toString("hex"),
      );
    }
  });
});

describe("RDATA fields", () => {
  it("encodes RRSIG times as UTC seconds, from YYYYMMDDHHmmSS or a number (RFC 4034 §3.2)", () => {
    const a = parse(T.RRSIG, "A 13 3 300 20261231000000 20261201000000 1 types.test. AAAA");
    const b = parse(
      T.RRSIG,
      `A 13 3 300 ${Date.UTC(2026, 11, 31) / 1000} ${Date.UTC(2026, 11, 1) / 1000} 1 types.test. AAAA`,
    );
    expect(a.toString("hex")).toBe(b.toString("hex"));
  });

  it("writes type bitmaps window by window, each as short as it can be (RFC 4034 §4.1.2)", () => {
    // Window 0, 6 octets: A (1) 0x40 | MX (15) 0x01 | 0 | 0 | 0 | RRSIG (46) 0x02 + NSEC (47) 0x01.
    // Window 4, 27 octets: TYPE1234 is 4*256 + 210, octet 26, bit 2: 0x20.
    expect(parse(T.NSEC, "a.types.test. A MX RRSIG NSEC TYPE1234").subarray(14).toString("hex")).toBe(
      `000640010000000304${"1b"}${"00".repeat(26)}20`,
    );
  });

  it("writes LOC by RFC 1876 §2's rules (the §3 example, cambridge-net.kei.com)", () => {
    // size 30m = 3e3 cm: 0x33; horizontal 10000m = 1e6 cm: 0x16; vertical 10m = 1e3 cm: 0x13.
    // 42°21'54" N = 152,514,000 thousandths above 2^31: 0x89172dd0; 71°06'18" W = 255,978,000
    // below: 0x70be15f0; -24m = 10,000,000 - 2,400 cm: 0x00988d20.
    expect(parse(T.LOC, "42 21 54 N 71 06 18 W -24m 30m").toString("hex")).toBe(
      "00331613" + "89172dd0" + "70be15f0" + "00988d20",
    );
  });

  it("sorts SVCB parameters by key and rejects a repeated one (RFC 9460 §2.2)", () => {
    const w = parse(T.SVCB, "1 . port=443 alpn=h2");
    expect(w.readUInt16BE(3)).toBe(1); // alpn before port
    expect(() => parse(T.SVCB, "1 . port=1 port=2")).toThrow(RdataError);
    expect(() => parse(T.SVCB, "0 . alpn=h2")).toThrow(/AliasMode/);
  });

  it("names the field that is wrong", () => {
    expect(() => parse(T.EUI48, "00-00-5e-00-53")).toThrow(/is not an EUI-48/);
    expect(() => parse(T.NSEC3PARAM, "1 0 0 XYZ")).toThrow(/is not a salt/);
    expect(() => parse(T.APL, "3:1.2.3.4/8")).toThrow(/is not an APL item/);
  });
});
