/**
 * Runtime of an address (A/AAAA) pool (docs/pools.md).
 *
 * On every report for one of its members (and when a report is about to go stale) the pool
 * rebuilds a snapshot per address family (snapshot.ts): the available members, their weights
 * (weights.ts) and a ready wire answer per member. A query then costs one pick (pick.ts). When no
 * member is available the answer comes from the fallback chain (fallback.ts); a family the pool
 * has no address for at all is left to the zone (static records or NODATA).
 *
 * A report that leaves the set of available members unchanged updates that member in place; any
 * other change rebuilds both families from the slots.
 */
import { RCODE } from "../../proto/rcode.js";
import { encodeSections } from "../../proto/sections.js";
import { T } from "../../proto/types.js";
import type { ZoneSet } from "../../zone/zoneset.js";
import { type Client, RegionMap } from "../client.js";
import type { ClientChoice, MemberView, Pool, PoolStatus } from "../pool.js";
import { type AnswerSource, counterFor, ExpiryTimer, type PoolAnswer, type PoolEnv } from "../runtime.js";
import type { AddressPoolConfig } from "../schema.js";
import { type AddressAnswer, FallbackChain } from "./fallback.js";
import { Picker, rendezvous } from "./pick.js";
import {
  addressBytes,
  earliestStale,
  type Family,
  judge,
  memberSlots,
  qtypeOf,
  type Slot,
  slotAnswer,
  streamManagerSlots,
} from "./slots.js";
import {
  buildTier,
  type FamilySnapshot,
  orderOf,
  regionTiers,
  type Tier,
  type TierRules,
  updateInTier,
} from "./snapshot.js";
import { memberViews, shares } from "./views.js";
import { AdaptiveTtl, meanRtt, nextRampStep, weightFactor } from "./weights.js";

export class AddressPool implements Pool {
  readonly kind = "a" as const;
  /** Answers depend on who asks (region or stickiness): the resolver finds the client, ECS responses carry a scope. */
  readonly needsClient: boolean;
  private readonly members: Slot[];
  private readonly streamManagers: Slot[];
  private readonly byId: ReadonlyMap<string, Slot>;
  private readonly regions: RegionMap;
  private readonly ttl: AdaptiveTtl;
  private readonly picker: Picker;
  private readonly fallbacks: FallbackChain;
  private readonly fallbackAddresses: Record<Family, Buffer[]>;
  private readonly snapshots: Record<Family, FamilySnapshot>;
  /** Families the pool has no address for at all never change: built once, not per report. */
  private readonly unconfigured: Record<Family, FamilySnapshot | null> = { 4: null, 6: null };
  private readonly lastSource: Record<Family, AnswerSource | null> = { 4: null, 6: null };
  private built = false;
  private readonly expiry = new ExpiryTimer();
  private readonly refresh = new ExpiryTimer();
  private readonly rebuildNow = () => this.rebuild();

  constructor(
    readonly name: string,
    readonly config: AddressPoolConfig,
    readonly keys: readonly string[],
    zones: ZoneSet,
    private readonly env: PoolEnv,
    regions: Record<string, string[]> = {},
    private readonly regionOrder: Record<string, string[]> = {},
  ) {
    this.regions = new RegionMap(config.prefer === "region" ? regions : {});
    this.needsClient = (config.prefer === "region" && this.regions.size > 0) || config.sticky;
    this.ttl = new AdaptiveTtl(config.ttl, config["max-utilization"]);
    this.picker = new Picker(config.policy, config.sticky);
    this.members = memberSlots(config, env);
    this.streamManagers = streamManagerSlots(config, env);
    this.byId = new Map(this.members.map((s) => [s.id!, s]));
    this.fallbackAddresses = addressBytes(config.fallback);
    this.fallbacks = new FallbackChain(
      name,
      keys[0]!,
      this.streamManagers,
      this.fallbackAddresses,
      config.answers,
      zones,
      env,
      this.encode,
    );
    this.snapshots = { 4: this.family(4, this.env.table.clock()), 6: this.family(6, this.env.table.clock()) };
    this.rebuild();
  }

  memberIds(): string[] {
    return [...this.members, ...this.streamManagers].flatMap((s) => (s.id ? [s.id] : []));
  }

