/**
 * Runtime of an address (A/AAAA) pool.
 *
 * On every report for one of its members (and when a report is about to go stale) the pool
 * rebuilds a snapshot per address family: the available members, their cumulative weights, and a
 * ready wire answer per member. A query then costs one random draw and a binary search. When no
 * member is available, the answer falls back to the stream managers, then the fallback
 * addresses, then the zone's static records, then SERVFAIL; a family the pool has no address for
 * at all is left to the zone (static records or NODATA).
 */
import ipaddr from "ipaddr.js";
import { encodeSections, sectionsOf } from "../dns/wire.js";
import { lookup, RCODE, type RR } from "../zone/lookup.js";
import { T } from "../zone/types.js";
import type { ZoneSet } from "../zone/zoneset.js";
import { type Assessment, publicView } from "./availability.js";
import { cumulativeWeights, type Policy, pickWeighted, ranking } from "./policy.js";
import {
  type AnswerSource,
  assessMember,
  counterFor,
  ExpiryTimer,
  type PoolAnswer,
  type PoolEnv,
} from "./runtime.js";
import type { AddressPoolConfig } from "./schema.js";

interface Target {
  id: string | undefined;
  addresses: { 4: Buffer[]; 6: Buffer[] };
  capacity: number;
  weight: number;
  state: "active" | "drain" | "disabled";
  hasProbe: boolean;
}

interface Family {
  /** The pool has at least one address of this family somewhere. */
  configured: boolean;
  eligible: number[];
  answers: PoolAnswer[];
  cumulative: Float64Array | null;
  order: number[];
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
  private readonly expiry = new ExpiryTimer();
  private lastSource: Record<4 | 6, AnswerSource | null> = { 4: null, 6: null };

  constructor(
    readonly name: string,
    readonly config: AddressPoolConfig,
    readonly keys: readonly string[],
    private readonly zones: ZoneSet,
    private readonly env: PoolEnv,
  ) {
    this.policy = config.policy;
    this.members = config.members.map((m) => ({
      id: m.id,
      addresses: addressBytes(m.address),
      capacity: m.capacity,
      weight: m.weight,
      state: m.state,
      hasProbe: m.check !== undefined,
    }));
    this.streamManagers = config["stream-managers"].map((s) => ({
      id: s.id,
      addresses: addressBytes(s.address),
      capacity: s.capacity,
      weight: 1,
      state: "active",
      hasProbe: false,
    }));
    this.fallbackAddresses = addressBytes(config.fallback);
    this.rebuild();
  }

  memberIds(): string[] {
    return [...this.members, ...this.streamManagers].flatMap((m) => (m.id ? [m.id] : []));
  }

  /** The answer for an A or AAAA query at one of the pool's names; null: let the zone answer. */
  answer(qtype: number): PoolAnswer | null {
    const f = qtype === T.A ? this.v4 : qtype === T.AAAA ? this.v6 : null;
    if (f === null || !f.configured) return null;
    const n = f.eligible.length;
    if (n === 0 || this.config.mode === "stream-manager") return bump(f.fallback);
    if (this.config.answers === 1 || n === 1) return bump(f.answers[this.pick(f)]!);
    return this.multiple(f, qtype);
  }

  private pick(f: Family): number {
    if (f.cumulative) return pickWeighted(f.cumulative, Math.random());
    if (this.policy === "round-robin") {
      this.rr = (this.rr + 1) % f.eligible.length;
      return this.rr;
    }
    return f.order[0]!;
  }

  /** answers > 1: the policy's pick first, then the next in preference order. */
  private multiple(f: Family, qtype: number): PoolAnswer {
    const first = this.pick(f);
    const chosen = [first];
    for (const i of f.order) {
      if (chosen.length >= this.config.answers) break;
      if (i !== first) chosen.push(i);
    }
    const rrs: RR[] = [];
    for (const i of chosen) {
      const m = this.members[f.eligible[i]!]!;
      f.answers[i]!.counter.n++;
      for (const rdata of m.addresses[qtype === T.A ? 4 : 6])
        rrs.push({ owner: null, type: qtype, ttl: this.config.ttl, rdata });
    }
    return { rcode: RCODE.NOERROR, aa: true, sections: encodeSections(rrs, [], []), counter: { n: 0 } };
  }

