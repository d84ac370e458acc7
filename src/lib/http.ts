/** The small HTTP servers (admin, metrics) and the requests the CLI and agents make to them. */
import { createServer, type RequestListener, type Server } from "node:http";
import { UserError } from "./errors.js";

/**
 * Bounds for the admin and metrics servers, whose clients are a few scripts and scrapers: a slow
 * or idle client holds a descriptor for seconds, not minutes, and past the cap new connections
 * are closed at once, so a flood of slow connections cannot take the descriptors DNS over TCP
 * and reloads need.
 */
export const HTTP_LIMITS = {
  maxConnections: 64,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 10_000,
};

/**
 * An HTTP server whose header and request deadlines are checked every second (Node: 30 s). A
 * handler that fails (metrics from a worker that died mid-way...) costs that request a 500, never
 * the process: an async handler's rejection would otherwise be unhandled.
 */
export function httpServer(handler: (...args: Parameters<RequestListener>) => unknown): Server {
  return createServer(
    {
      connectionsCheckingInterval: 1_000,
      headersTimeout: HTTP_LIMITS.headersTimeoutMs,
      requestTimeout: HTTP_LIMITS.requestTimeoutMs,
      keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
    },
    (req, res) => {
      Promise.resolve()
        .then(() => handler(req, res))
        .catch((err: Error) => {
          if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
          res.end(`internal error: ${err.message}\n`);
        });
    },
  );
}

export function listenHttp(
  server: Server,
  host: string,
  port: number,
): Promise<{ server: Server; port: number }> {
  // A client that sends garbage gets its socket closed, not a crash or a hung connection.
  server.on("clientError", (_err, socket) => socket.destroy());
  server.maxConnections = HTTP_LIMITS.maxConnections;
  server.setTimeout(HTTP_LIMITS.idleTimeoutMs, (socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const addr = server.address();
      resolve({ server, port: typeof addr === "object" && addr ? addr.port : port });
    });
  });
}

/**
 * A request to a running server's admin endpoint, its JSON body, and one clear line when it
 * fails: fetch's own "fetch failed" says nothing, so the cause (ECONNREFUSED, a timeout...) is
 * named, with a hint. A runtime failure (exit 1 from the CLI).
 */
export async function adminRequest(url: URL, init: RequestInit = {}): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
  } catch (e) {
    const err = e as Error & { cause?: Error };
    const why = err.name === "TimeoutError" ? "no answer in 5 s" : (err.cause?.message ?? err.message);
    throw new UserError(`cannot reach ${url.origin}: ${why} (is lbdns serve running with --admin?)`, 1);
  }
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok)
    throw new UserError(`${url.origin} answered ${res.status}: ${body.error ?? res.statusText}`, 1);
  return body;
}
