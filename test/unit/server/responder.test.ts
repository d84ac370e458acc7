import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RCODE } from "../../../src/proto/rcode.js";
import { T } from "../../../src/proto/types.js";
import { Responder } from "../../../src/server/responder.js";
import { makeQuery, Packet, parse } from "../../helpers/packets.js";
import { apex, zoneSet } from "../../helpers/zones.js";

const bigTxt = Array.from(
  { length: 40 },
  (_, i) => `big TXT "${String(i).padStart(2, "0")}${"x".repeat(60)}"`,
).join("\n");
const zones = zoneSet({
  "example.com.": `${apex("example.com.")}
www A 192.0.2.1
@ MX 10 mail
mail A 192.0.2.25
${bigTxt}
`,
});
const responder = new Responder(zones);
const ask = (q: Buffer, transport: "udp" | "tcp" = "udp") => {
  const r = responder.answer(q, transport);
  if (!r) throw new Error("no response");
  return { raw: r, p: parse(r) };
};

describe("responder: header and EDNS", () => {
  it("answers with QR+AA, echoes the ID, RD and the question in its original case", () => {
    const { p, raw } = ask(makeQuery("WwW.Example.COM", { id: 4242 }));
    expect(p.header).toMatchObject({ id: 4242, qr: 1, aa: 1, tc: 0, rd: 1, ra: 0, rcode: 0 });
    expect(p.questions[0]!.name).toBe("WwW.Example.COM");
    expect(p.answers[0]!.name).toBe("WwW.Example.COM"); // owner compressed to the question
    expect(raw.readUInt16BE(12 + 17 + 4)).toBe(0xc00c);
    expect(p.additionals).toHaveLength(0); // no OPT unless the query had one
  });

  it("adds an OPT with payload 1232, version 0, and the DO bit echoed", () => {
    const { p } = ask(makeQuery("www.example.com", { edns: { udp: 4096, do: true } }));
    const opt = p.additionals.find((r) => r.type === Packet.TYPE.EDNS)!;
    expect(opt.class).toBe(1232);
    expect(opt).toMatchObject({ version: 0, doFlag: true });
  });

  it("clears CD in every response (RFC 4035 §3.1.6), and RD for opcodes other than QUERY", () => {
    const cd = makeQuery("www.example.com", { edns: {} });
    cd.writeUInt16BE(cd.readUInt16BE(2) | 0x0010, 2);
    expect(ask(cd).raw.readUInt16BE(2) & 0x0010).toBe(0);
    const notify = makeQuery("example.com", { edns: {} });
    notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11) | 0x0010, 2);
    const r = ask(notify);
    expect(r.p.header).toMatchObject({ rcode: RCODE.NOTIMP, opcode: 4, rd: 0 });
    expect(r.raw.readUInt16BE(2) & 0x0010).toBe(0);
    // RFC 6891 §6.1.1: a query with an OPT gets one back, NOTIMP included.
    expect(r.p.additionals.some((a: { type: number }) => a.type === Packet.TYPE.EDNS)).toBe(true);
  });

  it("says why it refuses a name it is not authoritative for: EDE 20 (RFC 8914 §4.21)", () => {
    const { raw, p } = ask(makeQuery("www.example.org", { edns: {} }));
    expect(p.header.rcode).toBe(RCODE.REFUSED);
    expect(raw.subarray(raw.length - 6).toString("hex")).toBe("000f00020014");
    expect(ask(makeQuery("www.example.org")).raw.length).toBe(12 + 17 + 4); // no OPT without one in the query
  });

  it("answers EDNS version 1 with BADVERS and no data", () => {
    const { p, raw } = ask(makeQuery("www.example.com", { edns: { version: 1 } }));
    expect(p.header.rcode).toBe(RCODE.BADVERS);
    expect(p.answers).toHaveLength(0);
    expect(raw.readUInt16BE(2) & 0xf).toBe(0); // low nibble 0, extended rcode 1 in the OPT
  });
});

