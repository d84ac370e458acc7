/**
 * An independent DNS message reader for comparing servers (written apart from src/proto, so the
 * comparison never trusts lbdns's own codec). Each record becomes one normalized line: names in
 * lower case, names inside RDATA expanded for the RFC 1035 types (the only ones a server may
 * compress, RFC 3597 §4), every other RDATA as hex, so two servers compare equal exactly when they
 * say the same thing, however they compress.
 */

export interface Message {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  z: boolean;
  ad: boolean;
  cd: boolean;
  /** The full rcode (with the OPT record's upper bits). */
  rcode: number;
  question: string | null;
  answer: string[];
  authority: string[];
  additional: string[];
  opt: { version: number; do: boolean; options: number[] } | null;
  size: number;
}

/** Types whose RDATA names may be compressed (RFC 1035), with the layout of their RDATA. */
const NAMED: Record<number, ("name" | "u16" | "u32x5")[]> = {
  2: ["name"], // NS
  3: ["name"], // MD
  4: ["name"], // MF
  5: ["name"], // CNAME
  6: ["name", "name", "u32x5"], // SOA
  7: ["name"], // MB
  8: ["name"], // MG
  9: ["name"], // MR
  12: ["name"], // PTR
  14: ["name", "name"], // MINFO
  15: ["u16", "name"], // MX
};

class Reader {
  constructor(
    readonly buf: Buffer,
    public o = 0,
  ) {}

  u8(): number {
    if (this.o + 1 > this.buf.length) throw new Error("message ends early");
    return this.buf[this.o++]!;
  }

  u16(): number {
    if (this.o + 2 > this.buf.length) throw new Error("message ends early");
    const v = this.buf.readUInt16BE(this.o);
    this.o += 2;
    return v;
  }

  u32(): number {
    if (this.o + 4 > this.buf.length) throw new Error("message ends early");
    const v = this.buf.readUInt32BE(this.o);
    this.o += 4;
    return v;
  }

  /** A name, following compression pointers (backwards only, as RFC 1035 §4.1.4 has them). */
  name(): string {
    const labels: string[] = [];
    let o = this.o;
    let jumped = false;
    for (let hops = 0; hops < 128; hops++) {
      const len = this.buf[o];
      if (len === undefined) throw new Error("name runs past the end");
      if ((len & 0xc0) === 0xc0) {
        const target = ((len & 0x3f) << 8) | this.buf[o + 1]!;
        if (target >= o) throw new Error("compression pointer points forward");
        if (!jumped) this.o = o + 2;
        jumped = true;
        o = target;
        continue;
      }
      if (len > 63) throw new Error("bad label length");
      if (len === 0) {
        if (!jumped) this.o = o + 1;
        return labels.length === 0 ? "." : `${labels.join(".")}.`;
      }
      labels.push(
        [...this.buf.subarray(o + 1, o + 1 + len)]
          .map((c) =>
            c >= 0x41 && c <= 0x5a
              ? String.fromCharCode(c + 32)
              : c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c
                ? String.fromCharCode(c)
                : `\\${String(c).padStart(3, "0")}`,
          )
          .join(""),
      );
      o += 1 + len;
    }
    throw new Error("compression loop");
  }
}

function rdataText(r: Reader, type: number, end: number): string {
  const layout = NAMED[type];
  if (layout) {
    const parts: string[] = [];
    for (const f of layout) {
      if (f === "name") parts.push(r.name());
      else if (f === "u16") parts.push(String(r.u16()));
      else for (let i = 0; i < 5; i++) parts.push(String(r.u32()));
    }
    if (r.o !== end) throw new Error(`RDATA of type ${type} has ${end - r.o} bytes left over`);
    return parts.join(" ");
  }
  const hex = r.buf.subarray(r.o, end).toString("hex");
  r.o = end;
  return `\\# ${hex.length / 2} ${hex}`;
}

export function readMessage(buf: Buffer): Message {
  const r = new Reader(buf);
  const id = r.u16();
  const flags = r.u16();
  const counts = [r.u16(), r.u16(), r.u16(), r.u16()];
  let question: string | null = null;
  for (let i = 0; i < counts[0]!; i++) {
    const name = r.name();
    question = `${name} ${r.u16()} ${r.u16()}`;
  }
  const sections: string[][] = [[], [], []];
  let opt: Message["opt"] = null;
  let extended = 0;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const owner = r.name();
      const type = r.u16();
      const klass = r.u16();
      const ttl = r.u32();
      const len = r.u16();
      const end = r.o + len;
      if (end > buf.length) throw new Error("RDATA runs past the end");
      if (type === 41 && s === 2) {
        const options: number[] = [];
        for (let o = r.o; o + 4 <= end; o += 4 + buf.readUInt16BE(o + 2)) options.push(buf.readUInt16BE(o));
        r.o = end;
        extended = ttl >>> 24;
        opt = {
          version: (ttl >>> 16) & 0xff,
          do: (ttl & 0x8000) !== 0,
          options: options.sort((a, b) => a - b),
        };
        continue;
      }
      sections[s]!.push(`${owner} ${ttl} ${klass} ${type} ${rdataText(r, type, end)}`);
    }
  }
  return {
    id,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    z: (flags & 0x0040) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: (extended << 4) | (flags & 0xf),
    question,
    answer: sections[0]!,
    authority: sections[1]!,
    additional: sections[2]!,
    opt,
    size: buf.length,
  };
}

