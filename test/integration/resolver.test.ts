/**
 * Delegation through a real recursive resolver: unbound on loopback, with stub zones pointing at
 * lbdns, resolves pool names, MX and a truncated answer. This exercises what resolvers really do:
 * 0x20 case randomisation (use-caps-for-id), EDNS, and retrying over TCP on TC.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dig } from "../helpers/dig.js";
import { type Running, startServe, waitFor } from "../helpers/lbdns.js";
import { freePort } from "../helpers/redis.js";
import { tempDir } from "../helpers/zones.js";

let server: Running;
let unbound: ChildProcess;
let resolverPort: number;
let unboundLog = "";
const tmp = tempDir();

beforeAll(async () => {
  cpSync(join(import.meta.dirname, "../../zones"), tmp.dir, { recursive: true });
  cpSync(join(import.meta.dirname, "../fixtures/zones/big.test.zone"), join(tmp.dir, "big.test.zone"));
  server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--log-queries"]);
  resolverPort = await freePort();
  const conf = tmp.write(
    "unbound.conf",
    `server:
  interface: 127.0.0.1
  port: ${resolverPort}
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "${tmp.dir}"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 1
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "iterator"
  use-caps-for-id: yes
  qname-minimisation: yes
  edns-buffer-size: 1232
  cache-max-ttl: 0
  # test. is one of unbound's built-in local zones (RFC 6761); let the stub zone through
  local-zone: "test." nodefault
stub-zone:
  name: "example.com"
  stub-addr: 127.0.0.1@${server.port}
stub-zone:
  name: "big.test"
  stub-addr: 127.0.0.1@${server.port}
`,
  );
  unbound = spawn("unbound", ["-d", "-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  unbound.stderr!.on("data", (d: Buffer) => {
    unboundLog += d.toString();
  });
  await waitFor(
    async () => {
      try {
        return (await dig(resolverPort, ["+tries=1", "+time=1", "example.com", "SOA"])).status === "NOERROR";
      } catch {
        return false;
      }
    },
    10_000,
    `unbound to answer (${unboundLog.slice(-300)})`,
  );
});

afterAll(async () => {
  unbound?.kill("SIGKILL");
  await server?.stop();
  tmp.cleanup();
});

describe("resolution through unbound", () => {
  it("resolves a pool name, MX with the relay, and NXDOMAIN", async () => {
    const www = await dig(resolverPort, ["www.example.com", "A"]);
    expect(www.status).toBe("NOERROR");
    expect(www.flags).toContain("ra");
    expect(www.answer[0]!.data).toBe("192.0.2.11");
    const mx = await dig(resolverPort, ["example.com", "MX"]);
    expect(mx.answer.map((a) => a.data)).toEqual(["50 relay1.backup.example.net."]);
    expect((await dig(resolverPort, ["nope.example.com", "A"])).status).toBe("NXDOMAIN");
  });

  it("gets a large answer after lbdns truncates over UDP (the resolver retries over TCP)", async () => {
    const r = await dig(resolverPort, ["+tcp", "txt.big.test", "TXT"]);
    expect(r.status).toBe("NOERROR");
    expect(r.answer).toHaveLength(16);
    const asked = server.logs().filter((l) => l["msg"] === "query" && l["qname"] === "txt.big.test.");
    expect(asked.map((l) => l["transport"])).toEqual(expect.arrayContaining(["udp", "tcp"]));
  });

  it("answers many case-randomised queries without a mismatch", async () => {
    for (let i = 0; i < 20; i++) {
      const r = await dig(resolverPort, [`h${i}.apps.example.com`, "A"]);
      expect(r.answer[0]?.data).toBe("192.0.2.80");
    }
    expect(unboundLog).not.toMatch(/0x20|capsfor/i);
  });
});

describe("scripts/smoke", () => {
  const smoke = join(import.meta.dirname, "../../scripts/smoke");
  it("passes every check against a running lbdns, and fails against a dead address", async () => {
    const { execFile } = await import("node:child_process");
    const { promisify } = await import("node:util");
    const run = promisify(execFile);
    const ok = await run("bash", [smoke, `127.0.0.1:${server.port}`, "example.com", "www.example.com"]);
    expect(ok.stdout).toMatch(/all checks passed/);
    expect(ok.stdout.match(/ PASS /g)).toHaveLength(7);
    const dead = await run("bash", [smoke, "127.0.0.1:1", "example.com"], { timeout: 60_000 }).catch(
      (e) => e,
    );
    expect(dead.code).toBe(1);
    expect(dead.stdout).toMatch(/7 check\(s\) failed/);
  });
});
