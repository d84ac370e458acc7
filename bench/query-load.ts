/**
 * A steady UDP query load against a server, for the fault tests and the soak: a fixed number of queries in flight,
 * each given up after a timeout. It records every answer (time and address), failures and the
 * slowest answer, so a test can assert "nothing failed" and "the answers changed in this order".
 */
import { createSocket } from "node:dgram";
import { performance } from "node:perf_hooks";
import DNS from "dns2";

const { Packet } = DNS;

function makeQuery(name: string, id: number): Buffer {
  const p = new Packet();
  p.header.id = id;
  p.questions.push(new Packet.Question(name, Packet.TYPE.A, Packet.CLASS.IN));
  return p.toBuffer();
}

export interface Answer {
  /** Milliseconds since the epoch, with a fraction (comparable with Date.now()). */
  at: number;
  address: string;
}

export class QueryLoad {
  sent = 0;
  failed = 0;
  maxLatencyMs = 0;
  /** Every answer time in ms, for percentiles. */
  readonly latencies: number[] = [];
  readonly answers: Answer[] = [];
  readonly failures: string[] = [];
  private running = true;
  private readonly done: Promise<void>;
  private readonly socket = createSocket("udp4");
  private readonly waiting = new Map<number, { started: number; resolve: (b: Buffer | null) => void }>();
  private nextId = 1;

  constructor(
    private readonly port: number,
    private readonly name: string,
    inFlight = 4,
    private readonly timeoutMs = 1_000,
  ) {
    this.socket.on("message", (msg) => {
      const w = this.waiting.get(msg.readUInt16BE(0));
      if (w) w.resolve(msg);
    });
    const bound = new Promise<void>((r) => this.socket.bind(0, "127.0.0.1", () => r()));
    this.done = bound
      .then(() => Promise.all(Array.from({ length: inFlight }, () => this.worker())))
      .then(() => {
        this.socket.close();
      });
  }

  private async worker(): Promise<void> {
    while (this.running) {
      const id = this.nextId++ & 0xffff;
      const started = performance.now();
      const reply = await new Promise<Buffer | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), this.timeoutMs);
        this.waiting.set(id, {
          started,
          resolve: (b) => {
            clearTimeout(timer);
            resolve(b);
          },
        });
        this.socket.send(makeQuery(this.name, id), this.port, "127.0.0.1");
        this.sent++;
      });
      this.waiting.delete(id);
      const took = performance.now() - started;
      this.maxLatencyMs = Math.max(this.maxLatencyMs, took);
      if (reply !== null) this.latencies.push(took);
      if (reply === null) {
        this.fail(`query ${id}: no answer within ${this.timeoutMs} ms`);
        continue;
      }
      const p = Packet.parse(reply);
      const a = p.answers.find((r) => r.type === 1) as { address?: string } | undefined;
      if ((p.header.rcode as number) !== 0 || !a?.address)
        this.fail(`query ${id}: rcode ${p.header.rcode}, no A`);
      // Sub-millisecond time: with several queries in flight, the last answer of one address and
      // the first of the next can fall in the same Date.now() millisecond, and order tests need them apart.
      else this.answers.push({ at: performance.timeOrigin + performance.now(), address: a.address });
      // A short pause keeps the load steady without saturating the 2-core machine.
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  private fail(why: string): void {
    this.failed++;
    if (this.failures.length < 5) this.failures.push(why);
  }

  /** Stops sending and resolves when every query in flight has been answered or timed out. */
  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** The p-th percentile (0..100) of answer times in ms. */
  percentile(p: number): number {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return sorted.length === 0
      ? Number.NaN
      : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
  }

  /** The last time (ms since epoch) each address was answered, and the first time. */
  lastSeen(address: string): number {
    let t = -1;
    for (const a of this.answers) if (a.address === address) t = a.at;
    return t;
  }

  firstSeen(address: string, after = 0): number {
    for (const a of this.answers) if (a.address === address && a.at >= after) return a.at;
    return -1;
  }
}
