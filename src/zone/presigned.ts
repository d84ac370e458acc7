/**
 * DO=1 answers from a zone file that is already signed (dnssec-signzone, Knot, ...): the
 * unsigned answer with the zone's own RRSIGs after each RRset, and the NSEC or NSEC3 records the
 * answer needs, as RFC 4035 §3.1 and RFC 5155 §7.2 say (and NSD and Knot send):
 *  - NXDOMAIN: NSEC covering the name and NSEC covering the wildcard at the closest encloser;
 *    NSEC3: the closest encloser proof (matching encloser, covering next closer name) and the
 *    NSEC3 covering the wildcard.
 *  - NODATA: the NSEC (or NSEC3) matching the name; for an empty non-terminal with NSEC, the
 *    NSEC that covers it; from a wildcard, the proof the name does not exist and the wildcard's.
 *  - a wildcard answer: RRSIGs of the wildcard, NSEC covering the name (NSEC3: covering the next
 *    closer name).
 *  - a referral: the DS and its RRSIG, or the NSEC/NSEC3 matching the cut.
 * No signature is made here: without the key, a record the file does not sign stays unsigned.
 */
import { compareNames, lowerName } from "../dnssec/canonical.js";
import { type Nsec3Params, nsec3Label, nsec3Params } from "../dnssec/nsec3.js";
import type { Clock } from "../dnssec/signer.js";
import { wireOfKey } from "../proto/name.js";
import type { RR } from "../proto/sections.js";
import { T } from "../proto/types.js";
import { closestInZone, isInZone } from "./encloser.js";
import {
  encodeSigned,
  finalName,
  keyOfWire,
  nextCloser,
  type RRsetOut,
  rrsetsOf,
  type SignedAnswer,
  SignedAnswers,
  servesEveryName,
  type Unsigned,
} from "./signed.js";
import type { Zone, ZoneNode } from "./zone.js";

interface Chains {
  /** Nodes with an NSEC RRset, in canonical order of their names. */
  nsec: { name: Buffer; node: ZoneNode }[];
  /** NSEC3 nodes by their hash label, in order; null when the zone has no NSEC3PARAM. */
  nsec3: { label: string; node: ZoneNode }[];
  params: Nsec3Params | null;
}

export class PresignedAnswers extends SignedAnswers {
  private chains: Chains | null = null;

  constructor(zone: Zone, clock: Clock = () => 0) {
    super(zone, clock);
  }

