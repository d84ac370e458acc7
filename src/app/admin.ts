/**
 * The admin HTTP endpoint (`--admin HOST:PORT`):
 *   POST /v1/reports   a health report, same JSON as the Redis contract (docs/health-reports.md)
 *   GET  /v1/status    pools, members, their state and why
 *   GET  /v1/dnssec    each signed zone: how it is signed, signatures made and kept, next expiry
 *   GET  /metrics      Prometheus metrics
 *   GET  /healthz      liveness: 503 while no worker answers DNS
 * A bearer token is required (serve creates one in its token file unless told otherwise; only
 * --no-admin-token on loopback turns it off), reports must be JSON, and cross-site requests from
 * browsers are refused (the README's Security model).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { parseReport } from "../health/report.js";
import type { HealthStore } from "../health/store.js";
import { httpServer, listenHttp } from "../lib/http.js";
import type { MemberView } from "../pools/pool.js";
import type { PoolSet } from "../pools/pool-set.js";
import { displayName } from "../proto/name.js";
import type { Resolver } from "../server/resolve.js";
import { ZoneSigning } from "../zone/signed.js";
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
  /** With --workers: answers per member, summed over the workers ("pool\0member"). */
  answers?: (() => Promise<Map<string, number>>) | undefined;
}

export interface ZoneDnssecLive {
  zone: string;
  /** "online": signed by lbdns with its key file; "pre-signed": the zone file's own signatures. */
  signing: "online" | "pre-signed";
  keys: number[];
  signaturesMade: number;
  signatureCacheEntries: number;
  /** The earliest expiry among the signatures kept (ISO time), or null. */
  nextExpiry: string | null;
  answersHit: number;
  answersBuilt: number;
}

/** The signed zones of this process (with --workers, the primary's: /metrics sums the workers). */
export function dnssecStatus(zones: ZoneSet | null): ZoneDnssecLive[] {
  const out: ZoneDnssecLive[] = [];
  for (const z of zones?.zones.values() ?? []) {
    const d = z.dnssec;
    if (d === null) continue;
    const online = d instanceof ZoneSigning ? d.signer : null;
    const expiry = online?.nextExpiry() ?? null;
    out.push({
      zone: displayName(z.originKey),
      signing: online ? "online" : "pre-signed",
      keys: online ? online.keys.keyset.map((k) => k.tag) : [],
      signaturesMade: online?.stats.made ?? 0,
      signatureCacheEntries: online?.size ?? 0,
      nextExpiry: expiry === null ? null : new Date(expiry * 1000).toISOString(),
      answersHit: d.stats.hits,
      answersBuilt: d.stats.built,
    });
  }
  return out;
}

/** Member views with their answer counts taken from `counts` (the workers' sums). */
function withAnswers<T extends { name: string; members: MemberView[] }>(
  pool: T,
  counts: Map<string, number>,
): T {
  return {
    ...pool,
    members: pool.members.map((m) => ({ ...m, answered: counts.get(`${pool.name}\u0000${m.id}`) ?? 0 })),
  };
}

export function statusOf(pools: PoolSet | null, store: HealthStore) {
  return { store: { kind: store.kind, connected: store.connected() }, pools: pools?.status() ?? [] };
}

function send(res: ServerResponse, code: number, body: unknown, type = "application/json"): void {
  const text = type === "application/json" ? `${JSON.stringify(body)}\n` : String(body);
  res.writeHead(code, { "content-type": type, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * RFC 6750 bearer token, the scheme name case-insensitive (RFC 7235 §2.1). Both sides are hashed
 * first so the comparison takes the same time whatever the given token's length.
 */
function authorised(req: IncomingMessage, token: string | null): boolean {
  if (token === null) return true;
  const m = /^bearer +(\S+) *$/i.exec(req.headers.authorization ?? "");
  if (!m) return false;
  const digest = (t: string) => createHash("sha256").update(t).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}

/**
 * A browser page on any site can send a "simple" POST (text/plain, a form) to a loopback
 * address, so reports must be JSON (which a cross-site page cannot send without a preflight the
 * endpoint never grants), and a request a browser marks as cross-site is refused outright. The
 * admin API has no browser clients.
 */
function crossSite(req: IncomingMessage): boolean {
  const site = req.headers["sec-fetch-site"];
  return (
    req.headers.origin !== undefined || (site !== undefined && site !== "same-origin" && site !== "none")
  );
}

function isJson(req: IncomingMessage): boolean {
  return /^application\/json\s*(;|$)/i.test(req.headers["content-type"] ?? "");
}

/** The body, or "too large" (then the connection is closed after the 413). */
function readBody(req: IncomingMessage): Promise<string | "too large" | null> {
  if (Number(req.headers["content-length"] ?? 0) > MAX_BODY) return Promise.resolve("too large");
  return new Promise((resolve) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.removeAllListeners("data");
        resolve("too large");
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
  const server = httpServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/healthz")
      return deps.live()
        ? send(res, 200, { ok: true })
        : send(res, 503, { ok: false, error: "no worker is answering DNS" });
    if (crossSite(req)) return send(res, 403, { error: "cross-site requests are refused" });
    if (!authorised(req, deps.token))
      return send(res, 401, {
        error: "missing or wrong bearer token (lbdns commands read it from the server's --admin-token-file)",
      });
    if (req.method === "POST" && path === "/v1/reports") {
      if (!isJson(req)) return send(res, 415, { error: "a report must be sent as application/json" });
      const body = await readBody(req);
      if (body === null) return;
      if (body === "too large") {
        res.setHeader("connection", "close");
        return send(res, 413, { error: `body larger than ${MAX_BODY} bytes` });
      }
      const parsed = parseReport(body);
      if (!parsed.ok) return send(res, 400, { error: parsed.reason });
      const refused = deps.store.table.offer(parsed.report, "admin");
      if (refused) return send(res, 422, { error: refused });
      deps.onReport?.(body);
      return send(res, 202, { accepted: parsed.report.member });
    }
    if (req.method === "GET" && path === "/v1/status") {
      const status = statusOf(deps.pools(), deps.store);
      if (!deps.answers) return send(res, 200, status);
      const counts = await deps.answers();
      return send(res, 200, { ...status, pools: status.pools.map((p) => withAnswers(p, counts)) });
    }
    if (req.method === "GET" && path === "/v1/dnssec") {
      return send(res, 200, { zones: dnssecStatus(deps.zones()) });
    }
    if (req.method === "GET" && path === "/v1/explain") {
      const q = new URL(req.url ?? "/", "http://admin").searchParams;
      if (!deps.zones()) return send(res, 503, { error: "zones not loaded" });
      try {
        const e = explain(
          deps.resolver,
          q.get("name") ?? "",
          q.get("type") ?? "A",
          q.get("client") ?? undefined,
        );
        if (deps.answers && e.pool && e.members) {
          const counts = await deps.answers();
          return send(res, 200, {
            ...e,
            members: withAnswers({ name: e.pool, members: e.members }, counts).members,
          });
        }
        return send(res, 200, e);
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
