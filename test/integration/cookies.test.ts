/**
 * DNS cookies (RFC 7873) made as RFC 9018 says, checked against Knot's cookies module with the
 * same secret: both make the same server cookie, and lbdns accepts Knot's. Then the rules: a
 * malformed COOKIE is FORMERR (§5.2.2), a cookie-only query is answered (§5.4), and a client
 * with a valid cookie passes response rate limiting.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Running, startServe } from "../../harness/lbdns.js";
import { type Peer, startKnot } from "../../harness/peers.js";
import { askOnce, freePort, kill, ROOT } from "../../harness/procs.js";
import { dig } from "../helpers/dig.js";

const SECRET = "e5e973e5a6b2a43f48e7dc849e37bfcf";
const ZONE = join(ROOT, "zones/example.com.zone");
let work: string;
let knot: Peer;
let lbdns: Running;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "lbdns-cookies-"));
  knot = await startKnot(work, await freePort(), [{ origin: "example.com.", file: ZONE }], undefined, {
    cookieSecret: SECRET,
  });
  lbdns = await startServe([
    "--zones",
    join(ROOT, "zones"),
    "--listen",
    "127.0.0.1:0",
    "--cookie-secret",
    SECRET,
  ]);
});

afterAll(async () => {
  await Promise.all([knot && kill(knot.proc, "SIGTERM"), lbdns?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

/** The COOKIE option a server sends back for `cookie` (hex), from dig's output. */
async function cookieFrom(port: number, cookie: string): Promise<string> {
  const { execFile } = await import("node:child_process");
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      "dig",
      ["@127.0.0.1", "-p", String(port), "www.example.com", `+cookie=${cookie}`, "+norec", "+tries=3"],
      (e, so) => (e ? reject(e) : resolve(so)),
    ),
  );
  const m = /; COOKIE: ([0-9a-f]+)/.exec(out);
  if (!m) throw new Error(`no COOKIE in:\n${out}`);
  return m[1]!;
}

/** A query for www.example.com A (or no question) with one COOKIE option of `data`. */
function cookieQuery(data: Buffer, question = true): Buffer {
  const q = Buffer.from(
    "1234000000010000000000010377777707657861 6d706c6503636f6d0000010001".replaceAll(" ", ""),
    "hex",
  );
  const header = question ? q : Buffer.from("123400000000000000000001", "hex");
  const opt = Buffer.alloc(11 + 4);
  opt.writeUInt16BE(41, 1);
  opt.writeUInt16BE(1232, 3);
  opt.writeUInt16BE(4 + data.length, 9);
  opt.writeUInt16BE(10, 11);
  opt.writeUInt16BE(data.length, 13);
  return Buffer.concat([header, opt, data]);
}

describe("DNS cookies", () => {
  it("makes the server cookie Knot makes with the same secret (RFC 9018 §4), and accepts Knot's", async () => {
    let ours = "";
    let theirs = "";
    for (let i = 0; i < 5 && (ours === "" || ours !== theirs); i++) {
      // The timestamp is in seconds: ask both within one second, again if the second turned.
      [ours, theirs] = await Promise.all([
        cookieFrom(lbdns.port, "2464c4abcf10c957"),
        cookieFrom(knot.port, "2464c4abcf10c957"),
      ]);
    }
    expect(ours).toHaveLength(48);
    expect(ours).toBe(theirs);
    // A valid, fresh cookie is echoed unchanged; a forged one is replaced.
    expect(await cookieFrom(lbdns.port, theirs)).toBe(theirs);
    const forged = `${theirs.slice(0, 40)}${theirs.slice(40) === "00000000" ? "11111111" : "00000000"}`;
    expect(await cookieFrom(lbdns.port, forged)).not.toBe(forged);
  });

  it("answers FORMERR for a COOKIE of a length no cookie has (RFC 7873 §5.2.2)", async () => {
    for (const len of [0, 7, 9, 15, 41]) {
      const r = await askOnce(lbdns.port, cookieQuery(Buffer.alloc(len, 7)));
      expect(r && r.readUInt16BE(2) & 0xf, `length ${len}`).toBe(1);
    }
    for (const len of [8, 16, 40]) {
      const r = await askOnce(lbdns.port, cookieQuery(Buffer.alloc(len, 7)));
      expect(r && r.readUInt16BE(2) & 0xf, `length ${len}`).toBe(0);
    }
  });

  it("answers a cookie-only query, with no question, NOERROR and a cookie (RFC 7873 §5.4)", async () => {
    const r = (await askOnce(lbdns.port, cookieQuery(Buffer.from("2464c4abcf10c957", "hex"), false)))!;
    expect(r.readUInt16BE(2) & 0xf).toBe(0);
    expect(r.readUInt16BE(4)).toBe(0); // no question
    expect(r.toString("hex")).toContain("000a00182464c4abcf10c957");
  });

  it("lets a client with a valid server cookie pass response rate limiting", async () => {
    const limited = await startServe([
      "--zones",
      join(ROOT, "zones"),
      "--listen",
      "127.0.0.1:0",
      "--rrl-rate",
      "2",
      "--rrl-slip",
      "0",
      "--rrl-loopback",
    ]);
    try {
      await passes(limited);
    } finally {
      await limited.stop();
    }
  });
});

/** A valid cookie passes the limiter; the same query without one is dropped after the first few. */
async function passes(lbdns: Running): Promise<void> {
  const cookie = await cookieFrom(lbdns.port, "0102030405060708");
  const withCookie = cookieQuery(Buffer.from(cookie, "hex"));
  const without = cookieQuery(Buffer.from("0102030405060708", "hex"));
  let answered = 0;
  for (let i = 0; i < 20; i++) if (await askOnce(lbdns.port, withCookie)) answered++;
  expect(answered).toBe(20);
  let plain = 0;
  for (let i = 0; i < 20; i++) if (await askOnce(lbdns.port, without)) plain++;
  expect(plain).toBeLessThan(20); // rate 2/s, slip 0: most are dropped
  expect((await dig(lbdns.port, ["+norec", "example.com", "SOA", "+tries=5"])).status).toBe("NOERROR");
}
