/** Keys as BIND's tools see them: the DS and key tag of our DNSKEY, from dnssec-dsfromkey. */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { generateKey, keyFromPem, keyTag } from "../../../src/dnssec/key.js";
import { parseName, toWire } from "../../../src/proto/name.js";
import { formatRdata } from "../../../src/proto/rdata.js";
import { T } from "../../../src/proto/types.js";
import { tempDir } from "../../helpers/zones.js";

describe("signing keys", () => {
  for (const algorithm of ["ecdsap256", "ed25519"] as const) {
    it(`${algorithm}: the DS and key tag match dnssec-dsfromkey's`, () => {
      const key = generateKey(algorithm);
      const tmp = tempDir();
      try {
        const file = tmp.write("key", `example.com. 3600 IN DNSKEY ${formatRdata(T.DNSKEY, key.dnskey)}\n`);
        const out = execFileSync("dnssec-dsfromkey", ["-2", "-f", file, "example.com"], { encoding: "utf8" });
        const ds = formatRdata(T.DS, key.ds(toWire(parseName("Example.COM.", null))));
        expect(out.trim().split(/\s+/).slice(3).join(" ")).toBe(ds);
        expect(Number(ds.split(" ")[0])).toBe(key.tag);
      } finally {
        tmp.cleanup();
      }
    });
  }

  it("reloads a key from its PEM with the same DNSKEY, and refuses the wrong algorithm", () => {
    const key = generateKey("ecdsap256");
    expect(keyFromPem(13, key.exportPem()).dnskey).toEqual(key.dnskey);
    expect(() => keyFromPem(15, key.exportPem())).toThrow(/not ed25519/);
    expect(() => keyFromPem(8, key.exportPem())).toThrow(/not supported/);
  });

  it("computes the RFC 4034 Appendix B checksum", () => {
    // Four octets: 0x0101 + 0x0203 = 0x0304, no carry.
    expect(keyTag(Buffer.from([1, 1, 2, 3]))).toBe(0x0304);
    // The carry folds back in: 0xffff + 0x0002 = 0x10001 -> 0x0002.
    expect(keyTag(Buffer.from([0xff, 0xff, 0, 2]))).toBe(0x0002);
  });
});
