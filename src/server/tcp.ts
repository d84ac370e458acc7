/**
 * DNS over TCP (RFC 7766): 2-byte length framing, any number of pipelined queries per
 * connection (answered in order), and limits so that no client can hold resources: an idle
 * timeout, a read timeout for a message once it has begun, a maximum message size, a cap on open
 * connections (global and per client address), and backpressure (a client that stops reading its
 * answers has its connection paused, so it cannot make us buffer without bound).
 *
 * Shutdown drains: no new connections, and each open one is answered until it has been quiet for
 * a moment, then closed with FIN; whatever is still open after the grace period is cut.
 */
import { createServer, type Server, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import type { ListenAddress } from "../lib/host-port.js";
import type { Responder } from "./responder.js";

export interface TcpOptions {
  idleTimeoutMs: number;
  /** A message whose first bytes have arrived must be complete within this long. */
  readTimeoutMs: number;
  maxConnections: number;
  /** Open connections per client address, so one client cannot take every slot. */
  maxPerClient: number;
}

export interface TcpListener {
  server: Server;
  port: number;
  close(graceMs: number): Promise<void>;
}

/** On shutdown, a connection quiet for this long has had every answer it was waiting for. */
const DRAIN_QUIET_MS = 500;

interface Connection {
  socket: Socket;
  draining: boolean;
}

export function listenTcp(
  addr: ListenAddress,
  responder: Responder,
  options: TcpOptions,
  onError: (err: Error) => void,
): Promise<TcpListener> {
  const connections = new Set<Connection>();
  const perClient = new Map<string, number>();
  const server = createServer((socket) => {
    const client = socket.remoteAddress ?? "";
    const mine = perClient.get(client) ?? 0;
    if (connections.size >= options.maxConnections || mine >= options.maxPerClient) {
      socket.destroy();
      return;
    }
    const conn: Connection = { socket, draining: false };
    connections.add(conn);
    perClient.set(client, mine + 1);
    socket.on("close", () => {
      connections.delete(conn);
      const left = (perClient.get(client) ?? 1) - 1;
      if (left > 0) perClient.set(client, left);
      else perClient.delete(client);
    });
    serveConnection(conn, responder, options, onError);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: addr.port, host: addr.host, ipv6Only: addr.family === 6 }, () => {
      server.off("error", reject);
      server.on("error", onError);
      const address = server.address();
      resolve({
        server,
        port: typeof address === "object" && address ? address.port : addr.port,
        close: (graceMs) =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const c of connections) {
              c.draining = true;
              c.socket.setTimeout(DRAIN_QUIET_MS);
            }
            const timer = setTimeout(() => {
              for (const c of connections) c.socket.destroy();
            }, graceMs);
            timer.unref();
          }),
      });
    });
  });
}

function serveConnection(
  conn: Connection,
  responder: Responder,
  options: TcpOptions,
  onError: (e: Error) => void,
) {
  const { socket } = conn;
  let pending: Buffer | null = null;
  let readTimer: NodeJS.Timeout | null = null;
  const stats = responder.stats;
  socket.setNoDelay(true);
  socket.setTimeout(options.idleTimeoutMs, () => {
    if (conn.draining) socket.end();
    else socket.destroy();
  });
  socket.on("error", () => socket.destroy());
  socket.on("close", () => {
    if (readTimer) clearTimeout(readTimer);
  });
  socket.on("data", (chunk: Buffer) => {
    if (socket.writableEnded) return; // closed for draining; the client sees our FIN
    const start = performance.now();
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    let answered = false;
    while (buf.length >= 2) {
      const len = buf.readUInt16BE(0);
      if (len > responder.maxQueryBytes) {
        stats.dropped++;
        socket.destroy();
        return;
      }
      if (buf.length < 2 + len) break;
      const message = buf.subarray(2, 2 + len);
      buf = buf.subarray(2 + len);
      let response: Buffer | null;
      try {
        response = responder.answer(message, "tcp", socket.remoteAddress);
      } catch (err) {
        onError(err as Error);
        socket.destroy();
        return;
      }
      if (!response) {
        // Not a query (too short, or a response): nothing sensible can follow on this stream.
        socket.destroy();
        return;
      }
      const framed = Buffer.allocUnsafe(2 + response.length);
      framed.writeUInt16BE(response.length, 0);
      response.copy(framed, 2);
      if (!socket.write(framed) && !socket.isPaused()) {
        socket.pause();
        socket.once("drain", () => socket.resume());
      }
      stats.took("tcp", performance.now() - start);
      answered = true;
    }
    // A message trickling in byte by byte must not hold the connection past the read timeout,
    // counted from the first byte of the message still incomplete.
    if (readTimer && (answered || buf.length === 0)) {
      clearTimeout(readTimer);
      readTimer = null;
    }
    if (buf.length > 0) {
      pending = Buffer.from(buf);
      readTimer ??= setTimeout(() => socket.destroy(), options.readTimeoutMs);
    }
  });
}
