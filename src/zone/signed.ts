/**
 * Signed answers for a zone signed online (docs/dnssec.md): the answer a DO=1 query gets is the
 * unsigned one (lookup.ts or a pool) with an RRSIG after each RRset the zone is authoritative
 * for, and the compact denial proofs (dnssec/denial.ts) a validator needs:
 *  - NXDOMAIN: NOERROR with an NXNAME NSEC at the name that does not exist (RFC 9824 §3.2);
 *  - NODATA: an NSEC at the name listing its other types (RFC 9824 §3.1);
 *  - a wildcard answer: signed as the wildcard, with a covering NSEC for the query name
 *    (RFC 4035 §3.1.3.3); a DNAME's synthesised CNAME stays unsigned (RFC 6672 §5.3.1);
 *  - a referral: the DS RRset signed, or an NSEC at the cut without DS (RFC 4035 §3.1.4);
 *    the NS RRset and glue at a cut are not signed (RFC 4035 §2.2).
 *
 * Built when an answer is first asked for and kept: by the unsigned answer it extends when that
 * serves every query name alike (an exact match, a referral), else by it and the query name and
 * type, bounded. An answer is rebuilt once one of its signatures is due for refresh.
 */
import { lowerName } from "../dnssec/canonical.js";
import { coveringRange, nodataTypes, nsecRdata, successor } from "../dnssec/denial.js";
import type { Clock, ZoneSigner } from "../dnssec/signer.js";
import { ByteArena } from "../lib/arena.js";
import { keyOf, wireOfKey } from "../proto/name.js";
import { RCODE } from "../proto/rcode.js";
import { readWireName } from "../proto/rdata.js";
import { type EncodedSections, encodedRecords, encodeSections, type RR } from "../proto/sections.js";
import { T } from "../proto/types.js";
import { closestInZone, isInZone } from "./encloser.js";
import type { ResultKind } from "./result.js";
import type { Zone, ZoneNode } from "./zone.js";

export interface SignedAnswer {
  sections: EncodedSections;
  rcode: number;
  /** When it must be rebuilt (a signature in it is due for refresh), seconds since the epoch. */
  refreshAt: number;
}

/** What was answered, as the signer needs to know it. */
export interface Unsigned {
  kind: ResultKind;
  rcode: number;
  sections: EncodedSections;
  /** The anchor the unsigned sections were encoded for; null: they are for this query name only. */
  anchor: Buffer | null;
  /** The object the answer is the same for (a lookup result, a pool's sections). */
  identity: object;
  /** A pool answered: its owner is a pool name, which need not be in the zone file. */
  pool: boolean;
  /** Types the query name has beyond the zone's records (a pool's), for NODATA bitmaps. */
  extraTypes: readonly number[];
}

/** What a name that does not exist "has" (RFC 9824 §3.2): the NXNAME pseudo-type. */
const NXNAME: readonly number[] = [T.NXNAME];

/** Signed answers kept per unsigned answer, at most this many query names each. */
const NAMES_PER_ANSWER = 4096;

export interface RRsetOut {
  section: "answer" | "authority" | "additional";
  owner: Buffer;
  type: number;
  ttl: number;
  rdatas: Buffer[];
}

/**
 * The signed answers of one zone, kept: by the unsigned answer they extend when they serve every
 * query name alike (an exact match, a referral), else by it and the query name and type, at most
 * NAMES_PER_ANSWER names each. An answer is rebuilt once its refreshAt has passed.
 */
export abstract class SignedAnswers {
  private readonly kept = new WeakMap<object, SignedAnswer | Map<string, SignedAnswer>>();
  /** Signed answers served from what was kept, and built. */
  readonly stats = { hits: 0, built: 0 };
  private readonly arena = new ByteArena();

  constructor(
    readonly zone: Zone,
    readonly clock: Clock,
  ) {}

  answer(u: Unsigned, qname: string, qtype: number): SignedAnswer {
    const kept = this.kept.get(u.identity);
    // An answer that serves every query name alike is kept bare; others per name and type.
    const hit = kept === undefined ? undefined : kept instanceof Map ? kept.get(`${qtype}/${qname}`) : kept;
    if (hit !== undefined && this.clock() < hit.refreshAt) {
      this.stats.hits++;
      return hit;
    }
    this.stats.built++;
    const built = this.build(u, qname, qtype);
    // Kept for long: its bytes go where they pin no pool slab (lib/arena.ts).
    built.answer.sections.bytes = this.arena.copy(built.answer.sections.bytes);
    if (built.qnameFree) {
      this.kept.set(u.identity, built.answer);
      return built.answer;
    }
    let byName = kept instanceof Map ? kept : undefined;
    if (byName === undefined) {
      byName = new Map();
      this.kept.set(u.identity, byName);
    }
    if (byName.size >= NAMES_PER_ANSWER) {
      const oldest = byName.keys().next();
      if (!oldest.done) byName.delete(oldest.value);
    }
    byName.set(`${qtype}/${qname}`, built.answer);
    return built.answer;
  }