export interface QuerySpec {
  name: string;
  type: number;
  klass?: number;
  opcode?: number;
  rd?: boolean;
  cd?: boolean;
  ad?: boolean;
  /** The header's reserved Z bit (genreport's zflag: must be ignored and cleared). */
  z?: boolean;
  /** Asked over TCP instead of UDP (genreport's ednstcp). */
  tcp?: boolean;
  /** null: no OPT record. `flags`: extra bits of the OPT flags word (genreport's ednsflags). */
  edns?: { udp: number; do?: boolean; version?: number; flags?: number; options?: [number, Buffer][] } | null;
  /** A TSIG record (RFC 8945) for a key no server has: last, as it must be, or before the OPT. */
  tsig?: "last" | "not-last";
}

/** A TSIG record for a key named `nokey.` (hmac-sha256) with `macSize` octets of fixed MAC. */
export function tsigRecord(id: number, macSize = 32): Buffer {
  const owner = Buffer.from("056e6f6b657900", "hex");
  const alg = Buffer.from("0b686d61632d73686132353600", "hex");
  const fixed = Buffer.alloc(10);
  fixed.writeUIntBE(1_796_000_000, 0, 6); // time signed
  fixed.writeUInt16BE(300, 6); // fudge
  fixed.writeUInt16BE(macSize, 8);
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(id, 0); // original ID; error 0; other length 0
  const rdata = Buffer.concat([alg, fixed, Buffer.alloc(macSize, 0xab), tail]);
  const head = Buffer.alloc(10);
  head.writeUInt16BE(250, 0);
  head.writeUInt16BE(255, 2);
  head.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([owner, head, rdata]);
}

/** The wire form of a query (uncompressed), with the given ID. */
export function writeQuery(q: QuerySpec, id: number): Buffer {
  const labels =
    q.name === "."
      ? []
      : q.name
          .replace(/\.$/, "")
          .split(".")
          .map((l) => Buffer.from(l, "latin1"));
  const name = Buffer.concat([...labels.flatMap((l) => [Buffer.from([l.length]), l]), Buffer.from([0])]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  const flags = ((q.opcode ?? 0) << 11) | (q.rd ? 0x0100 : 0) | (q.ad ? 0x0020 : 0) | (q.cd ? 0x0010 : 0);
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(1, 4);
  const edns = q.edns === undefined ? { udp: 1232 } : q.edns;
  header.writeUInt16BE(edns ? 1 : 0, 10);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(q.type, 0);
  tail.writeUInt16BE(q.klass ?? 1, 2);
  const parts: Buffer[] = [header, name, tail];
  if (edns) {
    const options = Buffer.concat(
      (edns.options ?? []).map(([code, data]) => {
        const h = Buffer.alloc(4);
        h.writeUInt16BE(code, 0);
        h.writeUInt16BE(data.length, 2);
        return Buffer.concat([h, data]);
      }),
    );
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(41, 1);
    opt.writeUInt16BE(edns.udp, 3);
    opt[6] = edns.version ?? 0;
    opt.writeUInt16BE((edns.do ? 0x8000 : 0) | (edns.flags ?? 0), 7);
    opt.writeUInt16BE(options.length, 9);
    parts.push(opt, options);
  }
  if (q.tsig) {
    header.writeUInt16BE(header.readUInt16BE(10) + 1, 10);
    if (q.tsig === "last") parts.push(tsigRecord(id));
    else parts.splice(3, 0, tsigRecord(id));
  }
  return Buffer.concat(parts);
}

/** A query in dig's words, for reports. */
export function describeQuery(q: QuerySpec): string {
  const flags = [
    q.rd ? "+rd" : "",
    q.cd ? "+cd" : "",
    q.ad ? "+ad" : "",
    q.opcode ? `opcode=${q.opcode}` : "",
    q.z ? "+zflag" : "",
    q.tcp ? "+tcp" : "",
    q.tsig ? `+tsig=${q.tsig}` : "",
    q.edns?.flags ? `+ednsflags=${q.edns.flags}` : "",
    q.edns === null
      ? "+noedns"
      : q.edns
        ? `+bufsize=${q.edns.udp}${q.edns.do ? " +dnssec" : ""}${q.edns.version ? ` +edns=${q.edns.version}` : ""}${q.edns.options?.length ? ` +ednsopt=${q.edns.options.map(([c]) => c).join(",")}` : ""}`
        : "",
  ].filter(Boolean);
  return `${q.name} ${q.klass && q.klass !== 1 ? `CLASS${q.klass} ` : ""}TYPE${q.type} ${flags.join(" ")}`.trim();
}
