/**
 * Domain names in the three forms lbdns needs:
 * - presentation text from zone files (escapes `\.` and `\DDD`, relative names, `@`),
 * - wire labels (RFC 1035 §3.1),
 * - a lookup key: lower-cased presentation form without the trailing dot ("" is the root).
 *   The key is what the zone index and the query decoder agree on, so a query in any case
 *   finds the node (RFC 4343) with one Map lookup.
 */
import { UserError } from "../lib/errors.js";

export const MAX_LABEL = 63;
export const MAX_NAME_WIRE = 255;

export class NameError extends UserError {}

/** Parses one presentation-format name into raw labels. `origin` completes relative names. */
export function parseName(text: string, origin: Buffer[] | null): Buffer[] {
  if (text === "@") {
    if (origin === null) throw new NameError("'@' used with no $ORIGIN");
    return origin;
  }
  if (text === ".") return [];
  const labels: Buffer[] = [];
  let bytes: number[] = [];
  let absolute = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e /* . */) {
      if (bytes.length === 0) throw new NameError(`empty label in '${text}'`);
      labels.push(Buffer.from(bytes));
      bytes = [];
      if (i === text.length - 1) absolute = true;
      continue;
    }
    if (c === 0x5c /* \ */) {
      const next = text.charCodeAt(i + 1);
      if (Number.isNaN(next)) throw new NameError(`dangling escape in '${text}'`);
      if (next >= 0x30 && next <= 0x39) {
        const digits = text.slice(i + 1, i + 4);
        if (!/^\d{3}$/.test(digits) || Number(digits) > 255) {
          throw new NameError(`bad \\DDD escape in '${text}'`);
        }
        bytes.push(Number(digits));
        i += 3;
      } else {
        bytes.push(next);
        i += 1;
      }
      continue;
    }
    if (c > 0x7e || c < 0x21) throw new NameError(`invalid character in '${text}'`);
    bytes.push(c);
  }
  if (bytes.length > 0) labels.push(Buffer.from(bytes));
  for (const label of labels) {
    if (label.length > MAX_LABEL) throw new NameError(`label longer than 63 octets in '${text}'`);
  }
  let full = labels;
  if (!absolute) {
    if (origin === null) throw new NameError(`relative name '${text}' with no $ORIGIN`);
    full = labels.concat(origin);
  }
  if (wireLength(full) > MAX_NAME_WIRE) throw new NameError(`name longer than 255 octets: '${text}'`);
  return full;
}

export function wireLength(labels: readonly Buffer[]): number {
  let n = 1;
  for (const l of labels) n += l.length + 1;
  return n;
}

/** Uncompressed wire form. */
export function toWire(labels: readonly Buffer[]): Buffer {
  const out = Buffer.allocUnsafe(wireLength(labels));
  let o = 0;
  for (const l of labels) {
    out[o++] = l.length;
    l.copy(out, o);
    o += l.length;
  }
  out[o] = 0;
  return out;
}

function isPlain(b: number): boolean {
  // Printable ASCII other than the characters that need escaping in presentation form.
  return (
    b > 0x20 && b < 0x7f && b !== 0x2e && b !== 0x5c && b !== 0x22 && b !== 0x28 && b !== 0x29 && b !== 0x3b
  );
}

/** One label in presentation form, case kept (for display). */
export function presentLabel(label: Buffer): string {
  let s = "";
  for (const b of label) s += isPlain(b) ? String.fromCharCode(b) : `\\${String(b).padStart(3, "0")}`;
  return s;
}

/** Absolute name in presentation form, case kept. */
export function presentName(labels: readonly Buffer[]): string {
  return labels.length === 0 ? "." : `${labels.map(presentLabel).join(".")}.`;
}

/** Appends the key form of one label (lower-cased; unusual octets as \DDD). */
function labelKey(buf: Buffer, start: number, end: number): string {
  let plain = true;
  for (let i = start; i < end; i++) {
    if (!isPlain(buf[i]!)) {
      plain = false;
      break;
    }
  }
  if (plain) return buf.toString("latin1", start, end).toLowerCase();
  let s = "";
  for (let i = start; i < end; i++) {
    let b = buf[i]!;
    if (b >= 0x41 && b <= 0x5a) b += 0x20;
    s += isPlain(b) ? String.fromCharCode(b) : `\\${String(b).padStart(3, "0")}`;
  }
  return s;
}

/** Offset past the uncompressed wire name at `o` (of data we made; it stops at the buffer's end). */
export function endOfWireName(b: Buffer, o: number): number {
  while (o < b.length && b[o]! !== 0) o += b[o]! + 1;
  return o + 1;
}

/** The wire form of a lookup key (the root is ""). */
export function wireOfKey(key: string): Buffer {
  return toWire(parseName(key === "" ? "." : `${key}.`, null));
}

/** Lookup key of a label list. */
export function keyOf(labels: readonly Buffer[]): string {
  let k = "";
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (i > 0) k += ".";
    k += labelKey(l, 0, l.length);
  }
  return k;
}

/** Presentation text with trailing dot, for logs and CLI output. */
export function displayName(key: string): string {
  return key === "" ? "." : `${key}.`;
}

/** Key of the parent name ("" for a TLD; null for the root). */
export function parentKey(key: string): string | null {
  if (key === "") return null;
  // An escaped dot is written \046, so a literal '.' in a key always separates labels.
  const i = key.indexOf(".");
  return i < 0 ? "" : key.slice(i + 1);
}

/** True when `key` equals `ancestor` or lies below it. */
export function isSubdomain(key: string, ancestor: string): boolean {
  if (ancestor === "") return true;
  if (key.length === ancestor.length) return key === ancestor;
  return (
    key.length > ancestor.length && key.endsWith(ancestor) && key[key.length - ancestor.length - 1] === "."
  );
}

/** Number of labels in a key. */
export function labelCount(key: string): number {
  if (key === "") return 0;
  let n = 1;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) === 0x2e) n++;
  return n;
}

export interface WireName {
  key: string;
  /** Offset just past the name. */
  end: number;
}

/**
 * Decodes an uncompressed name from a query's question section. Queries never need
 * compression (the question is the first name), so a pointer here is treated as malformed,
 * which also removes any pointer-loop attack surface.
 */
export function readQuestionName(buf: Buffer, offset: number): WireName | null {
  let o = offset;
  let key = "";
  let total = 1;
  for (;;) {
    if (o >= buf.length) return null;
    const len = buf[o]!;
    if (len === 0) return { key, end: o + 1 };
    if (len > MAX_LABEL) return null;
    total += len + 1;
    if (total > MAX_NAME_WIRE || o + 1 + len > buf.length) return null;
    if (key.length > 0) key += ".";
    key += labelKey(buf, o + 1, o + 1 + len);
    o += 1 + len;
  }
}
