/**
 * Prometheus metrics (prom-client). Hot-path counts live in plain counters owned by the pools;
 * the metrics read them only when scraped, so answering a query costs no metric work.
 */
import { Counter, Gauge, type MetricValueWithName, Registry } from "prom-client";
import { RedisHealthStore } from "../health/redis-store.js";
import type { HealthStore } from "../health/store.js";
import type { MemberView } from "../pools/pool.js";
import type { PoolEnv } from "../pools/runtime.js";
import { displayName } from "../proto/name.js";
import { typeName } from "../proto/types.js";
import type { RateLimiter } from "../server/rrl.js";
import { LATENCY_BUCKETS, type QueryStats } from "../server/stats.js";
import { ZoneSigning } from "../zone/signed.js";
import type { Zone } from "../zone/zone.js";
import type { Catalog } from "./catalog.js";

const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

export function createMetrics(
  env: PoolEnv,
  store: HealthStore,
  catalog: Pick<Catalog, "pools" | "reloads" | "failedReloads"> & Partial<Pick<Catalog, "zones">>,
  queries: QueryStats,
  rrl: RateLimiter | null = null,
): Registry {
  const registry = new Registry();
  new Counter({
    name: "lbdns_rrl_limited_total",
    help: "UDP responses held back by response rate limiting: dropped, or slipped (sent truncated)",
    labelNames: ["action"],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ action: "dropped" }, rrl?.dropped ?? 0);
      this.inc({ action: "slipped" }, rrl?.slipped ?? 0);
    },
  });
  new Counter({
    name: "lbdns_queries_total",
    help: "Queries answered, by transport and response code",
    labelNames: ["transport", "rcode"],
    registers: [registry],
    collect() {
      this.reset();
      queries.byRcode.forEach((counts, t) => {
        counts.forEach((n, rcode) => {
          if (n > 0)
            this.inc(
              {
                transport: t === 0 ? "udp" : "tcp",
                rcode: RCODE_NAMES[rcode] ?? (rcode === 16 ? "BADVERS" : String(rcode)),
              },
              n,
            );
        });
      });
    },
  });
  new Counter({
    name: "lbdns_queries_by_type_total",
    help: "Queries answered, by question type",
    labelNames: ["qtype"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [qtype, n] of queries.byType) this.inc({ qtype: qtype === 0 ? "none" : typeName(qtype) }, n);
    },
  });
  new Counter({
    name: "lbdns_packets_dropped_total",
    help: "Packets dropped without an answer (shorter than a header, or responses)",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(queries.dropped);
    },
  });
  new Counter({
    name: "lbdns_pool_answers_total",
    help: "Answers given for pool names, by pool, source (member, stream-manager, fallback, static, servfail, mx) and member",
    labelNames: ["pool", "source", "member"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, c] of env.counters) {
        const [pool, source, member] = key.split("\u0000");
        this.inc({ pool: pool!, source: source!, member: member! }, c.n);
      }
    },
  });
  new Counter({
    name: "lbdns_health_reports_rejected_total",
    help: "Health reports ignored as invalid or for unknown members",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(env.table.rejected);
    },
  });
  new Counter({
    name: "lbdns_log_lines_suppressed_total",
    help: "Warnings about bad input (bad or oversized reports) not logged because of the global log limit",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(env.table.warnings.suppressed + store.suppressed);
    },
  });
  new Counter({
    name: "lbdns_health_reports_oversized_total",
    help: "Health keys in Redis skipped because their value is larger than a report can be",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(store.oversized);
    },
  });
  new Gauge({
    name: "lbdns_health_store_connected",
    aggregator: "min", // with --workers: every worker holds the same view
    help: "1 while the health store is connected to its source (Redis), else 0",
    labelNames: ["store"],
    registers: [registry],
    collect() {
      this.set({ store: store.kind }, store.connected() ? 1 : 0);
    },
  });
  if (store instanceof RedisHealthStore) {
    new Gauge({
      name: "lbdns_health_store_subscribed",
      aggregator: "min",
      help: "1 while subscribed to the Redis health channel (reports arrive at once), else 0 (only resyncs)",
      registers: [registry],
      collect() {
        this.set(store.subscribed() ? 1 : 0);
      },
    });
  }
  new Counter({
    name: "lbdns_reloads_total",
    help: "Zone and pool reloads, by result",
    labelNames: ["result"],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: "ok" }, catalog.reloads - catalog.failedReloads);
      this.inc({ result: "failed" }, catalog.failedReloads);
    },
  });
  if (store.kind === "redis") {
    new Gauge({
      name: "lbdns_health_view_age_seconds",
      aggregator: "max", // with --workers: every worker holds the same view
      help: "Seconds since the health view was last loaded in full from Redis (absent before the first load)",
      registers: [registry],
      collect() {
        this.reset();
        if (store.lastSyncAt !== null) this.set((store.table.clock() - store.lastSyncAt) / 1000);
      },
    });
  }
  dnssecMetrics(registry, () => catalog.zones?.zones.values() ?? []);
  /** Each pool member (not stream managers) as status shows it, for the per-member gauges. */
  const eachMember = (visit: (pool: string, m: MemberView) => void) => {
    for (const pool of catalog.pools?.status() ?? [])
      for (const m of pool.members) if (m.role === "member") visit(pool.name, m);
  };
  new Gauge({
    name: "lbdns_pool_members",
    aggregator: "first", // with --workers: every worker holds the same view
    help: "Members per pool by state: available, or the reason they are not (stale, down, shed, drain...)",
    labelNames: ["pool", "reason"],
    registers: [registry],
    collect() {
      this.reset();
      eachMember((pool, m) => this.inc({ pool, reason: m.reason }));
    },
  });
  /** A gauge per pool and member; `value` null leaves the member out (no report to read). */
  const memberGauge = ({
    name,
    help,
    value,
  }: {
    name: string;
    help: string;
    value: (m: MemberView) => number | null;
  }) =>
    new Gauge({
      name,
      aggregator: "first", // with --workers: every worker holds the same view
      help,
      labelNames: ["pool", "member"],
      registers: [registry],
      collect() {
        this.reset();
        eachMember((pool, m) => {
          const v = value(m);
          if (v !== null) this.set({ pool, member: m.id }, v);
        });
      },
    });
  memberGauge({
    name: "lbdns_member_report_age_seconds",
    help: "Age of each member's latest health report, counted from when this server received it",
    value: (m) => (m.ageMs === null ? null : m.ageMs / 1000),
  });
  memberGauge({
    name: "lbdns_member_utilization",
    help: "Each member's load / capacity from its latest report",
    value: (m) => (m.load === null ? null : m.utilization),
  });
  registry.registerMetric(latencyHistogram(queries));
  return registry;
}

