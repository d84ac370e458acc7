/**
 * Name compression in precomputed sections (RFC 1035 §4.1.4, RFC 3597 §4) and truncation by
 * whole RRsets, checked through the responder and decoded with dns2's Packet, a codec
 * independent of ours.
 */
import { describe, expect, it } from "vitest";
import { encodedRecords, encodeSections } from "../../../src/proto/sections.js";
import { T } from "../../../src/proto/types.js";
import { Responder } from "../../../src/server/responder.js";
import { makeQuery, parse } from "../../helpers/packets.js";
import { apex, zoneSet } from "../../helpers/zones.js";

const letters = "abcdefghijklm".split("");
const zones = zoneSet({
  "example.com.": `${apex("example.com.")}
wide NS ${letters.map((l) => `${l}.ns.wide`).join("\nwide NS ")}
${letters.map((l, i) => `${l}.ns.wide A 198.51.100.${i + 1}\n${l}.ns.wide AAAA 2001:db8::${i + 1}`).join("\n")}
*.wild MX 10 mx.wild
*.wild MX 20 mx2
mx.wild A 192.0.2.25
mx2 A 192.0.2.26
_sip._udp SRV 10 60 5060 sip
sip A 192.0.2.40
`,
});
const responder = new Responder(zones);
const ask = (
  name: string,
  type: number,
  transport: "udp" | "tcp" = "udp",
  edns: { udp?: number } | false = false,
) => {
  const raw = responder.answer(makeQuery(name, { type, edns }), transport)!;
  return { raw, p: parse(raw) };
};

describe("name compression", () => {
  it("sends a referral with 13 NS and 26 glue records whole in one EDNS answer", () => {
    const { raw, p } = ask("host.wide.example.com", T.A, "udp", { udp: 1232 });
    expect(p.header.tc).toBe(0);
    // 13 x 16 (NS) + 13 x 16 (A) + 13 x 28 (AAAA) and a few names written out: about 830
    // bytes; written without compression it would be over 1,600.
    expect(raw.length).toBeLessThan(900);
    expect(p.authorities).toHaveLength(13);
    expect(p.additionals).toHaveLength(27); // 26 glue and the OPT
    expect(p.additionals.map((a: { name: string }) => a.name)).toContain("m.ns.wide.example.com");
  });

  it("points wildcard answers at the right names for every question length", () => {
    for (const name of ["a.wild.example.com", "a-much-longer-label.x.y.wild.example.com"]) {
      const { p } = ask(name, T.MX);
      expect(
        p.answers.map((a) => `${a.name} ${(a as unknown as { exchange: string }).exchange}`).sort(),
      ).toEqual([`${name} mx.wild.example.com`, `${name} mx2.example.com`]);
      expect(p.additionals.map((a: { name: string }) => a.name).sort()).toEqual([
        "mx.wild.example.com",
        "mx2.example.com",
      ]);
    }
  });

  it("shares one NXDOMAIN per zone whose SOA decodes right under any question", () => {
    for (const name of ["x.example.com", "a.b.c.d.e.f.example.com"]) {
      const { p } = ask(name, T.A);
      expect(p.header.rcode).toBe(3);
      expect(p.authorities[0]).toMatchObject({ name: "example.com", primary: "ns1.example.com" });
    }
  });

  it("compresses RDATA names only in the RFC 1035 types (an SRV target stays whole, RFC 2782)", () => {
    const s = encodeSections(
      [
        {
          owner: null,
          type: T.SRV,
          ttl: 60,
          rdata: Buffer.from("000a003c13c403736970076578616d706c6503636f6d00", "hex"),
        },
        {
          owner: null,
          type: T.CNAME,
          ttl: 60,
          rdata: Buffer.from("03736970076578616d706c6503636f6d00", "hex"),
        },
      ],
      [],
      [],
    );
    const srv = s.bytes.subarray(12, 12 + 6 + 17);
    expect(srv.toString("hex")).toContain("03736970076578616d706c6503636f6d00"); // sip.example.com, whole
    expect(s.bytes.length).toBeLessThan(2 * (12 + 23)); // the CNAME's target points at the SRV's
    const decoded = [...encodedRecords(s, Buffer.from("0377777700", "hex"))];
    expect(decoded[1]!.rdata.toString("hex")).toBe("03736970076578616d706c6503636f6d00");
  });
});

describe("truncation (RFC 2181 §9, RFC 9471)", () => {
  it("sets TC when required glue does not fit, keeping the NS set and the glue that fits (RFC 9471 §3)", () => {
    const big = zoneSet({
      "example.com.": `${apex("example.com.")}
${letters.map((l) => `deep NS ${l}.${"x".repeat(50)}.deep`).join("\n")}
${letters.map((l, i) => `${l}.${"x".repeat(50)}.deep A 198.51.100.${i + 1}\n${l}.${"x".repeat(50)}.deep AAAA 2001:db8::${i + 1}`).join("\n")}
`,
    });
    const r = new Responder(big);
    const raw = r.answer(makeQuery("host.deep.example.com", { edns: false }), "udp")!;
    const udp = parse(raw);
    expect(raw.length).toBeLessThanOrEqual(512);
    expect(udp.header.tc).toBe(1);
    expect(udp.authorities).toHaveLength(13);
    expect(udp.additionals.length).toBeLessThan(13);
    const tcp = parse(r.answer(makeQuery("host.deep.example.com", { edns: false }), "tcp")!);
    expect(tcp.additionals).toHaveLength(26);
  });
});
