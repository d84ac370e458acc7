import { afterEach, describe, expect, it } from "vitest";
import { parseName } from "../../../src/proto/name.js";
import { T } from "../../../src/proto/types.js";
import { loadZoneDir, loadZoneFile } from "../../../src/zone/load.js";
import { parseMasterFile, ZoneFileError } from "../../../src/zone/masterfile.js";
import { ZoneError } from "../../../src/zone/zone.js";
import { apex, tempDir } from "../../helpers/zones.js";

const origin = parseName("example.com.", null);
const noFiles = (p: string): string => {
  throw new Error(`no such file ${p}`);
};
const parse = (text: string) => parseMasterFile(text, "t.zone", origin, noFiles);

describe("master file parsing", () => {
  it("joins parenthesised lines and ignores comments, including ';' inside quotes", () => {
    const rrs = parse(`$TTL 1h
@ IN SOA ns1 hostmaster ( 2024010101 ; serial
   7200 3600 ; refresh retry
   2w 300 )
@ TXT "a;b" ; comment
`);
    expect(rrs).toHaveLength(2);
    expect(rrs[0]!.ttl).toBe(3600);
    expect(rrs[0]!.rdata.readUInt32BE(rrs[0]!.rdata.length - 8)).toBe(1209600);
    expect(rrs[1]!.rdata.toString("latin1")).toBe("\x03a;b");
    expect(rrs[1]!.line).toBe(5);
  });

  it("inherits the owner on lines that start with white space, and accepts TTL and class in either order", () => {
    const rrs = parse(`www 60 IN A 192.0.2.1
    IN 120 AAAA 2001:db8::1
    MX 10 mail.example.net.
`);
    expect(rrs.map((r) => [r.key, r.type, r.ttl])).toEqual([
      ["www.example.com", T.A, 60],
      ["www.example.com", T.AAAA, 120],
      ["www.example.com", T.MX, 120],
    ]);
  });

  it("takes the SOA minimum as TTL when there is no $TTL and no explicit TTL", () => {
    const rrs = parse(`@ IN SOA ns1 host 1 2 3 4 77
www IN A 192.0.2.1`);
    expect(rrs[1]!.ttl).toBe(77);
  });

  it("applies $ORIGIN to later relative names", () => {
    const rrs = parse(`$TTL 60
$ORIGIN sub.example.com.
www A 192.0.2.1
$ORIGIN example.com.
www A 192.0.2.2`);
    expect(rrs.map((r) => r.key)).toEqual(["www.sub.example.com", "www.example.com"]);
  });

  it("reads $INCLUDE relative to the including file, with its own origin", () => {
    const files: Record<string, string> = {
      "/z/inc/hosts": "host A 192.0.2.9\n$ORIGIN other.example.com.\nx A 192.0.2.8",
    };
    const rrs = parseMasterFile(
      "$TTL 60\n$INCLUDE inc/hosts lab.example.com.\nafter A 192.0.2.7\n",
      "/z/example.com.zone",
      origin,
      (p) => files[p] ?? noFiles(p),
    );
    expect(rrs.map((r) => r.key)).toEqual([
      "host.lab.example.com",
      "x.other.example.com",
      "after.example.com",
    ]);
    expect(rrs[0]!.file).toBe("/z/inc/hosts");
  });

  it("encodes the common types and the RFC 3597 generic form", () => {
    const rrs = parse(`$TTL 60
a A 192.0.2.1
a AAAA 2001:db8::1
s SRV 10 20 5060 sip
c CAA 0 issue "ca.example.net"
t TXT "hello \\"world\\"" unquoted \\065
g TYPE65000 \\# 3 010203
g2 A \\# 4 c0000201
d DS 12345 13 2 ABCDEF01
k DNSKEY 257 3 13 AAECAwQ=
h HINFO "PC" "Linux"
n NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp
`);
    expect(rrs[0]!.rdata).toEqual(Buffer.from([192, 0, 2, 1]));
    expect(rrs[1]!.rdata.length).toBe(16);
    expect(rrs[2]!.target!.map((l) => l.toString())).toEqual(["sip", "example", "com"]);
    expect(rrs[3]!.rdata).toEqual(Buffer.concat([Buffer.from([0, 5]), Buffer.from("issueca.example.net")]));
    expect(rrs[4]!.rdata).toEqual(Buffer.from('\x0dhello "world"\x08unquoted\x01A', "latin1"));
    expect(rrs[5]!.type).toBe(65000);
    expect(rrs[5]!.rdata).toEqual(Buffer.from([1, 2, 3]));
    expect(rrs[6]!.rdata).toEqual(Buffer.from([192, 0, 2, 1]));
    expect(rrs[7]!.rdata).toEqual(Buffer.from("30390d02abcdef01", "hex"));
    expect(rrs[8]!.rdata).toEqual(Buffer.from("0101030d0001020304", "hex"));
    expect(rrs.map((r) => r.type).slice(9)).toEqual([T.HINFO, T.NAPTR]);
  });

  it("names file:line and the reason for each kind of error", () => {
    const cases: [string, RegExp][] = [
      ["$TTL 60\nwww A 300.1.1.1", /t\.zone:2: '300\.1\.1\.1' is not an IPv4 address/],
      ["$TTL 60\n\nwww BOGUS 1", /t\.zone:3: unknown record type 'BOGUS'/],
      ["$TTL 60\nwww A (192.0.2.1", /t\.zone:2: unbalanced/],
      ['$TTL 60\nwww TXT "open', /t\.zone:2: unterminated quoted string/],
      ["$TTL 60\nwww MX 70000 mx", /t\.zone:2: '70000' is not a valid 16-bit number/],
      ["$TTL 60\nwww A 192.0.2.1 extra", /t\.zone:2: unexpected extra RDATA/],
      ["www A 192.0.2.1", /t\.zone:1: no TTL/],
      ["$TTL 60\nwww CH TXT x", /t\.zone:2: class TXT/],
      ["$TTL 60\nx TYPE1 \\# 3 0102", /generic RDATA length is 2, declared 3/],
      ["$GENERATE 1-3 a$ A 1.2.3.$", /unsupported directive \$GENERATE/],
      ["$TTL 60\nx X25 311061700956", /RFC 3597/], // a type with no presentation format here
    ];
    for (const [text, re] of cases) {
      expect(() => parse(text), text).toThrow(ZoneFileError);
      expect(() => parse(text), text).toThrow(re);
    }
  });
});

