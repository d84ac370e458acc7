/**
 * Response Rate Limiting for UDP, in the style of BIND, NSD and Knot: each client network (/24
 * for IPv4, /56 for IPv6) may receive at most `rate` *identical* responses per second (burst
 * `rate`). Identical means the same precomputed answer, so a flood of queries for one name, or of
 * NXDOMAINs in one zone (they share the zone's negative answer), is limited, while a busy
 * resolver asking for many different names is not. Of the limited responses every `slip`-th is
 * sent empty with TC=1, so a real client behind a spoofed address can still retry over TCP; the
 * rest are dropped. That makes lbdns useless as a reflection amplifier. TCP is never limited.
 */
import { isIPv4 } from "node:net";
import ipaddr from "ipaddr.js";

export interface RrlOptions {
  /** Identical responses per second per client network; 0 turns RRL off. */
  rate: number;
  /** Every slip-th limited response is sent truncated; 0 drops them all. */
  slip: number;
  /** Never limit loopback clients (local monitoring, tests). */
  exemptLoopback: boolean;
}

export const DEFAULT_RRL: RrlOptions = { rate: 20, slip: 2, exemptLoopback: true };

export type Verdict = "send" | "slip" | "drop";

interface Bucket {
  tokens: number;
  last: number;
  limited: number;
}

const MAX_NETWORKS = 100_000;

export class RateLimiter {
  private readonly networks = new Map<string, Map<object, Bucket>>();
  private readonly sweeper: NodeJS.Timeout;
  dropped = 0;
  slipped = 0;

  constructor(
    readonly options: RrlOptions,
    private readonly clock: () => number = Date.now,
  ) {
    // Idle networks (full buckets) are forgotten, so the table stays as small as the attack.
    this.sweeper = setInterval(() => this.sweep(), 5_000);
    this.sweeper.unref();
  }

  /** What to do with a response of identity `answer` for the client at `address`. */
  check(address: string, answer: object): Verdict {
    const network = networkOf(address, this.options.exemptLoopback);
    if (network === null) return "send";
    let buckets = this.networks.get(network);
    if (buckets === undefined) {
      if (this.networks.size >= MAX_NETWORKS) this.networks.clear();
      buckets = new Map();
      this.networks.set(network, buckets);
    }
    const now = this.clock();
    const rate = this.options.rate;
    let b = buckets.get(answer);
    if (b === undefined) {
      b = { tokens: rate, last: now, limited: 0 };
      buckets.set(answer, b);
    } else {
      b.tokens = Math.min(rate, b.tokens + ((now - b.last) * rate) / 1000);
      b.last = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return "send";
    }
    b.limited++;
    if (this.options.slip > 0 && b.limited % this.options.slip === 0) {
      this.slipped++;
      return "slip";
    }
    this.dropped++;
    return "drop";
  }

  private sweep(): void {
    const now = this.clock();
    for (const [network, buckets] of this.networks) {
      for (const [answer, b] of buckets) {
        if (b.tokens + ((now - b.last) * this.options.rate) / 1000 >= this.options.rate)
          buckets.delete(answer);
      }
      if (buckets.size === 0) this.networks.delete(network);
    }
  }

  stop(): void {
    clearInterval(this.sweeper);
  }
}

/** "198.51.100" for 198.51.100.7, the first 56 bits for IPv6; null for exempt loopback. */
export function networkOf(address: string, exemptLoopback: boolean): string | null {
  if (isIPv4(address)) {
    if (exemptLoopback && address.startsWith("127.")) return null;
    return address.slice(0, address.lastIndexOf("."));
  }
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return address;
  }
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    return networkOf((parsed as ipaddr.IPv6).toIPv4Address().toString(), exemptLoopback);
  }
  if (exemptLoopback && parsed.range() === "loopback") return null;
  return Buffer.from(parsed.toByteArray().slice(0, 7)).toString("hex");
}

/** The response cut to header + question with TC=1 and no records (what a slip sends). */
export function truncated(response: Buffer, questionEnd: number): Buffer {
  const out = Buffer.from(response.subarray(0, questionEnd));
  out[2] = out[2]! | 0x02; // TC
  out.writeUInt16BE(0, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10);
  return out;
}
