/**
 * Long-lived small buffers, packed into chunks of their own. A small Buffer from Node
 * (Buffer.from, concat, allocUnsafe) is a slice of a shared 8 KiB pool slab, and a slice kept for
 * hours keeps its whole slab alive, with whatever temporaries filled the rest of it: signing
 * one RRset and keeping its 100-byte signature pinned about 2.5 KB. Copies made here share
 * chunks only with other kept copies, and caches that drop their oldest entries first free
 * whole chunks in turn.
 */
const CHUNK = 64 * 1024;

export class ByteArena {
  private chunk = Buffer.alloc(0);
  private used = 0;

  /** A copy of `b` in the arena (its own allocation when larger than a quarter chunk). */
  copy(b: Buffer): Buffer {
    if (b.length > CHUNK / 4) return Buffer.from(new Uint8Array(b));
    if (this.used + b.length > this.chunk.length) {
      this.chunk = Buffer.alloc(CHUNK);
      this.used = 0;
    }
    const out = this.chunk.subarray(this.used, this.used + b.length);
    b.copy(out);
    this.used += (b.length + 7) & ~7;
    return out;
  }
}
