/**
 * Prometheus metrics (prom-client). Hot-path counts live in plain counters owned by the pools;
 * the metrics read them only when scraped, so answering a query costs no metric work.
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { HealthStore } from "../health/store.js";
import type { PoolEnv } from "../pools/runtime.js";
import type { Catalog } from "./catalog.js";

export function createMetrics(env: PoolEnv, store: HealthStore, catalog: Catalog): Registry {
  const registry = new Registry();
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