  /** The signed answer, and whether it serves every query name the unsigned one serves. */
  protected abstract build(
    u: Unsigned,
    qname: string,
    qtype: number,
  ): { answer: SignedAnswer; qnameFree: boolean };
}

/** Online signing with the zone's keys (dnssec/signer.ts) and compact denial. */
export class ZoneSigning extends SignedAnswers {
  constructor(
    zone: Zone,
    readonly signer: ZoneSigner,
  ) {
    super(zone, signer.clock);
  }

  protected build(u: Unsigned, qname: string, qtype: number): { answer: SignedAnswer; qnameFree: boolean } {
    const zone = this.zone;
    const qwire = wireOfKey(qname);
    const sets = rrsetsOf(u.sections, qwire);
    let qnameFree = servesEveryName(u, qwire);
    const proofs: RRsetOut[] = [];
    const out: RR[][] = [[], [], []];
    let refreshAt = Number.POSITIVE_INFINITY;
    const push = (set: RRsetOut, signedOwner: Buffer | null, originalTtl = set.ttl) => {
      const list = out[set.section === "answer" ? 0 : set.section === "authority" ? 1 : 2]!;
      for (const rdata of set.rdatas) list.push({ owner: set.owner, type: set.type, ttl: set.ttl, rdata });
      if (signedOwner === null) return;
      const sigs = this.signer.sign(signedOwner, set.type, originalTtl, set.rdatas);
      refreshAt = Math.min(refreshAt, sigs.refreshAt);
      for (const rdata of sigs.rdatas) list.push({ owner: set.owner, type: T.RRSIG, ttl: set.ttl, rdata });
    };

    const negative = u.kind === "nxdomain" || u.kind === "nodata";
    // A query for NSEC itself is answered with the NSEC the name would be denied with, as data
    // (a NODATA would have to deny the very type its NSEC shows).
    const nsecAsked = negative && qtype === T.NSEC && finalName(sets, qwire).equals(qwire);
    for (const set of sets) {
      if (nsecAsked && set.section === "authority") continue; // the SOA of a negative answer
      const how = this.howToSign(set, u.pool && set.section === "answer");
      if (how.covering !== null) {
        qnameFree = false;
        proofs.push(how.covering);
      }
      push(set, how.owner, set.type === T.SOA ? zone.soa.ttl : set.ttl);
      if (set.section === "authority" && u.kind === "delegation" && set.type === T.NS) {
        const cut = zone.nodes.get(keyOfWire(set.owner));
        if (cut) for (const p of this.delegationProof(cut, set.owner)) push(p, p.owner);
      }
    }
    if (negative) {
      qnameFree = false;
      const name = finalName(sets, qwire);
      const has = u.kind === "nxdomain" ? NXNAME : this.typesAt(name, name.equals(qwire) ? u.extraTypes : []);
      const types = nodataTypes(has, nsecAsked ? -1 : qtype);
      const nsec: RRsetOut = {
        section: nsecAsked ? "answer" : "authority",
        owner: name,
        type: T.NSEC,
        ttl: zone.negativeTtl,
        rdatas: [nsecRdata(successor(name), types)],
      };
      push(nsec, name);
    }
    for (const p of proofs) push(p, p.owner);
    // RFC 9824 §3.2: a name that does not exist is answered NOERROR, the NXNAME NSEC says why.
    const rcode = u.kind === "nxdomain" ? RCODE.NOERROR : u.rcode;
    return {
      answer: { sections: encodeSigned(u, out, qnameFree ? u.anchor : qwire), rcode, refreshAt },
      qnameFree,
    };
  }

  /**
   * The name to sign an RRset under (null: leave it unsigned), and for an answer synthesised
   * from a wildcard the covering NSEC that proves the query name itself does not exist.
   */
  private howToSign(set: RRsetOut, poolOwned: boolean): { owner: Buffer | null; covering: RRsetOut | null } {
    const unsigned = { owner: null, covering: null };
    if (set.type === T.RRSIG || set.type === T.NSEC || set.type === T.NSEC3) return unsigned;
    const key = keyOfWire(set.owner);
    if (!isInZone(this.zone, key)) return unsigned;
    const node = this.zone.nodes.get(key);
    if (node !== undefined) {
      // At a cut only the DS is the parent's to sign; NS and glue are the child's (RFC 4035 §2.2).
      if (node.cut !== null && !(node.cut === node && set.type === T.DS)) return unsigned;
      return { owner: set.owner, covering: null };
    }
    if (poolOwned) return { owner: set.owner, covering: null };
    const encloser = closestInZone(this.zone, key);
    if (encloser.dname !== null || encloser.has(T.DNAME) || encloser.cut !== null) return unsigned;
    if (encloser.wildcard === null || set.section === "additional") return unsigned;
    const star = encloser.wildcard.wire;
    const next = nextCloser(set.owner, encloser.wire.length);
    const label = next.subarray(1, 1 + next[0]!);
    const range = coveringRange(lowerName(encloser.wire), label);
    // An owner that is the encloser itself (a `\000` label) must tell the encloser's real types.
    const types =
      range.owner.length === encloser.wire.length ? nodataTypes(typesOf(encloser), -1) : [T.RRSIG, T.NSEC];
    return {
      owner: star,
      covering: {
        section: "authority",
        owner: range.owner,
        type: T.NSEC,
        ttl: this.zone.negativeTtl,
        rdatas: [nsecRdata(range.next, types)],
      },
    };
  }

