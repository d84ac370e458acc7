/**
 * Redis security with a real redis-server: TLS with a private CA and client certificates, and a
 * per-agent ACL that lets an agent write only its own key and publish only on the health channel.
 */
import { execFile } from "node:child_process";
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dig } from "../helpers/dig.js";
import { CLI, type Running, runCli, startServe, waitFor } from "../helpers/lbdns.js";
import { addAgentUser, addServeUser, RedisServer } from "../helpers/redis.js";
import { makeCerts } from "../helpers/tls.js";
import { tempDir } from "../helpers/zones.js";

const run = promisify(execFile);
const FIXTURES = join(import.meta.dirname, "../fixtures/zones");
const POOLS = `
pools:
  web:
    names: [www.example.com.]
    fallback: [192.0.2.99]
    stale-after: 60s
    members:
      - {id: web-1, address: 192.0.2.11, capacity: 100}
      - {id: web-2, address: 192.0.2.12, capacity: 100}
`;

let redis: RedisServer | undefined;
let server: Running | undefined;
let tmp: ReturnType<typeof tempDir>;
const www = async () =>
  (await dig(server!.port, ["+norec", "www.example.com", "A"])).answer.map((a) => a.data);

beforeEach(() => {
  tmp = tempDir();
  cpSync(FIXTURES, tmp.dir, { recursive: true });
  tmp.write("pools.yaml", POOLS);
});
afterEach(async () => {
  await server?.stop("SIGKILL");
  server = undefined;
  await redis?.stop();
  redis = undefined;
  tmp.cleanup();
});

