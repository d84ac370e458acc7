/**
 * Who answered: the server's identity and version as CHAOS TXT records (RFC 4892: id.server and
 * hostname.bind; version.bind and version.server by convention), and its NSID (RFC 5001), each
 * set by the operator and each hidden when set to null. A hidden name is REFUSED like every other
 * CHAOS name, so nothing tells it apart from a name that never existed.
 */
import { hostname } from "node:os";
import { type EncodedSections, encodeSections } from "../proto/sections.js";
import { CLASS_CH, T } from "../proto/types.js";

export interface ServerIdentity {
  /** id.server and hostname.bind; null hides them. */
  identity: string | null;
  /** version.bind and version.server; null hides them. */
  version: string | null;
  /** The NSID option's payload; null sends none. */
  nsid: Buffer | null;
}

export function defaultIdentity(version: string): ServerIdentity {
  return { identity: hostname(), version: `lbdns ${version}`, nsid: null };
}

/** One TXT RDATA holding `text` (split in strings of at most 255 octets). */
function txt(text: string): Buffer {
  const b = Buffer.from(text, "utf8");
  const parts: Buffer[] = [];
  for (let o = 0; o < b.length || parts.length === 0; o += 255) {
    const chunk = b.subarray(o, o + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(parts);
}

/** The CHAOS TXT answers by query-name key. */
export function chaosAnswers(id: ServerIdentity): Map<string, EncodedSections> {
  const out = new Map<string, EncodedSections>();
  const add = (names: string[], text: string | null) => {
    if (text === null) return;
    const sections = encodeSections(
      [{ owner: null, type: T.TXT, ttl: 0, rdata: txt(text), klass: CLASS_CH }],
      [],
      [],
    );
    for (const n of names) out.set(n, sections);
  };
  add(["id.server", "hostname.bind"], id.identity);
  add(["version.bind", "version.server"], id.version);
  return out;
}

/** The NSID option (code 3) with the payload, ready to append to an OPT record. */
export function nsidOption(payload: Buffer): Buffer {
  const b = Buffer.alloc(4 + payload.length);
  b.writeUInt16BE(3, 0);
  b.writeUInt16BE(payload.length, 2);
  payload.copy(b, 4);
  return b;
}
