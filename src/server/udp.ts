/** UDP listener: each datagram is answered synchronously from memory and sent back. */
import { createSocket, type Socket } from "node:dgram";
import { performance } from "node:perf_hooks";
import type { ListenAddress } from "../lib/host-port.js";
import type { Responder } from "./responder.js";
import { type RateLimiter, truncated } from "./rrl.js";

export interface UdpListener {
  socket: Socket;
  port: number;
  close(): Promise<void>;
}

export function listenUdp(
  addr: ListenAddress,
  responder: Responder,
  onError: (err: Error) => void,
  limiter: RateLimiter | null = null,
): Promise<UdpListener> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: addr.family === 6 ? "udp6" : "udp4", ipv6Only: addr.family === 6 });
    const stats = responder.stats;
    socket.on("message", (msg, rinfo) => {
      const start = performance.now();
      let response: Buffer | null;
      try {
        response = responder.answer(msg, "udp", rinfo.address);
      } catch (err) {
        onError(err as Error);
        return;
      }
      if (!response) return;
      if (limiter !== null && !responder.lastCookieValid) {
        const verdict = limiter.check(rinfo.address, responder.lastAnswer);
        if (verdict === "drop") return;
        if (verdict === "slip") response = truncated(response, responder.lastQuestionEnd);
      }
      socket.send(response, rinfo.port, rinfo.address);
      stats.took("udp", performance.now() - start);
    });
    socket.once("error", reject);
    socket.bind(addr.port, addr.host, () => {
      socket.off("error", reject);
      socket.on("error", onError);
      resolve({
        socket,
        port: socket.address().port,
        close: () => new Promise<void>((done) => socket.close(() => done())),
      });
    });
  });
}
