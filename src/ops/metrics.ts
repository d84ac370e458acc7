/**
 * Prometheus metrics (prom-client). Hot-path counts live in plain counters owned by the pools;
 * the metrics read them only when scraped, so answering a query costs no metric work.
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { QueryStats } from "../dns/responder.js";
import type { RateLimiter } from "../dns/rrl.js";
import type { HealthStore } from "../health/store.js";
import type { PoolEnv } from "../pools/runtime.js";
import { typeName } from "../zone/types.js";
import type { Catalog } from "./catalog.js";

const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

export function createMetrics(
  env: PoolEnv,
  store: HealthStore,
  catalog: Catalog,
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
  new Gauge({
    name: "lbdns_health_store_connected",
    help: "1 while the health store is connected to its source (Redis), else 0",
    labelNames: ["store"],
    registers: [registry],
    collect() {
      this.set({ store: store.kind }, store.connected() ? 1 : 0);
    },
  });
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
  return registry;
}