/**
 * The answer-time histogram. The query path counts into plain arrays (QueryStats.took), and this
 * presents them through prom-client's metric interface at scrape time, so that the hot path does
 * no label lookup or allocation; prom-client still does the exposition format.
 */
function latencyHistogram(queries: QueryStats) {
  const name = "lbdns_query_duration_seconds";
  const help = "Time from a query's arrival to its answer being handed to the socket, by transport";
  const metric = {
    name,
    help,
    type: "histogram" as const,
    aggregator: "sum" as const,
    collect: undefined,
    reset() {},
    get: async () => {
      const values: MetricValueWithName<string>[] = [];
      ["udp", "tcp"].forEach((transport, t) => {
        const counts = queries.latency[t]!;
        let cumulative = 0;
        LATENCY_BUCKETS.forEach((le, b) => {
          cumulative += counts[b]!;
          values.push({ metricName: `${name}_bucket`, labels: { transport, le }, value: cumulative });
        });
        cumulative += counts[LATENCY_BUCKETS.length]!;
        values.push({ metricName: `${name}_bucket`, labels: { transport, le: "+Inf" }, value: cumulative });
        values.push({ metricName: `${name}_sum`, labels: { transport }, value: queries.latencySum[t]! });
        values.push({ metricName: `${name}_count`, labels: { transport }, value: cumulative });
      });
      return { name, help, type: "histogram", aggregator: "sum", values };
    },
  };
  // prom-client's typings declare `type` as a numeric enum and registerMetric as taking its own
  // classes, but the registry only calls get() and prints `type` as given (see its registry.js).
  return metric as unknown as Gauge;
}

/**
 * Per-member answer counts from Prometheus text (`lbdns_pool_answers_total`, source "member"),
 * keyed "pool\0member". With --workers the primary answers nothing itself: its status and
 * explain take the counts from the workers' summed metrics, so they agree with /metrics.
 */
export function memberAnswers(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const re =
    /^lbdns_pool_answers_total\{pool="([^"]*)",source="member",member="([^"]*)"\} (\d+(?:\.\d+)?(?:e\+\d+)?)$/gm;
  for (const m of text.matchAll(re))
    out.set(`${m[1]}\u0000${m[2]}`, (out.get(`${m[1]}\u0000${m[2]}`) ?? 0) + Number(m[3]));
  return out;
}

/**
 * Online signing, per signed zone (zone/signed.ts, dnssec/signer.ts). Counts start again when a
 * zone's key file changes (a new signer); Prometheus's rate() takes that as a counter reset.
 */
function dnssecMetrics(registry: Registry, zones: () => Iterable<Zone>): void {
  const signed = function* () {
    for (const z of zones())
      if (z.dnssec instanceof ZoneSigning) yield { zone: displayName(z.originKey), s: z.dnssec };
  };
  new Counter({
    name: "lbdns_dnssec_signatures_total",
    help: "Signatures made by the online signer (one per key per RRset and validity period)",
    labelNames: ["zone"],
    registers: [registry],
    collect() {
      this.reset();
      for (const { zone, s } of signed()) this.inc({ zone }, s.signer.stats.made);
    },
  });
  new Counter({
    name: "lbdns_dnssec_answers_total",
    help: "Signed answers to DO=1 queries (zones signed online or pre-signed): served from the answers kept (hit), or built",
    labelNames: ["zone", "result"],
    registers: [registry],
    collect() {
      this.reset();
      // Pre-signed zones too: their signed answers are kept the same way.
      for (const z of zones()) {
        if (z.dnssec === null) continue;
        const zone = displayName(z.originKey);
        this.inc({ zone, result: "hit" }, z.dnssec.stats.hits);
        this.inc({ zone, result: "built" }, z.dnssec.stats.built);
      }
    },
  });
  new Gauge({
    name: "lbdns_dnssec_signature_cache_entries",
    help: "RRsets whose signatures are kept (bounded, oldest dropped first)",
    labelNames: ["zone"],
    registers: [registry],
    collect() {
      this.reset();
      for (const { zone, s } of signed()) this.set({ zone }, s.signer.size);
    },
  });
  new Gauge({
    name: "lbdns_dnssec_next_expiry_seconds",
    aggregator: "min",
    help: "Seconds until the earliest signature kept expires (it is replaced well before)",
    labelNames: ["zone"],
    registers: [registry],
    collect() {
      this.reset();
      for (const { zone, s } of signed()) {
        const at = s.signer.nextExpiry();
        if (at !== null) this.set({ zone }, at - s.signer.clock());
      }
    },
  });
}
