/** RR type and class codes, and their presentation names (RFC 3597 `TYPEnnn` for the rest). */

export const T = {
  A: 1,
  NS: 2,
  MD: 3,
  MF: 4,
  CNAME: 5,
  SOA: 6,
  MB: 7,
  MG: 8,
  MR: 9,
  NULL: 10,
  WKS: 11,
  PTR: 12,
  HINFO: 13,
  MINFO: 14,
  MX: 15,
  TXT: 16,
  RP: 17,
  AFSDB: 18,
  X25: 19,
  ISDN: 20,
  RT: 21,
  AAAA: 28,
  LOC: 29,
  SRV: 33,
  NAPTR: 35,
  KX: 36,
  CERT: 37,
  DNAME: 39,
  OPT: 41,
  APL: 42,
  DS: 43,
  SSHFP: 44,
  IPSECKEY: 45,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  DHCID: 49,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  SMIMEA: 53,
  HIP: 55,
  CDS: 59,
  CDNSKEY: 60,
  OPENPGPKEY: 61,
  CSYNC: 62,
  ZONEMD: 63,
  SVCB: 64,
  HTTPS: 65,
  SPF: 99,
  NID: 104,
  L32: 105,
  L64: 106,
  LP: 107,
  EUI48: 108,
  EUI64: 109,
  NXNAME: 128,
  TKEY: 249,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
  URI: 256,
  CAA: 257,
} as const;

export const CLASS_IN = 1;
export const CLASS_CH = 3;
export const CLASS_ANY = 255;

const NAMES = new Map<number, string>(Object.entries(T).map(([name, code]) => [code, name]));
const CODES = new Map<string, number>(Object.entries(T).map(([name, code]) => [name, code]));

export function typeName(code: number): string {
  return NAMES.get(code) ?? `TYPE${code}`;
}

/** Type code of a mnemonic or `TYPEnnn`; undefined when unknown. */
export function typeCode(text: string): number | undefined {
  const upper = text.toUpperCase();
  const known = CODES.get(upper);
  if (known !== undefined) return known;
  const m = /^TYPE(\d{1,5})$/.exec(upper);
  if (m) {
    const n = Number(m[1]);
    if (n <= 0xffff) return n;
  }
  return undefined;
}

/** Class code of `IN`, `CH`, `CLASSnnn`; undefined when the token is not a class. */
export function classCode(text: string): number | undefined {
  const upper = text.toUpperCase();
  if (upper === "IN") return CLASS_IN;
  if (upper === "CH" || upper === "CS" || upper === "HS")
    return upper === "CH" ? CLASS_CH : upper === "HS" ? 4 : 2;
  const m = /^CLASS(\d{1,5})$/.exec(upper);
  if (m && Number(m[1]) <= 0xffff) return Number(m[1]);
  return undefined;
}
