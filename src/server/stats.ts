/**
 * Query counts by transport and rcode, by qtype, and the answer-time histogram: plain numbers the
 * query path bumps, read by metrics only when scraped.
 */
import type { Transport } from "./responder.js";

/** Upper bounds (seconds) of the answer-time histogram: a memory answer takes microseconds. */
export const LATENCY_BUCKETS = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1,
];

/** Query counts by transport and rcode, and by qtype; plain numbers, read by metrics when scraped. */
export class QueryStats {
  /** [transport 0=udp 1=tcp][rcode 0..23] */
  readonly byRcode = [new Float64Array(24), new Float64Array(24)];
  readonly byType = new Map<number, number>();
  /** [transport][bucket]: answers per histogram bucket (not cumulative; the last is +Inf). */
  readonly latency = [
    new Float64Array(LATENCY_BUCKETS.length + 1),
    new Float64Array(LATENCY_BUCKETS.length + 1),
  ];
  readonly latencySum = new Float64Array(2);
  dropped = 0;

  count(transport: Transport, rcode: number, qtype: number): void {
    this.byRcode[transport === "udp" ? 0 : 1]![rcode < 24 ? rcode : 23]!++;
    this.byType.set(qtype, (this.byType.get(qtype) ?? 0) + 1);
  }

  /** Time from a query's arrival to its answer being handed to the socket, in milliseconds. */
  took(transport: Transport, ms: number): void {
    const t = transport === "udp" ? 0 : 1;
    const seconds = ms / 1000;
    let b = 0;
    while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]!) b++;
    this.latency[t]![b]!++;
    this.latencySum[t]! += seconds;
  }
}
