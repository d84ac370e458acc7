/**
 * Runtime of an MX pool: mail is never refused while a relay exists.
 *
 * The answer lists the available primaries at their preference (highest headroom first), then
 * every relay at its (strictly higher) preference. With the headroom policy (the default), the
 * primaries that share the lowest preference are not listed as equals (MTAs would split mail
 * evenly among them): one answer is precomputed per such primary, listing it at that preference
 * and the others one later, and each query takes the next answer of a smooth weighted round
 * robin over their headroom, so each primary's share of mail follows its headroom while every
 * primary and relay stays listed. A resolver caches one answer per TTL, so the pool sees one query
 * per cache miss: a round robin keeps the split exact over any few of them, where the address
 * pools' low-discrepancy draws (policy.ts) drift by an answer or two, too much for a few dozen TTL
 * windows (the Postfix test measured 1.6:1 for 2:1 with them). Its credit is carried, by member,
 * across rebuilds, which come with every report. No per-query allocation. When no primary is available, the standby
 * servers that are up are listed as primaries; when none is, the relays alone. With no relay and
 * nothing available, the zone's static MX records answer, or else every configured primary: a
 * sending MTA retries a server that is down, but cannot retry an empty answer.
 * The additional section carries the targets' addresses (configured, or from our zones).
 */
import ipaddr from "ipaddr.js";
import { keyOf, parseName, toWire } from "../proto/name.js";
import { RCODE } from "../proto/rcode.js";
import { encodedRecords, encodeSections, type RR } from "../proto/sections.js";
import { T } from "../proto/types.js";
import { lookup } from "../zone/lookup.js";
import type { ZoneSet } from "../zone/zoneset.js";
import type { AddressPool } from "./address/pool.js";
import { type Assessment, publicView } from "./availability.js";
import type { Client } from "./client.js";
import { headroomWeight } from "./policy.js";
import type { ClientChoice, ListedMx, MemberView, Pool, PoolStatus } from "./pool.js";
import {
  type AnswerSource,
  assessMember,
  counterFor,
  ExpiryTimer,
  earliestExpiry,
  type PoolAnswer,
  type PoolEnv,
} from "./runtime.js";
import type { MxMemberConfig, MxPoolConfig } from "./schema.js";

interface Host {
  host: Buffer[];
  preference: number;
}

