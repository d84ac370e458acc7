/**
 * The DNS front: UDP and TCP listeners on every listen address, sharing one responder.
 * With port 0 the kernel picks the UDP port and TCP binds the same one, so tests and operators
 * can ask for "any free port" and still get one address for both transports.
 */
import { formatListen, type ListenAddress } from "../lib/host-port.js";
import type { Responder } from "./responder.js";
import type { RateLimiter } from "./rrl.js";
import { listenTcp, type TcpListener, type TcpOptions } from "./tcp.js";
import { listenUdp, type UdpListener } from "./udp.js";

export interface BoundAddress {
  host: string;
  port: number;
  text: string;
}

export interface DnsServerOptions extends TcpOptions {
  /** How long in-flight TCP connections may take to finish on shutdown. */
  shutdownGraceMs: number;
}

export const DEFAULT_SERVER_OPTIONS: DnsServerOptions = {
  idleTimeoutMs: 10_000,
  readTimeoutMs: 5_000,
  maxConnections: 1_000,
  maxPerClient: 64,
  shutdownGraceMs: 2_000,
};

export class DnsServer {
  private udp: UdpListener[] = [];
  private tcp: TcpListener[] = [];
  readonly bound: BoundAddress[] = [];

  constructor(
    private readonly responder: Responder,
    private readonly options: DnsServerOptions,
    private readonly onError: (err: Error) => void,
    private readonly limiter: RateLimiter | null = null,
  ) {}

  async start(addresses: readonly ListenAddress[]): Promise<BoundAddress[]> {
    try {
      for (const addr of addresses) await this.bindPair(addr);
    } catch (err) {
      await this.stop();
      throw err;
    }
    return this.bound;
  }

  private async bindPair(addr: ListenAddress): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const udp = await listenUdp(addr, this.responder, this.onError, this.limiter);
      try {
        const tcp = await listenTcp({ ...addr, port: udp.port }, this.responder, this.options, this.onError);
        this.udp.push(udp);
        this.tcp.push(tcp);
        this.bound.push({
          host: addr.host,
          port: udp.port,
          text: formatListen({ host: addr.host, port: udp.port }),
        });
        return;
      } catch (err) {
        await udp.close();
        // An ephemeral UDP port may be taken for TCP by someone else: pick another.
        const inUse = (err as NodeJS.ErrnoException).code === "EADDRINUSE";
        if (addr.port !== 0 || !inUse || attempt >= 10) throw err;
      }
    }
  }

  async stop(): Promise<void> {
    const udp = this.udp.splice(0);
    const tcp = this.tcp.splice(0);
    await Promise.all([
      ...udp.map((u) => u.close()),
      ...tcp.map((t) => t.close(this.options.shutdownGraceMs)),
    ]);
  }
}
