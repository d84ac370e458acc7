/**
 * DNS over TCP (RFC 7766): 2-byte length framing, any number of pipelined queries per
 * connection (answered in order), an idle timeout, and a cap on open connections. A client that
 * stops reading its answers has its connection paused, so it cannot make us buffer without bound.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { ListenAddress } from "./listen.js";
import type { Responder } from "./responder.js";

export interface TcpOptions {
  idleTimeoutMs: number;
  maxConnections: number;
  /** Open connections per client address, so one client cannot take every slot. */
  maxPerClient: number;
}

export interface TcpListener {
  server: Server;
  port: number;
  close(graceMs: number): Promise<void>;
}

export function listenTcp(
  addr: ListenAddress,
  responder: Responder,
  options: TcpOptions,
  onError: (err: Error) => void,
): Promise<TcpListener> {
  const sockets = new Set<Socket>();
  const perClient = new Map<string, number>();
  const server = createServer((socket) => {
    const client = socket.remoteAddress ?? "";
    const mine = perClient.get(client) ?? 0;
    if (sockets.size >= options.maxConnections || mine >= options.maxPerClient) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    perClient.set(client, mine + 1);
    socket.on("close", () => {
      sockets.delete(socket);
      const left = (perClient.get(client) ?? 1) - 1;
      if (left > 0) perClient.set(client, left);
      else perClient.delete(client);
    });
    serveConnection(socket, responder, options, onError);
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
            // Answers already written are flushed by end(); stragglers are cut after the grace.
            for (const s of sockets) s.end();
            const timer = setTimeout(() => {
              for (const s of sockets) s.destroy();
            }, graceMs);
            timer.unref();
          }),
      });
    });
  });
}

function serveConnection(
  socket: Socket,
  responder: Responder,
  options: TcpOptions,
  onError: (e: Error) => void,
) {
  let pending: Buffer | null = null;
  socket.setNoDelay(true);
  socket.setTimeout(options.idleTimeoutMs, () => socket.destroy());
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk: Buffer) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    while (buf.length >= 2) {
      const len = buf.readUInt16BE(0);
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
    }
    if (buf.length > 0) pending = Buffer.from(buf);
  });
}
