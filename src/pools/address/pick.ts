/**
 * Picking from a tier: the policy's pick (a low-discrepancy draw over the cumulative weights, a
 * round-robin turn, the first in preference order), or for sticky pools a weighted rendezvous
 * over the client's subnet. A query allocates nothing here unless it asks for several addresses.
 */

import { mix32 } from "../../lib/hash.js";
import { RCODE } from "../../proto/rcode.js";
import { encodeSections, type RR } from "../../proto/sections.js";
import { type Client, subnetKey } from "../client.js";
import { nextDraw, type Policy, pickWeighted } from "../policy.js";
import type { PoolAnswer } from "../runtime.js";
import type { Family } from "./slots.js";
import { orderOf, type Tier } from "./snapshot.js";

export class Picker {
  /** Where the low-discrepancy draws are; random at start so instances do not move in step. */
  private draw = Math.random();
  private turn = 0;

  constructor(
    private readonly policy: Policy,
    private readonly sticky: boolean,
  ) {}

  /** Position in the tier of the member to answer. `commit` false leaves the draw and turn as they are. */
  pick(t: Tier, client: Client | null, commit: boolean): number {
    if (this.sticky && client !== null) return rendezvous(t, client);
    if (t.cumulative) {
      const draw = nextDraw(this.draw);
      if (commit) this.draw = draw;
      return pickWeighted(t.cumulative, draw);
    }
    if (this.policy === "round-robin") {
      const turn = (this.turn + 1) % t.eligible.length;
      if (commit) this.turn = turn;
      return turn;
    }
    return orderOf(t, this.policy)[0]!;
  }

  /** answers > 1: the policy's pick first, then the next in preference order, in one answer. */
  several(
    t: Tier,
    fam: Family,
    qtype: number,
    count: number,
    ttl: number,
    client: Client | null,
    commit: boolean,
  ): PoolAnswer {
    const first = this.pick(t, client, commit);
    const chosen = [first];
    for (const i of orderOf(t, this.policy)) {
      if (chosen.length >= count) break;
      if (i !== first) chosen.push(i);
    }
    const rrs: RR[] = [];
    for (const i of chosen) {
      if (commit) t.answers[i]!.counter.n++;
      for (const rdata of t.eligible[i]!.addresses[fam]) rrs.push({ owner: null, type: qtype, ttl, rdata });
    }
    return { rcode: RCODE.NOERROR, aa: true, sections: encodeSections(rrs, [], []), counter: { n: 0 } };
  }
}

/**
 * Weighted rendezvous (highest random weight) hashing: each member scores w / -ln(u) with u a
 * uniform hash of (client subnet, member). Adding or removing one member moves only the clients
 * that it wins or held, so everyone else keeps their server.
 */
export function rendezvous(t: Tier, client: Client): number {
  const key = subnetKey(client);
  let best = 0;
  let bestScore = -1;
  for (let i = 0; i < t.eligible.length; i++) {
    const u = (mix32(key ^ t.eligible[i]!.seed) + 0.5) / 4_294_967_296;
    const score = t.weights[i]! / -Math.log(u);
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}
