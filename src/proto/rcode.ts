/** Response codes (RFC 1035 §4.1.1, RFC 6891 §6.1.3) and their presentation names, as dig prints them. */

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  NOTAUTH: 9,
  BADVERS: 16,
} as const;

const NAMES = new Map<number, string>(Object.entries(RCODE).map(([name, code]) => [code, name]));

export function rcodeName(code: number): string {
  return NAMES.get(code) ?? `RCODE${code}`;
}