  // The qtype is not needed: a matching NSEC or NSEC3 shows every type the name has.
  protected build(u: Unsigned, qname: string, _qtype: number): { answer: SignedAnswer; qnameFree: boolean } {
    const zone = this.zone;
    const qwire = wireOfKey(qname);
    const sets = rrsetsOf(u.sections, qwire);
    const out: RR[][] = [[], [], []];
    const seen = new Set<string>();
    let qnameFree = servesEveryName(u, qwire);
    const push = (set: RRsetOut, sigs: readonly Buffer[]) => {
      const id = `${set.section}/${lowerName(set.owner).toString("latin1")}/${set.type}`;
      if (seen.has(id)) return;
      seen.add(id);
      const list = out[set.section === "answer" ? 0 : set.section === "authority" ? 1 : 2]!;
      for (const rdata of set.rdatas) list.push({ owner: set.owner, type: set.type, ttl: set.ttl, rdata });
      for (const rdata of sigs) list.push({ owner: set.owner, type: T.RRSIG, ttl: set.ttl, rdata });
    };
    const proof = (node: ZoneNode, type: number) => {
      const set = node.rrset(type);
      if (set)
        push(
          { section: "authority", owner: node.wire, type, ttl: set.ttl, rdatas: [...set.rdatas] },
          sigsAt(node, type),
        );
    };

    for (const set of sets) {
      const key = keyOfWire(set.owner);
      const inside = isInZone(zone, key);
      const node = inside ? zone.nodes.get(key) : undefined;
      if (set.type === T.RRSIG && (node !== undefined || !inside)) {
        push(set, []); // an answer to a query for RRSIG itself
        continue;
      }
      if (node !== undefined) {
        const glue = node.cut !== null && !(node.cut === node && set.type === T.DS);
        push(set, glue ? [] : sigsAt(node, set.type));
      } else if (inside) {
        // Synthesised from a wildcard: its signatures, and the proof that the name itself does
        // not exist. A DNAME's synthesised CNAME has none (RFC 6672 §5.3.1).
        const encloser = closestInZone(zone, key);
        const wildcard = encloser.dname === null && !encloser.has(T.DNAME) ? encloser.wildcard : null;
        const sigs = wildcard === null || set.type === T.RRSIG ? [] : sigsAt(wildcard, set.type);
        push(set, sigs);
        const proven = set.type === T.RRSIG ? wildcard !== null : sigs.length > 0;
        if (proven && set.section !== "additional") {
          qnameFree = false;
          for (const p of this.nonExistence(set.owner, encloser, "answer")) proof(p.node, p.type);
        }
      } else push(set, []);
      if (u.kind === "delegation" && set.section === "authority" && set.type === T.NS && node !== undefined) {
        const ds = node.rrset(T.DS);
        if (ds)
          push(
            { section: "authority", owner: set.owner, type: T.DS, ttl: ds.ttl, rdatas: [...ds.rdatas] },
            sigsAt(node, T.DS),
          );
        else for (const p of this.matching(node.wire, node)) proof(p.node, p.type);
      }
    }
    if (u.kind === "nxdomain" || u.kind === "nodata") {
      qnameFree = false;
      const name = finalName(sets, qwire);
      const key = keyOfWire(name);
      const node = zone.nodes.get(key);
      if (u.kind === "nodata" && node !== undefined && !node.nsec3Only) {
        for (const p of this.matching(name, node)) proof(p.node, p.type);
      } else if (isInZone(zone, key)) {
        const encloser = closestInZone(zone, key);
        const wildcard = encloser.wildcard;
        const fromWildcard = u.kind === "nodata" && wildcard !== null;
        for (const p of this.nonExistence(name, encloser, fromWildcard ? "nodata" : "nxdomain"))
          proof(p.node, p.type);
        // NODATA from a wildcard: what the wildcard has (RFC 4035 §3.1.3.4, RFC 5155 §7.2.5).
        if (fromWildcard) for (const p of this.matching(wildcard.wire, wildcard)) proof(p.node, p.type);
      }
    }
    const sections = encodeSigned(u, out, qnameFree ? u.anchor : qwire);
    return { answer: { sections, rcode: u.rcode, refreshAt: Number.POSITIVE_INFINITY }, qnameFree };
  }

  /**
   * The NSEC or NSEC3 that shows what `name` (an existing node) has; in an NSEC3 opt-out span,
   * the proof that it has no NSEC3 of its own.
   */
  private matching(name: Buffer, node: ZoneNode): { node: ZoneNode; type: number }[] {
    const c = this.chainsOf();
    if (node.has(T.NSEC)) return [{ node, type: T.NSEC }];
    if (c.params === null) {
      // An empty non-terminal has no NSEC: the one before it covers it (RFC 4035 §3.1.3.2).
      const cover = covering(c.nsec, name);
      return cover ? [{ node: cover, type: T.NSEC }] : [];
    }
    const m = this.nsec3Of(name, true);
    if (m) return [{ node: m, type: T.NSEC3 }];
    // No NSEC3 of its own (an opt-out span: an insecure delegation, or an empty non-terminal
    // above one): the closest provable encloser proof (RFC 5155 §7.2.4, §7.2.7), its NSEC3 and
    // the opt-out NSEC3 covering the next closer name.
    for (
      let child = name, up = name.subarray(name[0]! + 1);
      up.length >= 1;
      child = up, up = up.subarray(up[0]! + 1)
    ) {
      const encloser = this.nsec3Of(up, true);
      if (encloser) {
        const cover = this.nsec3Of(child, false);
        return cover
          ? [
              { node: encloser, type: T.NSEC3 },
              { node: cover, type: T.NSEC3 },
            ]
          : [{ node: encloser, type: T.NSEC3 }];
      }
      if (up.length === 1) break;
    }
    return [];
  }

