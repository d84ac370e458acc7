/**
 * Runtime of an address (A/AAAA) pool.
 *
 * On every report for one of its members (and when a report is about to go stale) the pool
 * rebuilds a snapshot per address family: the available members, their cumulative weights, and a
 * ready wire answer per member. A query then costs one random draw and a binary search. When no
 * member is available, the answer falls back to the stream managers, then the fallback
 * addresses, then the zone's static records, then SERVFAIL; a family the pool has no address for
 * at all is left to the zone (static records or NODATA).
 *
 * Who asks can matter (`prefer: region`, `sticky: true`): the snapshot then also holds one tier
 * per client region (its own region first, spilling to the next in region-order when it has no
 * available member or is above spill-at), and a sticky pool picks by weighted rendezvous hashing
 * of the client's /24 or /56, so a client keeps its server while that server stays available.
 * Slow start ramps a member's weight up after it comes back from down; adaptive TTL answers short
 * TTLs near the shed threshold or just after a change, and long ones when load is calm.
 */
import ipaddr from "ipaddr.js";
import { encodeSections, sectionsOf } from "../../proto/encode.js";
import { T } from "../../proto/types.js";
import { lookup, RCODE, type RR } from "../../zone/lookup.js";
import type { ZoneSet } from "../../zone/zoneset.js";
import { type Assessment, publicView } from "../availability.js";
import { type Client, mix32, RegionMap, subnetKey } from "../client.js";
import {
  type Candidate,
  cumulativeWeights,
  nextDraw,
  type Policy,
  pickWeighted,
  ranking,
  stickyWeight,
} from "../policy.js";
import {
  type AnswerSource,
  assessMember,
  counterFor,
  ExpiryTimer,
  type MemberState,
  memberState,
  type PoolAnswer,
  type PoolEnv,
} from "../runtime.js";
import type { AddressPoolConfig } from "../schema.js";

interface Target {
  id: string | undefined;
  region?: string | undefined;
  /** Per-member key for rendezvous hashing. */
  seed: number;
  addresses: { 4: Buffer[]; 6: Buffer[] };
  capacity: number;
  weight: number;
  state: "active" | "drain" | "disabled";
  hasProbe: boolean;
  /** Its state that outlives rebuilds (env.members), held here to save a lookup per rebuild. */
  memory: MemberState | null;
  /** Its ready answers by family and TTL: encoded once, reused by every rebuild. */
  answers?: { 4: Map<number, PoolAnswer>; 6: Map<number, PoolAnswer> };
}

/** A set to choose from: eligible members (indexes into members), with weights and ready answers. */
interface Tier {
  eligible: number[];
  answers: PoolAnswer[];
  cumulative: Float64Array | null;
  candidates: Candidate[];
  /**
   * Preference order (see orderOf). Made at rebuild for the deterministic policies, which pick
   * from it; the random ones need it only for extra answers and status, so it waits until asked.
   */
  order: number[] | null;
  /** Capacity weights (x factor) for sticky rendezvous picks. */
  weights: Float64Array;
  /** Region this tier answers from (null: all members). */
  region: string | null;
}

interface Family extends Tier {
  /** The pool has at least one address of this family somewhere. */
  configured: boolean;
  /** Per client region, when the pool prefers the client's region. */
  byRegion: Map<string, Tier> | null;
  /** Answer when no member is eligible (or always, in stream-manager mode). */
  fallback: PoolAnswer;
  fallbackSource: AnswerSource;
}

export interface MemberView extends Omit<Assessment, "freshUntil"> {
  id: string;
  role: "member" | "stream-manager";
  addresses: string[];
  answered: number;
  /** Share of A answers this member would get now (0..1; the first address when answers > 1). */
  share: number;
  region?: string | undefined;
}

const RAMP_FROM = new Set(["down", "stale", "probe-down", "drain", "busy", "drained", "disabled"]);
const RECENT_CHANGE_MS = 60_000;

function seedOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return mix32(h);
}

