/**
 * The closest encloser of a name that does not exist (RFC 4592 §3.3.1): the longest existing
 * ancestor, empty non-terminals included. Its `*` child, if any, is the source of synthesis.
 */
import { parentKey } from "../proto/name.js";
import type { Zone, ZoneNode } from "./zone.js";
import type { ZoneSet } from "./zoneset.js";

/** Across all zones: undefined when no zone of ours contains the name. */
export function closestEncloser(zones: ZoneSet, qname: string): ZoneNode | undefined {
  for (let k = parentKey(qname); k !== null; k = parentKey(k)) {
    const node = zones.index.get(k);
    if (node) return node;
  }
  return undefined;
}

/** Within one zone, for a name known to be in it: at worst the apex. */
export function closestInZone(zone: Zone, key: string): ZoneNode {
  for (let k = parentKey(key); k !== null; k = parentKey(k)) {
    const node = zone.nodes.get(k);
    if (node) return node;
  }
  return zone.apex;
}

export function isInZone(zone: Zone, key: string): boolean {
  const o = zone.originKey;
  return o === "" || key === o || key.endsWith(`.${o}`);
}
