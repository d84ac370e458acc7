/**
 * Sends many queries to a server on loopback and collects the responses: UDP with a bounded
 * window in flight, retries on silence, and a deadline, so a server that drops queries costs
 * time, never a hang. TCP for the ones a UDP answer truncated, with retries too.
 */
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { timeoutAfterIo } from "../../harness/procs.js";

const WINDOW = 64;
const RETRY_MS = 400;
const TRIES = 4;
/** TCP tries per query, each on a new connection. */
const TCP_TRIES = 3;

/** Responses by position (null: no answer after every try). IDs are the positions mod 65536. */
export function askUdp(
  port: number,
  queries: readonly Buffer[],
  deadlineMs = 60_000,
): Promise<(Buffer | null)[]> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    const out: (Buffer | null)[] = queries.map(() => null);
    const tries = new Uint8Array(queries.length);
    const sentAt = new Float64Array(queries.length);
    const pending = new Map<number, number>(); // id -> index
    let next = 0;
    let done = 0;
    const started = Date.now();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      socket.close();
      resolve(out);
    };
    const send = (i: number) => {
      tries[i]!++;
      sentAt[i] = Date.now();
      pending.set(i & 0xffff, i);
      socket.send(queries[i]!, port, "127.0.0.1");
    };
    const fill = () => {
      while (pending.size < WINDOW && next < queries.length) {
        // An ID may be reused only once its earlier query (65,536 positions back) is settled.
        if (pending.has(next & 0xffff)) break;
        send(next++);
      }
      if (done === queries.length) finish();
    };
    socket.on("message", (msg) => {
      if (msg.length < 2) return;
      const i = pending.get(msg.readUInt16BE(0));
      if (i === undefined) return;
      pending.delete(i & 0xffff);
      out[i] = msg;
      done++;
      fill();
    });
    socket.on("error", reject);
    // Retries and give-ups run after the poll (timeoutAfterIo's reason): answers that arrived
    // during a stall are read first, so a query on its last try is not given up beside its answer.
    const check = () => {
      if (finished) return;
      const now = Date.now();
      if (now - started > deadlineMs) return finish();
      for (const i of [...pending.values()]) {
        if (now - sentAt[i]! < RETRY_MS) continue;
        if (tries[i]! >= TRIES) {
          pending.delete(i & 0xffff);
          done++;
        } else send(i);
      }
      fill();
    };
    const timer = setInterval(() => setImmediate(check), 100);
    fill();
  });
}

/**
 * One query over TCP (RFC 7766 framing), on a new connection per try, as a resolver retries;
 * null when every try failed or timed out.
 */
export async function askTcp(port: number, query: Buffer, timeoutMs = 3_000): Promise<Buffer | null> {
  for (let t = 0; t < TCP_TRIES; t++) {
    const response = await askTcpOnce(port, query, timeoutMs);
    if (response) return response;
  }
  return null;
}

function askTcpOnce(port: number, query: Buffer, timeoutMs: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let settled = false;
    const done = (v: Buffer | null) => {
      if (settled) return;
      settled = true;
      timeout.cancel();
      socket.destroy();
      resolve(v);
    };
    const timeout = timeoutAfterIo(timeoutMs, () => done(null));
    socket.on("connect", () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length, 0);
      socket.write(Buffer.concat([len, query]));
    });
    socket.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0))
        done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    socket.on("error", () => done(null));
  });
}