function addressBytes(list: readonly string[]): { 4: Buffer[]; 6: Buffer[] } {
  const out = { 4: [] as Buffer[], 6: [] as Buffer[] };
  for (const a of list) {
    const parsed = ipaddr.parse(a);
    out[parsed.kind() === "ipv4" ? 4 : 6].push(Buffer.from(parsed.toByteArray()));
  }
  return out;
}

export class AddressPool {
  readonly kind = "a" as const;
  private readonly members: Target[];
  private readonly streamManagers: Target[];
  private readonly fallbackAddresses: { 4: Buffer[]; 6: Buffer[] };
  private readonly policy: Policy;
  private assessments: Assessment[] = [];
  private smAssessments: Assessment[] = [];
  private v4!: Family;
  private v6!: Family;
  private rr = 0;
  private readonly fixedFallback: {
    4?: { answer: PoolAnswer; source: AnswerSource };
    6?: { answer: PoolAnswer; source: AnswerSource };
  } = {};
  /** Where the pool's low-discrepancy draws are; random at start so instances do not move in step. */
  private draw = Math.random();
  private readonly expiry = new ExpiryTimer();
  private readonly refresh = new ExpiryTimer();
  private readonly rebuildNow = () => this.rebuild();
  private readonly memberIndex: ReadonlyMap<string, number>;
  /** Families the pool has no address for at all never change: built once, not per report. */
  private readonly unconfigured: Record<4 | 6, Family | null> = { 4: null, 6: null };
  private readonly regions: RegionMap;
  private readonly ttlMin: number;
  private readonly ttlMax: number;
  private lastChangeAt = -Infinity;
  private factors: number[] = [];
  /** Answers depend on who asks (region or stickiness): ECS responses carry a scope. */
  readonly clientDependent: boolean;
  private lastSource: Record<4 | 6, AnswerSource | null> = { 4: null, 6: null };

  constructor(
    readonly name: string,
    readonly config: AddressPoolConfig,
    readonly keys: readonly string[],
    private readonly zones: ZoneSet,
    private readonly env: PoolEnv,
    regions: Record<string, string[]> = {},
    private readonly regionOrder: Record<string, string[]> = {},
  ) {
    this.policy = config.policy;
    this.regions = new RegionMap(config.prefer === "region" ? regions : {});
    this.clientDependent = (config.prefer === "region" && this.regions.size > 0) || config.sticky;
    const ttl = config.ttl;
    this.ttlMin = typeof ttl === "number" ? ttl : Math.min(ttl.min, ttl.max);
    this.ttlMax = typeof ttl === "number" ? ttl : Math.max(ttl.min, ttl.max);
    this.members = config.members.map((m) => ({
      id: m.id,
      region: m.region,
      seed: seedOf(m.id),
      addresses: addressBytes(m.address),
      capacity: m.capacity,
      weight: m.weight,
      state: m.state,
      hasProbe: m.check !== undefined,
      memory: memberState(env, m.id),
    }));
    this.streamManagers = config["stream-managers"].map((s) => ({
      id: s.id,
      seed: 0,
      addresses: addressBytes(s.address),
      capacity: s.capacity,
      weight: 1,
      state: "active",
      hasProbe: false,
      memory: s.id === undefined ? null : memberState(env, s.id),
    }));
    this.fallbackAddresses = addressBytes(config.fallback);
    this.memberIndex = new Map(this.members.map((m, i) => [m.id!, i]));
    this.rebuild();
  }

  memberIds(): string[] {
    return [...this.members, ...this.streamManagers].flatMap((m) => (m.id ? [m.id] : []));
  }

  /** Whether answering needs the client (region or stickiness); the responder skips the work otherwise. */
  get needsClient(): boolean {
    return this.clientDependent;
  }

