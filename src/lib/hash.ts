/** Small non-cryptographic hashes for spreading keys (rendezvous hashing, per-member seeds). */

export const FNV_OFFSET = 0x811c9dc5;

/** One FNV-1a step over a byte or a 16-bit code unit. */
export function fnvStep(h: number, x: number): number {
  return Math.imul(h ^ x, 0x01000193);
}

/** FNV-1a over a string's UTF-16 code units, as an unsigned 32-bit number. */
export function fnv1a(text: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) h = fnvStep(h, text.charCodeAt(i));
  return h >>> 0;
}

/** murmur3's finaliser: spreads a combined key into a uniform 32-bit value. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
