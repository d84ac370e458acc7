/**
 * Zone files that used to wedge, kill or leak from the server (issue 18 #7, #10, #21): each fails
 * alone with a clear error naming its file, the last good zones keep answering, and nothing of
 * an included secret reaches the log.
 */
import { execFileSync } from "node:child_process";
import { cpSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { dig } from "../helpers/dig.js";
import { type Running, startServe, waitFor } from "../helpers/lbdns.js";
import { tempDir } from "../helpers/zones.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/zones");
let server: Running | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;

afterEach(async () => {
  await server?.stop("SIGKILL");
  server = undefined;
  tmp?.cleanup();
  tmp = undefined;
});

const SECRET = "lbdns-test-secret-4b1d";
const head = (origin: string) =>
  `$ORIGIN ${origin}.\n$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n`;

it("refuses a FIFO, /dev/zero, a 100 MB line, a giant RRset and $INCLUDE outside the zones directory", async () => {
  tmp = tempDir();
  cpSync(FIXTURES, tmp.dir, { recursive: true });
  execFileSync("mkfifo", [join(tmp.dir, "fifo.test.zone")]);
  symlinkSync("/dev/zero", join(tmp.dir, "zero.test.zone"));
  writeFileSync(
    join(tmp.dir, "longline.test.zone"),
    `${head("longline.test")}x TXT ${"a ".repeat(50_000_000)}\n`,
  );
  const many = Array.from({ length: 70_000 }, (_, i) => `big A 10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
  writeFileSync(join(tmp.dir, "rrset.test.zone"), `${head("rrset.test")}${many.join("\n")}\n`);
  writeFileSync(join(tmp.dir, "include.test.zone"), `${head("include.test")}$INCLUDE /proc/self/environ\n`);
  server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--admin", "off"], {
    timeoutMs: 30_000,
    env: { LBDNS_TEST_SECRET: SECRET },
  });
  const errors = server
    .logs()
    .filter((l) => Number(l["level"]) >= 50)
    .map((l) => String(l["msg"]));
  const all = errors.join("\n");
  expect(all).toMatch(/fifo\.test\.zone: not a regular file/);
  expect(all).toMatch(/zero\.test\.zone: not a regular file/);
  expect(all).toMatch(/longline\.test\.zone:6: entry longer than 1048576 characters/);
  expect(all).toMatch(
    /rrset\.test\.zone:\d+: the A RRset at big\.rrset\.test\. is larger than a DNS message/,
  );
  expect(all).toMatch(
    /include\.test\.zone:6: cannot read \$INCLUDE file \/proc\/self\/environ: it is outside/,
  );
  expect(JSON.stringify(server.logs())).not.toContain(SECRET);
  expect((await dig(server.port, ["www.example.com"])).status).toBe("NOERROR");
  expect((await dig(server.port, ["ns1.fifo.test"])).status).toBe("REFUSED");
}, 60_000);

it("keeps serving the last good zone when an editor leaves the file half-written (#21)", async () => {
  tmp = tempDir();
  cpSync(FIXTURES, tmp.dir, { recursive: true });
  server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--admin", "off"]);
  const file = join(tmp.dir, "example.com.zone");
  const whole = readFileSync(file, "utf8");
  // A non-atomic editor's first write: the file cut inside the SOA record, then inside the RRsets.
  for (const cut of [whole.indexOf("SOA") + 20, whole.indexOf("NS") + 1]) {
    const before = server.logs().filter((l) => l["msg"] === "zones reloaded").length;
    writeFileSync(file, whole.slice(0, cut));
    await waitFor(() => server!.logs().filter((l) => l["msg"] === "zones reloaded").length > before, 10_000);
    const last = server
      .logs()
      .filter((l) => l["msg"] === "zones reloaded")
      .at(-1)!;
    expect(last["kept"]).toEqual(["example.com."]);
    expect((await dig(server.port, ["www.example.com"])).answer[0]?.data).toBe("192.0.2.11");
  }
});