export class MxPool implements Pool {
  readonly kind = "mx" as const;
  /** MX answers do not depend on who asks. */
  readonly needsClient = false;
  private current!: PoolAnswer;
  private assessments: Assessment[] = [];
  private standbyAssessments: Assessment[] = [];
  private readonly expiry = new ExpiryTimer();
  private readonly rebuildNow = () => this.rebuild();
  private lastState = "";
  /**
   * Members listed as primary (or promoted standby) now, with the MX answer count when their
   * listing began: each answer that lists a member counts for it, without per-query work.
   */
  private listedSince = new Map<string, number>();
  /** Targets that are names of address pools: their addresses are chosen per query. */
  private dynamic: { owner: Buffer; pool: AddressPool }[] = [];
  private addressPoolOf: (key: string) => AddressPool | undefined = () => undefined;
  /** The MX set being answered, for status and explain. */
  listed: ListedMx[] = [];
  /** Headroom policy: one answer per lowest-preference primary, and the round robin's state. */
  private variants: PoolAnswer[] = [];
  private weights = new Float64Array(0);
  private credit = new Float64Array(0);
  private totalWeight = 0;
  /** The member of each variant, to carry its credit into the next rebuild. */
  private variantIds: string[] = [];
  /** Each member's expected share of first-listed answers (status). */
  private shares = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly config: MxPoolConfig,
    readonly keys: readonly string[],
    private readonly zones: ZoneSet,
    private readonly env: PoolEnv,
  ) {
    this.rebuild();
  }

  memberIds(): string[] {
    return [...this.config.members, ...this.config.standby].map((m) => m.id);
  }

  /** Lets targets that are pool names carry the pool's current choice in the additional section. */
  bindAddressPools(lookupPool: (key: string) => AddressPool | undefined): void {
    this.addressPoolOf = lookupPool;
    this.rebuild();
  }

  answer(qtype: number, _client: Client | null = null, commit = true): PoolAnswer | null {
    if (qtype !== T.MX || this.current.sections.an === 0) return null; // nothing to list: the zone answers
    const chosen = this.variants.length > 1 ? this.variants[this.nextVariant(commit)]! : this.current;
    if (commit) chosen.counter.n++;
    if (this.dynamic.length === 0) return chosen;
    return this.withPoolAddresses(chosen, commit);
  }

  /**
   * Smooth weighted round robin (as nginx's): every variant gains its weight, the richest is
   * taken and pays the total. `commit` false (explain) reports the next pick without taking it.
   */
  private nextVariant(commit: boolean): number {
    let best = 0;
    let bestCredit = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < this.weights.length; i++) {
      const c = this.credit[i]! + this.weights[i]!;
      if (c > bestCredit) {
        bestCredit = c;
        best = i;
      }
    }
    if (commit) {
      for (let i = 0; i < this.weights.length; i++) this.credit[i]! += this.weights[i]!;
      this.credit[best]! -= this.totalWeight;
    }
    return best;
  }

  source(qtype: number): AnswerSource | null {
    return qtype === T.MX ? "mx" : null;
  }

  choiceFor(): ClientChoice | null {
    return null;
  }

  /** Appends, per query, the address each pool-bound target's pool would answer right now. */
  private withPoolAddresses(base: PoolAnswer, commit: boolean): PoolAnswer {
    const parts: Buffer[] = [base.sections.bytes];
    let ar = base.sections.ar;
    for (const { owner, pool } of this.dynamic) {
      for (const qtype of [T.A, T.AAAA]) {
        const a = pool.answer(qtype, null, commit);
        if (!a || a.rcode !== RCODE.NOERROR) continue;
        for (const rr of encodedRecords(a.sections)) {
          if (rr.section !== "answer") break;
          // A pool's answer is owned by the question (a pointer): swap in the target's name.
          parts.push(owner, a.sections.bytes.subarray(rr.fields, rr.end));
          ar++;
        }
      }
    }
    const bytes = Buffer.concat(parts);
    // The appended addresses are one more place to cut, after everything the base answer had.
    const sections = {
      ...base.sections,
      bytes,
      ar,
      cuts: Uint32Array.from([...base.sections.cuts, bytes.length]),
      cutCounts: Uint16Array.from([...base.sections.cutCounts, ar]),
    };
    return { ...base, sections };
  }

  /** Recomputes the MX answer; `_changed` (the member that changed) does not narrow the work here. */
  rebuild(_changed?: string): void {
    const now = this.env.table.clock();
    const judge = (m: MxMemberConfig): Assessment =>
      assessMember(
        this.env,
        m.id,
        { state: m.state, capacity: m.capacity, hasProbe: m.check !== undefined },
        now,
        this.config["stale-after"],
        this.config["max-utilization"],
      );
    this.assessments = this.config.members.map(judge);
    this.standbyAssessments = this.config.standby.map(judge);
    const byHeadroom = (list: MxMemberConfig[], as: Assessment[]) =>
      list
        .map((m, i) => ({ m, a: as[i]! }))
        .filter((x) => x.a.available)
        .sort((x, y) => headroomWeight({ ...y.a, weight: 1 }) - headroomWeight({ ...x.a, weight: 1 }))
        .map((x) => x.m);
    let primaries = byHeadroom(this.config.members, this.assessments);
    let role: "primary" | "standby" | "relay-only" = "primary";
    if (primaries.length === 0) {
      primaries = byHeadroom(this.config.standby, this.standbyAssessments);
      role = primaries.length > 0 ? "standby" : "relay-only";
    }
    this.trackListed(primaries);
    const relays = this.config.relays.map((r) => ({
      host: parseName(r.host, null),
      preference: r.preference,
    }));
    const hosts: Host[] = primaries.map((m) => ({ host: parseName(m.host, null), preference: m.preference }));
    this.listed = [
      ...primaries.map((m) => ({
        host: m.host,
        preference: m.preference,
        role: role === "standby" ? ("standby" as const) : ("primary" as const),
      })),
      ...this.config.relays.map((r) => ({ host: r.host, preference: r.preference, role: "relay" as const })),
    ];
    let state = `${role}:${primaries.length}`;
    this.variants = [];
    this.shares = new Map(primaries.map((m) => [m.id, 1]));
    if (hosts.length + relays.length === 0) {
      state = "last-resort";
      this.current = this.lastResort();
    } else {
      const known = [...primaries, ...this.config.members, ...this.config.standby];
      this.current = this.encode([...hosts, ...relays], known);
      this.buildVariants(primaries, relays, known);
    }
    if (state !== this.lastState && this.lastState !== "" && !this.env.quiet) {
      const level = role === "primary" && primaries.length > 0 ? "info" : "warn";
      this.env.log[level](
        { pool: this.name, primaries: primaries.map((m) => m.id), role, relays: relays.length },
        "MX answer changed",
      );
    }
    this.lastState = state;
    this.expiry.schedule(
      now,
      earliestExpiry(this.standbyAssessments, now, earliestExpiry(this.assessments, now)),
      this.rebuildNow,
    );
  }

  /**
   * Headroom policy: the primaries sharing the lowest preference P each get an answer listing it
   * at P and the others at P + 1, weighted by headroom. Not when P + 1 would reach a relay's
   * preference (relays stay strictly after every primary), nor for fewer than two.
   */
  private buildVariants(primaries: MxMemberConfig[], relays: Host[], known: MxMemberConfig[]): void {
    if (this.config.policy !== "headroom" || primaries.length < 2) return;
    const low = Math.min(...primaries.map((m) => m.preference));
    const group = primaries.filter((m) => m.preference === low);
    const firstRelay = Math.min(65_536, ...relays.map((r) => r.preference));
    if (group.length < 2 || low + 1 >= firstRelay) return;
    const rest = primaries.filter((m) => m.preference !== low);
    const weightOf = (m: MxMemberConfig) => {
      const i = this.config.members.indexOf(m);
      const a = i >= 0 ? this.assessments[i]! : this.standbyAssessments[this.config.standby.indexOf(m)]!;
      return Math.max(headroomWeight({ ...a, weight: 1 }), 1e-6);
    };
    const weights = group.map(weightOf);
    this.weights = Float64Array.from(weights);
    this.totalWeight = weights.reduce((a, b) => a + b, 0);
    // Rebuilding must not restart the round robin (that would hand every first query after a
    // report to the roomiest primary): each member keeps its credit, re-centred on zero.
    const before = new Map(this.variantIds.map((id, i) => [id, this.credit[i]!]));
    const kept = group.map((m) => before.get(m.id) ?? 0);
    const mean = kept.reduce((a, b) => a + b, 0) / kept.length;
    this.credit = Float64Array.from(kept, (c) => c - mean);
    this.variantIds = group.map((m) => m.id);
    this.variants = group.map((first) => {
      const hosts: Host[] = [
        { host: parseName(first.host, null), preference: low },
        ...group
          .filter((m) => m !== first)
          .map((m) => ({ host: parseName(m.host, null), preference: low + 1 })),
        ...rest.map((m) => ({ host: parseName(m.host, null), preference: m.preference })),
      ];
      return this.encode([...hosts, ...relays], known);
    });
    this.shares = new Map(primaries.map((m) => [m.id, 0]));
    for (const [i, m] of group.entries()) this.shares.set(m.id, weights[i]! / this.totalWeight);
  }

  private encode(hosts: Host[], known: MxMemberConfig[]): PoolAnswer {
    const answer: RR[] = hosts.map((h) => {
      const name = toWire(h.host);
      const rdata = Buffer.alloc(2 + name.length);
      rdata.writeUInt16BE(h.preference, 0);
      name.copy(rdata, 2);
      return { owner: null, type: T.MX, ttl: this.config.ttl, rdata };
    });
    const additional: RR[] = [];
    const seen = new Set<string>();
    this.dynamic = [];
    for (const h of hosts) {
      const key = keyOf(h.host);
      if (seen.has(key)) continue;
      seen.add(key);
      const pool = this.addressPoolOf(key);
      if (pool) {
        this.dynamic.push({ owner: toWire(h.host), pool });
        continue;
      }
      const member = known.find((m) => m.address && keyOf(parseName(m.host, null)) === key);
      if (member?.address) {
        for (const a of member.address) {
          const p = ipaddr.parse(a);
          additional.push({
            owner: toWire(h.host),
            type: p.kind() === "ipv4" ? T.A : T.AAAA,
            ttl: this.config.ttl,
            rdata: Buffer.from(p.toByteArray()),
          });
        }
        continue;
      }
      for (const type of [T.A, T.AAAA]) {
        const r = lookup(this.zones, key, type);
        if (r.kind === "success" && r.aa)
          for (const rr of r.answer) if (rr.type === type) additional.push({ ...rr, owner: toWire(h.host) });
      }
    }
    return {
      rcode: RCODE.NOERROR,
      aa: true,
      sections: encodeSections(answer, [], additional),
      counter: counterFor(this.env, this.name, "mx"),
    };
  }

  private lastResort(): PoolAnswer {
    const r = lookup(this.zones, this.keys[0]!, T.MX);
    if (r.kind === "success" && r.answer.length > 0) {
      this.listed = [];
      return {
        rcode: r.rcode,
        aa: r.aa,
        // Re-encoded without the name's own suffixes: the answer serves every name of the pool.
        sections: encodeSections(r.answer, r.authority, r.additional, r.glueRequired),
        counter: counterFor(this.env, this.name, "static"),
      };
    }
    const all = this.config.members.map((m) => ({ host: parseName(m.host, null), preference: m.preference }));
    this.listed = this.config.members.map((m) => ({
      host: m.host,
      preference: m.preference,
      role: "static" as const,
    }));
    return this.encode(all, this.config.members);
  }

  status(): PoolStatus {
    return {
      name: this.name,
      type: "mx",
      names: this.config.names,
      policy: "mx",
      source: "mx",
      members: this.describe(),
      mx: this.listed,
    };
  }

  /** Closes the listing of members no longer listed into their answer counters, and opens new ones. */
  private trackListed(listed: readonly MxMemberConfig[], closeAll = false): void {
    const answers = counterFor(this.env, this.name, "mx").n;
    const now = new Set(closeAll ? [] : listed.map((m) => m.id));
    for (const [id, since] of this.listedSince) {
      if (now.has(id)) continue;
      counterFor(this.env, this.name, "member", id).n += answers - since;
      this.listedSince.delete(id);
    }
    for (const id of now) if (!this.listedSince.has(id)) this.listedSince.set(id, answers);
  }

  /** MX answers that listed the member as a primary. */
  private answeredBy(id: string): number {
    const since = this.listedSince.get(id);
    const open = since === undefined ? 0 : counterFor(this.env, this.name, "mx").n - since;
    return counterFor(this.env, this.name, "member", id).n + open;
  }

  describe(): MemberView[] {
    const now = this.env.table.clock();
    const view = (m: MxMemberConfig, a: Assessment): MemberView => ({
      ...publicView(a, this.env.table.get(m.id), now),
      id: m.id,
      role: "member",
      addresses: m.address ?? [],
      answered: this.answeredBy(m.id),
      // The share of answers listing it first (1 for every listed primary with the equal policy).
      share: this.listed.some((l) => l.host === m.host && l.role !== "relay")
        ? (this.shares.get(m.id) ?? 0)
        : 0,
    });
    return [
      ...this.config.members.map((m, i) => view(m, this.assessments[i]!)),
      ...this.config.standby.map((m, i) => view(m, this.standbyAssessments[i]!)),
    ];
  }

  dispose(): void {
    this.expiry.clear();
    this.trackListed([], true);
  }
}
