/**
 * DNS over TCP (RFC 7766): 2-byte length framing, any number of pipelined queries per
 * connection (answered in order), and limits so that no client can hold resources: an idle
 * timeout, a read timeout for a message once it has begun, a maximum message size, a cap on open
 * connections (global and per client network: /24 for IPv4, /56 for IPv6, as RRL counts, since one
 * client holds a whole /64), and backpressure (a client that stops reading its answers has its
 * connection paused, so it cannot make us buffer without bound). When a cap is reached, the
 * connection idle longest (nothing pending either way) is closed to make room (RFC 7766 §6.2.3
 * lets a server close idle connections); only when none is idle is the new one refused.
 *
 * Shutdown drains: no new connections, and each open one is answered until it has been quiet for
 * a moment, then closed with FIN; whatever is still open after the grace period is cut.
 */
import { createServer, type Server, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import type { ListenAddress } from "../lib/host-port.js";
import type { Responder } from "./responder.js";
import { networkOf } from "./rrl.js";

export interface TcpOptions {
  idleTimeoutMs: number;
  /** A message whose first bytes have arrived must be complete within this long. */
  readTimeoutMs: number;
  maxConnections: number;
  /** Open connections per client network (/24, /56), so one client cannot take every slot. */
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
  network: string;
  /** performance.now() of the last byte read. */
  lastActive: number;
  /** A query is partly read, or answers wait for the client. */
  busy: boolean;
}

/** The connection idle longest among `candidates`, or null when every one is busy. */
function idlest(candidates: Iterable<Connection>): Connection | null {
  let best: Connection | null = null;
  for (const c of candidates) {
    if (c.busy || c.draining || c.socket.writableLength > 0) continue;
    if (best === null || c.lastActive < best.lastActive) best = c;
  }
  return best;
}

export function listenTcp(
  addr: ListenAddress,
  responder: Responder,
  options: TcpOptions,
  onError: (err: Error) => void,
): Promise<TcpListener> {
  const connections = new Set<Connection>();
  const perNetwork = new Map<string, Set<Connection>>();
  const server = createServer((socket) => {
    const network = networkOf(socket.remoteAddress ?? "", false) ?? "";
    let mine = perNetwork.get(network);
    if (mine && mine.size >= options.maxPerClient) {
      const victim = idlest(mine);
      if (!victim) return void socket.destroy();
      drop(victim);
    }
    if (connections.size >= options.maxConnections) {
      const victim = idlest(connections);
      if (!victim) return void socket.destroy();
      drop(victim);
    }
    const conn: Connection = { socket, draining: false, network, lastActive: performance.now(), busy: false };
    connections.add(conn);
    mine = perNetwork.get(network); // a drop above may have removed an emptied set
    if (!mine) {
      mine = new Set();
      perNetwork.set(network, mine);
    }
    mine.add(conn);
    socket.on("close", () => drop(conn));
    serveConnection(conn, responder, options, onError);
  });
  /** Forgets a connection (closing it if still open); its slot is free at once. */
  const drop = (conn: Connection) => {
    connections.delete(conn);
    const set = perNetwork.get(conn.network);
    set?.delete(conn);
    if (set?.size === 0) perNetwork.delete(conn.network);
    if (!conn.socket.destroyed) conn.socket.destroy();
  };
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

/**
 * Unsent output above which a connection's queries wait: a client that pipelines queries and
 * never reads gets this much buffered, plus the one answer in hand, and no more.
 */
export const OUTPUT_BOUND = 32 * 1024;

/**
 * Per connection at most OUTPUT_BOUND + one answer (64 KiB) of output, and the unanswered input
 * of one read (64 KiB) plus one partial message: about 160 KiB, whatever the client does.
 * A connection blocked on a client that does not read is closed after the idle timeout.
 */
function serveConnection(
  conn: Connection,
  responder: Responder,
  options: TcpOptions,
  onError: (e: Error) => void,
) {
  const { socket } = conn;
  let pending: Buffer | null = null;
  let readTimer: NodeJS.Timeout | null = null;
  let blockedTimer: NodeJS.Timeout | null = null;
  const stats = responder.stats;
  socket.setNoDelay(true);
  socket.setTimeout(options.idleTimeoutMs, () => {
    if (conn.draining) socket.end();
    else socket.destroy();
  });
  socket.on("error", () => socket.destroy());
  socket.on("close", () => {
    if (readTimer) clearTimeout(readTimer);
    if (blockedTimer) clearTimeout(blockedTimer);
  });

  /** Answers the complete messages in `pending` while the output is under the bound. */
  const pump = () => {
    if (socket.destroyed || socket.writableEnded) return;
    const start = performance.now();
    let buf = pending ?? Buffer.alloc(0);
    pending = null;
    let answered = false;
    while (buf.length >= 2) {
      if (socket.writableLength > OUTPUT_BOUND) {
        // The client is not reading: stop answering and reading until it does, or give up on it.
        socket.pause();
        blockedTimer ??= setTimeout(() => socket.destroy(), options.idleTimeoutMs);
        socket.once("drain", () => {
          if (blockedTimer) clearTimeout(blockedTimer);
          blockedTimer = null;
          socket.resume();
          pump();
        });
        break;
      }
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
      socket.write(framed);
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
      if (blockedTimer === null) readTimer ??= setTimeout(() => socket.destroy(), options.readTimeoutMs);
    }
    conn.busy = pending !== null || blockedTimer !== null;
  };

  socket.on("data", (chunk: Buffer) => {
    if (socket.writableEnded) return; // closed for draining; the client sees our FIN
    conn.lastActive = performance.now();
    pending = pending ? Buffer.concat([pending, chunk]) : chunk;
    conn.busy = true;
    if (blockedTimer === null) pump();
  });
}