describe("zone building", () => {
  it("requires SOA and NS at the apex and rejects CNAME with other data", () => {
    expect(() => loadZoneFile("/v/example.com.zone", "$TTL 60\n@ NS ns1\n")).toThrow(/no SOA/);
    expect(() => loadZoneFile("/v/example.com.zone", "$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n")).toThrow(/no NS/);
    expect(() =>
      loadZoneFile("/v/example.com.zone", `${apex("example.com.")}w CNAME x\nw A 192.0.2.1\n`),
    ).toThrow(/example\.com\.zone:\d+: CNAME and other data/);
    expect(() => loadZoneFile("/v/example.com.zone", `${apex("example.com.")}x SOA a b 1 2 3 4 5\n`)).toThrow(
      ZoneError,
    );
  });

  it("drops duplicate records and ignores out-of-zone data with a warning", () => {
    const z = loadZoneFile(
      "/v/example.com.zone",
      `${apex("example.com.")}w A 192.0.2.1\nw A 192.0.2.1\nother.org. A 192.0.2.2\n`,
    );
    expect(z.nodes.get("w.example.com")!.rrset(T.A)!.rdatas).toHaveLength(1);
    expect(z.warnings.map((w) => w.reason)).toContain("ignoring out-of-zone data other.org.");
  });
});

describe("zone directory", () => {
  let tmp: ReturnType<typeof tempDir> | undefined;
  afterEach(() => tmp?.cleanup());

  it("loads the good zones and reports the broken one with file:line", () => {
    tmp = tempDir();
    tmp.write("good.example.zone", apex("good.example."));
    tmp.write("bad.example.zone", `${apex("bad.example.")}www A not-an-ip\n`);
    tmp.write("README", "not a zone");
    const result = loadZoneDir(tmp.dir);
    expect(result.zones.map((z) => z.originKey)).toEqual(["good.example"]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]!.message).toMatch(/bad\.example\.zone:6: 'not-an-ip' is not an IPv4 address/);
  });
});

describe("presentation form", () => {
  it("formats every record of the syntax fixture so that it parses back to the same wire", async () => {
    const { formatRdata, parseRdata } = await import("../../../src/proto/rdata.js");
    const { lex } = await import("../../../src/proto/lexer.js");
    const { join } = await import("node:path");
    const zone = loadZoneFile(join(import.meta.dirname, "../../fixtures/syntax/syntax.test.zone"));
    let n = 0;
    for (const node of zone.nodes.values()) {
      for (const set of node.rrsets) {
        for (const rdata of set.rdatas) {
          const text = formatRdata(set.type, rdata);
          const tokens = lex(`x ${text}`)[0]!.tokens.slice(1);
          expect(parseRdata(set.type, tokens, origin).wire, `${set.type} ${text}`).toEqual(rdata);
          n++;
        }
      }
    }
    expect(n).toBeGreaterThan(25);
    expect(formatRdata(T.A, Buffer.from([1, 2, 3]))).toBe("\\# 3 010203");
  });
});
