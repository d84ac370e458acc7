/**
 * Queries for the differential run, from the zone files themselves: every owner and empty
 * non-terminal, names below each (NXDOMAIN, wildcard, DNAME and cut cases), wildcard
 * expansions, names that DNAME substitution makes too long, mixed case, and names outside our
 * zones, each asked for many types; then header, EDNS, opcode and class variants on a sample.
 * Owners come from `named-checkzone -D` (BIND's canonical dump), not from lbdns's own parser.
 */
import { execFileSync } from "node:child_process";
import type { QuerySpec } from "./wire.js";

export interface ZoneFile {
  origin: string;
  file: string;
}

/** The types asked for every name. */
const TYPES = [
  1, 2, 5, 6, 12, 13, 15, 16, 17, 18, 28, 29, 33, 35, 36, 37, 39, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,
  53, 59, 60, 61, 62, 63, 64, 65, 99, 104, 105, 106, 107, 108, 109, 255, 256, 257, 65280,
];
/** Meta and odd types, asked for a few names. */
const ODD_TYPES = [0, 41, 128, 200, 249, 250, 251, 252, 253, 254, 65535];

/** Owner names of a zone (absolute, lower case), from BIND's canonical dump. */
export function owners(z: ZoneFile): string[] {
  const dump = execFileSync("named-checkzone", ["-q", "-D", "-o", "-", z.origin, z.file], {
    encoding: "utf8",
  });
  const names = new Set<string>();
  for (const line of dump.split("\n")) {
    const owner = line.split(/\s+/)[0];
    if (owner) names.add(owner.toLowerCase());
  }
  return [...names];
}

/** Every name from `name` up to (not including) `origin`'s parent. */
function ancestors(name: string, origin: string): string[] {
  const out: string[] = [];
  for (let n = name; n.length >= origin.length && n.endsWith(origin); n = n.slice(n.indexOf(".") + 1)) {
    out.push(n);
    if (n === origin) break;
  }
  return out;
}

/** Alternating case, deterministically (0x20-style), so case handling is compared too. */
function mixCase(name: string): string {
  let letters = 0;
  return [...name]
    .map((c) => {
      if (!/[a-z]/i.test(c)) return c;
      letters++;
      return letters % 2 === 1 ? c.toUpperCase() : c.toLowerCase();
    })
    .join("");
}

function fits(name: string): boolean {
  return (
    name
      .replace(/\.$/, "")
      .split(".")
      .reduce((n, l) => n + l.length + 1, 1) <= 255
  );
}

export function namesOf(z: ZoneFile): string[] {
  const origin = z.origin.toLowerCase();
  const names = new Set<string>();
  for (const o of owners(z)) for (const a of ancestors(o, origin)) names.add(a);
  const base = [...names];
  for (const n of base) {
    names.add(`nx.${n}`);
    names.add(`a.b.${n}`);
    if (n.startsWith("*.")) {
      names.add(`w1.${n.slice(2)}`);
      names.add(`w1.w2.${n.slice(2)}`);
    }
    const long = `${"x".repeat(63)}.${"y".repeat(63)}.${"z".repeat(40)}.${n}`;
    if (fits(long)) names.add(long);
  }
  const all = [...names];
  all.forEach((n, i) => {
    if (i % 3 === 0) names.add(mixCase(n));
  });
  names.add("nowhere.invalid.");
  const parent = origin.slice(origin.indexOf(".") + 1);
  if (parent !== "") names.add(`other.${parent}`);
  return [...names];
}

/**
 * `signed`: a pre-signed zone, whose every name and type is asked with DO=1 as well, so its
 * RRSIGs and NSEC/NSEC3 proofs are compared (RFC 4035 §3.1, RFC 5155 §7.2).
 */
export function queriesFor(z: ZoneFile, signed = false): QuerySpec[] {
  const names = namesOf(z);
  const out: QuerySpec[] = [];
  for (const name of names) for (const type of TYPES) out.push({ name, type });
  if (signed)
    for (const name of names)
      for (const type of TYPES) out.push({ name, type, edns: { udp: 1232, do: true } });
  const origin = z.origin.toLowerCase();
  const sample = [origin, names.find((n) => n !== origin && !n.startsWith("nx.")) ?? origin, `nx.${origin}`];
  for (const name of sample) {
    for (const type of ODD_TYPES) out.push({ name, type });
    for (const type of [1, 15]) {
      out.push(
        { name, type, edns: null },
        { name, type, edns: { udp: 512 } },
        { name, type, edns: { udp: 4096 } },
        { name, type, edns: { udp: 1232, do: true } },
        { name, type, edns: { udp: 1232, version: 1 } },
        { name, type, edns: { udp: 1232, options: [[65001, Buffer.from("abcd")]] } },
        { name, type, rd: true },
        { name, type, cd: true },
        { name, type, ad: true },
        { name, type, rd: true, cd: true, edns: null },
        // ISC's genreport EDNS compliance cases, for which Debian has no package: each must be
        // answered as NSD and Knot answer it.
        { name, type, edns: { udp: 1232, version: 1, options: [[100, Buffer.alloc(0)]] } }, // edns1opt
        { name, type, edns: { udp: 1232, flags: 0x0080 } }, // ednsflags: an unknown flag, ignored
        { name, type, edns: { udp: 1232, version: 1, flags: 0x0080 } },
        { name, type, z: true }, // zflag
        { name, type, z: true, edns: null },
        { name, type, tcp: true }, // ednstcp
        { name, type, tcp: true, edns: null },
        {
          name,
          type,
          edns: {
            udp: 1232,
            // optlist: NSID, ECS, EXPIRE (RFC 7314), an unknown option, all at once
            options: [
              [3, Buffer.alloc(0)],
              [8, Buffer.from("00011800c00002", "hex")],
              [9, Buffer.alloc(0)],
              [100, Buffer.alloc(0)],
            ],
          },
        },
      );
      for (const opcode of [1, 2, 4, 5, 15])
        out.push({ name, type, opcode }, { name, type, opcode, edns: null });
      // RFC 8945 §5.2.1: a key the server does not have is NOTAUTH + BADKEY, signed or not EDNS;
      // a TSIG that is not the last record is FORMERR (§5.1).
      out.push(
        { name, type, tsig: "last" },
        { name, type, tsig: "last", edns: null },
        // nsupdate's form: an UPDATE whose zone section names the zone's SOA (RFC 2136 §2.3).
        { name: origin, type: 6, tsig: "last", opcode: 5 },
        { name, type, tsig: "not-last" },
      );
      for (const klass of [2, 3, 4, 254, 255]) out.push({ name, type, klass });
    }
  }
  return out;
}
