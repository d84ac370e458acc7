/** A raw DNS-over-TCP client for pipelining and connection-limit tests, and stand-in TCP servers. */
import { connect, createServer, type Server, type Socket } from "node:net";
import { timeoutAfterIo } from "../../harness/procs.js";

/**
 * A TCP server on loopback standing in for a member (web, SMTP...) that a probe or agent checks.
 * A checker that resets the connection (or a server killed after a test) is an ordinary end
 * for it, not an uncaught error in the test process.
 */
export async function standIn(
  onConnect: (s: Socket) => void = (s) => s.end(),
  port = 0,
): Promise<{ server: Server; port: number }> {
  const srv = createServer((s) => {
    s.on("error", () => {});
    onConnect(s);
  });
  await new Promise<void>((r) => srv.listen(port, "127.0.0.1", () => r()));
  return { server: srv, port: (srv.address() as { port: number }).port };
}

export function frame(msg: Buffer): Buffer {
  const out = Buffer.alloc(2 + msg.length);
  out.writeUInt16BE(msg.length, 0);
  msg.copy(out, 2);
  return out;
}

export function openTcp(port: number, host = "127.0.0.1"): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host }, () => resolve(s));
    s.once("error", reject);
  });
}

/** Reads `count` length-prefixed messages from a socket. */
export function readFrames(socket: Socket, count: number, timeoutMs = 5_000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const out: Buffer[] = [];
    const timeout = timeoutAfterIo(timeoutMs, () => {
      socket.off("data", onData);
      reject(new Error(`got ${out.length} of ${count} frames`));
    });
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length >= count) {
        timeout.cancel();
        socket.off("data", onData);
        resolve(out);
      }
    };
    socket.on("data", onData);
  });
}