  answer(qtype: number, client: Client | null = null, commit = true): PoolAnswer | null {
    const fam = qtype === T.A ? 4 : qtype === T.AAAA ? 6 : 0;
    if (fam === 0) return null;
    const f = this.snapshots[fam];
    if (!f.configured) return null;
    if (f.eligible.length === 0 || this.config.mode === "stream-manager") return counted(f.fallback, commit);
    const tier = this.tierFor(f, client);
    if (this.config.answers === 1 || tier.eligible.length === 1)
      return counted(tier.answers[this.picker.pick(tier, client, commit)]!, commit);
    return this.picker.several(tier, fam, qtype, this.config.answers, this.ttl.min, client, commit);
  }

  private tierFor(f: FamilySnapshot, client: Client | null): Tier {
    if (f.byRegion === null || client === null) return f;
    const region = this.regions.match(client);
    return region === null ? f : (f.byRegion.get(region) ?? f);
  }

  /**
   * Recomputes availability and the snapshots; runs when a member's health changes. `changed`:
   * the one member whose report or probe changed. Only its assessment is redone, since another
   * member's can change only by going stale, and the expiry timer rebuilds in full then.
   * Snapshots are replaced or updated between queries, never during one.
   */
  rebuild(changed?: string): void {
    const now = this.env.table.clock();
    const slot = changed === undefined || !this.built ? undefined : this.byId.get(changed);
    if (slot !== undefined) {
      const was = slot.assessment.available;
      slot.assessment = this.judge(slot, now);
      const same = was === slot.assessment.available;
      if (!same) this.ttl.lastChangeAt = now;
      // The usual report: same members available, one load changed.
      if (same && this.inPlaceUpdatable()) {
        slot.factor = weightFactor(slot, now, this.config["slow-start"], this.env.table, 0);
        this.updateInPlace(slot, now);
        this.arm(now);
        return;
      }
    } else {
      for (const s of this.members) {
        const was = s.assessment.available;
        s.assessment = this.judge(s, now);
        if (this.built && was !== s.assessment.available) this.ttl.lastChangeAt = now;
      }
      for (const s of this.streamManagers) s.assessment = this.judge(s, now);
    }
    this.built = true;
    const mean = this.config["weigh-rtt"] ? meanRtt(this.members, this.env.table) : 0;
    for (const s of this.members)
      s.factor = weightFactor(s, now, this.config["slow-start"], this.env.table, mean);
    for (const fam of [4, 6] as const) {
      this.snapshots[fam] = this.family(fam, now);
      this.logSourceChange(fam);
    }
    this.arm(now);
  }

  private judge(s: Slot, now: number) {
    return judge(s, this.env, now, this.config["stale-after"], this.config["max-utilization"]);
  }

  /** Region tiers and RTT weights depend on every member, so only plain snapshots update in place. */
  private inPlaceUpdatable(): boolean {
    return (
      this.snapshots[4].byRegion === null && this.snapshots[6].byRegion === null && !this.config["weigh-rtt"]
    );
  }

  private updateInPlace(slot: Slot, now: number): void {
    for (const fam of [4, 6] as const) {
      const f = this.snapshots[fam];
      if (f.configured) updateInTier(f, slot, this.rules(fam, now));
    }
  }

  /** Timers: one for the earliest report to go stale, one for slow start and adaptive TTL. */
  private arm(now: number): void {
    this.expiry.schedule(
      now,
      earliestStale(this.streamManagers, now, earliestStale(this.members, now)),
      this.rebuildNow,
    );
    const wake = Math.min(nextRampStep(this.members, now, this.config["slow-start"]), this.ttl.nextWake(now));
    this.refresh.schedule(now, wake, this.rebuildNow);
  }

  private rules(fam: Family, now: number): TierRules {
    return {
      policy: this.config.policy,
      sticky: this.config.sticky,
      answerOf: (s) => slotAnswer(s, fam, this.ttl.ttlFor(s.assessment, now), this.memberAnswer(s)),
    };
  }

