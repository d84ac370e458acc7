/**
 * Signatures for one zone's RRsets, made when an answer is first built and kept by the exact
 * RRset they cover (owner, type, TTL and records), so a pool whose members give N different
 * answers costs N signatures per validity period however many queries it gets.
 *
 * Each signature is valid from an hour before it was made (clock skew) for `validity` plus a
 * random jitter (so a fleet's signatures do not all expire in the same second), and is replaced
 * once half its validity has passed: an answer cached by a resolver for a whole TTL still
 * carries a valid signature. The cache is bounded; past the bound the oldest entry goes.
 */
import { createHash } from "node:crypto";
import { ByteArena } from "../lib/arena.js";
import { T } from "../proto/types.js";
import { lowerName, rrsetData, signatureLabels } from "./canonical.js";
import type { SigningKey } from "./key.js";

export interface SignerOptions {
  /** Seconds a new signature is valid, before jitter. */
  validity: number;
  /** Seconds the inception is set back. */
  backdate: number;
  /** Up to this many seconds are added to each expiration. */
  jitter: number;
  /** Signatures kept at most. */
  maxEntries: number;
}

export const DEFAULT_SIGNER_OPTIONS: SignerOptions = {
  validity: 14 * 86_400,
  backdate: 3_600,
  jitter: 86_400,
  maxEntries: 100_000,
};

/** Which keys sign what: `data` signs every RRset, `keyset` the DNSKEY, CDS and CDNSKEY RRsets. */
export interface SignerKeys {
  data: readonly SigningKey[];
  keyset: readonly SigningKey[];
}

export interface Signatures {
  /** RRSIG RDATA, one per signing key. */
  rdatas: Buffer[];
  /** When these should be replaced (seconds since the epoch). */
  refreshAt: number;
  expiresAt: number;
}

export interface SignerStats {
  /** Signatures computed (one per key per RRset). */
  made: number;
  hits: number;
  misses: number;
}

/** Seconds since the epoch; injected so tests can move time. */
export type Clock = () => number;

export const systemClock: Clock = () => Math.floor(Date.now() / 1000);

const KEYSET_TYPES = new Set<number>([T.DNSKEY, T.CDS, T.CDNSKEY]);

export class ZoneSigner {
  readonly stats: SignerStats = { made: 0, hits: 0, misses: 0 };
  private readonly cache = new Map<string, Signatures>();
  /** Where kept signatures live (lib/arena.ts: not in slabs pinned with garbage). */
  readonly arena = new ByteArena();
  private readonly signer: Buffer;

  constructor(
    apex: Buffer,
    readonly keys: SignerKeys,
    readonly clock: Clock = systemClock,
    readonly options: SignerOptions = DEFAULT_SIGNER_OPTIONS,
    private readonly random: () => number = Math.random,
  ) {
    this.signer = lowerName(apex);
  }

  get size(): number {
    return this.cache.size;
  }

  /**
   * The RRSIGs of an RRset. `owner` is the name signed: the owner, or for an answer synthesised
   * from a wildcard the wildcard's name (RFC 4035 §5.3.2 reconstructs it from the labels field).
   */
  sign(owner: Buffer, type: number, ttl: number, rdatas: readonly Buffer[]): Signatures {
    const data = rrsetData(owner, type, ttl, rdatas);
    const id = createHash("sha256").update(data).digest().toString("latin1");
    const now = this.clock();
    const hit = this.cache.get(id);
    if (hit !== undefined && now < hit.refreshAt) {
      this.stats.hits++;
      return hit;
    }
    this.stats.misses++;
    const keys = KEYSET_TYPES.has(type) ? this.keys.keyset : this.keys.data;
    const inception = now - this.options.backdate;
    const expiresAt = now + this.options.validity + Math.floor(this.random() * this.options.jitter);
    const rdatas2: Buffer[] = [];
    for (const key of keys) {
      const header = this.header(type, key, signatureLabels(owner), ttl, expiresAt, inception);
      const signature = key.sign(Buffer.concat([header, data]));
      rdatas2.push(this.arena.copy(Buffer.concat([header, signature])));
      this.stats.made++;
    }
    const sigs = { rdatas: rdatas2, refreshAt: now + Math.floor(this.options.validity / 2), expiresAt };
    this.cache.delete(id);
    if (this.cache.size >= this.options.maxEntries) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(id, sigs);
    return sigs;
  }

  /** The earliest expiration among the signatures kept, or null when there are none. */
  nextExpiry(): number | null {
    let min: number | null = null;
    for (const s of this.cache.values()) if (min === null || s.expiresAt < min) min = s.expiresAt;
    return min;
  }

  /** RRSIG RDATA up to the signer's name (RFC 4034 §3.1): what is signed before the records. */
  private header(
    type: number,
    key: SigningKey,
    labels: number,
    ttl: number,
    expiration: number,
    inception: number,
  ): Buffer {
    const out = Buffer.alloc(18 + this.signer.length);
    out.writeUInt16BE(type, 0);
    out[2] = key.algorithm;
    out[3] = labels;
    out.writeUInt32BE(ttl >>> 0, 4);
    out.writeUInt32BE(expiration >>> 0, 8);
    out.writeUInt32BE(inception >>> 0, 12);
    out.writeUInt16BE(key.tag, 16);
    this.signer.copy(out, 18);
    return out;
  }
}
