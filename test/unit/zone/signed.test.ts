/** Signed answers as zone/signed.ts builds and keeps them, without sockets (RFC 4035 §3.1, RFC 9824). */
import { describe, expect, it } from "vitest";
import { generateKey } from "../../../src/dnssec/key.js";
import { DEFAULT_SIGNER_OPTIONS, ZoneSigner } from "../../../src/dnssec/signer.js";
import { parseName, toWire } from "../../../src/proto/name.js";
import { RCODE } from "../../../src/proto/rcode.js";
import { formatRdata } from "../../../src/proto/rdata.js";
import { encodedRecords, sectionsOf } from "../../../src/proto/sections.js";
import { T, typeName } from "../../../src/proto/types.js";
import { lookup } from "../../../src/zone/lookup.js";
import { ZoneSigning } from "../../../src/zone/signed.js";
import { apex, zoneSet } from "../../helpers/zones.js";

const zones = zoneSet({
  "example.": `${apex("example.")}
www   A    192.0.2.1
*.w   A    192.0.2.2
sub   NS   ns.sub
ns.sub A   192.0.2.3
sec   NS   ns.other.
sec   DS   12345 13 2 ${"AB".repeat(32)}
`,
});
const zone = zones.zones.get("example")!;
const clock = { now: 1_800_000_000 };
const key = generateKey("ecdsap256");
const signing = new ZoneSigning(
  zone,
  new ZoneSigner(zone.apex.wire, { data: [key], keyset: [key] }, () => clock.now, DEFAULT_SIGNER_OPTIONS),
);

function signed(qname: string, qtype: number) {
  const r = lookup(zones, qname, qtype);
  const a = signing.answer(
    {
      kind: r.kind,
      rcode: r.rcode,
      sections: sectionsOf(r),
      anchor: r.anchor ?? null,
      identity: r,
      pool: false,
      extraTypes: [],
    },
    qname,
    qtype,
  );
  const q = toWire(parseName(`${qname}.`, null));
  const lines = [...encodedRecords(a.sections, q)].map(
    (x) =>
      `${x.section} ${nameOf(x.owner)} ${typeName(x.type)}${x.type === T.NSEC ? ` ${formatRdata(T.NSEC, x.rdata)}` : ""}`,
  );
  return { answer: a, lines };
}

function nameOf(wire: Buffer): string {
  const labels: string[] = [];
  for (let o = 0; wire[o]! !== 0; o += wire[o]! + 1)
    labels.push(wire.toString("latin1", o + 1, o + 1 + wire[o]!));
  return `${labels.join(".")}.`;
}

describe("signed answers", () => {
  it("sign each RRset; an exact answer is built once for every query", () => {
    const one = signed("www.example", T.A);
    expect(one.lines).toEqual(["answer www.example. A", "answer www.example. RRSIG"]);
    expect(signed("www.example", T.A).answer).toBe(one.answer);
  });

  it("NXDOMAIN becomes NOERROR with an NXNAME NSEC at the name, one answer per name (RFC 9824 §3.2)", () => {
    const a = signed("nope.example", T.A);
    expect(a.answer.rcode).toBe(RCODE.NOERROR);
    expect(a.lines).toEqual([
      "authority example. SOA",
      "authority example. RRSIG",
      "authority nope.example. NSEC \\000.nope.example. RRSIG NSEC NXNAME",
      "authority nope.example. RRSIG",
    ]);
    expect(signed("other.example", T.A).answer).not.toBe(a.answer);
    expect(signed("nope.example", T.A).answer).toBe(a.answer);
  });

  it("NODATA lists the name's other types; at a cut, DS is denied with NS in the bitmap", () => {
    expect(signed("www.example", T.TXT).lines[2]).toBe(
      "authority www.example. NSEC \\000.www.example. A RRSIG NSEC",
    );
    expect(signed("sub.example", T.DS).lines[2]).toBe(
      "authority sub.example. NSEC \\000.sub.example. NS RRSIG NSEC",
    );
  });

  it("a referral carries the signed DS or the NSEC without DS, leaves NS and glue unsigned, and serves every name below the cut", () => {
    const insecure = signed("a.sub.example", T.A);
    expect(insecure.lines).toEqual([
      "authority sub.example. NS",
      "authority sub.example. NSEC \\000.sub.example. NS RRSIG NSEC",
      "authority sub.example. RRSIG",
      "additional ns.sub.example. A",
    ]);
    expect(signed("b.c.sub.example", T.MX).answer).toBe(insecure.answer);
    expect(signed("x.sec.example", T.A).lines).toEqual([
      "authority sec.example. NS",
      "authority sec.example. DS",
      "authority sec.example. RRSIG",
    ]);
  });

  it("a wildcard answer is signed as the wildcard, with a covering NSEC per query name", () => {
    const a = signed("q.w.example", T.A);
    expect(a.lines.slice(0, 2)).toEqual(["answer q.w.example. A", "answer q.w.example. RRSIG"]);
    expect(a.lines[2]).toMatch(/^authority p\xff+\.w\.example\. NSEC q\\000\.w\.example\. RRSIG NSEC$/);
    expect(signed("r.w.example", T.A).answer).not.toBe(a.answer);
  });

  it("a query for the wildcard's own name is not kept for the names it stands for", () => {
    expect(signed("*.w.example", T.A).lines[0]).toBe("answer *.w.example. A");
    expect(signed("s.w.example", T.A).lines[0]).toBe("answer s.w.example. A");
  });

  it("is rebuilt once a signature in it is due for refresh", () => {
    const before = signed("www.example", T.A).answer;
    clock.now = before.refreshAt;
    expect(signed("www.example", T.A).answer).not.toBe(before);
  });
});
