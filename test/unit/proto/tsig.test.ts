import { describe, expect, it } from "vitest";
import { decodeQuery } from "../../../src/proto/decode.js";
import { BADKEY } from "../../../src/proto/tsig.js";
import { Responder } from "../../../src/server/responder.js";
import { tsigRecord as tsig } from "../../differential/wire.js";
import { makeQuery } from "../../helpers/packets.js";
import { apex, zoneSet } from "../../helpers/zones.js";

function signed(record: Buffer, edns = false): Buffer {
  const q = Buffer.concat([
    makeQuery("www.example.com", { id: 0x4242, ...(edns ? { edns: {} } : {}) }),
    record,
  ]);
  q.writeUInt16BE(q.readUInt16BE(10) + 1, 10);
  return q;
}

const responder = new Responder(zoneSet({ "example.com.": `${apex("example.com.")}www A 192.0.2.1\n` }));

describe("TSIG with a key the server does not have (RFC 8945)", () => {
  it("answers NOTAUTH with an unsigned BADKEY TSIG, last, echoing key, algorithm, times and ID (§5.2.1)", () => {
    const q = signed(tsig(0x4242), true);
    const r = responder.answer(q, "udp")!;
    expect(r.readUInt16BE(2) & 0xf).toBe(9); // NOTAUTH
    expect(r.readUInt16BE(6)).toBe(0); // no answer: nothing unsigned a client could take as signed
    expect(r.readUInt16BE(10)).toBe(2); // OPT, then TSIG
    const record = tsig(0x4242);
    const rr = r.subarray(r.length - (record.length - 32 + 0));
    expect(rr.subarray(0, 7)).toEqual(record.subarray(0, 7)); // owner: the key name
    expect(rr.readUInt16BE(7)).toBe(250);
    expect(rr.readUInt16BE(9)).toBe(255); // class ANY
    expect(rr.readUInt32BE(11)).toBe(0); // TTL 0
    const rdata = rr.subarray(17);
    expect(rdata.subarray(0, 13).toString("latin1")).toContain("hmac-sha256");
    expect(rdata.readUIntBE(13, 6)).toBe(1_796_000_000);
    expect(rdata.readUInt16BE(19)).toBe(300);
    expect(rdata.readUInt16BE(21)).toBe(0); // no MAC
    expect(rdata.readUInt16BE(23)).toBe(0x4242);
    expect(rdata.readUInt16BE(25)).toBe(BADKEY);
    expect(rdata.readUInt16BE(27)).toBe(0);
    expect(rdata.length).toBe(29);
  });

  it("is a FORMERR when the TSIG is not the last record, or is malformed (§5.1)", () => {
    const notLast = Buffer.concat([
      makeQuery("www.example.com"),
      tsig(1),
      Buffer.from("0000290200000000000000", "hex"),
    ]);
    notLast.writeUInt16BE(2, 10);
    expect(decodeQuery(notLast)).toMatchObject({ ok: false, rcode: 1 });
    const short = tsig(1);
    short.writeUInt16BE(200, 7 + 10 + 13 + 8); // a MAC size past the record's end
    expect(decodeQuery(signed(short))).toMatchObject({ ok: false, rcode: 1 });
    expect(decodeQuery(signed(tsig(1)))).toMatchObject({ ok: false, rcode: 9 });
  });
});
