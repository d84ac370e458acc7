/**
 * Immutable in-memory zone: one node per owner name (plus empty non-terminals, RFC 4592 §2.2.2),
 * each holding its RRsets. Delegation cuts and wildcard children are resolved at build time so
 * the query path only does Map lookups.
 */
import type { ZoneRecord } from "./masterfile.js";
import { isSubdomain, keyOf, labelCount, parentKey, toWire } from "./name.js";
import { readWireName, soaMinimum, soaSerial, targetOffset } from "./rdata.js";
import { T, typeName } from "./types.js";

export interface RRset {
  type: number;
  ttl: number;
  rdatas: Buffer[];
  /** Target names (NS/CNAME/MX/SRV...) parallel to rdatas, for chasing and additional data. */
  targets: (Buffer[] | undefined)[];
}

export class ZoneNode {
  readonly rrsets = new Map<number, RRset>();
  /** Closest delegation point at or above this node (below the apex), if any. */
  cut: ZoneNode | null = null;
  /** The `*` child of this node, the source of synthesis for names below it. */
  wildcard: ZoneNode | null = null;
  /**
   * Per-qtype memo of lookup results. Zones are immutable, so a memo can never be stale; it is
   * bounded so random qtypes cannot grow it without limit.
   */
  readonly memo = new Map<number, unknown>();

  constructor(
    readonly zone: Zone,
    readonly key: string,
    /** Owner in wire form, in the case the zone file used. */
    readonly wire: Buffer,
  ) {}
}

export interface ZoneWarning {
  file: string;
  line: number;
  reason: string;
}

export class ZoneError extends Error {}

export class Zone {
  readonly nodes = new Map<string, ZoneNode>();
  readonly apex: ZoneNode;
  readonly soa: RRset;
  /** Negative-answer TTL: min(SOA TTL, SOA MINIMUM) (RFC 2308 §5). */
  readonly negativeTtl: number;
  readonly serial: number;
  readonly warnings: ZoneWarning[] = [];
  readonly recordCount: number;
  memo: unknown;

  constructor(
    readonly origin: Buffer[],
    readonly file: string,
    records: readonly ZoneRecord[],
  ) {
    const originKey = keyOf(origin);
    this.apex = new ZoneNode(this, originKey, toWire(origin));
    this.nodes.set(originKey, this.apex);
    let count = 0;
    for (const r of records) {
      if (!isSubdomain(r.key, originKey)) {
        this.warnings.push({ file: r.file, line: r.line, reason: `ignoring out-of-zone data ${r.key}.` });
        continue;
      }
      if (r.type === T.SOA && r.key !== originKey) throw zoneError(r, "SOA record not at the zone apex");
      const node = this.nodeFor(r);
      let set = node.rrsets.get(r.type);
      if (!set) {
        set = { type: r.type, ttl: r.ttl, rdatas: [], targets: [] };
        node.rrsets.set(r.type, set);
      } else if (set.rdatas.some((d) => d.equals(r.rdata))) {
        continue; // duplicate RR: an RRset is a set (RFC 2181 §5)
      } else if (set.ttl !== r.ttl) {
        // RFC 2181 §5.2: TTLs of one RRset must match; use the smallest so no copy outlives its data.
        this.warnings.push({
          file: r.file,
          line: r.line,
          reason: `TTL differs within ${typeName(r.type)} RRset`,
        });
        set.ttl = Math.min(set.ttl, r.ttl);
      }
      if (r.type === T.SOA && set.rdatas.length > 0) throw zoneError(r, "more than one SOA record");
      if (r.type === T.CNAME && set.rdatas.length > 0) throw zoneError(r, "more than one CNAME at one name");
      set.rdatas.push(r.rdata);
      set.targets.push(r.target);
      count++;
      const hasCname = node.rrsets.has(T.CNAME);
      if (hasCname && node.rrsets.size > 1) throw zoneError(r, `CNAME and other data at ${r.key}.`);
    }
    this.recordCount = count;
    const soa = this.apex.rrsets.get(T.SOA);
    if (!soa) throw new ZoneError(`${file}: no SOA record at the zone apex ${originKey}.`);
    if (!this.apex.rrsets.has(T.NS))
      throw new ZoneError(`${file}: no NS records at the zone apex ${originKey}.`);
    this.soa = soa;
    const soaRdata = soa.rdatas[0]!;
    this.negativeTtl = Math.min(soa.ttl, soaMinimum(soaRdata));
    this.serial = soaSerial(soaRdata);
    this.linkCutsAndWildcards();
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
        const set = node.rrsets.get(type);
        if (!set) continue;
        for (const rdata of set.rdatas) {
          const target = keyOf(readWireName(rdata, targetOffset(type)!));
          if (target === "" || !(target === origin || target.endsWith(`.${origin}`))) continue;
          const t = this.nodes.get(target);
          const name = `${node.key}. ${typeName(type)} ${target}.`;
          if (t?.rrsets.has(T.CNAME)) problems.push(`${name}: the target is a CNAME`);
          else if (!t?.rrsets.has(T.A) && !t?.rrsets.has(T.AAAA))
            problems.push(`${name}: the target has no address records (A or AAAA)`);
        }
      }
    }
    return problems;
  }

  get originKey(): string {
    return this.apex.key;
  }

  /** The node for a record's owner, creating it and any empty non-terminals above it. */
  private nodeFor(r: ZoneRecord): ZoneNode {
    const existing = this.nodes.get(r.key);
    if (existing) return existing;
    const node = new ZoneNode(this, r.key, toWire(r.owner));
    this.nodes.set(r.key, node);
    let labels = r.owner.slice(1);
    for (let k = parentKey(r.key); k !== null && !this.nodes.has(k); k = parentKey(k)) {
      this.nodes.set(k, new ZoneNode(this, k, toWire(labels)));
      labels = labels.slice(1);
    }
    return node;
  }

  private linkCutsAndWildcards(): void {
    // Visit parents before children so each node can inherit its parent's cut.
    const ordered = [...this.nodes.values()].sort((a, b) => labelCount(a.key) - labelCount(b.key));
    for (const node of ordered) {
      if (node === this.apex) continue;
      const parent = this.nodes.get(parentKey(node.key)!)!;
      node.cut = parent.cut ?? (node.rrsets.has(T.NS) ? node : null);
      if (node.key === "*" || node.key.startsWith("*.")) parent.wildcard = node;
      if (node.cut && node.cut !== node) {
        for (const type of node.rrsets.keys()) {
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

function zoneError(r: ZoneRecord, reason: string): ZoneError {
  return new ZoneError(`${r.file}:${r.line}: ${reason}`);
}
