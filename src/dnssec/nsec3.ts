/** NSEC3 hashed owner names (RFC 5155 §5): iterated SHA-1 of the canonical name and the salt. */
import { createHash } from "node:crypto";
import { formatBase32hex } from "../proto/rdata-fields.js";
import { lowerName } from "./canonical.js";

export interface Nsec3Params {
  algorithm: number;
  iterations: number;
  salt: Buffer;
}

/** NSEC3PARAM RDATA: hash algorithm, flags, iterations, salt (RFC 5155 §4.2). */
export function nsec3Params(rdata: Buffer): Nsec3Params {
  return { algorithm: rdata[0]!, iterations: rdata.readUInt16BE(2), salt: rdata.subarray(5, 5 + rdata[4]!) };
}

/** The hash of a name as the first label of its NSEC3 owner: base32hex, lower case. */
export function nsec3Label(name: Buffer, p: Nsec3Params): string {
  let h = createHash("sha1").update(lowerName(name)).update(p.salt).digest();
  for (let i = 0; i < p.iterations; i++) h = createHash("sha1").update(h).update(p.salt).digest();
  return formatBase32hex(h).toLowerCase();
}