  /** The answer for an A or AAAA query at one of the pool's names; null: let the zone answer. */
  answer(qtype: number, client: Client | null = null): PoolAnswer | null {
    const f = qtype === T.A ? this.v4 : qtype === T.AAAA ? this.v6 : null;
    if (f === null || !f.configured) return null;
    if (f.eligible.length === 0 || this.config.mode === "stream-manager") return bump(f.fallback);
    const tier = this.tierFor(f, client);
    if (this.config.answers === 1 || tier.eligible.length === 1)
      return bump(tier.answers[this.pick(tier, client)]!);
    return this.multiple(tier, qtype, client);
  }

  private tierFor(f: Family, client: Client | null): Tier {
    if (f.byRegion === null || client === null) return f;
    const region = this.regions.match(client);
    return region === null ? f : (f.byRegion.get(region) ?? f);
  }

  private pick(t: Tier, client: Client | null): number {
    if (this.config.sticky && client !== null) return rendezvous(t, this.members, client);
    if (t.cumulative) {
      this.draw = nextDraw(this.draw);
      return pickWeighted(t.cumulative, this.draw);
    }
    if (this.policy === "round-robin") {
      this.rr = (this.rr + 1) % t.eligible.length;
      return this.rr;
    }
    return this.orderOf(t)[0]!;
  }

  private orderOf(t: Tier): number[] {
    t.order ??= ranking(this.policy, t.candidates);
    return t.order;
  }

  /** answers > 1: the policy's pick first, then the next in preference order. */
  private multiple(t: Tier, qtype: number, client: Client | null): PoolAnswer {
    const first = this.pick(t, client);
    const chosen = [first];
    for (const i of this.orderOf(t)) {
      if (chosen.length >= this.config.answers) break;
      if (i !== first) chosen.push(i);
    }
    const rrs: RR[] = [];
    for (const i of chosen) {
      const m = this.members[t.eligible[i]!]!;
      t.answers[i]!.counter.n++;
      for (const rdata of m.addresses[qtype === T.A ? 4 : 6])
        rrs.push({ owner: null, type: qtype, ttl: this.ttlMin, rdata });
    }
    return { rcode: RCODE.NOERROR, aa: true, sections: encodeSections(rrs, [], []), counter: { n: 0 } };
  }

  /**
   * Recomputes availability and the answer snapshots; runs when a member's health changes.
   * `changed`: the one member whose report or probe changed. Only its assessment is redone, since
   * another member's can change only by going stale, and the expiry timer rebuilds in full then.
   */
  rebuild(changed?: string): void {
    const now = this.env.table.clock();
    const staleAfter = this.config["stale-after"];
    const maxU = this.config["max-utilization"];
    const judge = (t: Target): Assessment => {
      if (t.id === undefined) {
        // A stream manager without an id has no health data: always answerable.
        return {
          reason: "available",
          available: true,
          load: null,
          capacity: t.capacity,
          utilization: 0,
          ageMs: null,
          freshUntil: Infinity,
          shed: false,
        };
      }
      return assessMember(this.env, t.id, t, now, staleAfter, maxU, t.memory ?? undefined);
    };
    const index = changed === undefined ? undefined : this.memberIndex.get(changed);
    // Snapshots are replaced or updated between queries, never during one, so arrays that only
    // rebuilds read are updated in place.
    let inPlace = false;
    if (index !== undefined && this.assessments.length > 0) {
      const was = this.assessments[index]!.available;
      const a = judge(this.members[index]!);
      this.assessments[index] = a;
      if (was !== a.available) this.lastChangeAt = now;
      // The usual report: same members available, one load changed. Update that member's weight
      // and answer in the snapshots rather than building them anew.
      inPlace =
        was === a.available &&
        this.v4.byRegion === null &&
        this.v6.byRegion === null &&
        !this.config["weigh-rtt"];
      if (inPlace) {
        this.factors[index] = this.factorOf(this.members[index]!, a, now, 0);
        this.updateMember(this.v4, 4, index, now);
        this.updateMember(this.v6, 6, index, now);
      }
    } else {
      const before = this.assessments;
      this.assessments = this.members.map(judge);
      this.smAssessments = this.streamManagers.map(judge);
      for (let i = 0; i < before.length; i++)
        if (before[i]!.available !== this.assessments[i]!.available) this.lastChangeAt = now;
    }
    if (!inPlace) {
      const meanRtt = this.config["weigh-rtt"] ? this.meanRtt() : 0;
      for (let i = 0; i < this.members.length; i++)
        this.factors[i] = this.factorOf(this.members[i]!, this.assessments[i]!, now, meanRtt);
      this.v4 = this.family(4);
      this.v6 = this.family(6);
      this.logSourceChange(4, this.v4);
      this.logSourceChange(6, this.v6);
    }
    this.expiry.schedule(now, this.rebuildNow, this.assessments, this.smAssessments);
    this.scheduleRefresh(now);
  }

