/**
 * `--metrics HOST:PORT`: Prometheus metrics and probes for orchestrators, without the admin
 * endpoint's write access.
 *   GET /metrics  Prometheus text format
 *   GET /healthz  the process is up and something answers DNS (with --workers: a worker)
 *   GET /readyz   zones are loaded and the health view has synced (or runs standalone): 200, else 503
 */

import type { Server } from "node:http";
import { httpServer, listenHttp } from "../lib/http.js";

export interface Readiness {
  ready(): { ready: boolean; reason: string };
  /** False while nothing answers DNS (with --workers: no worker is up), so a supervisor restarts us. */
  live(): boolean;
}

export function startMetrics(
  host: string,
  port: number,
  registry: { metrics(): Promise<string>; contentType: string },
  readiness: Readiness,
): Promise<{ server: Server; port: number }> {
  const server = httpServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const reply = (code: number, type: string, body: string) => {
      res.writeHead(code, { "content-type": type, "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method !== "GET") return reply(405, "text/plain", "GET only\n");
    if (path === "/metrics") return reply(200, registry.contentType, await registry.metrics());
    if (path === "/healthz")
      return readiness.live()
        ? reply(200, "text/plain", "ok\n")
        : reply(503, "text/plain", "no worker is answering DNS\n");
    if (path === "/readyz") {
      const r = readiness.ready();
      return reply(r.ready ? 200 : 503, "text/plain", `${r.reason}\n`);
    }
    return reply(404, "text/plain", "not found\n");
  });
  return listenHttp(server, host, port);
}
