import { afterEach, expect, it } from "vitest";
import { httpServer, listenHttp } from "../../../src/lib/http.js";

let close: (() => void) | undefined;
afterEach(() => close?.());

it("answers 500 when a handler fails, and keeps serving", async () => {
  const server = httpServer(async (req, res) => {
    if (req.url === "/fail") throw new Error("no metrics from a worker");
    res.end("ok");
  });
  const { port } = await listenHttp(server, "127.0.0.1", 0);
  close = () => server.close();
  const failed = await fetch(`http://127.0.0.1:${port}/fail`);
  expect([failed.status, await failed.text()]).toEqual([500, "internal error: no metrics from a worker\n"]);
  expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("ok");
});
