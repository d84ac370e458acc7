/** SipHash-2-4 against the reference vectors (Aumasson and Bernstein, the paper's Appendix A and vectors.h). */
import { describe, expect, it } from "vitest";
import { siphash24 } from "../../../src/lib/siphash.js";

const key = Buffer.from([...Array(16).keys()]);
const message = (n: number) => Buffer.from([...Array(n).keys()]);

describe("SipHash-2-4", () => {
  it("gives the paper's value for the 15-octet message (0xa129ca6149be45e5, little-endian octets)", () => {
    expect(siphash24(key, message(15)).toString("hex")).toBe("e545be4961ca29a1");
  });

  it("gives the reference vectors for the empty message and for whole and partial blocks", () => {
    expect(siphash24(key, message(0)).toString("hex")).toBe("310e0edd47db6f72");
    expect(siphash24(key, message(1)).toString("hex")).toBe("fd67dc93c539f874");
    expect(siphash24(key, message(8)).toString("hex")).toBe("6224939a79f5f593");
  });

  it("depends on every octet of key and message", () => {
    const base = siphash24(key, message(24)).toString("hex");
    for (let i = 0; i < 24; i++) {
      const m = message(24);
      m[i]! ^= 1;
      expect(siphash24(key, m).toString("hex")).not.toBe(base);
    }
    const k = Buffer.from(key);
    k[15]! ^= 0x80;
    expect(siphash24(k, message(24)).toString("hex")).not.toBe(base);
  });
});
