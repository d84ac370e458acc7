/**
 * RDATA: presentation text -> wire octets, driven by one field list per type (the same idea as
 * Knot's rdata descriptors), so adding a type is one table row. Types without a row can always
 * be written in the RFC 3597 generic form `\# <len> <hex>`.
 */

import ipaddr from "ipaddr.js";
import { UserError } from "../lib/errors.js";
import type { Token } from "./lexer.js";
import { parseName, toWire } from "./name.js";
import {
  algorithm,
  base32hex,
  certType,
  eui,
  FieldError,
  locator64,
  parseTime,
  salt,
  typeBitmap,
} from "./rdata-fields.js";
import { apl, hip, ipseckey, loc, svcb } from "./rdata-structured.js";
import { T, typeCode } from "./types.js";

export type Field =
  | "name"
  | "u8"
  | "u16"
  | "u32"
  | "period"
  | "ipv4"
  | "ipv6"
  | "string"
  | "strings"
  | "hex"
  | "base64"
  | "caa-tag"
  | "caa-value"
  | "type"
  | "time"
  | "bitmap"
  | "salt"
  | "b32hex"
  | "eui48"
  | "eui64"
  | "l64"
  | "cert-type"
  | "algorithm"
  | "octets";

export const DESCRIPTORS = new Map<number, readonly Field[]>([
  [T.A, ["ipv4"]],
  [T.NS, ["name"]],
  [T.CNAME, ["name"]],
  [T.SOA, ["name", "name", "u32", "period", "period", "period", "period"]],
  [T.PTR, ["name"]],
  [T.HINFO, ["string", "string"]],
  [T.MX, ["u16", "name"]],
  [T.TXT, ["strings"]],
  [T.SPF, ["strings"]],
  [T.RP, ["name", "name"]],
  [T.AAAA, ["ipv6"]],
  [T.SRV, ["u16", "u16", "u16", "name"]],
  [T.NAPTR, ["u16", "u16", "string", "string", "string", "name"]],
  [T.DNAME, ["name"]],
  [T.DS, ["u16", "algorithm", "u8", "hex"]],
  [T.CDS, ["u16", "algorithm", "u8", "hex"]],
  [T.SSHFP, ["u8", "u8", "hex"]],
  [T.DNSKEY, ["u16", "u8", "algorithm", "base64"]],
  [T.CDNSKEY, ["u16", "u8", "algorithm", "base64"]],
  [T.RRSIG, ["type", "algorithm", "u8", "u32", "time", "time", "u16", "name", "base64"]],
  [T.NSEC, ["name", "bitmap"]],
  [T.NSEC3, ["u8", "u8", "u16", "salt", "b32hex", "bitmap"]],
  [T.NSEC3PARAM, ["u8", "u8", "u16", "salt"]],
  [T.TLSA, ["u8", "u8", "u8", "hex"]],
  [T.SMIMEA, ["u8", "u8", "u8", "hex"]],
  [T.OPENPGPKEY, ["base64"]],
  [T.DHCID, ["base64"]],
  [T.ZONEMD, ["u32", "u8", "u8", "hex"]],
  [T.CSYNC, ["u32", "u16", "bitmap"]],
  [T.CERT, ["cert-type", "u16", "algorithm", "base64"]],
  [T.AFSDB, ["u16", "name"]],
  [T.KX, ["u16", "name"]],
  [T.LP, ["u16", "name"]],
  [T.L32, ["u16", "ipv4"]],
  [T.L64, ["u16", "l64"]],
  [T.NID, ["u16", "l64"]],
  [T.EUI48, ["eui48"]],
  [T.EUI64, ["eui64"]],
  [T.URI, ["u16", "u16", "octets"]],
  [T.CAA, ["u8", "caa-tag", "caa-value"]],
]);

/** Types whose presentation form is more than a field list (rdata-structured.ts); shown in RFC 3597 form. */
const STRUCTURED = new Map<number, (tokens: readonly Token[], origin: Buffer[]) => Buffer>([
  [T.LOC, loc],
  [T.SVCB, svcb],
  [T.HTTPS, svcb],
  [T.IPSECKEY, ipseckey],
  [T.HIP, hip],
  [T.APL, apl],
]);

/** Types whose single domain-name target matters to lookup (CNAME chasing, additional section). */
export function targetOffset(type: number): number | undefined {
  switch (type) {
    case T.NS:
    case T.CNAME:
    case T.DNAME:
    case T.PTR:
      return 0;
    case T.MX:
      return 2;
    case T.SRV:
      return 6;
    default:
      return undefined;
  }
}

export class RdataError extends UserError {}

