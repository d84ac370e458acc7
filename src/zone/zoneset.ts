/**
 * The set of zones lbdns is authoritative for, with one name index across all of them.
 * A name that falls inside a more specific zone (a child zone also loaded here) belongs to that
 * zone only, so the parent's glue and delegation nodes beneath the child apex are left out. Names
 * of the NSEC3 chain are left out too: they do not exist for queries (RFC 5155 §7.2.8).
 */
import { parentKey } from "../proto/name.js";
import type { Zone, ZoneNode } from "./zone.js";

export class ZoneSet {
  readonly zones: ReadonlyMap<string, Zone>;
  readonly index = new Map<string, ZoneNode>();

  constructor(zones: Iterable<Zone>) {
    const byOrigin = new Map<string, Zone>();
    for (const z of zones) byOrigin.set(z.originKey, z);
    this.zones = byOrigin;
    for (const zone of byOrigin.values()) {
      for (const [key, node] of zone.nodes) {
        if (!node.nsec3Only && this.zoneOf(key) === zone) this.index.set(key, node);
      }
    }
  }

  /** The most specific zone containing `key`, if any. */
  zoneOf(key: string): Zone | undefined {
    for (let k: string | null = key; k !== null; k = parentKey(k)) {
      const z = this.zones.get(k);
      if (z) return z;
    }
    return undefined;
  }
}
