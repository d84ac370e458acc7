/**
 * The admin HTTP endpoint (`--admin HOST:PORT`):
 *   POST /v1/reports   a health report, same JSON as the Redis contract (docs/health-reports.md)
 *   GET  /v1/status    pools, members, their state and why
 *   GET  /metrics      Prometheus metrics
 *   GET  /healthz      liveness: 503 while no worker answers DNS
 * A bearer token is required when one is configured, and one must be configured to listen
 * anywhere but loopback.
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { parseReport } from "../health/report.js";
import type { HealthStore } from "../health/store.js";
import { listenHttp } from "../lib/http.js";
import type { PoolSet } from "../pools/pool-set.js";
import type { Resolver } from "../server/resolve.js";
import type { ZoneSet } from "../zone/zoneset.js";
import { ExplainError, explain } from "./explain.js";

const MAX_BODY = 65_536;

export interface AdminDeps {
  store: HealthStore;
  pools: () => PoolSet | null;
  zones: () => ZoneSet | null;
  /** The server's own routing, for explain. */
  resolver: Resolver;
  /** Something answers DNS (with --workers: a worker is up). */
  live: () => boolean;
  metrics: { metrics(): Promise<string>; contentType: string };
  token: string | null;
  /** Called with each accepted report's text (the primary relays it to its workers). */
  onReport?: ((text: string) => void) | undefined;
}

export function statusOf(pools: PoolSet | null, store: HealthStore) {
  return { store: { kind: store.kind, connected: store.connected() }, pools: pools?.status() ?? [] };
}

function send(res: ServerResponse, code: number, body: unknown, type = "application/json"): void {
  const text = type === "application/json" ? `${JSON.stringify(body)}\n` : String(body);
  res.writeHead(code, { "content-type": type, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function authorised(req: IncomingMessage, token: string | null): boolean {
  if (token === null) return true;
  const given = Buffer.from(req.headers.authorization ?? "");
  const wanted = Buffer.from(`Bearer ${token}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(null));
  });
}

export function startAdmin(
  host: string,
  port: number,
  deps: AdminDeps,
): Promise<{ server: Server; port: number }> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/healthz")
      return deps.live()
        ? send(res, 200, { ok: true })
        : send(res, 503, { ok: false, error: "no worker is answering DNS" });
    if (!authorised(req, deps.token)) return send(res, 401, { error: "missing or wrong bearer token" });
    if (req.method === "POST" && path === "/v1/reports") {
      const body = await readBody(req);
      if (body === null) return send(res, 413, { error: `body larger than ${MAX_BODY} bytes` });
      const parsed = parseReport(body);
      if (!parsed.ok) return send(res, 400, { error: parsed.reason });
      const refused = deps.store.table.offer(parsed.report, "admin");
      if (refused) return send(res, 422, { error: refused });
      deps.onReport?.(body);
      return send(res, 202, { accepted: parsed.report.member });
    }
    if (req.method === "GET" && path === "/v1/status")
      return send(res, 200, statusOf(deps.pools(), deps.store));
    if (req.method === "GET" && path === "/v1/explain") {
      const q = new URL(req.url ?? "/", "http://admin").searchParams;
      if (!deps.zones()) return send(res, 503, { error: "zones not loaded" });
      try {
        return send(
          res,
          200,
          explain(deps.resolver, q.get("name") ?? "", q.get("type") ?? "A", q.get("client") ?? undefined),
        );
      } catch (e) {
        if (e instanceof ExplainError) return send(res, 400, { error: e.message });
        throw e;
      }
    }
    if (req.method === "GET" && path === "/metrics") {
      return send(res, 200, await deps.metrics.metrics(), deps.metrics.contentType);
    }
    return send(res, 404, { error: "not found" });
  });
  return listenHttp(server, host, port);
}