export interface ParsedRdata {
  wire: Buffer;
  /** Absolute target name labels for NS/CNAME/MX/SRV/PTR/DNAME. */
  target?: Buffer[];
}

const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** A TTL or SOA timer: seconds, or BIND's unit form such as `1h30m` or `2w`. */
export function parsePeriod(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n > 0xffffffff) throw new RdataError(`'${text}' is larger than 2^32-1`);
    return n;
  }
  const re = /(\d+)([smhdw])/giy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * TTL_UNITS[m[2]!.toLowerCase()]!;
    consumed = re.lastIndex;
  }
  if (consumed !== text.length || consumed === 0) throw new RdataError(`'${text}' is not a TTL`);
  if (total > 0xffffffff) throw new RdataError(`'${text}' is larger than 2^32-1`);
  return total;
}

/** Character-string bytes with `\X` and `\DDD` resolved (RFC 1035 §5.1). */
export function unescapeString(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x5c) {
      if (c > 0xff) {
        for (const b of Buffer.from(text[i]!, "utf8")) out.push(b);
      } else {
        out.push(c);
      }
      continue;
    }
    const digits = text.slice(i + 1, i + 4);
    if (/^\d{3}$/.test(digits)) {
      const v = Number(digits);
      if (v > 255) throw new RdataError(`bad escape \\${digits}`);
      out.push(v);
      i += 3;
    } else if (i + 1 < text.length) {
      out.push(text.charCodeAt(i + 1));
      i += 1;
    } else {
      throw new RdataError("dangling backslash");
    }
  }
  return Buffer.from(out);
}

function uint(text: string, max: number, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) > max) throw new RdataError(`'${text}' is not a valid ${what}`);
  return Number(text);
}

function characterString(token: Token): Buffer {
  const bytes = unescapeString(token.text);
  if (bytes.length > 255) throw new RdataError("character string longer than 255 octets");
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

/** RFC 3597 §5: `\# <length> <hex...>`. */
function parseGeneric(tokens: readonly Token[]): Buffer {
  const len = uint(tokens[1]?.text ?? "", 0xffff, "RDATA length");
  const hex = tokens
    .slice(2)
    .map((t) => t.text)
    .join("");
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) throw new RdataError("generic RDATA is not hex");
  const wire = Buffer.from(hex, "hex");
  if (wire.length !== len) throw new RdataError(`generic RDATA length is ${wire.length}, declared ${len}`);
  return wire;
}

/**
 * Parses the RDATA tokens of one record. `origin` completes relative names in RDATA.
 * Throws RdataError with a reason a zone author can act on.
 */
export function parseRdata(type: number, tokens: readonly Token[], origin: Buffer[]): ParsedRdata {
  let wire: Buffer;
  if (tokens[0]?.text === "\\#" && !tokens[0].quoted) {
    wire = parseGeneric(tokens);
  } else {
    const structured = STRUCTURED.get(type);
    const fields = DESCRIPTORS.get(type);
    if (structured) {
      try {
        wire = structured(tokens, origin);
      } catch (e) {
        if (e instanceof FieldError) throw new RdataError(e.message);
        throw e;
      }
      if (wire.length > 0xffff) throw new RdataError("RDATA longer than 65535 octets");
    } else if (!fields) {
      throw new RdataError(
        "no presentation format known for this type; use the RFC 3597 form '\\# <len> <hex>'",
      );
    } else wire = encodeFields(fields, tokens, origin);
  }
  const off = targetOffset(type);
  if (off === undefined) return { wire };
  return { wire, target: readWireName(wire, off) };
}