describe("responder: refusals and malformed queries", () => {
  it("answers transfers until they exist: NOTIMP for AXFR over UDP, REFUSED for our zones, NOTAUTH for others", () => {
    expect(ask(makeQuery("example.com", { type: T.AXFR })).p.header.rcode).toBe(RCODE.NOTIMP);
    expect(ask(makeQuery("example.com", { type: T.AXFR }), "tcp").p.header.rcode).toBe(RCODE.REFUSED);
    expect(ask(makeQuery("www.example.com", { type: T.AXFR }), "tcp").p.header.rcode).toBe(RCODE.NOTAUTH);
    expect(ask(makeQuery("example.net", { type: T.IXFR })).p.header.rcode).toBe(RCODE.NOTAUTH);
    // RFC 1995 §3: an IXFR query carries the client's SOA in the authority section; not FORMERR.
    const ixfr = makeQuery("example.com", { type: T.IXFR, edns: false });
    ixfr.writeUInt16BE(1, 8);
    const soa = Buffer.alloc(12 + 22);
    soa.writeUInt16BE(0xc00c, 0);
    soa.writeUInt16BE(T.SOA, 2);
    soa.writeUInt16BE(1, 4);
    soa.writeUInt16BE(22, 10);
    expect(ask(Buffer.concat([ixfr, soa])).p.header.rcode).toBe(RCODE.REFUSED);
  });

  it("refuses classes it serves no zone for, and answers meta types as types no name has", () => {
    expect(ask(makeQuery("version.bind", { type: T.TXT, class: 3 })).p.header.rcode).toBe(RCODE.REFUSED);
    expect(ask(makeQuery("www.example.com", { class: 255 })).p.header.rcode).toBe(RCODE.NOERROR);
    // As NSD and Knot: MAILB, OPT, TSIG... asked for are NODATA (or NXDOMAIN) with the SOA, AA set.
    for (const type of [T.MAILB, T.MAILA, T.OPT, 250, 249, 128]) {
      const r = ask(makeQuery("example.com", { type }));
      expect(r.p.header).toMatchObject({ rcode: RCODE.NOERROR, aa: 1 });
      expect(r.p.authorities[0]?.type).toBe(T.SOA);
    }
    expect(ask(makeQuery("nope.example.com", { type: T.MAILB })).p.header.rcode).toBe(RCODE.NXDOMAIN);
  });

  it("answers NOTIMP for other opcodes and FORMERR for bad question counts", () => {
    const notify = makeQuery("example.com");
    notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11), 2);
    expect(ask(notify).p.header).toMatchObject({ rcode: RCODE.NOTIMP, opcode: 4 });
    const two = makeQuery("example.com");
    two.writeUInt16BE(2, 4);
    expect(ask(two).p.header.rcode).toBe(RCODE.FORMERR);
    const none = makeQuery("example.com").subarray(0, 12);
    none.writeUInt16BE(0, 4);
    expect(ask(Buffer.from(none)).p.header.rcode).toBe(RCODE.FORMERR);
  });

  it("answers FORMERR for a truncated question, a bad OPT, or records in the answer section", () => {
    const q = makeQuery("www.example.com");
    expect(ask(q.subarray(0, q.length - 3)).p.header.rcode).toBe(RCODE.FORMERR);
    const withOpt = makeQuery("www.example.com", { edns: {} });
    withOpt[withOpt.length - 11] = 1; // OPT owner not the root
    expect(ask(withOpt).p.header.rcode).toBe(RCODE.FORMERR);
    const an = makeQuery("www.example.com");
    an.writeUInt16BE(1, 6);
    expect(ask(an).p.header.rcode).toBe(RCODE.FORMERR);
  });

  it("drops packets shorter than a header and responses", () => {
    expect(responder.answer(Buffer.alloc(11), "udp")).toBeNull();
    const resp = makeQuery("www.example.com");
    resp[2]! |= 0x80;
    expect(responder.answer(resp, "udp")).toBeNull();
  });
});

