/** `lbdns pool ...`: edits keep comments, bad input changes nothing, and a running server follows. */
import { execFile } from "node:child_process";
import { cpSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dig } from "../helpers/dig.js";
import { CLI, type Running, runCli, startServe, waitFor } from "../helpers/lbdns.js";
import { tempDir } from "../helpers/zones.js";

const run = promisify(execFile);
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

const pool = (...args: string[]) => runCli(["pool", ...args, "--zones", tmp.dir]);
const poolsText = () => readFileSync(join(tmp.dir, "pools.yaml"), "utf8");

describe("lbdns pool", () => {
  it("starts a pools.yaml in block style, one member per line", async () => {
    rmSync(join(tmp.dir, "pools.yaml"));
    expect((await pool("create", "web", "--names", "www.example.com.")).code).toBe(0);
    expect((await pool("add-member", "web", "web-1", "192.0.2.11", "--capacity", "100")).code).toBe(0);
    expect((await pool("add-member", "web", "web-2", "192.0.2.12")).code).toBe(0);
    expect((await pool("set", "web", "ttl", "30")).code).toBe(0);
    expect(poolsText()).toBe(
      [
        "pools:",
        "  web:",
        "    names: [www.example.com.]",
        "    members:",
        "      - {id: web-1, address: 192.0.2.11, capacity: 100}",
        "      - {id: web-2, address: 192.0.2.12}",
        "    ttl: 30",
        "",
      ].join("\n"),
    );
  });

  it("creates pools and members, keeps comments, and shows the result", async () => {
    const comments = poolsText()
      .split("\n")
      .filter((l) => l.startsWith("#"));
    expect((await pool("create", "api", "--names", "api.example.com.")).code).toBe(0);
    expect(
      (await pool("add-member", "api", "api-1", "192.0.2.61,2001:db8::61", "--capacity", "150")).code,
    ).toBe(0);
    expect((await pool("set", "api", "policy", "least-loaded")).code).toBe(0);
    expect((await pool("create", "mail2", "--names", "mail.example.com.", "--type", "mx")).code).toBe(0);
    expect(
      (
        await pool(
          "add-member",
          "mail2",
          "m2-1",
          "192.0.2.71",
          "--host",
          "mx7.example.com.",
          "--preference",
          "10",
        )
      ).code,
    ).toBe(0);
    expect((await pool("add-relay", "mail2", "relay.example.net.", "40")).code).toBe(0);
    expect(
      poolsText()
        .split("\n")
        .filter((l) => l.startsWith("#")),
    ).toEqual(comments);
    const shown = JSON.parse((await pool("show", "api", "--json")).stdout) as {
      policy: string;
      members: { id: string; capacity: number; address: string[] }[];
    };
    expect(shown).toMatchObject({
      policy: "least-loaded",
      members: [{ id: "api-1", capacity: 150, address: ["192.0.2.61", "2001:db8::61"] }],
    });
    const list = JSON.parse((await pool("list", "--json")).stdout) as { pools: { pool: string }[] };
    expect(list.pools.map((p) => p.pool)).toEqual(["web", "stream", "mail", "api", "mail2"]);
    expect((await pool("rm-member", "api", "api-1")).code).toBe(0);
    expect(poolsText()).not.toContain("api-1");
  });

  it("exits non-zero with one line and leaves pools.yaml untouched on bad input", async () => {
    const before = poolsText();
    const cases: [string[], RegExp][] = [
      [["add-member", "web", "web-1", "192.0.2.1"], /id already used/],
      [["add-member", "web", "w9", "192.0.2.300"], /'192\.0\.2\.300' is not an IP address/],
      [["add-member", "nope", "x", "192.0.2.1"], /no pool 'nope'/],
      [["add-relay", "mail", "relay.example.net.", "5"], /must be greater than every primary preference/],
      [["add-relay", "web", "relay.example.net.", "50"], /not an MX pool/],
      [["create", "x", "--names", "www.example.org."], /not inside any loaded zone/],
      [["create", "x", "--names", "www.example.com"], /must be an absolute name/],
      [["set", "web", "policy", "fastest"], /field 'policy'/],
      [["drain", "web", "ghost"], /no member 'ghost'/],
    ];
    for (const [args, re] of cases) {
      const r = await pool(...args);
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    }
    expect(poolsText()).toBe(before);
  });

  it("drain takes a member out of a running server's answers", async () => {
    server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0"]);
    for (const [m, load] of [
      ["web-1", "10"],
      ["web-2", "10"],
    ] as const) {
      await run(process.execPath, [
        CLI,
        "report",
        "--server",
        server.admin!,
        "--token",
        server.token!,
        "--member",
        m,
        "--load",
        load,
      ]);
    }
    expect((await pool("drain", "web", "web-1")).code).toBe(0);
    await waitFor(() => server!.logs().some((l) => l["msg"] === "zones reloaded"), 5_000, "reload");
    for (let i = 0; i < 20; i++)
      expect((await dig(server.port, ["www.example.com"])).answer[0]!.data).toBe("192.0.2.12");
    expect(poolsText()).toContain("state: drain");
  });
});