  /** One member's new load in a family's snapshot, its eligibility unchanged. */
  private updateMember(f: Family, fam: 4 | 6, index: number, now: number): void {
    if (!f.configured) return;
    const p = f.eligible.indexOf(index);
    if (p < 0) return;
    const a = this.assessments[index]!;
    const c = f.candidates[p]!;
    c.utilization = a.utilization;
    c.capacity = a.capacity;
    c.factor = this.factors[index]!;
    f.answers[p] = this.memberAnswer(this.members[index]!, fam, this.ttlFor(a, now));
    if (f.cumulative !== null) {
      cumulativeWeights(this.policy, f.candidates, f.cumulative);
      f.order = null; // made again when next asked
    } else f.order = ranking(this.policy, f.candidates);
    if (this.config.sticky) f.weights[p] = stickyWeight(c);
  }

  /**
   * Slow start: a member back from down gets weight x (time since / slow-start), at least 5%.
   * weigh-rtt: weight x (mean rttMs / the member's rttMs).
   */
  private factorOf(m: Target, a: Assessment, now: number, meanRtt: number): number {
    let factor = 1;
    if (m.memory !== null) {
      const st = m.memory;
      if (a.available && st.lastReason !== undefined && RAMP_FROM.has(st.lastReason)) st.rampStart = now;
      if (st.lastReason !== a.reason) st.lastReason = a.reason;
      const slow = this.config["slow-start"];
      if (st.rampStart != null && slow > 0) {
        const f = (now - st.rampStart) / slow;
        if (f >= 1 || !a.available) st.rampStart = null;
        else factor = Math.max(0.05, f);
      }
    }
    const rtt =
      meanRtt > 0 && m.id !== undefined ? this.env.table.get(m.id)?.report.metrics?.["rttMs"] : undefined;
    if (rtt !== undefined && rtt > 0) factor *= meanRtt / rtt;
    return factor;
  }

  /** Mean reported rttMs over the members that report one (0 when none does). */
  private meanRtt(): number {
    let sum = 0;
    let n = 0;
    for (const m of this.members) {
      const v = m.id ? this.env.table.get(m.id)?.report.metrics?.["rttMs"] : undefined;
      if (v !== undefined && v > 0) {
        sum += v;
        n++;
      }
    }
    return n > 0 ? sum / n : 0;
  }

  /** Wakes the pool while a slow start ramps, and when the recent-change window of adaptive TTL ends. */
  private scheduleRefresh(now: number): void {
    let next = Infinity;
    const slow = this.config["slow-start"];
    for (const m of this.members)
      if (m.memory?.rampStart != null) next = Math.min(next, now + Math.min(1_000, slow / 20));
    if (this.ttlMin !== this.ttlMax && now - this.lastChangeAt < RECENT_CHANGE_MS)
      next = Math.min(next, this.lastChangeAt + RECENT_CHANGE_MS);
    const at = next === Infinity ? NO_ASSESSMENTS : [{ freshUntil: next } as Assessment];
    this.refresh.schedule(now, this.rebuildNow, at);
  }

  /** Adaptive TTL: short near the shed threshold or within a minute of a change, else long. */
  private ttlFor(a: Assessment, now: number): number {
    if (this.ttlMin === this.ttlMax) return this.ttlMin;
    const near = a.utilization >= this.config["max-utilization"] - 0.2;
    return near || now - this.lastChangeAt < RECENT_CHANGE_MS ? this.ttlMin : this.ttlMax;
  }