  private family(fam: Family, now: number): FamilySnapshot {
    const unconfigured = this.unconfigured[fam];
    if (unconfigured !== null) return unconfigured;
    const rules = this.rules(fam, now);
    const eligible = this.members.filter((s) => s.assessment.available && s.addresses[fam].length > 0);
    const configured =
      this.members.some((s) => s.addresses[fam].length > 0) ||
      this.streamManagers.some((s) => s.addresses[fam].length > 0) ||
      this.fallbackAddresses[fam].length > 0;
    const { answer, source } = this.fallbacks.for(fam);
    const byRegion =
      this.config.prefer === "region" && this.regions.size > 0
        ? regionTiers(
            eligible,
            this.members,
            this.regionOrder,
            this.config["spill-at"] ?? this.config["max-utilization"],
            rules,
          )
        : null;
    const snapshot: FamilySnapshot = {
      ...buildTier(eligible, null, rules),
      configured,
      byRegion,
      fallback: answer,
      fallbackSource: source,
    };
    if (!configured) this.unconfigured[fam] = snapshot;
    return snapshot;
  }

  private memberAnswer(s: Slot) {
    return (addresses: readonly Buffer[], qtype: number, ttl: number) =>
      this.encode(addresses, qtype, "member", s.id, ttl);
  }

  private readonly encode: AddressAnswer = (addresses, qtype, source, member, ttl = this.ttl.min) => ({
    rcode: RCODE.NOERROR,
    aa: true,
    sections: encodeSections(
      addresses.map((rdata) => ({ owner: null, type: qtype, ttl, rdata })),
      [],
      [],
    ),
    counter: counterFor(this.env, this.name, source, member),
  });

  private logSourceChange(fam: Family): void {
    const source = this.source(qtypeOf(fam));
    if (source === null) return;
    const previous = this.lastSource[fam];
    this.lastSource[fam] = source;
    if (previous === source || (previous === null && source === "member") || this.env.quiet) return;
    const level = source === "member" || source === "stream-manager" ? "info" : "warn";
    this.env.log[level](
      { pool: this.name, family: fam === 4 ? "A" : "AAAA", from: previous, to: source },
      "pool answer source changed",
    );
  }

  /** Where A (or AAAA) answers come from now: members, or which fallback; null when unconfigured. */
  source(qtype: number): AnswerSource | null {
    const f = this.snapshots[qtype === T.AAAA ? 6 : 4];
    if (!f.configured) return null;
    return f.eligible.length > 0 && this.config.mode === "direct" ? "member" : f.fallbackSource;
  }

  /** The best-ranked answer now, without counting it (the property tests compare snapshots by it). */
  peek(qtype: number): PoolAnswer | null {
    const f = qtype === T.A ? this.snapshots[4] : qtype === T.AAAA ? this.snapshots[6] : null;
    if (f === null || !f.configured) return null;
    if (f.eligible.length === 0 || this.config.mode === "stream-manager") return f.fallback;
    return f.answers[orderOf(f, this.config.policy)[0]!]!;
  }

  /** Each eligible member's share of answers now, by its position in pools.yaml. */
  shares(qtype: number): Map<number, number> {
    const bySlot = shares(
      this.snapshots[qtype === T.AAAA ? 6 : 4],
      this.config.policy,
      this.source(qtype) === "member",
    );
    return new Map([...bySlot].map(([slot, share]) => [this.members.indexOf(slot), share]));
  }

  describe(qtype: number = T.A): MemberView[] {
    const fam = qtype === T.AAAA ? 6 : 4;
    const source = this.source(qtype);
    return memberViews(
      this.name,
      this.members,
      this.streamManagers,
      shares(this.snapshots[fam], this.config.policy, source === "member"),
      source === "stream-manager",
      fam,
      this.config.answers,
      this.env,
    );
  }

  status(qtype: number = T.A): PoolStatus {
    return {
      name: this.name,
      type: "a",
      names: this.config.names,
      policy: this.config.policy,
      source: this.source(qtype),
      members: this.describe(qtype),
    };
  }

  choiceFor(qtype: number, client: Client): ClientChoice | null {
    if (!this.needsClient) return null;
    const t = this.tierFor(this.snapshots[qtype === T.AAAA ? 6 : 4], client);
    const sticky =
      this.config.sticky && t.eligible.length > 0 ? (t.eligible[rendezvous(t, client)]!.id ?? null) : null;
    return { region: t.region, candidates: t.eligible.map((s) => s.id!), sticky };
  }

  dispose(): void {
    this.expiry.clear();
    this.refresh.clear();
  }
}

function counted(a: PoolAnswer, commit: boolean): PoolAnswer {
  if (commit) a.counter.n++;
  return a;
}