describe("responder: truncation", () => {
  it("sets TC over UDP when the answer does not fit, and sends it whole over TCP", () => {
    const plain = ask(makeQuery("big.example.com", { type: T.TXT }));
    expect(plain.p.header.tc).toBe(1);
    expect(plain.p.answers).toHaveLength(0);
    expect(plain.raw.length).toBeLessThanOrEqual(512);
    const edns = ask(makeQuery("big.example.com", { type: T.TXT, edns: { udp: 4096 } }));
    expect(edns.p.header.tc).toBe(1);
    expect(edns.raw.length).toBeLessThanOrEqual(1232);
    expect(edns.p.additionals.some((r) => r.type === Packet.TYPE.EDNS)).toBe(true); // OPT kept when truncating
    const tcp = ask(makeQuery("big.example.com", { type: T.TXT }), "tcp");
    expect(tcp.p.header.tc).toBe(0);
    expect(tcp.p.answers).toHaveLength(40);
  });

  it("drops whole additional RRsets from the end before truncating, without TC (RFC 2181 §9)", () => {
    const many = Array.from(
      { length: 12 },
      (_, i) => `@ MX ${i} mx${i}\nmx${i} A 192.0.2.${i}\nmx${i} AAAA 2001:db8::${i}`,
    ).join("\n");
    const r = new Responder(zoneSet({ "example.org.": `${apex("example.org.")}${many}\n` }));
    const resp = r.answer(makeQuery("example.org", { type: T.MX }), "udp")!;
    const p = parse(resp);
    expect(p.header.tc).toBe(0);
    expect(p.answers).toHaveLength(12);
    expect(resp.length).toBeLessThanOrEqual(512);
    // Some address RRsets fit and stay, in order; the rest go whole: never an A without its AAAA
    // before a later target's records.
    const kept = p.additionals.map((a: { name: string; type: number }) => `${a.name} ${a.type}`);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(24);
    const expected = Array.from({ length: 12 }, (_, i) => [
      `mx${i}.example.org 1`,
      `mx${i}.example.org 28`,
    ]).flat();
    expect(kept).toEqual(expected.slice(0, kept.length));
    const over = parse(r.answer(makeQuery("example.org", { type: T.MX }), "tcp")!);
    expect(over.additionals).toHaveLength(24);
  });

  it("honours a client buffer between 512 and 1232, and treats smaller ones as 512", () => {
    const r700 = ask(makeQuery("big.example.com", { type: T.TXT, edns: { udp: 700 } }));
    expect(r700.raw.length).toBeLessThanOrEqual(700);
    const r100 = ask(makeQuery("www.example.com", { edns: { udp: 100 } }));
    expect(r100.p.header.tc).toBe(0);
  });
});

describe("responder: hostile input", () => {
  it("never throws, and every response decodes and echoes the query ID", () => {
    const seed = makeQuery("www.example.com", { edns: {} });
    const mutated = fc
      .array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 })
      .map((edits) => {
        const b = Buffer.from(seed);
        for (const [i, v] of edits) b[i] = v;
        return b;
      });
    const random = fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a));
    fc.assert(
      fc.property(
        fc.oneof(mutated, random),
        fc.constantFrom<"udp" | "tcp">("udp", "tcp"),
        (buf, transport) => {
          const resp = responder.answer(buf, transport);
          if (resp === null) return;
          const p = Packet.parse(resp);
          expect(p.errors).toEqual([]);
          expect(p.header.id).toBe(buf.readUInt16BE(0));
          expect(p.header.qr).toBe(1);
          if (transport === "udp") expect(resp.length).toBeLessThanOrEqual(1232);
        },
      ),
      { numRuns: 5_000 },
    );
  });
});