  /** The DS RRset of a cut, or the NSEC that shows it has none. */
  private delegationProof(cut: ZoneNode, owner: Buffer): RRsetOut[] {
    const ds = cut.rrset(T.DS);
    if (ds) return [{ section: "authority", owner, type: T.DS, ttl: ds.ttl, rdatas: [...ds.rdatas] }];
    return [
      {
        section: "authority",
        owner,
        type: T.NSEC,
        ttl: this.zone.negativeTtl,
        rdatas: [nsecRdata(successor(owner), nodataTypes([T.NS], T.DS))],
      },
    ];
  }

  /** The types a name has: its node's, or for a name synthesised from a wildcard, the wildcard's. */
  private typesAt(name: Buffer, extra: readonly number[]): number[] {
    const key = keyOfWire(name);
    const node = this.zone.nodes.get(key);
    const types = [...extra];
    if (node) types.push(...typesOf(node));
    else if (isInZone(this.zone, key)) {
      const wildcard = closestInZone(this.zone, key).wildcard;
      if (wildcard) types.push(...typesOf(wildcard));
    }
    return types;
  }
}

function typesOf(node: ZoneNode): number[] {
  return node.rrsets.map((s) => s.type);
}

/**
 * Whether the signed form of an answer can serve every query name its unsigned form serves: a
 * referral (its owners are the cut's), or an exact match (anchored at the query name). A
 * wildcard's answer is anchored at its encloser and is signed per name, even when the query
 * name is the wildcard itself.
 */
export function servesEveryName(u: Unsigned, qwire: Buffer): boolean {
  if (u.anchor === null || u.pool) return false;
  if (u.kind === "delegation") return true;
  return u.kind === "success" && u.anchor.length === qwire.length && lowerName(u.anchor).equals(qwire);
}

/** The records of encoded sections grouped into RRsets, names expanded for the query name. */
export function rrsetsOf(s: EncodedSections, qwire: Buffer): RRsetOut[] {
  const sets: RRsetOut[] = [];
  for (const r of encodedRecords(s, qwire)) {
    const last = sets[sets.length - 1];
    if (last && last.section === r.section && last.type === r.type && last.owner.equals(r.owner))
      last.rdatas.push(r.rdata);
    else sets.push({ section: r.section, owner: r.owner, type: r.type, ttl: r.ttl, rdatas: [r.rdata] });
  }
  return sets;
}

/** Where a negative answer's CNAME chain ends: the last CNAME's target, or the query name. */
export function finalName(sets: readonly RRsetOut[], qwire: Buffer): Buffer {
  let name = qwire;
  for (const s of sets) if (s.section === "answer" && s.type === T.CNAME) name = s.rdatas[0]!;
  return name;
}

/**
 * The signed sections (answer, authority, additional), encoded for `anchor` with the unsigned
 * answer's glue rule: its required glue stays required, with the RRSIGs that follow it, so a cut
 * that keeps the glue keeps their signatures.
 */
export function encodeSigned(u: Unsigned, out: readonly RR[][], anchor: Buffer | null): EncodedSections {
  const additional = out[2]!;
  const required = u.sections.cutCounts[u.sections.minCut] ?? 0;
  let sigs = 0;
  for (let i = 0; i < additional.length && i < required + sigs; i++)
    if (additional[i]!.type === T.RRSIG) sigs++;
  return encodeSections(out[0]!, out[1]!, additional, u.sections.glueRequired, anchor, required + sigs);
}

/**
 * The next closer name (RFC 5155 §1.3): `name` cut to one label more than its closest encloser,
 * whose wire form is `encloserLength` octets long.
 */
export function nextCloser(name: Buffer, encloserLength: number): Buffer {
  let o = 0;
  while (name.length - (o + name[o]! + 1) > encloserLength) o += name[o]! + 1;
  return name.subarray(o);
}

export function keyOfWire(wire: Buffer): string {
  return keyOf(readWireName(wire, 0));
}
