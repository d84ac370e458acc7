/**
 * Differences from NSD and Knot that the differential run accepts, each with its reason. Two kinds:
 * intended (lbdns answers differently on purpose; the README lists these) and open (a defect not
 * fixed yet, tracked in the issue; each should disappear as it is fixed).
 */
import type { Message, QuerySpec } from "./wire.js";

export interface KnownDifference {
  id: string;
  kind: "intended" | "open";
  reason: string;
  applies(q: QuerySpec, peers: Message, lbdns: Message | null): boolean;
}

export const KNOWN: KnownDifference[] = [];

export function knownDifference(q: QuerySpec, peers: Message, lbdns: Message | null): string | null {
  return KNOWN.find((k) => k.applies(q, peers, lbdns))?.id ?? null;
}
