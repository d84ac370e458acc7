/**
 * The raw signer's ceiling: signatures per second of dnssec/signer.ts for each algorithm, every
 * RRset distinct (no cache hit), in this process. A signed answer that is not kept yet costs
 * one of these, so this bounds how fast a flood of new names (compact denial) can be answered.
 */
import { performance } from "node:perf_hooks";
import { generateKey } from "../src/dnssec/key.js";
import { ZoneSigner } from "../src/dnssec/signer.js";
import { parseName, toWire } from "../src/proto/name.js";

export function signerRate(seconds: number): Record<string, number> {
  const out: Record<string, number> = {};
  const apex = toWire(parseName("example.com.", null));
  for (const algorithm of ["ecdsap256", "ed25519"] as const) {
    const key = generateKey(algorithm);
    const signer = new ZoneSigner(apex, { data: [key], keyset: [key] });
    const owner = toWire(parseName("www.example.com.", null));
    const rdata = Buffer.alloc(4);
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      for (let i = 0; i < 100; i++, n++) {
        rdata.writeUInt32BE(n);
        signer.sign(owner, 1, 60, [rdata]);
      }
    }
    out[algorithm] = Math.round(n / ((performance.now() - start) / 1000));
  }
  return out;
}