  /** Recomputes availability and the answer snapshots; runs when a member's health changes. */
  rebuild(): void {
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
      return assessMember(this.env, t.id, t, now, staleAfter, maxU);
    };
    this.assessments = this.members.map(judge);
    this.smAssessments = this.streamManagers.map(judge);
    this.v4 = this.family(4);
    this.v6 = this.family(6);
    this.logSourceChange(4, this.v4);
    this.logSourceChange(6, this.v6);
    this.expiry.schedule([...this.assessments, ...this.smAssessments], now, () => this.rebuild());
  }

  private family(fam: 4 | 6): Family {
    const qtype = fam === 4 ? T.A : T.AAAA;
    const eligible: number[] = [];
    this.members.forEach((m, i) => {
      if (this.assessments[i]!.available && m.addresses[fam].length > 0) eligible.push(i);
    });
    const candidates = eligible.map((i) => ({
      utilization: this.assessments[i]!.utilization,
      capacity: this.assessments[i]!.capacity,
      weight: this.members[i]!.weight,
    }));
    const answers = eligible.map((i) =>
      this.addressAnswer(this.members[i]!.addresses[fam], qtype, "member", this.members[i]!.id),
    );
    const configured =
      this.members.some((m) => m.addresses[fam].length > 0) ||
      this.streamManagers.some((m) => m.addresses[fam].length > 0) ||
      this.fallbackAddresses[fam].length > 0;
    const { answer, source } = this.fallbackFor(fam, qtype);
    return {
      configured,
      eligible,
      answers,
      cumulative: cumulativeWeights(this.policy, candidates),
      order: ranking(this.policy, candidates),
      fallback: answer,
      fallbackSource: source,
    };
  }

  private fallbackFor(fam: 4 | 6, qtype: number): { answer: PoolAnswer; source: AnswerSource } {
    const sms = this.streamManagers.filter(
      (s, i) => this.smAssessments[i]!.available && s.addresses[fam].length > 0,
    );
    if (sms.length > 0) {
      const addrs = sms.slice(0, this.config.answers).flatMap((s) => s.addresses[fam]);
      return { answer: this.addressAnswer(addrs, qtype, "stream-manager"), source: "stream-manager" };
    }
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

  private addressAnswer(
    addrs: readonly Buffer[],
    qtype: number,
    source: AnswerSource,
    member?: string,
  ): PoolAnswer {
    const rrs = addrs.map((rdata) => ({ owner: null, type: qtype, ttl: this.config.ttl, rdata }));
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
    if (previous === source || (previous === null && source === "member")) return;
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
    return f.answers[f.order[0]!]!;
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
      else share = f.order[0] === i ? 1 : 0;
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
    const view = (t: Target, a: Assessment, role: MemberView["role"]): MemberView => ({
      ...publicView(a),
      id: t.id ?? "(no id)",
      role,
      addresses: [...t.addresses[4], ...t.addresses[6]].map((b) => ipaddr.fromByteArray([...b]).toString()),
      answered: t.id ? (this.env.counters.get(`${this.name}\u0000member\u0000${t.id}`)?.n ?? 0) : 0,
      share: role === "member" ? (shares.get(index++) ?? 0) : answering.includes(smIndex++) ? 1 : 0,
    });
    return [
      ...this.members.map((m, i) => view(m, this.assessments[i]!, "member")),
      ...this.streamManagers.map((s, i) => view(s, this.smAssessments[i]!, "stream-manager")),
    ];
  }

  dispose(): void {
    this.expiry.clear();
  }
}

function bump(a: PoolAnswer): PoolAnswer {
  a.counter.n++;
  return a;
}
