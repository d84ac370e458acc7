/**
 * A zone's signing key: ECDSA P-256 with SHA-256 (algorithm 13, RFC 6605) or Ed25519
 * (algorithm 15, RFC 8080), with Node's crypto. One key signs everything (a combined signing
 * key, flags 257: zone key + SEP), so the DS at the parent points at the key that signs the data.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from "node:crypto";
import { lowerName } from "./canonical.js";

export type AlgorithmName = "ecdsap256" | "ed25519";

export const ALGORITHMS: Record<AlgorithmName, number> = { ecdsap256: 13, ed25519: 15 };

export const CSK_FLAGS = 257;

export class SigningKey {
  readonly dnskey: Buffer;
  readonly tag: number;

  constructor(
    readonly algorithm: number,
    private readonly privateKey: KeyObject,
    readonly flags = CSK_FLAGS,
  ) {
    this.dnskey = dnskeyRdata(flags, algorithm, publicKeyBytes(algorithm, privateKey));
    this.tag = keyTag(this.dnskey);
  }

  /** A signature in the wire form of the algorithm: r||s for ECDSA (RFC 6605 §4), 64 octets for Ed25519. */
  sign(data: Buffer): Buffer {
    if (this.algorithm === 13)
      return sign("sha256", data, { key: this.privateKey, dsaEncoding: "ieee-p1363" });
    return sign(null, data, this.privateKey);
  }

  /** PKCS#8 PEM, for the key file only. */
  exportPem(): string {
    return this.privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  }

  /** The DS RDATA for this key with SHA-256 (digest type 2, RFC 4509), for the parent. */
  ds(owner: Buffer): Buffer {
    const digest = createHash("sha256").update(lowerName(owner)).update(this.dnskey).digest();
    const out = Buffer.alloc(4 + digest.length);
    out.writeUInt16BE(this.tag, 0);
    out[2] = this.algorithm;
    out[3] = 2;
    digest.copy(out, 4);
    return out;
  }
}

export function generateKey(name: AlgorithmName): SigningKey {
  const { privateKey } =
    name === "ecdsap256"
      ? generateKeyPairSync("ec", { namedCurve: "P-256" })
      : generateKeyPairSync("ed25519");
  return new SigningKey(ALGORITHMS[name], privateKey);
}

/** A key from its PKCS#8 PEM; throws when the PEM is not a key of that algorithm. */
export function keyFromPem(algorithm: number, pem: string): SigningKey {
  const key = createPrivateKey(pem);
  const want = algorithm === 13 ? "ec" : algorithm === 15 ? "ed25519" : null;
  if (want === null) throw new Error(`algorithm ${algorithm} is not supported (13 or 15)`);
  if (key.asymmetricKeyType !== want) throw new Error(`the key is ${key.asymmetricKeyType}, not ${want}`);
  if (want === "ec" && key.asymmetricKeyDetails?.namedCurve !== "prime256v1")
    throw new Error("the ECDSA key is not on P-256");
  return new SigningKey(algorithm, key);
}

/** The public key as DNSKEY carries it: X||Y for P-256 (RFC 6605 §4), the 32 octets for Ed25519. */
function publicKeyBytes(algorithm: number, privateKey: KeyObject): Buffer {
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  const x = Buffer.from(jwk.x ?? "", "base64url");
  if (algorithm === 15) return x;
  return Buffer.concat([x, Buffer.from(jwk.y ?? "", "base64url")]);
}

export function dnskeyRdata(flags: number, algorithm: number, publicKey: Buffer): Buffer {
  const out = Buffer.alloc(4 + publicKey.length);
  out.writeUInt16BE(flags, 0);
  out[2] = 3; // protocol (RFC 4034 §2.1.2)
  out[3] = algorithm;
  publicKey.copy(out, 4);
  return out;
}

/** RFC 4034 Appendix B: the key tag, a checksum of the DNSKEY RDATA. */
export function keyTag(rdata: Buffer): number {
  let ac = 0;
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? rdata[i]! : rdata[i]! << 8;
  ac += (ac >> 16) & 0xffff;
  return ac & 0xffff;
}
