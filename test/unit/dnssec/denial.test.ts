/** Compact denial records (RFC 9824, RFC 4470): ranges that cover exactly what they must. */
import { describe, expect, it } from "vitest";
import { compareNames } from "../../../src/dnssec/canonical.js";
import { coveringRange, nodataTypes, successor } from "../../../src/dnssec/denial.js";
import { parseName, toWire } from "../../../src/proto/name.js";
import { T } from "../../../src/proto/types.js";

const wire = (text: string) => toWire(parseName(text, null));

describe("compact denial", () => {
  it("the successor sorts right after the name (RFC 4471 §3.1.2)", () => {
    const name = wire("nope.example.");
    const next = successor(name);
    expect(compareNames(name, next)).toBeLessThan(0);
    expect(compareNames(next, wire("a.nope.example."))).toBeLessThan(0);
  });

  it("a covering range holds the query name and shares only the closest encloser with it", () => {
    const encloser = wire("apps.example.");
    for (const [qname, label] of [
      ["x.apps.example.", "x"],
      ["a.b.apps.example.", "b"],
      ["\\[.apps.example.", "["], // decrementing '[' would give 'Z', which sorts as 'z'
      ["a\\000.apps.example.", "a\\000"],
      [`${"m".repeat(63)}.apps.example.`, "m".repeat(63)],
    ] as const) {
      const q = wire(qname);
      const { owner, next } = coveringRange(encloser, parseName(`${label}.`, null)[0]!);
      expect(compareNames(owner, q), qname).toBeLessThan(0);
      expect(compareNames(q, next), qname).toBeLessThan(0);
      expect(owner.subarray(owner.length - encloser.length)).toEqual(encloser);
      expect(next.subarray(next.length - encloser.length)).toEqual(encloser);
    }
    // The sibling just before "x" is outside the range, the subtree of "x" inside.
    const { owner, next } = coveringRange(encloser, Buffer.from("x"));
    expect(compareNames(wire("w.apps.example."), owner)).toBeLessThan(0);
    expect(compareNames(wire("deep.x.apps.example."), next)).toBeLessThan(0);
    expect(compareNames(wire("y.apps.example."), next)).toBeGreaterThan(0);
  });

  it("a NODATA bitmap never lists the type asked for", () => {
    expect(nodataTypes([T.A, T.AAAA, T.MX], T.MX)).toEqual([T.A, T.AAAA, T.RRSIG, T.NSEC]);
    expect(nodataTypes([T.NS], T.DS)).toEqual([T.NS, T.RRSIG, T.NSEC]);
    // RRSIG asked: lbdns keeps no RRSIG RRset, so the bitmap may not claim one.
    expect(nodataTypes([T.A], T.RRSIG)).toEqual([T.A, T.NSEC]);
    expect(nodataTypes([T.NXNAME], T.A)).toEqual([T.RRSIG, T.NSEC, T.NXNAME]);
  });
});
