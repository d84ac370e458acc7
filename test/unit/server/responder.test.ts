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

  it("answers EDNS version 1 with BADVERS and no data", () => {
    const { p, raw } = ask(makeQuery("www.example.com", { edns: { version: 1 } }));
    expect(p.header.rcode).toBe(RCODE.BADVERS);
    expect(p.answers).toHaveLength(0);
    expect(raw.readUInt16BE(2) & 0xf).toBe(0); // low nibble 0, extended rcode 1 in the OPT
  });
});

describe("responder: refusals and malformed queries", () => {
  it("refuses zone transfers and classes it serves no zone for, and NOTIMPs meta types", () => {
    expect(ask(makeQuery("example.com", { type: T.AXFR })).p.header.rcode).toBe(RCODE.REFUSED);
    expect(ask(makeQuery("version.bind", { type: T.TXT, class: 3 })).p.header.rcode).toBe(RCODE.REFUSED);
    expect(ask(makeQuery("example.com", { type: T.MAILB })).p.header.rcode).toBe(RCODE.NOTIMP);
    expect(ask(makeQuery("example.com", { type: T.OPT })).p.header.rcode).toBe(RCODE.FORMERR);
    expect(ask(makeQuery("www.example.com", { class: 255 })).p.header.rcode).toBe(RCODE.NOERROR);
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

  it("drops the additional section before truncating, without TC", () => {
    const many = Array.from({ length: 12 }, (_, i) => `@ MX ${i} mx${i}\nmx${i} A 192.0.2.${i}`).join("\n");
    const r = new Responder(zoneSet({ "example.org.": `${apex("example.org.")}${many}\n` }));
    const resp = r.answer(makeQuery("example.org", { type: T.MX }), "udp")!;
    const p = parse(resp);
    expect(p.header.tc).toBe(0);
    expect(p.answers).toHaveLength(12);
    expect(p.additionals).toHaveLength(0);
    expect(resp.length).toBeLessThanOrEqual(512);
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
