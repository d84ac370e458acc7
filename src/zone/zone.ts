/**
 * Immutable in-memory zone: one node per owner name (plus empty non-terminals, RFC 4592 §2.2.2),
 * each holding its RRsets. Delegation cuts and wildcard children are resolved at build time so
 * the query path only does Map lookups.
 *
 * A zone set can hold millions of records, so a node is kept small: its RRsets are an exact-size
 * array (nodes hold one to three), the memo and the wire owner are made on first use, and
 * target names are read from the RDATA when needed rather than stored beside it.
 */
import type { Stats } from "node:fs";
import { UserError } from "../lib/errors.js";
import { isSubdomain, keyOf, labelCount, parentKey, toWire, wireOfKey } from "../proto/name.js";
import { readWireName, soaMinimum, soaSerial, targetOffset } from "../proto/rdata.js";
import type { RR } from "../proto/sections.js";
import { T, typeName } from "../proto/types.js";
import type { ZoneRecord } from "./masterfile.js";
import type { SignedAnswers } from "./signed.js";

/** A file as it was when read: a zone is rebuilt on reload only when one of its files changed. */
export interface FileStamp {
  path: string;
  mtimeMs: number;
  ctimeMs: number;
  size: number;
  ino: number;
}

/** The stamp of `path` from its stat; ino -1 marks a file that was absent (an optional key file). */
export function stampOf(path: string, st: Stats | undefined): FileStamp {
  if (st === undefined) return { path, mtimeMs: -1, ctimeMs: -1, size: -1, ino: -1 };
  return { path, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, size: st.size, ino: st.ino };
}

/** Whether two stamps are of the same file as it was (same inode, size and times, or both absent). */
export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

/** One item kept bare, or several in an array: most names hold one RRset, most RRsets one record. */
type OneOrMore<T> = T | T[];

function listOf<T>(x: OneOrMore<T>): readonly T[] {
  return Array.isArray(x) ? x : [x];
}

function countOf<T>(x: OneOrMore<T>): number {
  return Array.isArray(x) ? x.length : 1;
}

/**
 * The records of one type at one name. Most sets hold one record, so that one is kept without
 * an array around it.
 */
export class RRset {
  private data: OneOrMore<Buffer>;

  constructor(
    readonly type: number,
    public ttl: number,
    first: Buffer,
  ) {
    this.data = first;
  }

  get rdatas(): readonly Buffer[] {
    return listOf(this.data);
  }

  get size(): number {
    return countOf(this.data);
  }

  includes(rdata: Buffer): boolean {
    return listOf(this.data).some((x) => x.equals(rdata));
  }

  /** Adds a record the set does not hold yet (an RRset is a set, RFC 2181 §5). */
  add(rdata: Buffer): void {
    const d = this.data;
    if (Array.isArray(d)) d.push(rdata);
    else this.data = [d, rdata];
  }

  /** Drops the spare capacity that push leaves, once the set is complete. */
  trim(): void {
    if (Array.isArray(this.data)) this.data = this.data.slice();
  }
}

export class ZoneNode {
  /** One RRset kept bare, as most names have one; null for an empty non-terminal. */
  private sets: OneOrMore<RRset> | null = null;
  /** Closest delegation point at or above this node (below the apex), if any. */
  cut: ZoneNode | null = null;
  /** The `*` child of this node, the source of synthesis for names below it. */
  wildcard: ZoneNode | null = null;
  /** Closest node strictly above this one that owns a DNAME: names here are redirected by it. */
  dname: ZoneNode | null = null;
  /**
   * Holds only NSEC3 records (and their signatures): a name of the hashed chain, which does not
   * exist for queries (RFC 5155 §7.2.8), so it is kept out of the name index.
   */
  nsec3Only = false;
  /**
   * Per-qtype memo of lookup results, made on the first query. Zones are immutable, so a memo
   * can never be stale.
   */
  memo: Map<number, unknown> | null = null;
  private ownerWire: Buffer | null;

  constructor(
    readonly zone: Zone,
    readonly key: string,
    /** The owner's labels; kept as wire only when their case differs from the key's. */
    labels: readonly Buffer[],
  ) {
    this.ownerWire = hasUpperCase(labels) ? toWire(labels) : null;
  }

  /** Owner in wire form, in the case the zone file used. */
  get wire(): Buffer {
    if (this.ownerWire === null) this.ownerWire = wireOfKey(this.key);
    return this.ownerWire;
  }

  /** The RRsets in the order their first records appeared. */
  get rrsets(): readonly RRset[] {
    return this.sets === null ? [] : listOf(this.sets);
  }

  rrset(type: number): RRset | undefined {
    const s = this.sets;
    if (s === null) return undefined;
    if (!Array.isArray(s)) return s.type === type ? s : undefined;
    for (let i = 0; i < s.length; i++) if (s[i]!.type === type) return s[i];
    return undefined;
  }

  has(type: number): boolean {
    return this.rrset(type) !== undefined;
  }

  get typeCount(): number {
    return this.sets === null ? 0 : countOf(this.sets);
  }