  private family(fam: 4 | 6): Family {
    const unconfigured = this.unconfigured[fam];
    if (unconfigured !== null) return unconfigured;
    const qtype = fam === 4 ? T.A : T.AAAA;
    const now = this.env.table.clock();
    const eligible: number[] = [];
    this.members.forEach((m, i) => {
      if (this.assessments[i]!.available && m.addresses[fam].length > 0) eligible.push(i);
    });
    const tier = (members: number[], region: string | null): Tier => {
      const candidates: Candidate[] = members.map((i) => ({
        utilization: this.assessments[i]!.utilization,
        capacity: this.assessments[i]!.capacity,
        weight: this.members[i]!.weight,
        factor: this.factors[i]!,
      }));
      const cumulative = cumulativeWeights(this.policy, candidates);
      return {
        eligible: members,
        answers: members.map((i) =>
          this.memberAnswer(this.members[i]!, fam, this.ttlFor(this.assessments[i]!, now)),
        ),
        cumulative,
        candidates,
        order: cumulative === null ? ranking(this.policy, candidates) : null,
        weights: this.config.sticky ? stickyWeights(candidates) : NO_WEIGHTS,
        region,
      };
    };
    const all = tier(eligible, null);
    const configured =
      this.members.some((m) => m.addresses[fam].length > 0) ||
      this.streamManagers.some((m) => m.addresses[fam].length > 0) ||
      this.fallbackAddresses[fam].length > 0;
    const { answer, source } = this.fallbackFor(fam, qtype);
    const family: Family = {
      eligible: all.eligible,
      answers: all.answers,
      cumulative: all.cumulative,
      candidates: all.candidates,
      order: all.order,
      weights: all.weights,
      region: all.region,
      configured,
      byRegion: this.regionTiers(eligible, tier),
      fallback: answer,
      fallbackSource: source,
    };
    if (!configured) this.unconfigured[fam] = family;
    return family;
  }

  /**
   * One tier per client region: the first region in its order (own region, then region-order or
   * the others) that has available members below spill-at; else the first with any available
   * member; else every eligible member.
   */
  private regionTiers(
    eligible: number[],
    tier: (members: number[], region: string | null) => Tier,
  ): Map<string, Tier> | null {
    if (this.config.prefer !== "region" || this.regions.size === 0) return null;
    const spillAt = this.config["spill-at"] ?? this.config["max-utilization"];
    const names = [...new Set(this.members.flatMap((m) => (m.region ? [m.region] : [])))];
    const out = new Map<string, Tier>();
    const regionNames = new Set([...names, ...Object.keys(this.regionOrder)]);
    for (const r of regionNames) {
      const order = this.regionOrder[r] ?? [r, ...names.filter((x) => x !== r)];
      // Only the tier that is used gets built (each builds ready wire answers).
      let first: { members: number[]; region: string } | null = null;
      let chosen: { members: number[]; region: string | null } | null = null;
      for (const region of order) {
        const members = eligible.filter((i) => this.members[i]!.region === region);
        if (members.length === 0) continue;
        let load = 0;
        let capacity = 0;
        for (const i of members) {
          load += this.assessments[i]!.load ?? 0;
          capacity += this.assessments[i]!.capacity;
        }
        if (load / capacity < spillAt) {
          chosen = { members, region };
          break;
        }
        first ??= { members, region };
      }
      const use = chosen ?? first ?? { members: eligible, region: null };
      out.set(r, tier(use.members, use.region));
    }
    return out;
  }

