/** `lbdns serve` as a real process, queried with real dig over UDP and TCP. */
import { cpSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dig } from "../helpers/dig.js";
import { type Running, startServe } from "../helpers/lbdns.js";
import { tempDir } from "../helpers/zones.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/zones");
let server: Running;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  tmp = tempDir();
  cpSync(FIXTURES, tmp.dir, { recursive: true });
  server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--nsid", "instance-7"]);
});

afterAll(async () => {
  await server?.stop();
  tmp?.cleanup();
});

describe("lbdns serve answers dig", () => {
  it("answers www.example.com A authoritatively with the zone's TTL", async () => {
    const r = await dig(server.port, ["+norec", "www.example.com", "A"]);
    expect(r.status).toBe("NOERROR");
    expect(r.flags).toEqual(["qr", "aa"]);
    expect(r.answer).toEqual([{ name: "www.example.com.", ttl: 60, type: "A", data: "192.0.2.11" }]);
    expect(r.edns).toEqual({ version: 0, udp: 1232, flags: "" });
  });

  it("preserves the case of the question, and copies RD without offering recursion", async () => {
    const r = await dig(server.port, ["+rec", "WwW.ExAmPlE.CoM", "AAAA"]);
    expect(r.flags).toEqual(["qr", "aa", "rd"]);
    expect(r.question).toEqual(["WwW.ExAmPlE.CoM. IN AAAA"]);
    expect(r.answer[0]).toMatchObject({ name: "WwW.ExAmPlE.CoM.", type: "AAAA", data: "2001:db8::11" });
  });

  it("gives NXDOMAIN and NODATA with the SOA at the negative TTL", async () => {
    const nx = await dig(server.port, ["+norec", "nope.example.com", "A"]);
    expect(nx.status).toBe("NXDOMAIN");
    expect(nx.flags).toContain("aa");
    expect(nx.authority).toEqual([expect.objectContaining({ name: "example.com.", ttl: 300, type: "SOA" })]);
    const nodata = await dig(server.port, ["+norec", "www.example.com", "MX"]);
    expect(nodata.status).toBe("NOERROR");
    expect(nodata.answer).toEqual([]);
    expect(nodata.authority[0]!.type).toBe("SOA");
  });

  it("refers the delegated child with glue, without AA", async () => {
    const r = await dig(server.port, ["+norec", "host.sub.example.com", "A"]);
    expect(r.status).toBe("NOERROR");
    expect(r.flags).not.toContain("aa");
    expect(r.authority.map((a) => a.data).sort()).toEqual(["ns.example.net.", "ns1.sub.example.com."]);
    expect(r.additional).toEqual([
      { name: "ns1.sub.example.com.", ttl: 300, type: "A", data: "192.0.2.100" },
    ]);
  });

  it("follows CNAMEs, synthesises wildcards and adds MX glue", async () => {
    const cname = await dig(server.port, ["+norec", "web.example.com", "A"]);
    expect(cname.answer.map((a) => a.type)).toEqual(["CNAME", "A"]);
    const wild = await dig(server.port, ["+norec", "Any.Thing.apps.example.com", "A"]);
    expect(wild.answer).toEqual([
      { name: "Any.Thing.apps.example.com.", ttl: 300, type: "A", data: "192.0.2.80" },
    ]);
    const mx = await dig(server.port, ["+norec", "example.com", "MX"]);
    expect(mx.additional.map((a) => a.name)).toEqual(["mx1.example.com.", "mx2.example.com."]);
  });

  it("refuses names outside its zones, saying why (EDE 20, RFC 8914)", async () => {
    const r = await dig(server.port, ["+norec", "www.example.org", "A"]);
    expect(r.status).toBe("REFUSED");
    expect(r.edns?.ede).toBe("20 (Not Authoritative)");
    expect((await dig(server.port, ["+norec", "other.bind", "CH", "TXT"])).status).toBe("REFUSED");
  });

  it("tells who answered: CHAOS identity and version (RFC 4892), and NSID to those who ask (RFC 5001)", async () => {
    const version = await dig(server.port, ["+norec", "version.bind", "CH", "TXT"]);
    expect(version.status).toBe("NOERROR");
    expect(version.answer[0]).toMatchObject({
      type: "TXT",
      data: expect.stringMatching(/^"lbdns \d+\.\d+\.\d+"$/),
    });
    for (const name of ["id.server", "hostname.bind"])
      expect((await dig(server.port, ["+norec", name, "CH", "TXT"])).answer).toHaveLength(1);
    expect((await dig(server.port, ["+norec", "+nsid", "www.example.com"])).edns?.nsid).toMatch(
      /"instance-7"/,
    );
    expect((await dig(server.port, ["+norec", "www.example.com"])).edns?.nsid).toBeUndefined();
    const hidden = await startServe([
      "--zones",
      tmp.dir,
      "--listen",
      "127.0.0.1:0",
      "--identity",
      "none",
      "--version-string",
      "none",
    ]);
    try {
      for (const name of ["version.bind", "version.server", "id.server", "hostname.bind"])
        expect((await dig(hidden.port, ["+norec", name, "CH", "TXT"])).status).toBe("REFUSED");
      expect((await dig(hidden.port, ["+norec", "+nsid", "www.example.com"])).edns?.nsid).toBeUndefined();
    } finally {
      await hidden.stop();
    }
  });

  it("answers ANY with one RRset and EDNS version 1 with BADVERS", async () => {
    const any = await dig(server.port, ["+norec", "example.com", "ANY"]);
    expect(new Set(any.answer.map((a) => a.type)).size).toBe(1);
    const bad = await dig(server.port, ["+norec", "+edns=1", "+noednsneg", "www.example.com"]);
    expect(bad.status).toBe("BADVERS");
  });

  it("answers over TCP, with the same data", async () => {
    const r = await dig(server.port, ["+tcp", "+norec", "example.com", "SOA"]);
    expect(r.protocol).toBe("TCP");
    expect(r.answer[0]!.data).toMatch(/^ns1\.example\.com\. hostmaster\.example\.com\. 2026112401 /);
  });

  it("truncates a large RRset over UDP (TC, within the buffer) and serves it whole over TCP", async () => {
    const udp = await dig(server.port, ["+norec", "+ignore", "+bufsize=1232", "txt.big.test", "TXT"]);
    expect(udp.flags).toContain("tc");
    expect(udp.size).toBeLessThanOrEqual(1232);
    expect(udp.edns?.udp).toBe(1232);
    const plain = await dig(server.port, ["+norec", "+ignore", "+noedns", "txt.big.test", "TXT"]);
    expect(plain.flags).toContain("tc");
    expect(plain.size).toBeLessThanOrEqual(512);
    const retried = await dig(server.port, ["+norec", "txt.big.test", "TXT"]);
    expect(retried.protocol).toBe("TCP");
    expect(retried.answer).toHaveLength(16);
  });
});
