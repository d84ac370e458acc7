/**
 * Service checks shared by the server's built-in probes and the agent: TCP connect, HTTP GET
 * (2xx/3xx), SMTP banner (220, then QUIT). Each resolves with the round-trip time or rejects with
 * a short reason, and never outlives its timeout: the timeout is a deadline for the whole check,
 * not an idle timer, so an endpoint that trickles a byte a second cannot hold it open.
 */
import { type IncomingMessage, request } from "node:http";
import { connect } from "node:net";

export interface CheckTarget {
  type: "tcp" | "http" | "smtp";
  host: string;
  port: number;
  path?: string;
  /** HTTP only: the body must contain this text. */
  expect?: string;
  /** HTTP only: a full URL instead of host/port/path. */
  url?: string;
  timeoutMs: number;
}

export function runCheck(t: CheckTarget): Promise<number> {
  const started = performance.now();
  const done = () => performance.now() - started;
  if (t.type === "http") return httpCheck(t).then(done);
  return new Promise((resolve, reject) => {
    let banner = "";
    const socket = connect({ host: t.host, port: t.port });
    const deadline = setTimeout(() => fail(`timeout after ${t.timeoutMs} ms`), t.timeoutMs);
    socket.on("close", () => clearTimeout(deadline));
    const fail = (reason: string) => {
      clearTimeout(deadline);
      socket.destroy();
      reject(new Error(reason));
    };
    socket.on("error", (e) => fail(e.message));
    socket.on("connect", () => {
      if (t.type === "tcp") {
        socket.destroy();
        resolve(done());
      }
    });
    socket.on("data", (chunk: Buffer) => {
      banner += chunk.toString("latin1");
      if (!banner.includes("\n")) {
        if (banner.length > 4096) fail("no SMTP banner line");
        return;
      }
      if (!banner.startsWith("220")) return fail(`SMTP banner is '${banner.split("\r")[0]!.slice(0, 60)}'`);
      const rtt = done();
      clearTimeout(deadline);
      socket.end("QUIT\r\n");
      // The QUIT exchange is not waited for; a server that never closes is closed by us.
      setTimeout(() => socket.destroy(), 1_000).unref();
      resolve(rtt);
    });
    socket.on("end", () => {
      if (t.type === "smtp" && !banner.startsWith("220")) fail("connection closed before the SMTP banner");
    });
  });
}

function httpCheck(t: CheckTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    const options = { method: "GET", timeout: t.timeoutMs, agent: false as const };
    const onResponse = (res: IncomingMessage) => {
      const code = res.statusCode ?? 0;
      if (code < 200 || code >= 400 || t.expect === undefined) {
        res.resume();
        if (code >= 200 && code < 400) resolve();
        else reject(new Error(`HTTP ${code}`));
        return;
      }
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        if (body.length < 65_536) body += c;
      });
      res.on("end", () =>
        body.includes(t.expect!) ? resolve() : reject(new Error(`body does not contain '${t.expect}'`)),
      );
      res.on("error", reject);
      res.on("close", () => reject(new Error("connection closed before the body ended")));
    };
    const req = t.url
      ? request(t.url, options, onResponse)
      : request({ ...options, host: t.host, port: t.port, path: t.path ?? "/" }, onResponse);
    const deadline = setTimeout(() => req.destroy(new Error(`timeout after ${t.timeoutMs} ms`)), t.timeoutMs);
    req.on("close", () => clearTimeout(deadline));
    req.on("timeout", () => req.destroy(new Error(`timeout after ${t.timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}