  private fallbackFor(fam: 4 | 6, qtype: number): { answer: PoolAnswer; source: AnswerSource } {
    const sms =
      this.streamManagers.length === 0
        ? NO_TARGETS
        : this.streamManagers.filter(
            (s, i) => this.smAssessments[i]!.available && s.addresses[fam].length > 0,
          );
    if (sms.length > 0) {
      const addrs = sms.slice(0, this.config.answers).flatMap((s) => s.addresses[fam]);
      return { answer: this.addressAnswer(addrs, qtype, "stream-manager"), source: "stream-manager" };
    }
    let fixed = this.fixedFallback[fam];
    if (fixed === undefined) {
      fixed = this.fixedFallbackFor(fam, qtype);
      this.fixedFallback[fam] = fixed;
    }
    return fixed;
  }

  /** The fallback when no stream manager can answer: it depends only on config and zones, so it is made once. */
  private fixedFallbackFor(fam: 4 | 6, qtype: number): { answer: PoolAnswer; source: AnswerSource } {
    if (this.fallbackAddresses[fam].length > 0) {
      return {
        answer: this.addressAnswer(this.fallbackAddresses[fam], qtype, "fallback"),
        source: "fallback",
      };
    }
    const r = lookup(this.zones, this.keys[0]!, qtype);
    if (r.kind === "success" && r.answer.length > 0) {
      return {
        answer: {
          rcode: r.rcode,
          aa: r.aa,
          sections: sectionsOf(r),
          counter: counterFor(this.env, this.name, "static"),
        },
        source: "static",
      };
    }
    return {
      answer: {
        rcode: RCODE.SERVFAIL,
        aa: false,
        sections: encodeSections([], [], []),
        counter: counterFor(this.env, this.name, "servfail"),
      },
      source: "servfail",
    };
  }

  /** A member's answer for one family and TTL, from its cache (a rebuild must not re-encode it). */
  private memberAnswer(m: Target, fam: 4 | 6, ttl: number): PoolAnswer {
    m.answers ??= { 4: new Map(), 6: new Map() };
    let a = m.answers[fam].get(ttl);
    if (a === undefined) {
      a = this.addressAnswer(m.addresses[fam], fam === 4 ? T.A : T.AAAA, "member", m.id, ttl);
      m.answers[fam].set(ttl, a);
    }
    return a;
  }

  private addressAnswer(
    addrs: readonly Buffer[],
    qtype: number,
    source: AnswerSource,
    member?: string,
    ttl = this.ttlMin,
  ): PoolAnswer {
    const rrs = addrs.map((rdata) => ({ owner: null, type: qtype, ttl, rdata }));
    return {
      rcode: RCODE.NOERROR,
      aa: true,
      sections: encodeSections(rrs, [], []),
      counter: counterFor(this.env, this.name, source, member),
    };
  }

  private logSourceChange(fam: 4 | 6, f: Family): void {
    if (!f.configured) return;
    const source: AnswerSource =
      f.eligible.length > 0 && this.config.mode === "direct" ? "member" : f.fallbackSource;
    const previous = this.lastSource[fam];
    this.lastSource[fam] = source;
    if (previous === source || (previous === null && source === "member") || this.env.quiet) return;
    const level = source === "member" || source === "stream-manager" ? "info" : "warn";
    this.env.log[level](
      { pool: this.name, family: fam === 4 ? "A" : "AAAA", from: previous, to: source },
      "pool answer source changed",
    );
  }

  /** The answer as `answer` would give it, without counting it: the best-ranked member, or the fallback. */
  peek(qtype: number): PoolAnswer | null {
    const f = qtype === T.A ? this.v4 : qtype === T.AAAA ? this.v6 : null;
    if (f === null || !f.configured) return null;
    if (f.eligible.length === 0 || this.config.mode === "stream-manager") return f.fallback;
    return f.answers[this.orderOf(f)[0]!]!;
  }

  /** Where A (or AAAA) answers come from now: members, or which fallback. */
  source(qtype: number): AnswerSource | null {
    const f = qtype === T.AAAA ? this.v6 : this.v4;
    if (!f.configured) return null;
    return f.eligible.length > 0 && this.config.mode === "direct" ? "member" : f.fallbackSource;
  }

