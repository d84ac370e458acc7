/** `lbdns zone ...` on temp directories: round trips, BIND acceptance, atomicity, locking, live reload. */
import { execFile, execFileSync, spawn } from "node:child_process";
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dig } from "../helpers/dig.js";
import { CLI, type Running, runCli, startServe, waitFor } from "../helpers/lbdns.js";
import { tempDir } from "../helpers/zones.js";

const _run = promisify(execFile);
let tmp: ReturnType<typeof tempDir>;
let server: Running | undefined;

beforeEach(() => {
  tmp = tempDir();
  cpSync(join(import.meta.dirname, "../../zones"), tmp.dir, { recursive: true });
});
afterEach(async () => {
  await server?.stop("SIGKILL");
  server = undefined;
  tmp.cleanup();
});

const lbdns = (...args: string[]) => runCli([...args, "--zones", tmp.dir]);

const checkzone = (zone: string) =>
  execFileSync("named-checkzone", ["-q", zone, join(tmp.dir, `${zone}.zone`)]);
const serialOf = (zone: string) =>
  Number(
    /(\d{10})\s*;\s*serial/.exec(readFileSync(join(tmp.dir, `${zone}.zone`), "utf8"))?.[1] ??
      /SOA\s+\S+\s+\S+\s+\(?\s*(\d+)/.exec(readFileSync(join(tmp.dir, `${zone}.zone`), "utf8"))?.[1],
  );

describe("lbdns zone", () => {
  it("does the README's delegation recipe: a new zones directory, in-zone name servers with addresses", async () => {
    const zones = join(tmp.dir, "fresh", "zones");
    const run = (...args: string[]) => runCli([...args, "--zones", zones]);
    const created = await run(
      "zone",
      "create",
      "example.com",
      "--ns",
      "ns1.example.com.=203.0.113.53",
      "ns2.example.com.=198.51.100.53,2001:db8::53",
      "--email",
      "hostmaster@example.com",
    );
    expect(created).toMatchObject({ code: 0, stderr: "" });
    expect(created.stdout).not.toMatch(/add its address/);
    execFileSync("named-checkzone", ["-q", "example.com", join(zones, "example.com.zone")]);
    expect((await run("pool", "create", "web", "--names", "www.example.com.")).code).toBe(0);
    expect((await run("pool", "add-member", "web", "web-1", "192.0.2.11", "--capacity", "100")).code).toBe(0);
    expect((await run("zone", "check")).code).toBe(0);
    const bad = await run(
      "zone",
      "create",
      "example.net",
      "--ns",
      "ns1.example.net.=not-an-ip",
      "--email",
      "h@example.net",
    );
    expect(bad).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/'not-an-ip' \(for ns1\.example\.net\.\) is not an IP address/),
    });
  });

  it("judges integrity on an edit's own effect: adding one name server's address while another's is missing", async () => {
    expect(
      (await lbdns("zone", "create", "example.org", "--ns", "ns1", "ns2", "--email", "h@example.org")).code,
    ).toBe(0);
    const first = await lbdns("zone", "add", "example.org", "ns1", "A", "192.0.2.1");
    expect(first).toMatchObject({ code: 0 });
    // A problem the edit would bring is still refused.
    const mx = await lbdns("zone", "add", "example.org", "@", "MX", "10", "nomail");
    expect(mx).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/nomail\.example\.org\.: the target has no address records/),
    });
    expect((await lbdns("zone", "add", "example.org", "ns2", "AAAA", "2001:db8::2")).code).toBe(0);
    checkzone("example.org");
  });

  it("create -> add -> show -> rm, each file accepted by named-checkzone, serials rising", async () => {
    expect(
      (
        await lbdns(
          "zone",
          "create",
          "example.org",
          "--ns",
          "ns1",
          "ns2.example.net.",
          "--email",
          "dns@example.org",
        )
      ).code,
    ).toBe(0);
    expect((await lbdns("zone", "add", "example.org", "ns1", "A", "192.0.2.7")).code).toBe(0);
    checkzone("example.org");
    const s1 = serialOf("example.org");
    expect((await lbdns("zone", "add", "example.org", "@", "MX", "10", "ns1")).code).toBe(0);
    expect((await lbdns("zone", "add", "example.org", "@", "TXT", '"v=spf1 mx -all"')).code).toBe(0);
    checkzone("example.org");
    expect(serialOf("example.org")).toBe(s1 + 2);
    const show = JSON.parse((await lbdns("zone", "show", "example.org", "--json")).stdout) as {
      records: { name: string; type: string; data: string }[];
    };
    expect(show.records).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "example.org.", type: "MX", data: "10 ns1.example.org." }),
        expect.objectContaining({ name: "example.org.", type: "TXT", data: '"v=spf1 mx -all"' }),
      ]),
    );
    expect((await lbdns("zone", "rm", "example.org", "@", "TXT")).code).toBe(0);
    checkzone("example.org");
    const list = JSON.parse((await lbdns("zone", "list", "--json")).stdout) as {
      zones: { zone: string; records: number }[];
    };
    expect(list.zones.map((z) => z.zone)).toEqual(["example.com.", "example.org."]);
  });

  it("keeps comments and order in files it edits", async () => {
    const before = readFileSync(join(tmp.dir, "example.com.zone"), "utf8");
    expect((await lbdns("zone", "add", "example.com", "api", "A", "192.0.2.61")).code).toBe(0);
    expect((await lbdns("zone", "rm", "example.com", "api.eu")).code).toBe(0);
    const after = readFileSync(join(tmp.dir, "example.com.zone"), "utf8");
    const comments = (t: string) => t.split("\n").filter((l) => l.trim().startsWith(";"));
    expect(comments(after)).toEqual(comments(before));
    expect(after).toContain("api.example.com.\t300\tIN\tA\t192.0.2.61");
    expect(after).not.toMatch(/^api\.eu\s/m);
    // sip is the target of an SRV record: removing its address is refused, as BIND would refuse the zone
    expect((await lbdns("zone", "rm", "example.com", "sip")).stderr).toMatch(
      /SRV sip\.example\.com\.: the target has no address/,
    );
    checkzone("example.com");
  });

  it("exits non-zero with one line and leaves files untouched on bad input", async () => {
    const before = readFileSync(join(tmp.dir, "example.com.zone"), "utf8");
    const cases: [string[], RegExp][] = [
      [["zone", "add", "nope.com", "x", "A", "192.0.2.1"], /no zone nope\.com\./],
      [["zone", "add", "example.com", "x", "A", "192.0.2.300"], /'192\.0\.2\.300' is not an IPv4 address/],
      [["zone", "add", "example.com", "www", "CNAME", "web"], /CNAME and other data/],
      [
        ["zone", "add", "example.com", "live", "CNAME", "www"],
        /pool 'stream', name 'live\.example\.com\.': the name has a CNAME/,
      ],
      [["zone", "add", "example.com", "www", "A", "192.0.2.11"], /already exists/],
      [["zone", "rm", "example.com", "nothere"], /no record nothere\.example\.com\./],
      [["zone", "rm", "example.com", "ns2"], /NS ns2\.example\.com\.: the target has no address records/],
      [["zone", "create", "example.com", "--ns", "ns1", "--email", "x@example.com"], /already exists/],
    ];
    for (const [args, re] of cases) {
      const r = await lbdns(...args);
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    }
    expect(readFileSync(join(tmp.dir, "example.com.zone"), "utf8")).toBe(before);
    expect(readdirSync(tmp.dir).filter((f) => f.startsWith(".") && f !== ".admin-token")).toEqual([]); // no temp or lock files left
  });

  it("loses no edit when commands run at once", async () => {
    const s0 = serialOf("example.com");
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        lbdns("zone", "add", "example.com", `host${i}`, "A", `192.0.2.${150 + i}`),
      ),
    );
    expect(results.map((r) => r.code)).toEqual(Array(8).fill(0));
    const text = readFileSync(join(tmp.dir, "example.com.zone"), "utf8");
    for (let i = 0; i < 8; i++) expect(text).toContain(`host${i}.example.com.`);
    // Eight increments; at least, since a date-based serial jumps to YYYYMMDD00 when the edits
    // straddle midnight (UTC). A lost edit is caught by the eight names above as well.
    expect(serialOf("example.com")).toBeGreaterThanOrEqual(s0 + 8);
    checkzone("example.com");
  });

  it("loses no acknowledged edit with a stale lock, 12 concurrent editors and kill -9 (issue 18 #4)", async () => {
    const acked: string[] = [];
    for (let round = 0; round < 2; round++) {
      // A lock left by a command killed earlier: every editor below finds it stale at once.
      writeFileSync(join(tmp.dir, ".lbdns.lock"), "999999999\n");
      const runs = Array.from({ length: 12 }, (_, i) => {
        const name = `r${round}h${i}`;
        const child = spawn(process.execPath, [
          CLI,
          "zone",
          "add",
          "example.com",
          name,
          "A",
          `192.0.2.${i + 1}`,
          "--zones",
          tmp.dir,
        ]);
        let out = "";
        child.stdout.on("data", (c: Buffer) => {
          out += c.toString();
        });
        // Every fourth editor is killed at some point of its run.
        if (i % 4 === 3) setTimeout(() => child.kill("SIGKILL"), 150 + i * 30);
        return new Promise<void>((resolve) =>
          child.on("exit", (code) => {
            if (code === 0 && out.includes("added")) acked.push(name);
            resolve();
          }),
        );
      });
      await Promise.all(runs);
    }
    expect(acked.length).toBeGreaterThanOrEqual(18);
    const text = readFileSync(join(tmp.dir, "example.com.zone"), "utf8");
    const lost = acked.filter((n) => !text.includes(`${n}.example.com.`));
    expect(lost).toEqual([]);
    checkzone("example.com");
  }, 60_000);

  it("leaves the old or the new file, never a broken one, when killed mid-edit", async () => {
    const valid = new Set([readFileSync(join(tmp.dir, "example.com.zone"), "utf8")]);
    for (let i = 0; i < 12; i++) {
      const child = spawn(process.execPath, [
        CLI,
        "zone",
        "add",
        "example.com",
        `k${i}`,
        "A",
        "192.0.2.200",
        "--zones",
        tmp.dir,
      ]);
      await new Promise((r) => setTimeout(r, 40 + ((i * 37) % 160)));
      child.kill("SIGKILL");
      await new Promise((r) => child.on("exit", r));
      const text = readFileSync(join(tmp.dir, "example.com.zone"), "utf8");
      checkzone("example.com");
      valid.add(text);
    }
    // A lock left by a killed command is stale and does not block the next one.
    expect((await lbdns("zone", "add", "example.com", "after", "A", "192.0.2.201")).code).toBe(0);
  });

  it("check names file:line for each problem", async () => {
    tmp.write("bad.test.zone", "$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 10.0.0.1\nx MX 99999 y\n");
    const r = await lbdns("zone", "check");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/bad\.test\.zone:5: '99999' is not a valid 16-bit number/);
    expect((await lbdns("zone", "check", "example.com")).code).toBe(0);
  });

  it("a running server sees an edit within a second", async () => {
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0"]);
    const started = Date.now();
    expect((await lbdns("zone", "add", "example.com", "fresh", "A", "192.0.2.222")).code).toBe(0);
    await waitFor(
      async () => (await dig(server!.port, ["fresh.example.com"])).answer[0]?.data === "192.0.2.222",
      5_000,
    );
    console.log(`zone add -> answered by the running server in ${Date.now() - started} ms`);
  });
});
