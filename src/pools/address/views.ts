/** What operators see of an address pool: each member's assessment, answers so far and share now. */
import ipaddr from "ipaddr.js";
import { publicView } from "../availability.js";
import type { Policy } from "../policy.js";
import type { MemberView } from "../pool.js";
import { counterKey, type PoolEnv } from "../runtime.js";
import type { Family, Slot } from "./slots.js";
import { type FamilySnapshot, orderOf } from "./snapshot.js";

/** Each eligible slot's share of answers now, from the snapshot (empty unless members answer). */
export function shares(f: FamilySnapshot, policy: Policy, membersAnswer: boolean): Map<Slot, number> {
  const out = new Map<Slot, number>();
  if (!membersAnswer) return out;
  const n = f.eligible.length;
  f.eligible.forEach((slot, i) => {
    let share: number;
    if (f.cumulative) share = (f.cumulative[i]! - (i > 0 ? f.cumulative[i - 1]! : 0)) / f.cumulative[n - 1]!;
    else if (policy === "round-robin") share = 1 / n;
    else share = orderOf(f, policy)[0] === i ? 1 : 0;
    out.set(slot, share);
  });
  return out;
}

/**
 * Member and stream-manager views. In stream-manager answers, the first `answers` available
 * stream managers of the family share the answers.
 */
export function memberViews(
  pool: string,
  members: readonly Slot[],
  streamManagers: readonly Slot[],
  memberShares: Map<Slot, number>,
  answeringManagers: boolean,
  fam: Family,
  answers: number,
  env: PoolEnv,
): MemberView[] {
  const answering = answeringManagers
    ? streamManagers.filter((s) => s.assessment.available && s.addresses[fam].length > 0).slice(0, answers)
    : [];
  const now = env.table.clock();
  const view = (s: Slot, role: MemberView["role"], share: number): MemberView => ({
    ...publicView(s.assessment, s.id === undefined ? undefined : env.table.get(s.id), now),
    id: s.id ?? "(no id)",
    role,
    addresses: [...s.addresses[4], ...s.addresses[6]].map((b) => ipaddr.fromByteArray([...b]).toString()),
    answered: s.id ? (env.counters.get(counterKey(pool, "member", s.id))?.n ?? 0) : 0,
    share,
    region: s.region,
  });
  return [
    ...members.map((s) => view(s, "member", memberShares.get(s) ?? 0)),
    ...streamManagers.map((s) => view(s, "stream-manager", answering.includes(s) ? 1 : 0)),
  ];
}
