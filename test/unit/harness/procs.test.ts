/**
 * The harness's query helpers must not report silence for an answer that arrived while the test
 * process was busy: on a loaded 2-core CI machine (or a paused VM) Node runs a due timer before
 * it reads the sockets, which once failed the differential run with "(no response)".
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { askOnce } from "../../../harness/procs.js";

/** A UDP server in another process that echoes each datagram after 100 ms. */
async function delayedEcho() {
  const child = spawn(
    process.execPath,
    [
      "-e",
      `const s = require("node:dgram").createSocket("udp4");
       s.on("message", (m, r) => setTimeout(() => s.send(m, r.port, r.address), 100));
       s.bind(0, "127.0.0.1", () => console.log(s.address().port));`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const [line] = (await once(child.stdout!, "data")) as [Buffer];
  return { port: Number(line.toString().trim()), stop: () => child.kill("SIGKILL") };
}

describe("askOnce", () => {
  it("returns an answer that arrived while the event loop was blocked past the timeout", async () => {
    const echo = await delayedEcho();
    try {
      const asked = askOnce(echo.port, Buffer.from("ping"), 300);
      await new Promise((r) => setTimeout(r, 50)); // the query is sent (bind and send are async)
      // Blocks past both the echo's delay and the timeout, as parsing a batch of responses does:
      // the answer waits in the socket buffer, and the next turn of the loop finds the timer due.
      await new Promise<void>((r) =>
        setImmediate(() => {
          const until = Date.now() + 800;
          while (Date.now() < until) {}
          r();
        }),
      );
      expect((await asked)?.toString()).toBe("ping");
      expect(await askOnce(echo.port, Buffer.from("pong"), 1_000).then((b) => b?.toString())).toBe("pong");
    } finally {
      echo.stop();
    }
  });

  it("still returns null when nothing answers", async () => {
    const echo = await delayedEcho();
    echo.stop();
    expect(await askOnce(echo.port, Buffer.from("ping"), 200)).toBeNull();
  });
});