  /** Adds a record the node does not hold yet; returns its RRset. */
  add(type: number, ttl: number, rdata: Buffer): RRset {
    const found = this.rrset(type);
    if (found) {
      found.add(rdata);
      return found;
    }
    const set = new RRset(type, ttl, rdata);
    const s = this.sets;
    this.sets = s === null ? set : Array.isArray(s) ? [...s, set] : [s, set];
    return set;
  }

  /** Exact-size arrays for the zone's whole life, once it is built. */
  trim(): void {
    // Not through listOf: this runs once per node at load, and a bare set needs no array.
    if (Array.isArray(this.sets)) for (const set of this.sets) set.trim();
    else this.sets?.trim();
  }
}

function hasUpperCase(labels: readonly Buffer[]): boolean {
  for (const l of labels) for (const b of l) if (b >= 0x41 && b <= 0x5a) return true;
  return false;
}

/** The records of an RRset under one owner (null: the query name, written as a pointer to it). */
export function rrsOf(set: RRset, owner: Buffer | null): RR[] {
  return set.rdatas.map((rdata) => ({ owner, type: set.type, ttl: set.ttl, rdata }));
}

/** The target name (NS, CNAME, MX, SRV...) of one record of an RRset. */
export function targetOf(set: RRset, i: number): Buffer[] {
  return readWireName(set.rdatas[i]!, targetOffset(set.type)!);
}

export interface ZoneWarning {
  file: string;
  line: number;
  reason: string;
}

export class ZoneError extends UserError {}

export class Zone {
  readonly nodes = new Map<string, ZoneNode>();
  readonly apex: ZoneNode;
  // Set by finish(); a Zone is only handed out finished.
  soa!: RRset;
  /** Negative-answer TTL: min(SOA TTL, SOA MINIMUM) (RFC 2308 §5). */
  negativeTtl = 0;
  serial = 0;
  readonly warnings: ZoneWarning[] = [];
  recordCount = 0;
  /** The files read to build this zone (the zone file and its $INCLUDEs), to tell if it changed. */
  sources: readonly FileStamp[] = [];
  memo: unknown;
  /**
   * DO=1 answers: signed online when the zone has a key file (keys.ts, signed.ts), or with the
   * file's own signatures when it is pre-signed (presigned.ts); null answers DO=1 unsigned.
   */
  dnssec: SignedAnswers | null = null;

  /**
   * With `records`, the zone is built at once. Without, it is built step by step (take each
   * record, then finish), which is how a reload builds a large zone without stopping queries.
   */
  constructor(
    readonly origin: Buffer[],
    readonly file: string,
    /** Any iterable, so a large file can be built while it is parsed. */
    records?: Iterable<ZoneRecord>,
  ) {
    const originKey = keyOf(origin);
    this.apex = new ZoneNode(this, originKey, origin);
    this.nodes.set(originKey, this.apex);
    if (records) {
      for (const r of records) this.take(r);
      for (const _ of this.finishSteps());
    }
  }

  /** Pre-signed: DNSKEY and RRSIG records at the apex. */
  get signed(): boolean {
    return this.apex.has(T.DNSKEY) && this.apex.has(T.RRSIG);
  }

  /** Adds one parsed record. */
  take(r: ZoneRecord): void {
    const originKey = this.apex.key;
    if (!isSubdomain(r.key, originKey)) {
      this.warnings.push({ file: r.file, line: r.line, reason: `ignoring out-of-zone data ${r.key}.` });
      return;
    }
    if (r.type === T.SOA && r.key !== originKey) throw zoneError(r, "SOA record not at the zone apex");
    if (this.add(this.nodeFor(r), r)) this.recordCount++;
  }

  /**
   * Checks the apex and links cuts, DNAMEs and wildcards, yielding now and then so a caller
   * can pause between steps (each step is a few thousand nodes).
   */
  *finishSteps(): Generator<void> {
    const originKey = this.apex.key;
    const soa = this.apex.rrset(T.SOA);
    if (!soa) throw new ZoneError(`${this.file}: no SOA record at the zone apex ${originKey}.`);
    if (!this.apex.has(T.NS))
      throw new ZoneError(`${this.file}: no NS records at the zone apex ${originKey}.`);
    this.soa = soa;
    const soaRdata = soa.rdatas[0]!;
    this.negativeTtl = Math.min(soa.ttl, soaMinimum(soaRdata));
    this.serial = soaSerial(soaRdata);
    yield* this.linkCutsAndWildcards();
  }