  /** Each eligible member's share of answers for a family, from the current snapshot. */
  shares(qtype: number): Map<number, number> {
    const f = qtype === T.AAAA ? this.v6 : this.v4;
    const out = new Map<number, number>();
    if (this.source(qtype) !== "member") return out;
    const n = f.eligible.length;
    f.eligible.forEach((memberIndex, i) => {
      let share: number;
      if (f.cumulative)
        share = (f.cumulative[i]! - (i > 0 ? f.cumulative[i - 1]! : 0)) / f.cumulative[n - 1]!;
      else if (this.policy === "round-robin") share = 1 / n;
      else share = this.orderOf(f)[0] === i ? 1 : 0;
      out.set(memberIndex, share);
    });
    return out;
  }

  describe(qtype: number = T.A): MemberView[] {
    const shares = this.shares(qtype);
    const fam = qtype === T.AAAA ? 6 : 4;
    // In stream-manager answers, the first `answers` available stream managers share the answers.
    const answering =
      this.source(qtype) === "stream-manager"
        ? this.streamManagers
            .map((_, i) => i)
            .filter(
              (i) => this.smAssessments[i]!.available && this.streamManagers[i]!.addresses[fam].length > 0,
            )
            .slice(0, this.config.answers)
        : [];
    let index = 0;
    let smIndex = 0;
    const now = this.env.table.clock();
    const view = (t: Target, a: Assessment, role: MemberView["role"]): MemberView => ({
      ...publicView(a, t.id === undefined ? undefined : this.env.table.get(t.id), now),
      id: t.id ?? "(no id)",
      role,
      addresses: [...t.addresses[4], ...t.addresses[6]].map((b) => ipaddr.fromByteArray([...b]).toString()),
      answered: t.id ? (this.env.counters.get(`${this.name}\u0000member\u0000${t.id}`)?.n ?? 0) : 0,
      share: role === "member" ? (shares.get(index++) ?? 0) : answering.includes(smIndex++) ? 1 : 0,
      region: t.region,
    });
    return [
      ...this.members.map((m, i) => view(m, this.assessments[i]!, "member")),
      ...this.streamManagers.map((s, i) => view(s, this.smAssessments[i]!, "stream-manager")),
    ];
  }

  /** For explain: the region tier and the member a client would get (with its share of the tier). */
  decide(
    qtype: number,
    client: Client | null,
  ): { region: string | null; candidates: string[]; sticky: string | null } {
    const f = qtype === T.AAAA ? this.v6 : this.v4;
    const t = this.tierFor(f, client);
    const sticky =
      this.config.sticky && client !== null && t.eligible.length > 0
        ? (this.members[t.eligible[rendezvous(t, this.members, client)]!]!.id ?? null)
        : null;
    return { region: t.region, candidates: t.eligible.map((i) => this.members[i]!.id!), sticky };
  }

  dispose(): void {
    this.expiry.clear();
    this.refresh.clear();
  }
}

/**
 * Weighted rendezvous (highest random weight) hashing: each member scores w / -ln(u) with u a
 * uniform hash of (client subnet, member). Adding or removing one member moves only the clients
 * that it wins or held, so everyone else keeps their server.
 */
function rendezvous(t: Tier, members: readonly Target[], client: Client): number {
  const key = subnetKey(client);
  let best = 0;
  let bestScore = -1;
  for (let i = 0; i < t.eligible.length; i++) {
    const u = (mix32(key ^ members[t.eligible[i]!]!.seed) + 0.5) / 4_294_967_296;
    const score = t.weights[i]! / -Math.log(u);
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}

const NO_WEIGHTS = new Float64Array(0);
const NO_ASSESSMENTS: readonly Assessment[] = [];
const NO_TARGETS: readonly Target[] = [];

function stickyWeights(candidates: readonly Candidate[]): Float64Array {
  const out = new Float64Array(candidates.length);
  for (let i = 0; i < candidates.length; i++) out[i] = stickyWeight(candidates[i]!);
  return out;
}

function bump(a: PoolAnswer): PoolAnswer {
  a.counter.n++;
  return a;
}
