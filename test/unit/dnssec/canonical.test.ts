/** Canonical form and order (RFC 4034 §6, RFC 6840 §5.1). */
import { describe, expect, it } from "vitest";
import { canonicalRdata, compareNames, rrsetData, signatureLabels } from "../../../src/dnssec/canonical.js";
import { parseName, toWire } from "../../../src/proto/name.js";
import { T } from "../../../src/proto/types.js";

const wire = (text: string) => toWire(parseName(text, null));

describe("canonical order of names (RFC 4034 §6.1)", () => {
  it("sorts the RFC's example list into its order", () => {
    // The list of RFC 4034 §6.1, in canonical order.
    const ordered = [
      "example.",
      "a.example.",
      "yljkjljk.a.example.",
      "Z.a.example.",
      "zABC.a.EXAMPLE.",
      "z.example.",
      "\\001.z.example.",
      "*.z.example.",
      "\\200.z.example.",
    ];
    const shuffled = [...ordered].reverse().map(wire);
    expect(shuffled.sort(compareNames).map((w) => w.toString("hex"))).toEqual(
      ordered.map((n) => wire(n).toString("hex")),
    );
  });
});

describe("canonical RDATA (RFC 4034 §6.2)", () => {
  it("lower-cases names in the RDATA of the older types, not elsewhere", () => {
    const mx = Buffer.concat([Buffer.from([0, 10]), wire("Mail.Example.")]);
    expect(canonicalRdata(T.MX, mx)).toEqual(Buffer.concat([Buffer.from([0, 10]), wire("mail.example.")]));
    const txt = Buffer.from("\x05Hello");
    expect(canonicalRdata(T.TXT, txt)).toBe(txt);
    // RFC 6840 §5.1: NSEC's next name keeps its case.
    const nsec = Buffer.concat([wire("B.example."), Buffer.from([0, 1, 0x40])]);
    expect(canonicalRdata(T.NSEC, nsec)).toBe(nsec);
    // SOA: both names lower-cased, the 20 octets of numbers untouched (0x41 is 'A').
    const soa = Buffer.concat([wire("NS.x."), wire("H.x."), Buffer.alloc(20, 0x41)]);
    expect(canonicalRdata(T.SOA, soa)).toEqual(
      Buffer.concat([wire("ns.x."), wire("h.x."), Buffer.alloc(20, 0x41)]),
    );
  });

  it("signs an RRset as its sorted, unique records under the lower-cased owner (§6.3)", () => {
    const a = Buffer.from([192, 0, 2, 2]);
    const b = Buffer.from([192, 0, 2, 1]);
    const one = rrsetData(wire("WWW.example."), T.A, 60, [a, b, a]);
    const two = rrsetData(wire("www.example."), T.A, 60, [b, a]);
    expect(one).toEqual(two);
    expect(one.length).toBe(2 * (wire("www.example.").length + 10 + 4));
    expect(one.subarray(wire("www.example.").length + 10, wire("www.example.").length + 14)).toEqual(b);
  });

  it("counts labels without the root or a leading * (RFC 4034 §3.1.3)", () => {
    expect(signatureLabels(wire("www.example."))).toBe(2);
    expect(signatureLabels(wire("*.apps.example."))).toBe(2);
    expect(signatureLabels(wire("."))).toBe(0);
  });
});
