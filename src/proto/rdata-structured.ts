/**
 * RDATA whose presentation form is more than a list of fields: LOC (RFC 1876 §3), SVCB and
 * HTTPS (RFC 9460 §2.1, with the keys of §7 and RFC 9461), IPSECKEY (RFC 4025 §3), HIP
 * (RFC 8005 §4) and APL (RFC 3123 §4). Each turns the record's tokens into wire octets.
 */
import ipaddr from "ipaddr.js";
import type { Token } from "./lexer.js";
import { parseName, toWire } from "./name.js";
import { FieldError } from "./rdata-fields.js";

type Tokens = readonly Token[];

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function uint(text: string | undefined, max: number, what: string): number {
  if (text === undefined || !/^\d+$/.test(text) || Number(text) > max)
    throw new FieldError(`'${text ?? ""}' is not a valid ${what}`);
  return Number(text);
}

function base64(text: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0)
    throw new FieldError(`${what} is not base64`);
  return Buffer.from(text, "base64");
}

function ipv4(text: string): Buffer {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) throw new FieldError(`'${text}' is not an IPv4 address`);
  return Buffer.from(ipaddr.IPv4.parse(text).toByteArray());
}

function ipv6(text: string): Buffer {
  if (!ipaddr.IPv6.isValid(text) || text.includes("%"))
    throw new FieldError(`'${text}' is not an IPv6 address`);
  return Buffer.from(ipaddr.IPv6.parse(text).toByteArray());
}

// ---- LOC (RFC 1876) ----

/** A size or precision in metres as LOC's mantissa and exponent of centimetres. */
function precision(text: string, what: string): number {
  const m = /^(\d+)(?:\.(\d{1,2}))?m?$/.exec(text);
  if (!m) throw new FieldError(`'${text}' is not a LOC ${what} in metres`);
  let cm = Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
  let exp = 0;
  while (cm >= 10 && exp < 9) {
    cm = Math.floor(cm / 10);
    exp++;
  }
  if (cm > 9 || Number(m[1]) > 90_000_000) throw new FieldError(`LOC ${what} '${text}' is too large`);
  return (cm << 4) | exp;
}

/** Degrees [minutes [seconds]] and a hemisphere, from the tokens at `i`; thousandths of arc seconds. */
function angle(
  tokens: Tokens,
  i: number,
  hemispheres: [string, string],
  maxDeg: number,
): { value: number; next: number } {
  const parts: string[] = [];
  let j = i;
  while (j < tokens.length && parts.length < 3 && !hemispheres.includes(tokens[j]!.text.toUpperCase()))
    parts.push(tokens[j++]!.text);
  const hemi = tokens[j]?.text.toUpperCase();
  if (hemi === undefined || !hemispheres.includes(hemi) || parts.length === 0)
    throw new FieldError("LOC needs degrees and N/S, then degrees and E/W");
  const deg = uint(parts[0], maxDeg, "LOC degree");
  const min = parts[1] === undefined ? 0 : uint(parts[1], 59, "LOC minute");
  const sec = parts[2] === undefined ? 0 : Number(parts[2]);
  if (parts[2] !== undefined && (!/^\d+(\.\d{1,3})?$/.test(parts[2]) || sec >= 60))
    throw new FieldError(`'${parts[2]}' is not a LOC second`);
  const thousandths = (deg * 3600 + min * 60) * 1000 + Math.round(sec * 1000);
  if (thousandths > maxDeg * 3_600_000) throw new FieldError("LOC coordinate out of range");
  const sign = hemi === hemispheres[0] ? 1 : -1;
  return { value: 2 ** 31 + sign * thousandths, next: j + 1 };
}