describe("Redis over TLS", () => {
  it("serves and publishes through rediss:// with a private CA and client certificates", async () => {
    const certs = makeCerts(tmp.dir);
    redis = await RedisServer.start({
      args: [
        "--tls-cert-file",
        certs.serverCert,
        "--tls-key-file",
        certs.serverKey,
        "--tls-ca-cert-file",
        certs.ca,
        "--tls-auth-clients",
        "yes",
      ],
      connection: {
        tls: {
          ca: readFileSync(certs.ca),
          cert: readFileSync(certs.clientCert),
          key: readFileSync(certs.clientKey),
        },
      },
    });
    const url = `rediss://127.0.0.1:${redis.port}?ca=${certs.ca}&cert=${certs.clientCert}&key=${certs.clientKey}`;
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--redis", url]);
    await run(process.execPath, [CLI, "report", "--redis", url, "--member", "web-2", "--load", "1"]);
    await waitFor(async () => (await www())[0] === "192.0.2.12", 5_000, "the TLS report to be answered");

    // Without the private CA the server's certificate is not trusted; without a client
    // certificate the server refuses the handshake. Both fail with one line, never silently.
    const untrusted = await runCli([
      "report",
      "--redis",
      `rediss://127.0.0.1:${redis.port}`,
      "--member",
      "web-1",
      "--load",
      "1",
    ]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr.trim().split("\n")).toHaveLength(1);
    expect(untrusted.stderr).toMatch(/could not publish to rediss:.*certificate/);
    const anonymous = await runCli([
      "report",
      "--redis",
      `rediss://127.0.0.1:${redis.port}?ca=${certs.ca}`,
      "--member",
      "web-1",
      "--load",
      "1",
    ]);
    expect(anonymous.code).toBe(1);
    const missing = await runCli([
      "report",
      "--redis",
      `rediss://127.0.0.1:${redis.port}?ca=${tmp.dir}/nope.pem`,
      "--member",
      "web-1",
      "--load",
      "1",
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the TLS ca file .*nope\.pem.*ENOENT/);
  });
});

describe("per-agent ACL", () => {
  it("lets an agent write only its own key and publish only on the health channel", async () => {
    redis = await RedisServer.start({ args: ["--requirepass", "adminpw"], password: "adminpw" });
    const admin = redis.client();
    // The ACLs the README documents: one user per agent, and a read-only user for lbdns serve.
    for (const member of ["web-1", "web-2"]) await addAgentUser(admin, member, `${member}-pw`);
    await addServeUser(admin, "lbdns", "serve-pw");
    const as = (user: string) =>
      `redis://${user}:${user === "lbdns" ? "serve" : user}-pw@127.0.0.1:${redis!.port}`;
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--redis", as("lbdns")]);

    const agent = await import("node:child_process").then(({ spawn }) =>
      spawn(
        process.execPath,
        [
          CLI,
          "agent",
          "--member",
          "web-1",
          "--redis",
          as("web-1"),
          "--interval",
          "200ms",
          "--load",
          "cmd:echo 50",
        ],
        { stdio: "ignore" },
      ),
    );
    try {
      await run(process.execPath, [
        CLI,
        "report",
        "--redis",
        as("web-2"),
        "--member",
        "web-2",
        "--load",
        "5",
      ]);
      const web2 = await admin.get("lbdns:health:web-2");
      expect(JSON.parse(web2!)).toMatchObject({ member: "web-2", load: 5 });
      await waitFor(async () => (await admin.get("lbdns:health:web-1")) !== null, 5_000, "web-1's agent");

      // web-1's credentials cannot overwrite web-2's report, nor write anywhere else.
      const forged = await runCli(["report", "--redis", as("web-1"), "--member", "web-2", "--load", "99"]);
      expect(forged.code).toBe(1);
      expect(forged.stderr).toMatch(/NOPERM.*key/);
      expect(await admin.get("lbdns:health:web-2")).toBe(web2);
      const other = (await admin
        .call("ACL", "DRYRUN", "web-1", "SET", "lbdns:config", "x")
        .catch((e: Error) => e.message)) as string;
      expect(other).toMatch(/no permissions/);
      const channel = (await admin
        .call("ACL", "DRYRUN", "web-1", "PUBLISH", "other", "x")
        .catch((e: Error) => e.message)) as string;
      expect(channel).toMatch(/no permissions/);

      // lbdns serve reads both reports through its read-only user.
      await waitFor(async () => (await www())[0] === "192.0.2.12", 5_000, "web-2 answered");
      await waitFor(async () => (await www())[0] === "192.0.2.11", 5_000, "web-1 answered too");

      // Issue 18 #3: with web-1's credentials, neither a raw PUBLISH naming web-2 nor web-1's own
      // key holding a report for web-2 may take web-2 out of the answers.
      agent.kill("SIGKILL"); // so its next report does not overwrite the forged key below
      await new Promise((r) => setTimeout(r, 300));
      const web1 = new Redis({
        port: redis.port,
        username: "web-1",
        password: "web-1-pw",
        enableReadyCheck: false,
      });
      const forgedDown = JSON.stringify({ v: 1, member: "web-2", status: "down", load: 0, ts: Date.now() });
      // As an attacker would: the forged message again before every query, so no resync undoes it.
      const web2Answered = async (forge: boolean) => {
        const seen = new Set<string>();
        for (let i = 0; i < 30; i++) {
          if (forge) expect(await web1.publish("lbdns:health", forgedDown)).toBe(1); // the server is subscribed
          await new Promise((r) => setTimeout(r, 20));
          for (const a of await www()) seen.add(a);
        }
        return seen.has("192.0.2.12");
      };
      try {
        expect(await web2Answered(true)).toBe(true);
        await web1.set("lbdns:health:web-1", forgedDown, "PX", 60_000);
      } finally {
        web1.disconnect();
      }
      await new Promise((r) => setTimeout(r, 6_000)); // past a resync (5 s), which reads web-1's key
      expect(await web2Answered(false)).toBe(true);
      expect(
        server!
          .logs()
          .some((l) => String(l["reason"]).includes("a report for 'web-2' in the key of 'web-1'")),
      ).toBe(true);
    } finally {
      agent.kill("SIGKILL");
      admin.disconnect();
    }
  });
});