function encodeFields(fields: readonly Field[], tokens: readonly Token[], origin: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  let t = 0;
  const next = (): Token => {
    const tok = tokens[t++];
    if (!tok) throw new RdataError("too few RDATA fields");
    return tok;
  };
  /** The remaining tokens joined: hex and base64 fields may be split by white space. */
  const rest = (): string => {
    const text = tokens
      .slice(t)
      .map((x) => x.text)
      .join("");
    t = tokens.length;
    return text;
  };
  for (const field of fields) {
    switch (field) {
      case "name":
        parts.push(toWire(parseName(next().text, origin)));
        break;
      case "u8":
        parts.push(Buffer.from([uint(next().text, 0xff, "8-bit number")]));
        break;
      case "u16": {
        const b = Buffer.alloc(2);
        b.writeUInt16BE(uint(next().text, 0xffff, "16-bit number"));
        parts.push(b);
        break;
      }
      case "u32":
      case "period": {
        const text = next().text;
        const v = field === "u32" ? uint(text, 0xffffffff, "32-bit number") : parsePeriod(text);
        const b = Buffer.alloc(4);
        b.writeUInt32BE(v);
        parts.push(b);
        break;
      }
      case "ipv4": {
        const text = next().text;
        if (!ipaddr.IPv4.isValidFourPartDecimal(text))
          throw new RdataError(`'${text}' is not an IPv4 address`);
        parts.push(Buffer.from(ipaddr.IPv4.parse(text).toByteArray()));
        break;
      }
      case "ipv6": {
        const text = next().text;
        if (!ipaddr.IPv6.isValid(text) || text.includes("%")) {
          throw new RdataError(`'${text}' is not an IPv6 address`);
        }
        parts.push(Buffer.from(ipaddr.IPv6.parse(text).toByteArray()));
        break;
      }
      case "string":
        parts.push(characterString(next()));
        break;
      case "strings":
        if (t >= tokens.length) throw new RdataError("TXT needs at least one string");
        while (t < tokens.length) parts.push(characterString(next()));
        break;
      case "hex": {
        const hex = rest();
        if (hex.length === 0 || !/^[0-9a-fA-F]+$/.test(hex) || hex.length % 2 !== 0) {
          throw new RdataError("expected hexadecimal data");
        }
        parts.push(Buffer.from(hex, "hex"));
        break;
      }
      case "base64": {
        const b64 = rest();
        if (b64.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) {
          throw new RdataError("expected base64 data");
        }
        parts.push(Buffer.from(b64, "base64"));
        break;
      }
      case "caa-tag": {
        const tag = next().text;
        if (!/^[A-Za-z0-9]{1,255}$/.test(tag)) throw new RdataError(`'${tag}' is not a CAA tag`);
        parts.push(Buffer.from([tag.length]), Buffer.from(tag, "ascii"));
        break;
      }
      case "caa-value":
      case "octets":
        parts.push(unescapeString(next().text));
        break;
      case "type": {
        const text = next().text;
        const code = typeCode(text);
        if (code === undefined) throw new RdataError(`'${text}' is not a record type`);
        const b = Buffer.alloc(2);
        b.writeUInt16BE(code);
        parts.push(b);
        break;
      }
      case "algorithm":
        parts.push(Buffer.from([fieldValue(() => algorithm(next().text))]));
        break;
      case "cert-type": {
        const b = Buffer.alloc(2);
        b.writeUInt16BE(fieldValue(() => certType(next().text)));
        parts.push(b);
        break;
      }
      case "time": {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(fieldValue(() => parseTime(next().text)));
        parts.push(b);
        break;
      }
      case "bitmap":
        parts.push(fieldValue(() => typeBitmap(tokens.slice(t).map((x) => x.text))));
        t = tokens.length;
        break;
      case "salt":
        parts.push(fieldValue(() => salt(next().text)));
        break;
      case "b32hex":
        parts.push(fieldValue(() => base32hex(next().text)));
        break;
      case "eui48":
      case "eui64":
        parts.push(fieldValue(() => eui(next().text, field === "eui48" ? 6 : 8)));
        break;
      case "l64":
        parts.push(fieldValue(() => locator64(next().text)));
        break;
    }
  }
  if (t < tokens.length) throw new RdataError(`unexpected extra RDATA '${tokens[t]!.text}'`);
  const wire = Buffer.concat(parts);
  if (wire.length > 0xffff) throw new RdataError("RDATA longer than 65535 octets");
  return wire;
}

/** A field parser's value, its FieldError as an RdataError. */
function fieldValue<V>(parse: () => V): V {
  try {
    return parse();
  } catch (e) {
    if (e instanceof FieldError) throw new RdataError(e.message);
    throw e;
  }
}

/** Reads an uncompressed name at `offset` of RDATA we encoded ourselves. */
export function readWireName(wire: Buffer, offset: number): Buffer[] {
  const labels: Buffer[] = [];
  let o = offset;
  for (;;) {
    const len = wire[o];
    if (len === undefined) throw new RdataError("RDATA name runs past the end");
    if (len === 0) return labels;
    if (len > 63) throw new RdataError("compressed or invalid name in RDATA");
    labels.push(wire.subarray(o + 1, o + 1 + len));
    o += 1 + len;
  }
}

/** SOA fields the server needs (RFC 1035 §3.3.13): serial and minimum sit at fixed offsets from the end. */
export function soaSerial(rdata: Buffer): number {
  return rdata.readUInt32BE(rdata.length - 20);
}

export function soaMinimum(rdata: Buffer): number {
  return rdata.readUInt32BE(rdata.length - 4);
}

/** Presentation output lives in rdata-format.ts; re-exported so callers have one place for RDATA. */
export { formatRdata } from "./rdata-format.js";