export function loc(tokens: Tokens): Buffer {
  const lat = angle(tokens, 0, ["N", "S"], 90);
  const lon = angle(tokens, lat.next, ["E", "W"], 180);
  let i = lon.next;
  const alt = /^(-?\d+)(?:\.(\d{1,2}))?m?$/.exec(tokens[i]?.text ?? "");
  if (!alt) throw new FieldError("LOC needs an altitude in metres");
  const negative = alt[1]!.startsWith("-");
  const altCm = Math.abs(Number(alt[1])) * 100 + Number((alt[2] ?? "").padEnd(2, "0"));
  const altitude = 10_000_000 + (negative ? -altCm : altCm);
  if (altitude < 0 || altitude > 0xffffffff) throw new FieldError("LOC altitude out of range");
  i++;
  const [size, hp, vp] = ["1m", "10000m", "10m"].map((dflt, k) =>
    precision(tokens[i + k]?.text ?? dflt, ["size", "horizontal precision", "vertical precision"][k]!),
  );
  if (tokens.length > i + 3) throw new FieldError(`unexpected extra RDATA '${tokens[i + 3]!.text}'`);
  return Buffer.concat([Buffer.from([0, size!, hp!, vp!]), u32(lat.value), u32(lon.value), u32(altitude)]);
}

// ---- SVCB and HTTPS (RFC 9460) ----

const SVC_KEYS: Record<string, number> = {
  mandatory: 0,
  alpn: 1,
  "no-default-alpn": 2,
  port: 3,
  ipv4hint: 4,
  ech: 5,
  ipv6hint: 6,
  dohpath: 7,
  ohttp: 8,
};

function svcKey(name: string): number {
  const known = SVC_KEYS[name.toLowerCase()];
  if (known !== undefined) return known;
  const m = /^key(\d{1,5})$/i.exec(name);
  if (m && Number(m[1]) <= 65535) return Number(m[1]);
  throw new FieldError(`'${name}' is not a SvcParamKey`);
}

/** Splits a value list on unescaped commas, resolving escapes (RFC 9460 Appendix A.1). */
function valueList(value: string): Buffer[] {
  const items: number[][] = [[]];
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === "\\" && /^\d{3}$/.test(value.slice(i + 1, i + 4))) {
      items.at(-1)!.push(Number(value.slice(i + 1, i + 4)));
      i += 3;
    } else if (c === "\\" && i + 1 < value.length) items.at(-1)!.push(value.charCodeAt(++i));
    else if (c === ",") items.push([]);
    else for (const b of Buffer.from(c, "utf8")) items.at(-1)!.push(b);
  }
  return items.map((x) => Buffer.from(x));
}

function svcValue(key: number, value: string | null): Buffer {
  const need = () => {
    if (value === null || value === "") throw new FieldError(`SvcParam key${key} needs a value`);
    return value;
  };
  switch (key) {
    case 0: {
      const keys = need()
        .split(",")
        .map(svcKey)
        .sort((a, b) => a - b);
      return Buffer.concat(keys.map(u16));
    }
    case 1:
      return Buffer.concat(valueList(need()).map((a) => Buffer.concat([Buffer.from([a.length]), a])));
    case 2:
      if (value !== null && value !== "") throw new FieldError("no-default-alpn takes no value");
      return Buffer.alloc(0);
    case 3:
      return u16(uint(need(), 0xffff, "port"));
    case 4:
      return Buffer.concat(need().split(",").map(ipv4));
    case 5:
      return base64(need(), "ech");
    case 6:
      return Buffer.concat(need().split(",").map(ipv6));
    default:
      return value === null
        ? Buffer.alloc(0)
        : Buffer.concat(valueList(value).flatMap((b, i) => (i === 0 ? [b] : [Buffer.from(","), b])));
  }
}

