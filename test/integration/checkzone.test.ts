/**
 * BIND as the reference for master-file syntax: every zone lbdns ships or tests with passes
 * named-checkzone, and lbdns loads exactly the same records from the file as from BIND's
 * canonical dump of it (named-compilezone -D).
 */
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadZoneFile } from "../../src/zone/load.js";
import type { Zone } from "../../src/zone/zone.js";
import { tempDir } from "../helpers/zones.js";

const ROOT = join(import.meta.dirname, "../..");
const files = [
  "zones",
  "test/fixtures/zones",
  "test/fixtures/syntax",
  "test/fixtures/differential",
  "test/fixtures/presigned",
].flatMap((d) =>
  readdirSync(join(ROOT, d))
    .filter((f) => f.endsWith(".zone"))
    .map((f) => join(ROOT, d, f)),
);
const tmp = tempDir();
afterAll(() => tmp.cleanup());

function records(zone: Zone): string[] {
  const out: string[] = [];
  for (const node of zone.nodes.values()) {
    for (const set of node.rrsets) {
      for (const rdata of set.rdatas) out.push(`${node.key} ${set.ttl} ${set.type} ${rdata.toString("hex")}`);
    }
  }
  return out.sort();
}

describe("zone files agree with BIND", () => {
  it("covers at least the shipped example zone", () => {
    expect(files.map((f) => basename(f))).toContain("example.com.zone");
  });

  for (const file of files) {
    const origin = basename(file, ".zone");
    it(`${basename(file)}: named-checkzone accepts it and lbdns loads the same records`, () => {
      // BIND resolves $INCLUDE against its working directory; lbdns against the including file.
      execFileSync("named-checkzone", ["-q", origin, basename(file)], { cwd: dirname(file) });
      const canonical = execFileSync("named-compilezone", ["-q", "-D", "-o", "-", origin, basename(file)], {
        cwd: dirname(file),
        encoding: "utf8",
      });
      const ours = loadZoneFile(file);
      const viaBind = loadZoneFile(tmp.write(`${origin}.zone`, canonical));
      expect(records(ours)).toEqual(records(viaBind));
      expect(ours.recordCount).toBeGreaterThan(2);
    });
  }
});