  /**
   * Targets that BIND's integrity checks reject: an in-zone NS, MX or SRV target with no address
   * (or that is a CNAME). lbdns can serve such a zone, but `named-checkzone` refuses it, so edits
   * must not produce one.
   */
  integrityProblems(): string[] {
    const problems: string[] = [];
    const origin = this.originKey;
    for (const node of this.nodes.values()) {
      if (node.cut && node.cut !== node) continue; // occluded data is never served
      for (const type of [T.NS, T.MX, T.SRV]) {
        const set = node.rrset(type);
        if (!set) continue;
        for (const rdata of set.rdatas) {
          const target = keyOf(readWireName(rdata, targetOffset(type)!));
          if (target === "" || !(target === origin || target.endsWith(`.${origin}`))) continue;
          const t = this.nodes.get(target);
          const name = `${node.key}. ${typeName(type)} ${target}.`;
          if (t?.has(T.CNAME)) problems.push(`${name}: the target is a CNAME`);
          else if (!t?.has(T.A) && !t?.has(T.AAAA))
            problems.push(`${name}: the target has no address records (A or AAAA)`);
        }
      }
    }
    return problems;
  }

  /** Adds one record to its node's RRset; false for a duplicate, which an RRset drops. */
  private add(node: ZoneNode, r: ZoneRecord): boolean {
    const existing = node.rrset(r.type);
    if (existing?.includes(r.rdata)) return false;
    if (existing && r.type === T.SOA) throw zoneError(r, "more than one SOA record");
    if (existing && r.type === T.CNAME) throw zoneError(r, "more than one CNAME at one name");
    if (
      existing &&
      existing.size >= 256 &&
      wireSize(existing) + r.rdata.length + RR_OVERHEAD > MAX_RRSET_WIRE
    )
      throw zoneError(r, `the ${typeName(r.type)} RRset at ${r.key}. is larger than a DNS message can carry`);
    const set = node.add(r.type, r.ttl, r.rdata);
    if (set.ttl !== r.ttl) {
      // RFC 2181 §5.2: TTLs of one RRset must match; use the smallest so no copy outlives its data.
      this.warnings.push({
        file: r.file,
        line: r.line,
        reason: `TTL differs within ${typeName(r.type)} RRset`,
      });
      set.ttl = Math.min(set.ttl, r.ttl);
    }
    // RFC 2181 §10.1, as amended by RFC 4035 §2.5: beside a CNAME only its RRSIG and NSEC may be.
    if (node.typeCount > 1 && node.has(T.CNAME) && node.rrsets.some((x) => !CNAME_COMPANIONS.has(x.type)))
      throw zoneError(r, `CNAME and other data at ${r.key}.`);
    return true;
  }

  get originKey(): string {
    return this.apex.key;
  }

  /** The node for a record's owner, creating it and any empty non-terminals above it. */
  private nodeFor(r: ZoneRecord): ZoneNode {
    const existing = this.nodes.get(r.key);
    if (existing) return existing;
    const node = new ZoneNode(this, r.key, r.owner);
    this.nodes.set(r.key, node);
    let depth = 1;
    for (let k = parentKey(r.key); k !== null && !this.nodes.has(k); k = parentKey(k)) {
      this.nodes.set(k, new ZoneNode(this, k, r.owner.slice(depth++)));
    }
    return node;
  }

  private *linkCutsAndWildcards(): Generator<void> {
    // Visit parents before children so each node can inherit its parent's cut: nodes grouped by
    // label count (a linear pass, where a sort of a million nodes took a second at once).
    const byDepth: ZoneNode[][] = [];
    for (const node of this.nodes.values()) {
      const depth = labelCount(node.key);
      const list = byDepth[depth] ?? [];
      byDepth[depth] = list;
      list.push(node);
    }
    let done = 0;
    for (const node of byDepth.flatMap((d) => d ?? [])) {
      if ((++done & 4095) === 0) yield;
      node.trim();
      if (node === this.apex) continue;
      const parent = this.nodes.get(parentKey(node.key)!)!;
      node.cut = parent.cut ?? (node.has(T.NS) ? node : null);
      node.dname = parent.dname ?? (parent.has(T.DNAME) ? parent : null);
      node.nsec3Only =
        node.has(T.NSEC3) && node.rrsets.every((x) => x.type === T.NSEC3 || x.type === T.RRSIG);
      if (node.key === "*" || node.key.startsWith("*.")) parent.wildcard = node;
      if (node.cut && node.cut !== node) {
        for (const { type } of node.rrsets) {
          if (type !== T.A && type !== T.AAAA) {
            this.warnings.push({
              file: this.file,
              line: 0,
              reason: `${typeName(type)} at ${node.key}. is below the delegation ${node.cut.key}. and is never served`,
            });
          }
        }
      }
    }
  }
}

/**
 * An RRset is answered whole or not at all (RFC 2181 §5), so one that cannot fit in a 65,535-byte
 * message (header, question, each record's compressed owner and fixed fields) can never be served.
 * The bound also keeps a hostile file's giant RRset from making loading quadratic.
 */
const MAX_RRSET_WIRE = 65_535 - 12 - 259;
const RR_OVERHEAD = 12;
function wireSize(set: RRset): number {
  let n = 0;
  for (const rdata of set.rdatas) n += rdata.length + RR_OVERHEAD;
  return n;
}

const CNAME_COMPANIONS = new Set<number>([T.CNAME, T.RRSIG, T.NSEC]);

function zoneError(r: ZoneRecord, reason: string): ZoneError {
  return new ZoneError(`${r.file}:${r.line}: ${reason}`);
}
