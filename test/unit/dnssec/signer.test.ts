/** The signature cache: one signature per exact RRset and validity period, bounded (signer.ts). */
import { createPublicKey, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { rrsetData } from "../../../src/dnssec/canonical.js";
import { generateKey } from "../../../src/dnssec/key.js";
import { DEFAULT_SIGNER_OPTIONS, ZoneSigner } from "../../../src/dnssec/signer.js";
import { parseName, toWire } from "../../../src/proto/name.js";
import { T } from "../../../src/proto/types.js";

const wire = (text: string) => toWire(parseName(text, null));
const apex = wire("example.");
const A = (last: number) => Buffer.from([192, 0, 2, last]);

function signerAt(clock: { now: number }, maxEntries = 100) {
  const key = generateKey("ecdsap256");
  const signer = new ZoneSigner(apex, { data: [key], keyset: [key] }, () => clock.now, {
    ...DEFAULT_SIGNER_OPTIONS,
    maxEntries,
  });
  return { key, signer };
}

describe("ZoneSigner", () => {
  it("signs an RRset once, whatever its records' order, and a different RRset again", () => {
    const clock = { now: 1_800_000_000 };
    const { signer } = signerAt(clock);
    const first = signer.sign(wire("www.example."), T.A, 60, [A(1), A(2)]);
    expect(signer.sign(wire("WWW.example."), T.A, 60, [A(2), A(1)])).toBe(first);
    expect(signer.sign(wire("www.example."), T.A, 61, [A(1), A(2)])).not.toBe(first); // TTL is covered
    expect(signer.stats).toMatchObject({ made: 2, hits: 1, misses: 2 });
  });

  it("backdates the inception, adds jitter to the expiration, and refreshes at half the validity", () => {
    const clock = { now: 1_800_000_000 };
    const { signer, key } = signerAt(clock);
    const owner = wire("www.example.");
    const sigs = signer.sign(owner, T.A, 60, [A(1)]);
    const rdata = sigs.rdatas[0]!;
    const expiration = rdata.readUInt32BE(8);
    expect(rdata.readUInt32BE(12)).toBe(clock.now - 3600);
    expect(expiration - clock.now).toBeGreaterThanOrEqual(DEFAULT_SIGNER_OPTIONS.validity);
    expect(expiration - clock.now).toBeLessThan(
      DEFAULT_SIGNER_OPTIONS.validity + DEFAULT_SIGNER_OPTIONS.jitter,
    );
    expect(rdata.readUInt16BE(16)).toBe(key.tag);
    expect(rdata[3]).toBe(2);
    // The signature verifies over header + canonical RRset (RFC 4034 §3.1.8.1).
    const header = rdata.subarray(0, 18 + apex.length);
    const pub = createPublicKey({
      key: {
        kty: "EC",
        crv: "P-256",
        x: key.dnskey.subarray(4, 36).toString("base64url"),
        y: key.dnskey.subarray(36).toString("base64url"),
      },
      format: "jwk",
    });
    const data = Buffer.concat([header, rrsetData(owner, T.A, 60, [A(1)])]);
    expect(
      verify("sha256", data, { key: pub, dsaEncoding: "ieee-p1363" }, rdata.subarray(18 + apex.length)),
    ).toBe(true);
    clock.now += DEFAULT_SIGNER_OPTIONS.validity / 2 - 1;
    expect(signer.sign(owner, T.A, 60, [A(1)])).toBe(sigs);
    clock.now += 2;
    expect(signer.sign(owner, T.A, 60, [A(1)])).not.toBe(sigs);
  });

  it("signs the DNSKEY RRset with the key-set keys and the rest with the data keys", () => {
    const clock = { now: 1_800_000_000 };
    const old = generateKey("ecdsap256");
    const next = generateKey("ed25519");
    const signer = new ZoneSigner(apex, { data: [next], keyset: [old, next] }, () => clock.now);
    expect(
      signer.sign(apex, T.DNSKEY, 3600, [old.dnskey, next.dnskey]).rdatas.map((r) => r.readUInt16BE(16)),
    ).toEqual([old.tag, next.tag]);
    expect(signer.sign(apex, T.SOA, 3600, [Buffer.alloc(22)]).rdatas.map((r) => r[2])).toEqual([15]);
  });

  it("keeps at most maxEntries signatures, dropping the oldest", () => {
    const clock = { now: 1_800_000_000 };
    const { signer } = signerAt(clock, 10);
    for (let i = 0; i < 25; i++) signer.sign(wire(`h${i}.example.`), T.A, 60, [A(1)]);
    expect(signer.size).toBe(10);
    expect(signer.nextExpiry()).toBeGreaterThan(clock.now);
  });
});
