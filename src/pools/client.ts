/**
 * Who is asking: the EDNS Client Subnet when the resolver sent one (RFC 7871), else the
 * resolver's own source address. Only pools that answer by region or stickily look at it. Regions
 * match on every known bit; stickiness keys on the /24 (IPv4) or /56 (IPv6), and that cap is also
 * the most an answer's ECS scope claims.
 */
import ipaddr from "ipaddr.js";
import { FNV_OFFSET, fnvStep } from "../lib/hash.js";
import type { Edns } from "../proto/decode.js";

export interface Client {
  family: 4 | 6;
  /** 4 or 16 bytes, zero beyond `prefix`. */
  address: Uint8Array;
  /** Bits of the address that are known: the ECS source prefix, or all of them. */
  prefix: number;
}

export const CLIENT_PREFIX_CAP = { 4: 24, 6: 56 } as const;

function truncate(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  const whole = prefix >> 3;
  out.set(bytes.subarray(0, whole));
  if (prefix % 8 !== 0) out[whole] = bytes[whole]! & (0xff << (8 - (prefix % 8)));
  return out;
}

export function clientOf(edns: Edns | null, remote: string | undefined): Client | null {
  const ecs = edns?.ecs;
  if (ecs) {
    const family = ecs.family === 1 ? 4 : 6;
    return { family, address: truncate(ecs.address, ecs.sourcePrefix), prefix: ecs.sourcePrefix };
  }
  if (!remote || !ipaddr.isValid(remote)) return null;
  let addr = ipaddr.parse(remote);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress())
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  const family = addr.kind() === "ipv4" ? 4 : 6;
  return { family, address: Uint8Array.from(addr.toByteArray()), prefix: family === 4 ? 32 : 128 };
}

/** Longest-prefix match of a client against `regions:` in pools.yaml. */
export class RegionMap {
  private readonly blocks: { region: string; family: 4 | 6; bytes: Uint8Array; prefix: number }[] = [];

  constructor(regions: Record<string, string[]>) {
    for (const [region, cidrs] of Object.entries(regions)) {
      for (const cidr of cidrs) {
        const [addr, prefix] = ipaddr.parseCIDR(cidr);
        const family = addr.kind() === "ipv4" ? 4 : 6;
        this.blocks.push({
          region,
          family,
          bytes: truncate(Uint8Array.from(addr.toByteArray()), prefix),
          prefix,
        });
      }
    }
    this.blocks.sort((a, b) => b.prefix - a.prefix);
  }

  get size(): number {
    return this.blocks.length;
  }

  match(client: Client): string | null {
    for (const b of this.blocks) {
      if (b.family !== client.family || b.prefix > client.prefix) continue;
      let ok = true;
      const whole = b.prefix >> 3;
      for (let i = 0; i < whole && ok; i++) ok = client.address[i] === b.bytes[i];
      if (ok && b.prefix % 8 !== 0) {
        const mask = 0xff << (8 - (b.prefix % 8));
        ok = (client.address[whole]! & mask) === b.bytes[whole];
      }
      if (ok) return b.region;
    }
    return null;
  }
}

/** The ECS scope an answer that depends on this client claims: its known prefix, at most /24 or /56. */
export function clientScope(client: Client): number {
  return Math.min(client.prefix, CLIENT_PREFIX_CAP[client.family]);
}

/** A 32-bit key of the client's /24 or /56 subnet, for rendezvous hashing. */
export function subnetKey(client: Client): number {
  const bits = clientScope(client);
  let h = FNV_OFFSET ^ client.family;
  for (let i = 0; i < client.address.length; i++) {
    const keep = i * 8 >= bits ? 0 : i * 8 + 8 <= bits ? 0xff : (0xff << (8 - (bits - i * 8))) & 0xff;
    h = fnvStep(h, client.address[i]! & keep);
  }
  return h >>> 0;
}
