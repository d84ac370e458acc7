/**
 * The install path the README and deploy/lbdns.service give: npm pack makes a tarball with the
 * built dist/, npm install -g of it gives a working `lbdns` (no build tools on the target), and
 * that lbdns serves the packaged example zone.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { startServe } from "../../harness/lbdns.js";
import { ROOT } from "../../harness/procs.js";
import { dig } from "../helpers/dig.js";

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "lbdns-install-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("npm pack and npm install -g", () => {
  it("installs a working lbdns that serves the packaged zone", async () => {
    // dist/ is built once for all tests (global setup), so pack skips its prepare build.
    const { stdout } = await run(
      "npm",
      ["pack", "--ignore-scripts", "--silent", "--pack-destination", work],
      {
        cwd: ROOT,
      },
    );
    const tarball = join(work, stdout.trim().split("\n").pop()!);
    const listing = (await run("tar", ["tzf", tarball])).stdout;
    expect(listing).toMatch(/^package\/dist\/src\/cli\/bin\.js$/m);
    expect(listing).toMatch(/^package\/zones\/example\.com\.zone$/m);
    expect(listing).not.toMatch(/^package\/(test|bench|src)\//m);
    const prefix = join(work, "prefix");
    await run(
      "npm",
      ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", tarball],
      {
        timeout: 120_000,
      },
    );
    const lbdns = join(prefix, "bin", "lbdns");
    const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
    expect((await run(lbdns, ["--version"])).stdout.trim()).toBe(version);
    const zones = join(prefix, "lib", "node_modules", "lbdns", "zones");
    const server = await startServe(["--zones", zones, "--listen", "127.0.0.1:0"], { command: lbdns });
    try {
      const r = await dig(server.port, ["+norec", "example.com", "SOA"]);
      expect(r.status).toBe("NOERROR");
      expect(r.flags).toContain("aa");
    } finally {
      await server.stop();
    }
  }, 180_000);
});