  /**
   * That `name` does not exist below `encloser`. NSEC: the one covering it, and for NXDOMAIN the
   * one covering the wildcard (RFC 4035 §3.1.3). NSEC3: the next closer name's cover; for NODATA
   * from a wildcard and NXDOMAIN also the encloser's (the closest encloser proof), and for
   * NXDOMAIN the wildcard's cover (RFC 5155 §7.2.1, §7.2.5, §7.2.6).
   */
  private nonExistence(
    name: Buffer,
    encloser: ZoneNode,
    why: "answer" | "nodata" | "nxdomain",
  ): { node: ZoneNode; type: number }[] {
    const c = this.chainsOf();
    const star = Buffer.concat([WILDCARD_LABEL, encloser.wire]);
    const out: { node: ZoneNode; type: number }[] = [];
    if (c.params === null) {
      const add = (n: ZoneNode | null) => {
        if (n) out.push({ node: n, type: T.NSEC });
      };
      add(covering(c.nsec, name));
      if (why === "nxdomain") add(covering(c.nsec, star));
      return out;
    }
    const add = (n: ZoneNode | null) => {
      if (n) out.push({ node: n, type: T.NSEC3 });
    };
    if (why !== "answer") add(this.nsec3Of(encloser.wire, true));
    add(this.nsec3Of(nextCloser(name, encloser.wire.length), false));
    if (why === "nxdomain") add(this.nsec3Of(star, false));
    return out;
  }

  /** The NSEC3 whose hash is `name`'s (`exact`), or that covers it. */
  private nsec3Of(name: Buffer, exact: boolean): ZoneNode | null {
    const c = this.chainsOf();
    if (c.params === null || c.nsec3.length === 0) return null;
    const label = nsec3Label(name, c.params);
    let lo = 0;
    let hi = c.nsec3.length - 1;
    let best = c.nsec3.length - 1; // before the first hash: the last one covers it (the chain wraps)
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const l = c.nsec3[mid]!.label;
      if (l === label) return c.nsec3[mid]!.node;
      if (l < label) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return exact ? null : c.nsec3[best]!.node;
  }

  private chainsOf(): Chains {
    if (this.chains !== null) return this.chains;
    const nsec: Chains["nsec"] = [];
    const nsec3: Chains["nsec3"] = [];
    for (const node of this.zone.nodes.values()) {
      if (node.has(T.NSEC) && !node.nsec3Only) nsec.push({ name: lowerName(node.wire), node });
      if (node.nsec3Only) nsec3.push({ label: node.key.slice(0, node.key.indexOf(".")), node });
    }
    nsec.sort((a, b) => compareNames(a.name, b.name));
    nsec3.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
    const param = this.zone.apex.rrset(T.NSEC3PARAM);
    this.chains = { nsec, nsec3, params: param ? nsec3Params(param.rdatas[0]!) : null };
    return this.chains;
  }
}

/** The label `*`, in wire form. */
const WILDCARD_LABEL = Buffer.from([1, 0x2a]);

/** The RRSIGs at a node that cover `type`. */
function sigsAt(node: ZoneNode, type: number): Buffer[] {
  const sigs = node.rrset(T.RRSIG);
  if (!sigs) return [];
  return sigs.rdatas.filter((r) => r.readUInt16BE(0) === type);
}

/** The NSEC node whose range holds `name`: the last owner before it in canonical order. */
function covering(list: Chains["nsec"], name: Buffer): ZoneNode | null {
  if (list.length === 0) return null;
  const lower = lowerName(name);
  let lo = 0;
  let hi = list.length - 1;
  let best = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (compareNames(list[mid]!.name, lower) < 0) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return list[best]!.node;
}
