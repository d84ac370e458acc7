import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { redact, redisOptions } from "../../../src/health/redis-client.js";

describe("Redis URLs", () => {
  it("reads plain, TLS and authenticated URLs", () => {
    expect(redisOptions("redis://127.0.0.1:6380/2")).toMatchObject({ host: "127.0.0.1", port: 6380, db: 2 });
    expect(redisOptions("redis://agent:p%40ss@redis.internal")).toMatchObject({
      username: "agent",
      password: "p@ss",
      port: 6379,
    });
    expect(redisOptions("rediss://redis.internal:6390")).toMatchObject({
      tls: { servername: "redis.internal" },
      port: 6390,
    });
    expect(redisOptions("redis://[::1]:6379")).toMatchObject({ host: "::1" });
  });

  it("reads TLS files from the query, and names a missing file or unknown parameter", () => {
    const dir = mkdtempSync(join(tmpdir(), "lbdns-tls-"));
    writeFileSync(join(dir, "ca.pem"), "CA");
    writeFileSync(join(dir, "c.pem"), "CERT");
    writeFileSync(join(dir, "k.pem"), "KEY");
    const o = redisOptions(`rediss://127.0.0.1:6390?ca=${dir}/ca.pem&cert=${dir}/c.pem&key=${dir}/k.pem`);
    expect(o.tls).toEqual({ ca: Buffer.from("CA"), cert: Buffer.from("CERT"), key: Buffer.from("KEY") });
    expect(redisOptions("rediss://h?servername=redis.example").tls).toEqual({ servername: "redis.example" });
    expect(() => redisOptions(`rediss://h?ca=${dir}/missing.pem`)).toThrow(
      /cannot read the TLS ca file .*ENOENT/,
    );
    expect(() => redisOptions(`rediss://h?cert=${dir}/c.pem`)).toThrow(/both cert= and key=/);
    expect(() => redisOptions("rediss://h?cafile=x")).toThrow(/unknown rediss:\/\/ parameter 'cafile'/);
    expect(() => redisOptions(`redis://h?ca=${dir}/ca.pem`)).toThrow(/use rediss:\/\//);
    rmSync(dir, { recursive: true });
  });

  it("reads the Sentinel form", () => {
    expect(redisOptions("redis-sentinel://:pw@10.0.0.1:26379,10.0.0.2/mymaster/1")).toMatchObject({
      sentinels: [
        { host: "10.0.0.1", port: 26379 },
        { host: "10.0.0.2", port: 26379 },
      ],
      name: "mymaster",
      db: 1,
      password: "pw",
    });
    expect(() => redisOptions("redis-sentinel://10.0.0.1:26379")).toThrow(/master name/);
  });

  it("rejects other schemes and hides passwords in messages", () => {
    expect(() => redisOptions("http://x")).toThrow(/unsupported scheme/);
    expect(() => redisOptions("not a url")).toThrow(/not a Redis URL/);
    expect(redact("redis://u:secret@h:1")).toBe("redis://u:***@h:1");
  });
});
