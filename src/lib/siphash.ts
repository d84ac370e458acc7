/**
 * SipHash-2-4 (Aumasson and Bernstein), the keyed hash RFC 9018 uses for DNS server cookies.
 * 64-bit words are kept as two unsigned 32-bit halves, so hashing allocates nothing but the
 * 8 output octets; the output is little-endian, as the reference implementation writes it.
 */

// State v0..v3 as [hi, lo] pairs in one typed array: 0,1 = v0; 2,3 = v1; 4,5 = v2; 6,7 = v3.
const v = new Uint32Array(8);

function add(a: number, b: number): void {
  const lo = (v[a + 1]! + v[b + 1]!) >>> 0;
  v[a] = (v[a]! + v[b]! + (lo < v[a + 1]! ? 1 : 0)) >>> 0;
  v[a + 1] = lo;
}

function rotl(a: number, n: number): void {
  let h = v[a]!;
  let l = v[a + 1]!;
  if (n >= 32) {
    const t = h;
    h = l;
    l = t;
    n -= 32;
  }
  if (n > 0) {
    const nh = ((h << n) | (l >>> (32 - n))) >>> 0;
    l = ((l << n) | (h >>> (32 - n))) >>> 0;
    h = nh;
  }
  v[a] = h;
  v[a + 1] = l;
}

function xor(a: number, b: number): void {
  v[a] = (v[a]! ^ v[b]!) >>> 0;
  v[a + 1] = (v[a + 1]! ^ v[b + 1]!) >>> 0;
}

function round(): void {
  add(0, 2);
  rotl(2, 13);
  xor(2, 0);
  rotl(0, 32);
  add(4, 6);
  rotl(6, 16);
  xor(6, 4);
  add(0, 6);
  rotl(6, 21);
  xor(6, 0);
  add(4, 2);
  rotl(2, 17);
  xor(2, 4);
  rotl(4, 32);
}

function absorb(hi: number, lo: number): void {
  v[6] = (v[6]! ^ hi) >>> 0;
  v[7] = (v[7]! ^ lo) >>> 0;
  round();
  round();
  v[0] = (v[0]! ^ hi) >>> 0;
  v[1] = (v[1]! ^ lo) >>> 0;
}

/** SipHash-2-4 of `data` under the 16-octet `key`, as 8 octets. */
export function siphash24(key: Buffer, data: Buffer): Buffer {
  if (key.length !== 16) throw new Error("SipHash needs a 16-octet key");
  const k0h = key.readUInt32LE(4);
  const k0l = key.readUInt32LE(0);
  const k1h = key.readUInt32LE(12);
  const k1l = key.readUInt32LE(8);
  v[0] = (k0h ^ 0x736f6d65) >>> 0;
  v[1] = (k0l ^ 0x70736575) >>> 0;
  v[2] = (k1h ^ 0x646f7261) >>> 0;
  v[3] = (k1l ^ 0x6e646f6d) >>> 0;
  v[4] = (k0h ^ 0x6c796765) >>> 0;
  v[5] = (k0l ^ 0x6e657261) >>> 0;
  v[6] = (k1h ^ 0x74656462) >>> 0;
  v[7] = (k1l ^ 0x79746573) >>> 0;
  const whole = data.length & ~7;
  for (let o = 0; o < whole; o += 8) absorb(data.readUInt32LE(o + 4), data.readUInt32LE(o));
  // The last block: the remaining octets, and the length's low octet in the top one.
  let lo = 0;
  let hi = (data.length & 0xff) << 24;
  for (let i = 0; i < data.length - whole; i++) {
    const b = data[whole + i]!;
    if (i < 4) lo |= b << (8 * i);
    else hi |= b << (8 * (i - 4));
  }
  absorb(hi >>> 0, lo >>> 0);
  v[5] = (v[5]! ^ 0xff) >>> 0;
  round();
  round();
  round();
  round();
  const out = Buffer.alloc(8);
  out.writeUInt32LE((v[1]! ^ v[3]! ^ v[5]! ^ v[7]!) >>> 0, 0);
  out.writeUInt32LE((v[0]! ^ v[2]! ^ v[4]! ^ v[6]!) >>> 0, 4);
  return out;
}
