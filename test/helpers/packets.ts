/** Queries built, and responses read, with dns2's Packet: a codec independent of lbdns's own. */
import DNS from "dns2";

const { Packet } = DNS;

export { Packet };

export interface QueryOptions {
  id?: number;
  type?: number;
  class?: number;
  rd?: boolean;
  edns?: { udp?: number; version?: number; do?: boolean } | false;
}

export function makeQuery(name: string, opts: QueryOptions = {}): Buffer {
  const p = new Packet();
  p.header.id = opts.id ?? 0x1234;
  p.header.rd = opts.rd === false ? 0 : 1;
  p.questions.push(new Packet.Question(name, opts.type ?? Packet.TYPE.A, opts.class ?? Packet.CLASS.IN));
  if (opts.edns) {
    p.additionals.push(
      Packet.Resource.EDNS([], {
        udpPayloadSize: opts.edns.udp ?? 1232,
        version: opts.edns.version ?? 0,
        doFlag: opts.edns.do ?? false,
      }),
    );
  }
  return p.toBuffer();
}

export function parse(buf: Buffer): InstanceType<typeof Packet> {
  const p = Packet.parse(buf);
  if (p.errors.length > 0) throw new Error(`response does not decode: ${p.errors[0]!.message}`);
  return p;
}
