/**
 * RDATA fields beyond numbers, names and strings: type bitmaps (RFC 4034 §4.1.2), RRSIG times
 * (§3.2), NSEC3 salts and hashes in base32hex (RFC 5155 §3.3), EUI-48/64 (RFC 7043), ILNP
 * locators (RFC 6742), and the CERT and DNSSEC algorithm mnemonics (RFC 4398, RFC 8624).
 */
import { UserError } from "../lib/errors.js";
import { typeCode, typeName } from "./types.js";

export class FieldError extends UserError {}

/** Type bitmap from type mnemonics (or TYPEnnn): windows in order, each as short as it can be. */
export function typeBitmap(names: readonly string[]): Buffer {
  return bitmapOf(
    names.map((n) => {
      const code = typeCode(n);
      if (code === undefined) throw new FieldError(`'${n}' is not a record type`);
      return code;
    }),
  );
}

/** Type bitmap (RFC 4034 §4.1.2) of type codes. */
export function bitmapOf(types: Iterable<number>): Buffer {
  const windows = new Map<number, Uint8Array>();
  for (const t of types) {
    const w = t >> 8;
    let bits = windows.get(w);
    if (!bits) {
      bits = new Uint8Array(32);
      windows.set(w, bits);
    }
    bits[(t & 0xff) >> 3]! |= 0x80 >> (t & 7);
  }
  const parts: Buffer[] = [];
  for (const w of [...windows.keys()].sort((a, b) => a - b)) {
    const bits = windows.get(w)!;
    let len = 32;
    while (len > 0 && bits[len - 1] === 0) len--;
    parts.push(Buffer.from([w, len]), Buffer.from(bits.subarray(0, len)));
  }
  return Buffer.concat(parts);
}

export function formatBitmap(b: Buffer): string {
  const out: string[] = [];
  for (let o = 0; o + 2 <= b.length; ) {
    const w = b[o]!;
    const len = b[o + 1]!;
    for (let i = 0; i < len; i++)
      for (let bit = 0; bit < 8; bit++)
        if (b[o + 2 + i]! & (0x80 >> bit)) out.push(typeName(w * 256 + i * 8 + bit));
    o += 2 + len;
  }
  return out.join(" ");
}

/** RRSIG expiration and inception: YYYYMMDDHHmmSS (UTC), or seconds; kept mod 2^32 (RFC 4034 §3.2). */
export function parseTime(text: string): number {
  if (/^\d{14}$/.test(text)) {
    const ms = Date.UTC(
      Number(text.slice(0, 4)),
      Number(text.slice(4, 6)) - 1,
      Number(text.slice(6, 8)),
      Number(text.slice(8, 10)),
      Number(text.slice(10, 12)),
      Number(text.slice(12, 14)),
    );
    return Math.floor(ms / 1000) % 2 ** 32;
  }
  if (/^\d{1,10}$/.test(text) && Number(text) <= 0xffffffff) return Number(text);
  throw new FieldError(`'${text}' is not a time (YYYYMMDDHHmmSS)`);
}

export function formatTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** An NSEC3 salt: '-' for none, else hex; with its length octet. */
export function salt(text: string): Buffer {
  if (text === "-") return Buffer.from([0]);
  if (!/^([0-9a-fA-F]{2}){1,255}$/.test(text)) throw new FieldError(`'${text}' is not a salt (hex or -)`);
  const b = Buffer.from(text, "hex");
  return Buffer.concat([Buffer.from([b.length]), b]);
}

const B32HEX = "0123456789abcdefghijklmnopqrstuv";

/** Base32 with the extended hex alphabet, unpadded (RFC 4648 §7), with its length octet. */
export function base32hex(text: string): Buffer {
  const t = text.toLowerCase();
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const c of t) {
    const v = B32HEX.indexOf(c);
    if (v < 0) throw new FieldError(`'${text}' is not base32hex`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >> bits) & 0xff);
    }
  }
  if (out.length === 0 || out.length > 255) throw new FieldError(`'${text}' is not a hashed owner name`);
  return Buffer.concat([Buffer.from([out.length]), Buffer.from(out)]);
}

export function formatBase32hex(b: Buffer): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of b) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += B32HEX[(value >> bits) & 31];
    }
  }
  if (bits > 0) out += B32HEX[(value << (5 - bits)) & 31];
  return out.toUpperCase();
}

/** EUI-48 or EUI-64: six or eight hex octets joined by '-'. */
export function eui(text: string, octets: 6 | 8): Buffer {
  const re = octets === 6 ? /^[0-9a-fA-F]{2}(-[0-9a-fA-F]{2}){5}$/ : /^[0-9a-fA-F]{2}(-[0-9a-fA-F]{2}){7}$/;
  if (!re.test(text)) throw new FieldError(`'${text}' is not an EUI-${octets * 8} (xx-xx-...)`);
  return Buffer.from(text.replaceAll("-", ""), "hex");
}

/** An ILNP 64-bit locator or node id: four 16-bit hex groups joined by ':' (RFC 6742 §2.3). */
export function locator64(text: string): Buffer {
  if (!/^[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4}){3}$/.test(text))
    throw new FieldError(`'${text}' is not a 64-bit locator`);
  const b = Buffer.alloc(8);
  text.split(":").forEach((g, i) => {
    b.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  return b;
}

const CERT_TYPES: Record<string, number> = {
  PKIX: 1,
  SPKI: 2,
  PGP: 3,
  IPKIX: 4,
  ISPKI: 5,
  IPGP: 6,
  ACPKIX: 7,
  IACPKIX: 8,
  URI: 253,
  OID: 254,
};

const ALGORITHMS: Record<string, number> = {
  RSAMD5: 1,
  DH: 2,
  DSA: 3,
  ECC: 4,
  RSASHA1: 5,
  "DSA-NSEC3-SHA1": 6,
  "RSASHA1-NSEC3-SHA1": 7,
  RSASHA256: 8,
  RSASHA512: 10,
  "ECC-GOST": 12,
  ECDSAP256SHA256: 13,
  ECDSAP384SHA384: 14,
  ED25519: 15,
  ED448: 16,
  INDIRECT: 252,
  PRIVATEDNS: 253,
  PRIVATEOID: 254,
};

function mnemonicOr(table: Record<string, number>, text: string, max: number, what: string): number {
  const known = table[text.toUpperCase()];
  if (known !== undefined) return known;
  if (/^\d+$/.test(text) && Number(text) <= max) return Number(text);
  throw new FieldError(`'${text}' is not a ${what}`);
}

export const certType = (text: string) => mnemonicOr(CERT_TYPES, text, 0xffff, "certificate type");
export const algorithm = (text: string) => mnemonicOr(ALGORITHMS, text, 0xff, "DNSSEC algorithm");
