/** Who asks matters: dig +subnet gets region-appropriate answers that follow load and fail over. */
import { execFile } from "node:child_process";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dig } from "../helpers/dig.js";
import { CLI, type Running, startServe, waitFor } from "../helpers/lbdns.js";
import { tempDir } from "../helpers/zones.js";

const run = promisify(execFile);
const tmp = tempDir();
let server: Running;

beforeAll(async () => {
  cpSync(join(import.meta.dirname, "../fixtures/zones/example.com.zone"), join(tmp.dir, "example.com.zone"));
  tmp.write(
    "pools.yaml",
    `regions:
  east: [198.51.100.0/24, "2001:db8:e::/48"]
  west: [203.0.113.0/24]
region-order:
  east: [east, west]
  west: [west, east]
pools:
  web:
    names: [www.example.com.]
    prefer: region
    stale-after: 10m
    members:
      - {id: e1, address: [192.0.2.1, "2001:db8::e1"], region: east}
      - {id: w1, address: [192.0.2.2, "2001:db8::f1"], region: west}
  api:
    names: [api.example.com.]
    sticky: true
    stale-after: 10m
    slow-start: 0s
    members:
${Array.from({ length: 8 }, (_, i) => `      - {id: api-${i}, address: 192.0.2.${100 + i}}`).join("\n")}
`,
  );
  server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0"]);
  await report("e1", 10);
  await report("w1", 10);
  for (let i = 0; i < 8; i++) await report(`api-${i}`, 10);
});
afterAll(async () => {
  await server?.stop();
  tmp.cleanup();
});

const www = async (subnet: string, type = "A") =>
  dig(server.port, ["+norec", `+subnet=${subnet}`, "www.example.com", type]);
const report = (m: string, load: number, status = "up") =>
  run(process.execPath, [
    CLI,
    "report",
    "--server",
    server.admin!,
    "--token",
    server.token!,
    "--member",
    m,
    "--load",
    String(load),
    "--status",
    status,
  ]);

describe("regions through ECS", () => {
  it("answers each client subnet from its region, with the scope the answer depends on", async () => {
    const east = await www("198.51.100.0/24");
    expect(east.answer[0]!.data).toBe("192.0.2.1");
    expect(east.edns?.clientSubnet).toBe("198.51.100.0/24/24");
    expect((await www("203.0.113.0/24")).answer[0]!.data).toBe("192.0.2.2");
    expect((await www("2001:db8:e::/48", "AAAA")).answer[0]!.data).toBe("2001:db8::e1");
    // A static name does not depend on the client: scope 0.
    const mx1 = await dig(server.port, ["+norec", "+subnet=198.51.100.0/24", "mx1.example.com", "A"]);
    expect(mx1.edns?.clientSubnet).toBe("198.51.100.0/24/0");
  });

  it("spills east clients to west when east is down, and back when it returns", async () => {
    await report("e1", 10, "down");
    await waitFor(
      async () => (await www("198.51.100.0/24")).answer[0]?.data === "192.0.2.2",
      5_000,
      "spill to west",
    );
    await report("e1", 10);
    await waitFor(
      async () => (await www("198.51.100.0/24")).answer[0]?.data === "192.0.2.1",
      5_000,
      "back to east",
    );
  });

  it("spills when the local region is above its threshold", async () => {
    await report("e1", 95);
    await waitFor(
      async () => (await www("198.51.100.0/24")).answer[0]?.data === "192.0.2.2",
      5_000,
      "spill on load",
    );
    await report("e1", 10);
    await waitFor(
      async () => (await www("198.51.100.0/24")).answer[0]?.data === "192.0.2.1",
      5_000,
      "back on load",
    );
  });
});

describe("sticky answers", () => {
  it("gives a subnet the same server every time, and different subnets a spread", async () => {
    const chosen = new Set<string>();
    for (let s = 0; s < 24; s++) {
      const subnet = `100.64.${s}.0/24`;
      const first = (await dig(server.port, ["+norec", `+subnet=${subnet}`, "api.example.com"])).answer[0]!
        .data;
      for (let k = 0; k < 3; k++)
        expect(
          (await dig(server.port, ["+norec", `+subnet=${subnet}`, "api.example.com"])).answer[0]!.data,
        ).toBe(first);
      chosen.add(first);
    }
    expect(chosen.size).toBeGreaterThanOrEqual(4);
  });
});

describe("explain --client", () => {
  it("shows the client's region and the sticky choice", async () => {
    const cli = (...args: string[]) =>
      run(process.execPath, [CLI, "explain", ...args, "--server", server.admin!, "--token", server.token!]);
    expect((await cli("www.example.com", "A", "--client", "203.0.113.9")).stdout).toMatch(
      /client 203\.0\.113\.9: answered from region west: w1/,
    );
    expect((await cli("api.example.com", "A", "--client", "100.64.3.7")).stdout).toMatch(
      /sticky choice: api-\d/,
    );
    expect((await cli("mx1.example.com", "A", "--client", "100.64.3.7")).stdout).toMatch(
      /does not depend on who asks/,
    );
  });
});