export function svcb(tokens: Tokens, origin: Buffer[]): Buffer {
  const priority = uint(tokens[0]?.text, 0xffff, "SvcPriority");
  const target = tokens[1];
  if (!target) throw new FieldError("SVCB needs a priority and a target name");
  const params = new Map<number, Buffer>();
  for (let i = 2; i < tokens.length; i++) {
    const t = tokens[i]!;
    let key: string;
    let value: string | null;
    const eq = t.quoted ? -1 : t.text.indexOf("=");
    if (eq < 0) {
      key = t.text;
      value = null;
    } else {
      key = t.text.slice(0, eq);
      value = t.text.slice(eq + 1);
      // key="quoted value": the lexer splits at the quote; the value is the next, adjacent token.
      const next = tokens[i + 1];
      if (value === "" && next?.quoted && next.start === t.end) {
        value = next.text;
        i++;
      }
    }
    const code = svcKey(key);
    if (params.has(code)) throw new FieldError(`SvcParam ${key} given twice`);
    params.set(code, svcValue(code, value));
  }
  if (priority === 0 && params.size > 0)
    throw new FieldError("an AliasMode SVCB (priority 0) takes no SvcParams");
  const parts = [u16(priority), toWire(parseName(target.text, origin))];
  for (const code of [...params.keys()].sort((a, b) => a - b)) {
    const v = params.get(code)!;
    parts.push(u16(code), u16(v.length), v);
  }
  return Buffer.concat(parts);
}

// ---- IPSECKEY (RFC 4025) ----

export function ipseckey(tokens: Tokens, origin: Buffer[]): Buffer {
  const precedence = uint(tokens[0]?.text, 0xff, "IPSECKEY precedence");
  const type = uint(tokens[1]?.text, 3, "IPSECKEY gateway type");
  const alg = uint(tokens[2]?.text, 0xff, "IPSECKEY algorithm");
  const gw = tokens[3]?.text;
  if (gw === undefined) throw new FieldError("IPSECKEY needs a gateway ('.' for none)");
  let gateway: Buffer;
  if (type === 0) {
    if (gw !== ".") throw new FieldError("IPSECKEY gateway type 0 takes '.'");
    gateway = Buffer.alloc(0);
  } else if (type === 1) gateway = ipv4(gw);
  else if (type === 2) gateway = ipv6(gw);
  else gateway = toWire(parseName(gw, origin));
  const key = base64(
    tokens
      .slice(4)
      .map((t) => t.text)
      .join(""),
    "IPSECKEY public key",
  );
  return Buffer.concat([Buffer.from([precedence, type, alg]), gateway, key]);
}

// ---- HIP (RFC 8005) ----

export function hip(tokens: Tokens, origin: Buffer[]): Buffer {
  const alg = uint(tokens[0]?.text, 0xff, "HIP public key algorithm");
  const hit = tokens[1]?.text ?? "";
  if (!/^([0-9a-fA-F]{2}){1,255}$/.test(hit)) throw new FieldError("HIP needs a HIT in hex");
  const pk = base64(tokens[2]?.text ?? "", "HIP public key");
  const servers = tokens.slice(3).map((t) => toWire(parseName(t.text, origin)));
  const hitBytes = Buffer.from(hit, "hex");
  return Buffer.concat([Buffer.from([hitBytes.length, alg]), u16(pk.length), hitBytes, pk, ...servers]);
}

// ---- APL (RFC 3123) ----

export function apl(tokens: Tokens): Buffer {
  const parts: Buffer[] = [];
  for (const t of tokens) {
    const m = /^(!?)([12]):([^/]+)\/(\d{1,3})$/.exec(t.text);
    if (!m) throw new FieldError(`'${t.text}' is not an APL item ([!]afi:address/prefix)`);
    const family = Number(m[2]);
    const address = family === 1 ? ipv4(m[3]!) : ipv6(m[3]!);
    const prefix = Number(m[4]);
    if (prefix > address.length * 8) throw new FieldError(`APL prefix /${prefix} is too long`);
    let len = address.length;
    while (len > 0 && address[len - 1] === 0) len--; // trailing zero octets are left out (§4.1)
    parts.push(u16(family), Buffer.from([prefix, (m[1] ? 0x80 : 0) | len]), address.subarray(0, len));
  }
  return Buffer.concat(parts);
}
